"""`leasesync ctl ha ...` through its real entry point (`python -m app.cli ctl` in a subprocess)
against a real hot-standby pair of `leasesync serve` processes."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, ServerProcess, make_database
from tests.ha_helpers import dump4, pair_configs, wait_states

pytestmark = pytest.mark.slow

LEASES = 300


def ctl_env() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEASESYNC_")}
    environment["PYTHONPATH"] = str(REPO_ROOT)
    return environment


def ctl(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", "ctl", "--port", str(server.port), *args],
                          capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, env=ctl_env())


def ctl_on_tty(server: ServerProcess, *args: str, timeout: float = 120) -> tuple[int, str]:
    """Run ctl with stdin/stdout/stderr on a pseudo-terminal (as in an administrator's shell);
    return the exit status and everything written to the terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "ctl", "--port", str(server.port), *args],
                            stdin=slave, stdout=slave, stderr=slave, cwd=REPO_ROOT, env=ctl_env(),
                            close_fds=True)
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
        else:
            raise AssertionError(f"ctl did not finish in {timeout} s; output so far: {bytes(output)!r}")
        return proc.wait(timeout=10), output.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)


def start_pair(spawn: Any, tmp_path: Path, **ha_extra: Any) -> tuple[ServerProcess, ServerProcess]:
    dbs = [make_database("sqlite", tmp_path)[0] for _ in range(2)]
    c1, c2 = pair_configs(dbs, **ha_extra)
    primary, standby = spawn(c1, "server1"), spawn(c2, "server2")
    wait_states([primary, standby], ["hot-standby", "hot-standby"])
    return primary, standby


def test_ha_status_shows_both_states(spawn: Any, tmp_path: Path) -> None:
    primary, standby = start_pair(spawn, tmp_path)
    done = ctl(standby, "ha", "status")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "mode: hot-standby"
    assert lines[1].split() == ["SERVER", "ROLE", "STATE", "SCOPES", "IN-TOUCH", "AGE", "(s)"]
    local, remote = lines[2].split(), lines[3].split()
    assert local[:3] == ["local", "standby", "hot-standby"]
    assert remote[:3] == ["remote", "primary", "hot-standby"]
    assert "yes" in remote  # in touch

    done = ctl(primary, "ha", "status", "--json")
    assert done.returncode == 0, done.stderr
    [relationship] = json.loads(done.stdout)
    servers = relationship["ha-servers"]
    assert (servers["local"]["role"], servers["local"]["state"]) == ("primary", "hot-standby")
    assert (servers["remote"]["role"], servers["remote"]["last-state"]) == ("standby", "hot-standby")


def test_ha_sync_on_the_standby_shows_progress_and_fetches_the_primarys_leases(spawn: Any, tmp_path: Path) -> None:
    # no lease updates and no start-up sync: the standby holds nothing until the administrator syncs
    primary, standby = start_pair(spawn, tmp_path, **{"send-lease-updates": False, "sync-leases": False})
    for i in range(LEASES):
        answer = primary.command("lease4-add", "dhcp4", {"ip-address": f"198.51.100.{i % 250 + 1}" if i < 250 else
                                                         f"192.0.2.{i - 250 + 10}",
                                                         "hw-address": f"02:00:00:00:{i >> 8:02x}:{i & 255:02x}"})[0]
        assert answer["result"] == 0, answer
    assert dump4(standby) == []

    status, output = ctl_on_tty(standby, "ha", "sync", "--server-name", "server1")

    assert status == 0, output
    assert "syncing from server1" in output  # the progress line, drawn on the terminal
    assert "state hot-standby" in output
    assert "Lease database synchronization complete." in output
    leases = dump4(standby)
    assert len(leases) == LEASES
    assert leases == dump4(primary)
    # the primary's DHCP service was disabled for the sync and enabled again at the end
    assert primary.command("status-get", "dhcp4")[0]["arguments"]["high-availability"][0]["ha-servers"]["local"][
        "state"] == "hot-standby"


def test_ha_sync_without_a_terminal_prints_no_progress_line(spawn: Any, tmp_path: Path) -> None:
    primary, standby = start_pair(spawn, tmp_path, **{"send-lease-updates": False, "sync-leases": False})
    for i in range(10, 20):
        assert primary.command("lease4-add", "dhcp4", {"ip-address": f"192.0.2.{i}",
                                                       "hw-address": "1a:1b:1c:1d:1e:1f"})[0]["result"] == 0
    done = ctl(standby, "ha", "sync", "--server-name", "server1")
    assert done.returncode == 0, done.stderr
    assert "syncing from" not in done.stderr and "\r" not in done.stdout + done.stderr
    assert done.stdout.startswith("Lease database synchronization complete.")
    assert dump4(standby) == dump4(primary)
