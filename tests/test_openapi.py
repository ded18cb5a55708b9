"""/openapi.json and /docs: every registry command has a typed request and answer, and the schemas
accept the requests leasesync is sent and the answers it really gives."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app.api import openapi
from app.commands.registry import registry
from tests.conftest import KeaClient, make_database
from tests.ha_helpers import pair_configs


async def document(client: KeaClient) -> dict[str, Any]:
    response = await client.http.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for `schema`, whose `#/components/...` refs resolve in `doc`."""
    root = {**schema, "components": doc["components"]}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def request_validator(doc: dict[str, Any], command: str) -> Draft202012Validator:
    schema = doc["paths"][f"/{command}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return validator(doc, schema)


def answer_validator(doc: dict[str, Any], command: str) -> Draft202012Validator:
    schema = doc["paths"][f"/{command}"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return validator(doc, schema)


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def property_names(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Every property a schema names, through $ref, allOf and anyOf/oneOf branches."""
    schema = resolve(doc, schema)
    names = set(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            names |= property_names(doc, sub)
    return names


async def send(client: KeaClient, doc: dict[str, Any], body: dict[str, Any], path: str = "/") -> list[dict[str, Any]]:
    """Validate a request against its command's schema, send it, validate the answer; return the answer."""
    request_validator(doc, body["command"]).validate(body)
    response = await client.http.post(path, json=body)
    assert response.status_code == 200, response.text
    answers: list[dict[str, Any]] = response.json()
    answer_validator(doc, body["command"]).validate(answers)
    return answers


# --- coverage of the registry -----------------------------------------------------------------------

def test_every_registry_command_has_its_own_schema() -> None:
    import app.commands  # noqa: F401 - registers every command

    assert openapi.missing_schemas() == [], "commands documented only by the generic fallback schema"
    assert openapi.stale_schemas() == [], "schemas for commands that are not in the registry"


async def test_openapi_json_has_a_typed_path_per_command(sqlite_client: KeaClient) -> None:
    doc = await document(sqlite_client)
    assert doc["openapi"].startswith("3.1")
    commands = registry.all()
    assert len(commands) > 50
    for spec in commands:
        operation = doc["paths"][f"/{spec.name}"]["post"]
        request = resolve(doc, operation["requestBody"]["content"]["application/json"]["schema"])
        assert request["properties"]["command"]["const"] == spec.name
        assert request["additionalProperties"] is False
        arguments = property_names(doc, request["properties"]["arguments"])
        # the registry's own argument notes and the schema agree
        assert set(spec.arguments) <= arguments, (spec.name, spec.arguments, arguments)
        if openapi.COMMANDS[spec.name].required:
            assert arguments, spec.name
            assert "arguments" in request["required"], spec.name
        assert "any path" in operation["description"]
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert resolve(doc, answer)["type"] == "array"
        assert {"400", "401", "403", "413"} <= set(operation["responses"])
    generic = doc["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]
    envelope = resolve(doc, generic["schema"])
    assert set(envelope["discriminator"]["mapping"]) == {spec.name for spec in commands}
    # FastAPI's own routes are still there
    assert "/healthz" in doc["paths"] and "/metrics" in doc["paths"]


@pytest.mark.parametrize(("command", "arguments", "required"), [
    ("lease4-add", {"ip-address", "hw-address", "client-id", "subnet-id", "valid-lft", "expire", "fqdn-fwd",
                    "fqdn-rev", "hostname", "state", "user-context"}, {"ip-address", "hw-address"}),
    ("lease6-add", {"ip-address", "duid", "iaid", "type", "prefix-len", "preferred-lft", "hw-address"},
     {"ip-address", "duid", "iaid"}),
    ("lease4-update", {"ip-address", "hw-address", "force-create"}, set()),
    ("lease4-get", {"ip-address", "identifier-type", "identifier", "subnet-id"}, set()),
    ("lease6-del", {"ip-address", "type", "identifier-type", "identifier", "iaid", "subnet-id"}, set()),
    ("lease4-get-page", {"from", "limit"}, {"from", "limit"}),
    ("lease6-get-all", {"subnets"}, {"subnets"}),
    ("lease4-wipe", {"subnet-id"}, set()),
    ("lease6-bulk-apply", {"deleted-leases", "leases"}, set()),
    ("dhcp-disable", {"max-period", "origin"}, set()),
    ("ha-sync", {"server-name", "max-period"}, {"server-name"}),
    ("ha-scopes", {"scopes"}, {"scopes"}),
    ("ha-maintenance-notify", {"cancel"}, {"cancel"}),
    ("statistic-get", {"name"}, {"name"}),
    ("statistic-sample-count-set", {"name", "max-samples"}, {"name", "max-samples"}),
    ("config-write", {"filename"}, set()),
])
async def test_argument_schemas_name_kea_arguments(sqlite_client: KeaClient, command: str, arguments: set[str],
                                                   required: set[str]) -> None:
    doc = await document(sqlite_client)
    request = resolve(doc, doc["components"]["schemas"][openapi._schema_name(command) + "Request"])
    schema = request["properties"]["arguments"]
    assert arguments <= property_names(doc, schema)
    assert required <= set(resolve(doc, schema).get("required", []))


async def test_enums_and_defaults(sqlite_client: KeaClient) -> None:
    doc = await document(sqlite_client)
    schemas = doc["components"]["schemas"]
    assert schemas["Lease6Input"]["properties"]["type"]["enum"] == ["IA_NA", "IA_TA", "IA_PD"]
    assert schemas["Lease6Input"]["properties"]["type"]["default"] == "IA_NA"
    assert schemas["Lease4Input"]["properties"]["state"]["enum"] == [0, 1, 2]
    assert schemas["Lease4Input"]["properties"]["fqdn-fwd"]["default"] is False
    disable = schemas["DhcpDisableRequest"]["properties"]
    assert disable["arguments"]["properties"]["origin"]["enum"] == ["user", "ha-partner"]
    assert disable["service"]["items"]["enum"] == ["dhcp4", "dhcp6"]
    assert schemas["Lease4AddRequest"]["properties"]["service"]["items"]["enum"] == ["dhcp4"]
    assert schemas["Lease6GetPageRequest"]["properties"]["service"]["items"]["enum"] == ["dhcp6"]


# --- the schemas against requests and answers --------------------------------------------------------

async def test_every_documented_example_validates(sqlite_client: KeaClient) -> None:
    doc = await document(sqlite_client)
    spec_examples = 0
    for spec in registry.all():
        operation = doc["paths"][f"/{spec.name}"]["post"]
        requests = operation["requestBody"]["content"]["application/json"]["examples"]
        assert requests, spec.name
        for example in requests.values():
            if example["summary"].startswith("rejected"):  # the spec's malformed request, shown with its error
                assert not request_validator(doc, spec.name).is_valid(example["value"])
            else:
                request_validator(doc, spec.name).validate(example["value"])
        for key, example in operation["responses"]["200"]["content"]["application/json"].get("examples", {}).items():
            answer_validator(doc, spec.name).validate(example["value"])
            spec_examples += key.startswith("spec-")
    assert spec_examples >= 20  # the lease_cmds specification's examples are in the document
    generic = doc["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]
    envelope = validator(doc, generic["schema"])
    for example in generic["examples"].values():
        envelope.validate(example["value"])


async def test_real_requests_and_answers_validate(sqlite_client: KeaClient) -> None:
    doc = await document(sqlite_client)
    c = sqlite_client
    add = {"command": "lease4-add", "service": ["dhcp4"],
           "arguments": {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f", "client-id": "01:02:03",
                         "hostname": "Host.example.org", "fqdn-fwd": True, "user-context": {"x": 1}}}
    assert (await send(c, doc, add))[0]["result"] == 0
    # the documented per-command path is a working URL: leasesync ignores the path
    assert (await send(c, doc, {**add, "arguments": {"ip-address": "192.0.2.21", "hw-address": "1:2:3:4:5:6"}},
                       path="/lease4-add"))[0]["result"] == 0
    got = await send(c, doc, {"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20"}})
    assert got[0]["arguments"]["client-id"] == "01:02:03"
    by_id = {"identifier-type": "hw-address", "identifier": "1a:1b:1c:1d:1e:1f", "subnet-id": 1}
    assert (await send(c, doc, {"command": "lease4-get", "service": ["dhcp4"], "arguments": by_id}))[0]["result"] == 0
    missing = await send(c, doc, {"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.99"}})
    assert missing[0]["result"] == 3
    page = await send(c, doc, {"command": "lease4-get-page", "service": ["dhcp4"],
                               "arguments": {"from": "start", "limit": 10}}, path="/lease4-get-page")
    assert page[0]["arguments"]["count"] == 2
    empty = await send(c, doc, {"command": "lease4-get-page", "service": ["dhcp4"],
                                "arguments": {"from": "192.0.2.21", "limit": 10}})
    assert empty[0] == {"arguments": {"count": 0, "leases": []}, "result": 3, "text": "0 IPv4 lease(s) found."}
    await send(c, doc, {"command": "lease4-get-all", "service": ["dhcp4"], "arguments": {"subnets": [1]}})
    bulk = {"command": "lease6-bulk-apply", "service": ["dhcp6"], "arguments": {
        "deleted-leases": [{"ip-address": "2001:db8:1::dead"}],
        "leases": [{"subnet-id": 1, "ip-address": "2001:db8:1::300", "duid": "01:02:03:04:05:06:07:08", "iaid": 30},
                   {"subnet-id": 1, "ip-address": "3000:1:0:1::", "type": "IA_PD", "prefix-len": 64,
                    "duid": "01:02:03:04:05:06:07:08", "iaid": 7}]}}
    applied = await send(c, doc, bulk)
    assert applied[0]["result"] == 0 and applied[0]["arguments"]["failed-deleted-leases"][0]["result"] == 3
    await send(c, doc, {"command": "lease6-get-all", "service": ["dhcp6"]})
    await send(c, doc, {"command": "lease6-get", "service": ["dhcp6"],
                        "arguments": {"ip-address": "3000:1:0:1::", "type": "IA_PD"}})
    for service in (None, ["dhcp4"], ["dhcp4", "dhcp6"]):
        body: dict[str, Any] = {"command": "status-get"}
        if service is not None:
            body["service"] = service
        status = await send(c, doc, body)
        assert all(a["result"] == 0 for a in status)
    for command in ("list-commands", "version-get", "config-get", "statistic-get-all", "server-tag-get"):
        await send(c, doc, {"command": command, "service": ["dhcp4"]})
    await send(c, doc, {"command": "statistic-get", "service": ["dhcp4"],
                        "arguments": {"name": "subnet[1].assigned-addresses"}})
    await send(c, doc, {"command": "lease4-wipe", "service": ["dhcp4"], "arguments": {"subnet-id": 1}})
    await send(c, doc, {"command": "ha-heartbeat", "service": ["dhcp4"]})  # result 2: no HA here


async def test_ha_answers_validate(make_client: Any, tmp_path: Any) -> None:
    db = make_database("sqlite", tmp_path)[0]
    client = await make_client(pair_configs([db, db])[0])  # its partner never answers
    doc = await document(client)
    status = await send(client, doc, {"command": "status-get", "service": ["dhcp4"]})
    relationship = status[0]["arguments"]["high-availability"][0]
    assert relationship["ha-servers"]["local"]["role"] == "primary"
    heartbeat = await send(client, doc, {"command": "ha-heartbeat", "service": ["dhcp4"]})
    assert heartbeat[0]["result"] == 0 and "date-time" in heartbeat[0]["arguments"]
    await send(client, doc, {"command": "ha-heartbeat"})  # service implied by the HA family


@pytest.mark.parametrize("body", [
    {"command": "lease4-add", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20"}},  # no hw-address
    {"command": "lease4-add", "service": ["dhcp6"], "arguments": {"ip-address": "192.0.2.20", "hw-address": "01"}},
    {"command": "lease4-add", "service": ["dhcp4"], "arguments": {"ip-address": "2001:db8::1", "hw-address": "01"}},
    {"command": "lease6-add", "service": ["dhcp6"],
     "arguments": {"ip-address": "2001:db8:1::1", "duid": "01", "iaid": 1, "type": "na"}},
    {"command": "lease6-add", "service": ["dhcp6"],  # IA_PD without prefix-len and subnet-id
     "arguments": {"ip-address": "3000:1::", "duid": "01", "iaid": 1, "type": "IA_PD"}},
    {"command": "lease4-get-page", "service": ["dhcp4"], "arguments": {"from": "start"}},
    {"command": "lease4-get-page", "service": ["dhcp4"], "arguments": {"from": "start", "limit": 0}},
    {"command": "lease4-get-page", "service": ["dhcp4"], "arguments": {"from": "begin", "limit": 5}},
    {"command": "lease4-get", "service": ["dhcp4"], "arguments": {"identifier-type": "duid", "identifier": "01",
                                                                  "subnet-id": 1}},
    {"command": "lease6-bulk-apply", "service": ["dhcp6"], "arguments": {}},
    {"command": "dhcp-disable", "service": ["dhcp4"], "arguments": {"origin": "someone"}},
    {"command": "dhcp-disable", "arguments": {"max-period": 10}},  # a family command needs its service
    {"command": "ha-sync", "service": ["dhcp4"], "arguments": {"max-period": 10}},
    {"command": "ha-maintenance-notify", "service": ["dhcp4"], "arguments": {"cancel": "yes"}},
    {"command": "statistic-get", "service": ["dhcp4"]},
    {"command": "status-get", "services": ["dhcp4"]},
])
async def test_schemas_reject_what_leasesync_rejects(sqlite_client: KeaClient, body: dict[str, Any]) -> None:
    doc = await document(sqlite_client)
    with pytest.raises(ValidationError):
        request_validator(doc, body["command"]).validate(body)
    answers = (await sqlite_client.http.post("/", json=body)).json()
    assert all(a["result"] != 0 for a in answers), answers


async def test_docs_is_html(sqlite_client: KeaClient) -> None:
    response = await sqlite_client.http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower() and "/openapi.json" in response.text


async def test_document_is_valid_openapi_3_1(sqlite_client: KeaClient) -> None:
    validate = pytest.importorskip("openapi_spec_validator").validate
    validate(await document(sqlite_client))
