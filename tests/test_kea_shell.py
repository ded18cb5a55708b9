"""Kea's own `kea-shell` (from the kea-ctrl-agent package) against a real `leasesync serve`: an
administrator's existing kea-shell habits work unchanged, credentials included."""

from __future__ import annotations

import json
import shutil
import subprocess

from tests.conftest import ServerProcess
from tests.kea_harness import unavailable


def kea_shell(server: ServerProcess, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    binary = shutil.which("kea-shell") or shutil.which("kea-shell", path="/usr/sbin")
    if binary is None:
        unavailable("kea-shell not installed (it comes with the kea-ctrl-agent package)")
    assert binary is not None
    return subprocess.run([binary, "--host", "127.0.0.1", "--port", str(server.port), "--timeout", "10", *args],
                          input=stdin, capture_output=True, text=True, timeout=30)


def test_kea_shell_adds_and_lists_a_lease(server: ServerProcess) -> None:
    added = kea_shell(server, "--service", "dhcp4", "lease4-add",
                      stdin='"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"\n')
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == [{"result": 0, "text": "Lease for address 192.0.2.20, subnet-id 1 added."}]
    listed = kea_shell(server, "--service", "dhcp4", "lease4-get-all", stdin="\n")
    leases = json.loads(listed.stdout)[0]["arguments"]["leases"]
    assert [(x["ip-address"], x["hw-address"]) for x in leases] == [("192.0.2.20", "1a:1b:1c:1d:1e:1f")]


def test_kea_shell_without_a_command_lists_the_agents_commands(server: ServerProcess) -> None:
    done = kea_shell(server, stdin="\n")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)[0]
    assert answer["result"] == 0 and "list-commands" in answer["arguments"]


def test_kea_shell_with_credentials_is_let_in_and_without_them_is_told_401(auth_server: ServerProcess) -> None:
    allowed = kea_shell(auth_server, "--auth-user", "admin", "--auth-password", "s3cret", "version-get", stdin="\n")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)[0]["result"] == 0
    refused = kea_shell(auth_server, "version-get", stdin="\n")
    assert refused.returncode == 1
    assert "HTTP Error 401: Unauthorized" in refused.stdout + refused.stderr
