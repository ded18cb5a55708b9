"""Basic authentication, per-client command permissions, secrets and request limits (in-process, SQLite).

Kea's control agent answers a bad or missing credential with
`401 { "result": 401, "text": "Unauthorized" }` and `WWW-Authenticate: Basic realm="..."`
(spec §8); leasesync adds a per-client `commands` allow-list (403) and size/depth/bulk limits.
A rejected request must change nothing, and no secret may leak into logs, answers or error texts.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import parse_config
from app.errors import ConfigError
from tests.conftest import KeaClient, service_config

REALM = "kea-spec"
ADMIN = ("admin", "s3cret-Admin-pw")
MONITOR = ("monitor", "m0nitor-Pw-xyz")
MONITOR_COMMANDS = ["lease4-get", "lease4-get-all", "list-commands", "status-get"]
HW = "1a:1b:1c:1d:1e:1f"
LEASE = {"ip-address": "192.0.2.20", "hw-address": HW}
UNAUTHORIZED_BODY = b'{ "result": 401, "text": "Unauthorized" }'
FORBIDDEN_BODY = b'{ "result": 403, "text": "Forbidden" }'
BAD_REQUEST_BODY = b'{ "result": 400, "text": "Bad Request" }'


def auth_section(clients: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    if clients is None:
        clients = [
            {"user": ADMIN[0], "password": ADMIN[1]},
            {"user": MONITOR[0], "password": MONITOR[1], "commands": MONITOR_COMMANDS},
        ]
    return {"authentication": {"type": "basic", "realm": REALM, "clients": clients, **extra}}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def post(client: KeaClient, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.raw(content, {"Content-Type": "application/json", **(headers or {})})


async def one(client: KeaClient, command: str, arguments: Any = None, *, service: str | None = "dhcp4",
              user: tuple[str, str] = ADMIN) -> dict[str, Any]:
    body: dict[str, Any] = {"command": command}
    if service:
        body["service"] = [service]
    if arguments is not None:
        body["arguments"] = arguments
    response = await post(client, body, basic(*user))
    assert response.status_code == 200, response.content
    answers = response.json()
    assert isinstance(answers, list) and len(answers) == 1, answers
    return answers[0]


@pytest.fixture
async def auth_client(make_client: Any, sqlite_database: dict[str, Any]) -> KeaClient:
    return await make_client(service_config(sqlite_database, extra_agent=auth_section()))


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.content == UNAUTHORIZED_BODY
    assert response.headers["www-authenticate"] == f'Basic realm="{REALM}"'
    assert response.headers["content-type"] == "application/json"


# --- 401 ------------------------------------------------------------------------------------

async def test_request_without_credentials_gets_keas_401_with_www_authenticate(auth_client: KeaClient) -> None:
    assert_unauthorized(await post(auth_client, {"command": "list-commands"}))


async def test_wrong_password_gets_401(auth_client: KeaClient) -> None:
    assert_unauthorized(await post(auth_client, {"command": "list-commands"}, basic(ADMIN[0], "wrong")))


async def test_unknown_user_gets_401(auth_client: KeaClient) -> None:
    assert_unauthorized(await post(auth_client, {"command": "list-commands"}, basic("mallory", ADMIN[1])))


async def test_password_of_another_user_gets_401(auth_client: KeaClient) -> None:
    assert_unauthorized(await post(auth_client, {"command": "list-commands"}, basic(MONITOR[0], ADMIN[1])))


async def test_bearer_scheme_with_the_right_token_gets_401(auth_client: KeaClient) -> None:
    token = basic(*ADMIN)["Authorization"].split(" ", 1)[1]
    assert_unauthorized(await post(auth_client, {"command": "list-commands"}, {"Authorization": f"Bearer {token}"}))


async def test_undecodable_authorization_header_gets_401(auth_client: KeaClient) -> None:
    assert_unauthorized(await post(auth_client, {"command": "list-commands"}, {"Authorization": "Basic %%%not-base64"}))


async def test_basic_scheme_word_is_case_insensitive(auth_client: KeaClient) -> None:
    token = basic(*ADMIN)["Authorization"].split(" ", 1)[1]
    response = await post(auth_client, {"command": "list-commands"}, {"Authorization": f"bAsIc {token}"})
    assert response.status_code == 200 and response.json()[0]["result"] == 0


async def test_correct_credentials_get_a_normal_answer(auth_client: KeaClient) -> None:
    assert await one(auth_client, "lease4-add", LEASE) == {
        "result": 0, "text": "Lease for address 192.0.2.20, subnet-id 1 added."}


@pytest.mark.parametrize("path", ["/metrics", "/openapi.json", "/docs"])
async def test_metrics_and_api_docs_without_credentials_get_401(auth_client: KeaClient, path: str) -> None:
    assert_unauthorized(await auth_client.http.get(path))
    assert_unauthorized(await auth_client.http.get(path, headers=basic(ADMIN[0], "wrong")))


async def test_metrics_answer_any_configured_client_even_one_with_a_commands_list(auth_client: KeaClient) -> None:
    for user in (ADMIN, MONITOR):
        response = await auth_client.http.get("/metrics", headers=basic(*user))
        assert response.status_code == 200 and b"leasesync_" in response.content


async def test_a_refused_metrics_scrape_is_counted_as_an_authentication_failure(auth_client: KeaClient) -> None:
    await auth_client.http.get("/metrics", headers=basic(MONITOR[0], "guess"))
    scrape = (await auth_client.http.get("/metrics", headers=basic(*ADMIN))).text
    assert "leasesync_auth_failures_total 1.0" in scrape


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_health_probes_answer_without_credentials(auth_client: KeaClient, path: str) -> None:
    response = await auth_client.http.get(path)
    assert response.status_code == 200


async def test_malformed_body_without_credentials_is_400_not_401(auth_client: KeaClient) -> None:
    response = await post(auth_client, b'{"command": ')
    assert response.status_code == 400 and response.content == BAD_REQUEST_BODY


async def test_rejected_add_changes_nothing(auth_client: KeaClient) -> None:
    body = {"command": "lease4-add", "service": ["dhcp4"], "arguments": LEASE}
    assert_unauthorized(await post(auth_client, body, basic(ADMIN[0], "wrong")))
    assert (await one(auth_client, "lease4-get", {"ip-address": "192.0.2.20"}))["result"] == 3


async def test_rejected_delete_changes_nothing(auth_client: KeaClient) -> None:
    await one(auth_client, "lease4-add", LEASE)
    body = {"command": "lease4-del", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20"}}
    assert_unauthorized(await post(auth_client, body))
    assert (await one(auth_client, "lease4-get", {"ip-address": "192.0.2.20"}))["arguments"]["hw-address"] == HW


async def test_empty_clients_list_means_no_authentication(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    client = await make_client(service_config(sqlite_database, extra_agent=auth_section(clients=[])))
    response = await post(client, {"command": "list-commands"})
    assert response.status_code == 200 and response.json()[0]["result"] == 0


async def test_client_with_empty_password_authenticates_with_user_only(make_client: Any,
                                                                       sqlite_database: dict[str, Any]) -> None:
    client = await make_client(service_config(sqlite_database, extra_agent=auth_section([{"user": "ro"}])))
    assert (await post(client, {"command": "list-commands"}, basic("ro", ""))).status_code == 200
    assert_unauthorized(await post(client, {"command": "list-commands"}, basic("ro", "x")))


# --- secrets from files ---------------------------------------------------------------------

async def test_user_file_and_password_file_under_directory_authenticate(make_client: Any, tmp_path: Path,
                                                                        sqlite_database: dict[str, Any]) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "user").write_text("filed-user\n")
    (secrets / "pw").write_text("filed-Pw-123\n")
    section = auth_section([{"user-file": "user", "password-file": "pw"}], directory=str(secrets))
    client = await make_client(service_config(sqlite_database, extra_agent=section))
    ok = await post(client, {"command": "list-commands"}, basic("filed-user", "filed-Pw-123"))
    assert ok.status_code == 200 and ok.json()[0]["result"] == 0
    assert_unauthorized(await post(client, {"command": "list-commands"}, basic("filed-user", "filed-Pw-124")))


async def test_password_file_without_user_holds_user_colon_password(make_client: Any, tmp_path: Path,
                                                                     sqlite_database: dict[str, Any]) -> None:
    (tmp_path / "secret").write_text("pair-user:pair:Pw\n")
    section = auth_section([{"password-file": str(tmp_path / "secret")}])
    client = await make_client(service_config(sqlite_database, extra_agent=section))
    assert (await post(client, {"command": "list-commands"}, basic("pair-user", "pair:Pw"))).status_code == 200
    assert_unauthorized(await post(client, {"command": "list-commands"}, basic("pair-user", "pair")))


def test_missing_password_file_fails_configuration_naming_the_key(tmp_path: Path,
                                                                 sqlite_database: dict[str, Any]) -> None:
    section = auth_section([{"user": "u", "password-file": "nope"}], directory=str(tmp_path))
    with pytest.raises(ConfigError) as err:
        parse_config(service_config(sqlite_database, extra_agent=section))
    assert err.value.path == "LeaseSync.authentication.clients[0].password-file"


def test_configuration_error_never_echoes_the_content_of_a_user_file(tmp_path: Path,
                                                                    sqlite_database: dict[str, Any]) -> None:
    # a user file that holds "user:password" (or any file an operator points to by mistake) must not
    # come back in the error text, which config-test hands to API clients
    (tmp_path / "user").write_text("leaky:TopSecretPw")
    section = auth_section([{"user-file": str(tmp_path / "user"), "password": "x"}])
    with pytest.raises(ConfigError) as err:
        parse_config(service_config(sqlite_database, extra_agent=section))
    assert "TopSecretPw" not in str(err.value)
    assert err.value.path == "LeaseSync.authentication.clients[0].user"


def test_duplicate_user_error_never_echoes_file_content(tmp_path: Path, sqlite_database: dict[str, Any]) -> None:
    (tmp_path / "user").write_text("file-content-Secret")
    clients = [{"user-file": str(tmp_path / "user")}, {"user-file": str(tmp_path / "user")}]
    with pytest.raises(ConfigError) as err:
        parse_config(service_config(sqlite_database, extra_agent=auth_section(clients)))
    assert "file-content-Secret" not in str(err.value)
    assert err.value.path == "LeaseSync.authentication.clients[1].user"


# --- secrets never leak ---------------------------------------------------------------------

async def test_config_get_redacts_every_client_password(auth_client: KeaClient) -> None:
    response = await post(auth_client, {"command": "config-get"}, basic(*ADMIN))
    assert ADMIN[1].encode() not in response.content and MONITOR[1].encode() not in response.content
    clients = response.json()[0]["arguments"]["LeaseSync"]["authentication"]["clients"]
    assert [c["password"] for c in clients] == ["*****", "*****"]


async def test_config_get_redacts_the_lease_database_password(make_client: Any, sqlite_database: dict[str, Any]) -> None:
    client = await make_client(service_config({**sqlite_database, "password": "Db-Secret-42"}))
    answer = await client.one("config-get", "dhcp4")
    assert answer["arguments"]["Dhcp4"]["lease-database"]["password"] == "*****"
    assert "Db-Secret-42" not in json.dumps(answer)


async def test_config_test_error_text_never_contains_a_password(auth_client: KeaClient) -> None:
    candidate = {"LeaseSync": {"authentication": {"type": "basic", "clients": [
        {"user": "x:Cfg-Test-Secret", "password": "Cfg-Test-Secret"}]}}}
    answer = await one(auth_client, "config-test", candidate, service=None)
    assert answer["result"] == 1
    assert "Cfg-Test-Secret" not in answer["text"]


async def test_failed_logins_never_log_a_password(auth_client: KeaClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    attempts = [basic(ADMIN[0], "Wrong-Pw-1"), basic("nobody", "Wrong-Pw-2"),
                {"Authorization": "Basic " + base64.b64encode(b"Wrong-Pw-3").decode()},  # no "user:" part
                {"Authorization": "Bearer Wrong-Pw-4"}]
    for headers in attempts:
        assert_unauthorized(await post(auth_client, {"command": "list-commands"}, headers))
    assert "authentication failed" in caplog.text
    for secret in ("Wrong-Pw-1", "Wrong-Pw-2", "Wrong-Pw-3", "Wrong-Pw-4"):
        assert secret not in caplog.text


async def test_successful_and_forbidden_requests_never_log_a_password(auth_client: KeaClient,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await one(auth_client, "lease4-add", LEASE)
    response = await post(auth_client, {"command": "lease4-del", "arguments": {"ip-address": "192.0.2.20"}},
                          basic(*MONITOR))
    assert response.status_code == 403
    assert ADMIN[1] not in caplog.text and MONITOR[1] not in caplog.text


# --- per-client command allow-list (403) ------------------------------------------------------

async def test_monitoring_user_may_run_an_allowed_command(auth_client: KeaClient) -> None:
    await one(auth_client, "lease4-add", LEASE)
    got = await one(auth_client, "lease4-get", {"ip-address": "192.0.2.20"}, user=MONITOR)
    assert got["result"] == 0 and got["arguments"]["hw-address"] == HW


async def test_monitoring_user_gets_403_for_a_command_outside_its_list_and_nothing_changes(
        auth_client: KeaClient) -> None:
    await one(auth_client, "lease4-add", LEASE)
    body = {"command": "lease4-del", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20"}}
    response = await post(auth_client, body, basic(*MONITOR))
    assert response.status_code == 403 and response.content == FORBIDDEN_BODY
    assert (await one(auth_client, "lease4-get", {"ip-address": "192.0.2.20"}))["result"] == 0


async def test_allow_list_refuses_a_non_string_command(auth_client: KeaClient) -> None:
    response = await post(auth_client, {"command": ["lease4-get"]}, basic(*MONITOR))
    assert response.status_code == 403


async def test_client_without_commands_list_may_run_everything(auth_client: KeaClient) -> None:
    await one(auth_client, "lease4-add", LEASE)
    assert (await one(auth_client, "lease4-wipe", {"subnet-id": 1}))["result"] == 0
    assert (await one(auth_client, "lease4-get", {"ip-address": "192.0.2.20"}))["result"] == 3


# --- limits ---------------------------------------------------------------------------------

@pytest.fixture
async def limited_client(make_client: Any, sqlite_database: dict[str, Any]) -> KeaClient:
    limits = {"max-request-size": 4096, "max-json-depth": 8, "max-bulk-leases": 3, "max-page-limit": 2}
    return await make_client(service_config(sqlite_database, extra_agent=limits))


def add_body(size: int) -> bytes:
    """A lease4-add body of exactly `size` bytes (padding in the user context)."""
    body = {"command": "lease4-add", "service": ["dhcp4"], "arguments": {**LEASE, "user-context": {"pad": ""}}}
    raw = json.dumps(body).encode()
    body["arguments"]["user-context"]["pad"] = "x" * (size - len(raw))
    raw = json.dumps(body).encode()
    assert len(raw) == size
    return raw


async def test_body_over_max_request_size_is_413_and_changes_nothing(limited_client: KeaClient) -> None:
    response = await post(limited_client, add_body(4097))
    assert response.status_code == 413
    assert response.content == b'{ "result": 413, "text": "Payload Too Large" }'
    assert (await limited_client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}))["result"] == 3


async def test_body_of_exactly_max_request_size_is_processed(limited_client: KeaClient) -> None:
    response = await post(limited_client, add_body(4096))
    assert response.status_code == 200 and response.json()[0]["result"] == 0


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


async def test_nesting_over_max_json_depth_is_400_and_changes_nothing(limited_client: KeaClient) -> None:
    # the envelope and the arguments are levels 1 and 2; the user context adds the rest
    body = {"command": "lease4-add", "service": ["dhcp4"], "arguments": {**LEASE, "user-context": nested(7)}}
    response = await post(limited_client, body)
    assert response.status_code == 400 and response.content == BAD_REQUEST_BODY
    assert (await limited_client.one("lease4-get", "dhcp4", {"ip-address": "192.0.2.20"}))["result"] == 3


async def test_nesting_at_max_json_depth_is_processed(limited_client: KeaClient) -> None:
    body = {"command": "lease4-add", "service": ["dhcp4"], "arguments": {**LEASE, "user-context": nested(6)}}
    response = await post(limited_client, body)
    assert response.status_code == 200 and response.json()[0]["result"] == 0


async def test_deeply_nested_list_body_is_400_not_a_crash(limited_client: KeaClient) -> None:
    response = await post(limited_client, b"[" * 2000 + b"]" * 2000)
    assert response.status_code == 400 and response.content == BAD_REQUEST_BODY


async def test_bulk_apply_over_max_bulk_leases_is_result_1_naming_it_and_changes_nothing(
        limited_client: KeaClient) -> None:
    leases = [{"ip-address": f"192.0.2.{i}", "hw-address": HW} for i in range(20, 24)]
    answer = await limited_client.one("lease4-bulk-apply", "dhcp4", {"leases": leases})
    assert answer["result"] == 1 and "max-bulk-leases" in answer["text"]
    assert (await limited_client.one("lease4-get-all", "dhcp4"))["result"] == 3


async def test_bulk_apply_at_max_bulk_leases_is_applied(limited_client: KeaClient) -> None:
    leases = [{"ip-address": f"192.0.2.{i}", "hw-address": HW} for i in range(20, 23)]
    assert (await limited_client.one("lease4-bulk-apply", "dhcp4", {"leases": leases}))["result"] == 0
    assert len((await limited_client.one("lease4-get-all", "dhcp4"))["arguments"]["leases"]) == 3


async def test_page_limit_is_capped_at_max_page_limit(limited_client: KeaClient) -> None:
    for i in range(20, 25):
        await limited_client.one("lease4-add", "dhcp4", {"ip-address": f"192.0.2.{i}", "hw-address": HW})
    page = await limited_client.one("lease4-get-page", "dhcp4", {"from": "start", "limit": 1000})
    assert page["result"] == 0 and page["arguments"]["count"] == 2
    assert [lease["ip-address"] for lease in page["arguments"]["leases"]] == ["192.0.2.20", "192.0.2.21"]


async def test_page_limit_zero_is_result_1(limited_client: KeaClient) -> None:
    page = await limited_client.one("lease4-get-page", "dhcp4", {"from": "start", "limit": 0})
    assert page == {"result": 1, "text": "page size of retrieved leases must not be 0"}


async def test_page_limit_over_uint32_is_result_1(limited_client: KeaClient) -> None:
    page = await limited_client.one("lease4-get-page", "dhcp4", {"from": "start", "limit": 2**32})
    assert page["result"] == 1 and "must not be greater than 4294967295" in page["text"]
