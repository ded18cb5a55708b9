"""Bounded, seeded fuzzing of the control channel (hypothesis, in-process, SQLite).

Invariants, for every generated request:
* never HTTP 500 and never a traceback or an "internal error" in an answer;
* a 200 answer is a JSON list of maps, each with an integer `result` in 0..3 and, when present,
  a string `text`;
* a request whose answers all have result != 0 changed no lease (digest of lease4-get-all and
  lease6-get-all before and after).

`shutdown`, `config-write`, `config-set` and `config-reload` are left out of the generated command
names: they stop the service or write files by design, which is not what this fuzzes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.commands  # noqa: F401 - registers every command
from app.commands.registry import registry
from app.config import parse_config
from app.main import build_app, build_runtime
from tests.conftest import make_database, service_config

EXCLUDED = {"shutdown", "config-write", "config-set", "config-reload"}
COMMANDS = sorted(spec.name for spec in registry.all() if spec.name not in EXCLUDED)
FUZZ_SETTINGS = settings(max_examples=200, derandomize=True, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HEADERS = {"Content-Type": "application/json"}

# --- strategies -----------------------------------------------------------------------------

ints = st.one_of(st.integers(-(2**63), 2**64 - 1),
                 st.sampled_from([-1, 0, 1, 2, 3, 64, 128, 255, 2**31, 2**32 - 1, 2**32, 2**63 - 1]))
scalars = st.one_of(st.none(), st.booleans(), ints, st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=16))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=8)

V4 = ["192.0.2.20", "192.0.2.21", "192.0.2.200", "198.51.100.7", "10.0.0.1", "0.0.0.0", "255.255.255.255",
      "192.0.2.300", "", "start"]
V6 = ["2001:db8:1::10", "2001:db8:1::11", "2001:db8:2::1", "3000:1::", "::", "fe80::1%eth0", "2001:db8:1::zz"]
HEX = ["1a:1b:1c:1d:1e:1f", "01:02:03:04:05:06:07:08", "00:01:02", "", "zz", "1a1b1c1d1e1f", "1a:" * 40 + "1b",
       "01 02 03", "0x0102"]
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "ip-address": st.sampled_from(V4 + V6),
    "from": st.sampled_from(V4 + V6),
    "hw-address": st.sampled_from(HEX),
    "client-id": st.sampled_from(HEX),
    "duid": st.sampled_from(HEX),
    "identifier": st.sampled_from(HEX),
    "identifier-type": st.sampled_from(["hw-address", "client-id", "duid", "circuit-id", "bogus"]),
    "type": st.sampled_from(["IA_NA", "IA_TA", "IA_PD", "V4", "bogus"]),
    "hostname": st.sampled_from(["host.example.org", "HOST.example.org", "", "a" * 300, "x..y"]),
    "state": st.sampled_from([0, 1, 2, 3, -1]),
    "subnet-id": st.sampled_from([0, 1, 2, 3, 2**32]),
    "subnets": st.lists(st.sampled_from([0, 1, 2, 99]), max_size=3),
    "iaid": ints, "prefix-len": st.sampled_from([0, 48, 64, 128, 129]),
    "valid-lft": ints, "preferred-lft": ints, "expire": ints, "limit": ints,
    "fqdn-fwd": st.booleans(), "fqdn-rev": st.booleans(), "force-create": st.booleans(),
    "user-context": json_values, "remove": st.booleans(), "max-period": ints,
    "origin": st.sampled_from(["user", "ha-partner", "bogus"]),
    "name": st.text(max_size=12), "update-ddns": st.booleans(),
}
FIELDS = sorted(FIELD_VALUES) + ["deleted-leases", "leases", "LeaseSync", "Dhcp4", "Dhcp6"]


@st.composite
def lease_like(draw: st.DrawFn) -> dict[str, Any]:
    """An argument map mixing known field names with plausible, wrong-typed and random values."""
    names = draw(st.lists(st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)), max_size=8, unique=True))
    out: dict[str, Any] = {}
    for name in names:
        if name in ("deleted-leases", "leases"):
            out[name] = draw(st.one_of(st.lists(st.deferred(lambda: lease_like()), max_size=3), json_values))
        elif name in ("LeaseSync", "Dhcp4", "Dhcp6"):
            out[name] = draw(json_values)
        elif name in FIELD_VALUES:
            out[name] = draw(st.one_of(FIELD_VALUES[name], FIELD_VALUES[name], scalars))
        else:
            out[name] = draw(json_values)
    return out


MISSING = object()
services = st.one_of(st.just(MISSING), st.sampled_from([["dhcp4"], ["dhcp6"], ["dhcp4", "dhcp6"], ["d2"], [],
                                                        "dhcp4", [1], None]))
commands = st.one_of(st.sampled_from(COMMANDS), st.sampled_from(COMMANDS), st.text(max_size=20), scalars)


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    envelope: dict[str, Any] = {}
    if draw(st.integers(0, 19)):
        envelope["command"] = draw(commands)
    service = draw(services)
    if service is not MISSING:
        envelope["service"] = service
    arguments = draw(st.one_of(st.just(MISSING), lease_like(), lease_like(), json_values))
    if arguments is not MISSING:
        envelope["arguments"] = arguments
    if not draw(st.integers(0, 19)):
        envelope[draw(st.sampled_from(["remote-address", "foo", "Command"]))] = draw(scalars)
    return envelope


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    """Random bytes, or a valid envelope that was truncated or had bytes flipped."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    body = bytearray(json.dumps(draw(envelopes())).encode())
    for _ in range(draw(st.integers(0, 3))):
        if body:
            body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    if body and draw(st.booleans()):
        del body[draw(st.integers(0, len(body) - 1)):]
    return bytes(body)


V4_IN_SUBNET = ["192.0.2.20", "192.0.2.21", "192.0.2.22", "198.51.100.7"]
V6_IN_SUBNET = ["2001:db8:1::10", "2001:db8:1::11", "2001:db8:2::1"]


def _valid_arguments(draw: st.DrawFn, command: str) -> dict[str, Any]:
    v6 = command.startswith("lease6")
    address = draw(st.sampled_from(V6_IN_SUBNET if v6 else V4_IN_SUBNET))
    lease = ({"ip-address": address, "duid": "01:02:03:04:05:06:07:08", "iaid": draw(st.integers(0, 9))} if v6
             else {"ip-address": address, "hw-address": draw(st.sampled_from(HEX[:3]))})
    verb = command.split("-", 1)[1]
    if verb in ("add", "update"):
        return {**lease, "hostname": draw(st.sampled_from(["a.example.org", ""])), "force-create": draw(st.booleans())}
    if verb == "bulk-apply":
        return {"leases": [lease], "deleted-leases": [{"ip-address": draw(st.sampled_from(V6_IN_SUBNET if v6
                                                                                       else V4_IN_SUBNET))}]}
    if verb == "get-page":
        return {"from": "start", "limit": draw(st.integers(1, 5))}
    if verb == "wipe":
        return {"subnet-id": draw(st.sampled_from([1, 2]))}
    if verb == "get-by-hw-address":
        return {"hw-address": lease.get("hw-address", HEX[0])}
    if verb in ("get-by-client-id", "get-by-duid"):
        return {"client-id": "01:02:03", "duid": "01:02:03:04:05:06:07:08"}
    if verb == "get-by-hostname":
        return {"hostname": "a.example.org"}
    if verb == "get-all":
        return {"subnets": [1]}
    return {"ip-address": address}


@st.composite
def near_valid_lease_commands(draw: st.DrawFn) -> dict[str, Any]:
    """A lease command with valid arguments, then 0..2 mutations (dropped, replaced or added fields)."""
    command = draw(st.sampled_from([c for c in COMMANDS if c.startswith("lease")]))
    arguments = _valid_arguments(draw, command)
    for _ in range(draw(st.integers(0, 2))):
        action = draw(st.sampled_from(["drop", "replace", "add"]))
        if action == "drop" and arguments:
            del arguments[draw(st.sampled_from(sorted(arguments)))]
        elif action == "replace" and arguments:
            key = draw(st.sampled_from(sorted(arguments)))
            arguments[key] = draw(FIELD_VALUES.get(key, scalars) | scalars)
        else:
            key = draw(st.sampled_from(FIELDS))
            arguments[key] = draw(FIELD_VALUES.get(key, json_values))
    return {"command": command, "service": [f"dhcp{command[5]}"], "arguments": arguments}


# --- the service ----------------------------------------------------------------------------

class Harness:
    """An in-process leasesync on SQLite, driven from synchronous hypothesis tests."""

    def __init__(self, tmp_path: Path) -> None:
        self.runner = asyncio.Runner()
        db, _ = make_database("sqlite", tmp_path)
        self.runtime = build_runtime(parse_config(service_config(db), tmp_path / "leasesync.json"))
        self.runner.run(self.runtime.start())
        transport = httpx.ASGITransport(app=build_app(self.runtime), client=("127.0.0.1", 40000))
        self.http = httpx.AsyncClient(transport=transport, base_url="http://leasesync", timeout=30)
        for args in ({"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f", "hostname": "host.example.org"},
                     {"ip-address": "198.51.100.7", "hw-address": "00:01:02", "client-id": "01:02:03"}):
            self.expect_ok({"command": "lease4-add", "service": ["dhcp4"], "arguments": args})
        self.expect_ok({"command": "lease6-add", "service": ["dhcp6"],
                        "arguments": {"ip-address": "2001:db8:1::10", "duid": "01:02:03:04:05:06:07:08", "iaid": 7}})

    def post(self, body: bytes) -> httpx.Response:
        return self.runner.run(self.http.post("/", content=body, headers=HEADERS))

    def expect_ok(self, envelope: dict[str, Any]) -> None:
        assert self.post(json.dumps(envelope).encode()).json()[0]["result"] == 0

    def digest(self) -> str:
        h = hashlib.sha256()
        for command, service in (("lease4-get-all", "dhcp4"), ("lease6-get-all", "dhcp6")):
            response = self.post(json.dumps({"command": command, "service": [service]}).encode())
            assert response.status_code == 200
            h.update(response.content)
        return h.hexdigest()

    def close(self) -> None:
        self.runner.run(self.http.aclose())
        self.runner.run(self.runtime.stop())
        self.runner.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


def check_answer(response: httpx.Response) -> list[dict[str, Any]] | None:
    """The invariants every answer keeps; returns the answers of a 200, None for a transport error."""
    assert response.status_code != 500
    assert b"Traceback" not in response.content
    assert b"internal error while processing" not in response.content, response.content
    if response.status_code != 200:
        assert response.status_code == 400, response.status_code
        assert response.content == b'{ "result": 400, "text": "Bad Request" }'
        return None
    answers = response.json()
    assert isinstance(answers, list) and answers
    for item in answers:
        assert isinstance(item, dict)
        assert type(item.get("result")) is int and 0 <= item["result"] <= 3, item
        assert "text" not in item or isinstance(item["text"], str), item
    return answers


def run_and_check(harness: Harness, body: bytes) -> None:
    before = harness.digest()
    answers = check_answer(harness.post(body))
    if answers is None or all(item["result"] != 0 for item in answers):
        assert harness.digest() == before, f"a rejected request changed leases: {body[:500]!r}"


def fuzz(strategy: st.SearchStrategy[Any], encode: Callable[[Any], bytes]) -> Callable[[Harness], None]:
    @FUZZ_SETTINGS
    @given(strategy)
    def run(harness: Harness, value: Any) -> None:
        run_and_check(harness, encode(value))

    return run


def test_generated_envelopes_keep_the_answer_invariants(harness: Harness) -> None:
    fuzz(envelopes(), lambda e: json.dumps(e).encode())(harness)


def test_mutated_valid_lease_commands_keep_the_answer_invariants(harness: Harness) -> None:
    fuzz(near_valid_lease_commands(), lambda e: json.dumps(e).encode())(harness)


def test_raw_bodies_keep_the_answer_invariants(harness: Harness) -> None:
    fuzz(raw_bodies(), lambda b: b)(harness)
