"""shutdown: Kea's arguments (`exit-value`, the process's exit status), checked before anything stops."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ServerProcess


def test_exit_value_becomes_the_exit_status_of_serve(server: ServerProcess) -> None:
    assert server.command("shutdown", arguments={"exit-value": 3}) == [
        {"result": 0, "text": "Control Agent is shutting down"}]
    assert server.proc is not None
    assert server.proc.wait(timeout=20) == 3


def test_shutdown_sent_to_a_family_exits_0_without_exit_value(server: ServerProcess) -> None:
    assert server.command("shutdown", "dhcp4") == [{"result": 0, "text": "Shutting down."}]
    assert server.proc is not None
    assert server.proc.wait(timeout=20) == 0


def test_a_negative_exit_value_is_truncated_as_the_c_library_does(server: ServerProcess) -> None:
    assert server.command("shutdown", arguments={"exit-value": -1})[0]["result"] == 0
    assert server.proc is not None
    assert server.proc.wait(timeout=20) == 255


@pytest.mark.parametrize(("arguments", "text"), [
    ([1], "Argument must be a map"),
    ("now", "Argument must be a map"),
    ({"exit-value": "3"}, "parameter 'exit-value' is not an integer"),
    ({"exit-value": 3.0}, "parameter 'exit-value' is not an integer"),
    ({"exit-value": True}, "parameter 'exit-value' is not an integer"),
])
def test_refused_arguments_stop_nothing(server: ServerProcess, arguments: Any, text: str) -> None:
    for service in (None, "dhcp4"):
        assert server.command("shutdown", service, arguments) == [{"result": 1, "text": text}]
    assert server.command("lease4-get-all", "dhcp4")[0]["result"] == 3  # still serving
    assert server.proc is not None and server.proc.poll() is None
