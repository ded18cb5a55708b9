"""HA `restrict-commands`: a peer's user may run only the commands HA peers send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import make_database
from tests.ha_helpers import pair_configs

HW = "1a:1b:1c:1d:1e:1f"
PEER = ("kea-ha", "s3cret")


async def restricted_server(make_client: Any, tmp_path: Path) -> Any:
    db = make_database("sqlite", tmp_path)[0]
    config = pair_configs([db, db])[0]
    relationship = config["Dhcp4"]["hooks-libraries"][0]["parameters"]["high-availability"][0]
    relationship["restrict-commands"] = True
    relationship["peers"][1].update({"basic-auth-user": PEER[0], "basic-auth-password": PEER[1]})
    config["LeaseSync"]["authentication"] = {"type": "basic", "realm": "kea-control-agent", "clients": [
        {"user": PEER[0], "password": PEER[1]}, {"user": "admin", "password": "pw"}]}
    return await make_client(config)


async def test_a_restricted_peer_user_may_send_heartbeats_and_lease_updates(make_client: Any, tmp_path: Path) -> None:
    client = await restricted_server(make_client, tmp_path)
    heartbeat = await client.http.post("/", json={"command": "ha-heartbeat", "service": ["dhcp4"]}, auth=PEER)
    assert heartbeat.status_code == 200 and heartbeat.json()[0]["result"] == 0
    lease = {"ip-address": "192.0.2.9", "hw-address": HW, "force-create": True, "expire": 2000000000,
             "valid-lft": 4000, "subnet-id": 1}
    update = await client.http.post("/", json={"command": "lease4-update", "service": ["dhcp4"], "arguments": lease},
                                    auth=PEER)
    assert update.json()[0] == {"result": 0, "text": "IPv4 lease added."}


async def test_a_restricted_peer_user_gets_403_for_other_commands_and_nothing_changes(
        make_client: Any, tmp_path: Path) -> None:
    client = await restricted_server(make_client, tmp_path)
    add = {"ip-address": "192.0.2.9", "hw-address": HW}
    assert (await client.http.post("/", json={"command": "lease4-add", "service": ["dhcp4"], "arguments": add},
                                   auth=("admin", "pw"))).json()[0]["result"] == 0
    refused = await client.http.post("/", json={"command": "lease4-wipe", "service": ["dhcp4"]}, auth=PEER)
    assert refused.status_code == 403 and refused.json() == {"result": 403, "text": "Forbidden"}
    still = await client.http.post("/", json={"command": "lease4-get", "service": ["dhcp4"], "arguments": add},
                                   auth=("admin", "pw"))
    assert still.json()[0]["result"] == 0


async def test_restrict_commands_does_not_limit_the_administrator(make_client: Any, tmp_path: Path) -> None:
    client = await restricted_server(make_client, tmp_path)
    answer = await client.http.post("/", json={"command": "ha-continue", "service": ["dhcp4"]}, auth=("admin", "pw"))
    assert answer.status_code == 200 and answer.json()[0]["result"] == 0
