"""`leasesync ctl`, run as an administrator runs it (`python -m app.cli ctl ...` in a subprocess)
against a real `leasesync serve` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, free_port

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEASESYNC_")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "app.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, cwd=REPO, env=environment)


def ctl(server: ServerProcess, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run("ctl", "--port", str(server.port), *args, stdin=stdin, env=env)


def add(server: ServerProcess, ip: str, subnet_id: int | None = None) -> None:
    arguments: dict[str, Any] = {"ip-address": ip, "hw-address": "1a:1b:1c:1d:1e:1f"}
    if subnet_id is not None:
        arguments["subnet-id"] = subnet_id
    assert server.command("lease4-add", "dhcp4", arguments)[0]["result"] == 0


# --- without a server -----------------------------------------------------------------------

def test_version() -> None:
    from app import __version__

    done = run("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"leasesync {__version__}")


@pytest.mark.parametrize("words", [["ctl"], ["ctl", "leases", "list"], ["ctl", "lease", "add"], ["ctl", "lease", "get"],
                                   ["ctl", "lease", "del"], ["ctl", "ha", "status"], ["ctl", "ha", "sync"]])
def test_every_subcommand_has_a_manual(words: list[str]) -> None:
    done = run(*words, "--help")
    assert done.returncode == 0
    assert "EXAMPLES" in done.stdout and "EXIT STATUS" in done.stdout


def test_unreachable_server_exits_4() -> None:
    done = run("ctl", "--port", str(free_port()), "leases", "list")
    assert done.returncode == 4
    assert "cannot reach" in done.stderr


# --- kea-shell mode -------------------------------------------------------------------------

def test_kea_shell_mode_prints_the_answer_body(server: ServerProcess) -> None:
    done = ctl(server, "--service", "dhcp4", "list-commands")
    assert done.returncode == 0
    answers = json.loads(done.stdout)
    assert answers[0]["result"] == 0 and "lease4-add" in answers[0]["arguments"]


def test_kea_shell_mode_reads_the_inside_of_the_arguments_map(server: ServerProcess) -> None:
    done = ctl(server, "--service", "dhcp4", "lease4-add",
               stdin='"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"\n')
    assert done.stdout.strip() == '[ { "result": 0, "text": "Lease for address 192.0.2.20, subnet-id 1 added." } ]'


def test_kea_shell_mode_accepts_a_json_object(server: ServerProcess) -> None:
    add(server, "192.0.2.20")
    done = ctl(server, "--service", "dhcp4", "lease4-get", stdin='{"ip-address": "192.0.2.20"}')
    assert json.loads(done.stdout)[0]["arguments"]["ip-address"] == "192.0.2.20"


def test_kea_shell_mode_rejects_bad_json_on_stdin(server: ServerProcess) -> None:
    done = ctl(server, "--service", "dhcp4", "lease4-get", stdin='"ip-address": ')
    assert done.returncode == 2
    assert "not JSON" in done.stderr


# --- friendly subcommands -------------------------------------------------------------------

def test_lease_add_prints_the_answer_text(server: ServerProcess) -> None:
    done = ctl(server, "lease", "add", "--ip", "192.0.2.30", "--hw", "1a:1b:1c:1d:1e:1f")
    assert (done.returncode, done.stdout.strip()) == (0, "Lease for address 192.0.2.30, subnet-id 1 added.")


def test_lease_add_of_an_existing_lease_exits_1(server: ServerProcess) -> None:
    add(server, "192.0.2.31")
    done = ctl(server, "lease", "add", "--ip", "192.0.2.31", "--hw", "1a:1b:1c:1d:1e:1f")
    assert done.returncode == 1
    assert "IPv4 lease already exists." in done.stderr


def test_lease_add_v6(server: ServerProcess) -> None:
    done = ctl(server, "lease", "add", "--ip", "2001:db8:1::5", "--duid", "01:02:03:04:05:06", "--iaid", "3")
    assert done.returncode == 0
    assert server.command("lease6-get", "dhcp6", {"ip-address": "2001:db8:1::5"})[0]["arguments"]["iaid"] == 3


def test_leases_list_is_a_table(server: ServerProcess) -> None:
    add(server, "192.0.2.40")
    lines = ctl(server, "leases", "list").stdout.splitlines()
    assert lines[0].split()[:3] == ["ADDRESS", "HW-ADDRESS", "SUBNET"]
    assert lines[1].split()[:4] == ["192.0.2.40", "1a:1b:1c:1d:1e:1f", "1", "default"]
    assert lines[-1] == "1 lease(s)"


def test_leases_list_pages_and_filters_by_subnet(server: ServerProcess) -> None:
    for ip in ("192.0.2.41", "198.51.100.7", "192.0.2.42", "198.51.100.8"):
        add(server, ip)
    done = ctl(server, "leases", "list", "--subnet", "2", "--page-size", "1", "--json")
    assert [lease["ip-address"] for lease in json.loads(done.stdout)] == ["198.51.100.7", "198.51.100.8"]


def test_leases_list_v6_json(server: ServerProcess) -> None:
    server.command("lease6-add", "dhcp6", {"ip-address": "2001:db8:1::9", "duid": "01:02:03:04:05:06", "iaid": 1})
    done = ctl(server, "leases", "list", "--family", "6", "--json")
    assert [lease["ip-address"] for lease in json.loads(done.stdout)] == ["2001:db8:1::9"]


def test_lease_get_json(server: ServerProcess) -> None:
    add(server, "192.0.2.43")
    assert json.loads(ctl(server, "lease", "get", "--ip", "192.0.2.43", "--json").stdout)["hw-address"] == \
        "1a:1b:1c:1d:1e:1f"


def test_lease_del_then_again_exits_3(server: ServerProcess) -> None:
    add(server, "192.0.2.44")
    first = ctl(server, "lease", "del", "--ip", "192.0.2.44")
    second = ctl(server, "lease", "del", "--ip", "192.0.2.44")
    assert (first.returncode, first.stdout.strip(), second.returncode) == (0, "IPv4 lease deleted.", 3)


def test_options_may_follow_the_subcommand(server: ServerProcess) -> None:
    done = run("ctl", "leases", "list", "--port", str(server.port), "--json")
    assert (done.returncode, json.loads(done.stdout)) == (0, [])


def test_ha_status_without_ha(server: ServerProcess) -> None:
    done = ctl(server, "ha", "status")
    assert (done.returncode, done.stdout.strip()) == (0, "HA is not configured for dhcp4")


def test_ha_sync_prints_the_error_answer(server: ServerProcess) -> None:
    done = ctl(server, "ha", "sync", "--server-name", "server2", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["result"] in (1, 2)


# --- credentials ----------------------------------------------------------------------------

def test_credentials_from_options(auth_server: ServerProcess) -> None:
    done = ctl(auth_server, "--user", "admin", "--password", "s3cret", "leases", "list", "--json")
    assert (done.returncode, json.loads(done.stdout)) == (0, [])


def test_credentials_from_environment(auth_server: ServerProcess) -> None:
    done = ctl(auth_server, "leases", "list", env={"LEASESYNC_USER": "admin", "LEASESYNC_PASSWORD": "s3cret"})
    assert done.returncode == 0


def test_credentials_and_port_from_the_config_file(auth_server: ServerProcess) -> None:
    done = run("ctl", "-c", str(auth_server.config_path), "leases", "list")
    assert done.returncode == 0


def test_wrong_credentials_exit_1(auth_server: ServerProcess) -> None:
    done = ctl(auth_server, "--user", "admin", "--password", "wrong", "leases", "list")
    assert done.returncode == 1
    assert "result 401" in done.stderr


def test_kea_shell_auth_options(auth_server: ServerProcess) -> None:
    done = ctl(auth_server, "--auth-user", "admin", "--auth-password", "s3cret", "version-get")
    assert json.loads(done.stdout)[0]["result"] == 0
