"""config-backend-pull: leasesync reads no configuration backend, and says so as Kea does."""

from __future__ import annotations

from typing import Any

from tests.conftest import KeaClient, service_config


async def test_without_config_control_there_is_nothing_to_pull(sqlite_client: KeaClient) -> None:
    assert await sqlite_client.one("config-backend-pull", "dhcp4") == {"result": 3, "text": "No config backend."}
    assert await sqlite_client.one("config-backend-pull", "dhcp6", {"x": 1}) == {"result": 3, "text": "No config backend."}


async def test_a_pasted_config_control_is_not_pretended_to_be_pulled(make_client: Any,
                                                                     sqlite_database: dict[str, Any]) -> None:
    control = {"config-control": {"config-databases": [{"type": "mysql", "name": "kea_cb"}]}}
    client = await make_client(service_config(sqlite_database, dhcp4_extra=control))
    ans = await client.one("config-backend-pull", "dhcp4")
    assert ans["result"] == 1
    assert "'config-control' is not used" in ans["text"]
