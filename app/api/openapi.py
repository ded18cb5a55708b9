"""The OpenAPI document of the control channel: one typed request and answer per command.

leasesync answers every command at `POST /` (any path, as kea-ctrl-agent), so the document
describes each command as `POST /{command-name}` — a real, working URL, since the path is
ignored — plus the generic `POST /` whose body is any command's envelope (a union keyed by
`command`). The schemas are JSON Schema 2020-12 (OpenAPI 3.1), written by hand from Kea 2.2's
lease_cmds/HA/statistics arguments and leasesync's parsers (app/commands/lease_parse.py,
leases.py, server.py, stats.py, app/ha/messages.py), with Kea's defaults.

The paths are generated from the command registry. A registered command without an entry in
`ARGUMENTS` and `ANSWERS` still gets a path, with a generic schema, and is listed by
`missing_schemas()` — which the test suite requires to be empty.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from app.commands.registry import AGENT, BOTH, CommandSpec, registry

Schema = dict[str, Any]

UINT32_MAX = 0xFFFFFFFF
REF = "#/components/schemas/"


def ref(name: str) -> Schema:
    return {"$ref": REF + name}


def obj(properties: dict[str, Schema], required: list[str] | None = None, description: str | None = None,
        **extra: Any) -> Schema:
    """An object schema. Unknown keys are allowed (Kea ignores them) unless `extra` says otherwise."""
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if description:
        out["description"] = description
    out.update(extra)
    return out


def uint32(description: str, **extra: Any) -> Schema:
    return {"type": "integer", "minimum": 0, "maximum": UINT32_MAX, "description": description, **extra}


def string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


# --- shared components ---------------------------------------------------------------------------

HEX_NOTE = "lowercase hex bytes joined by `:`"
LEASE6_TYPES = ["IA_NA", "IA_TA", "IA_PD"]

_LEASE_COMMON_INPUT: dict[str, Schema] = {
    "subnet-id": uint32("Subnet of the lease. Absent or 0: the configured subnet whose prefix contains the "
                        "address. When given (non-zero) it must exist and contain the address.", default=0),
    "valid-lft": uint32("Valid lifetime in seconds; 4294967295 is infinite. Default: the subnet's "
                        "valid-lifetime."),
    "expire": {"type": "integer", "exclusiveMinimum": 0,
               "description": "Expiration time (Unix seconds); cltt = expire - valid-lft. Must be > 0 and "
                              ">= valid-lft. Default: cltt = now."},
    "fqdn-fwd": {"type": "boolean", "default": False, "description": "Forward DNS update done (needs hostname)."},
    "fqdn-rev": {"type": "boolean", "default": False, "description": "Reverse DNS update done (needs hostname)."},
    "hostname": string("Client hostname; stored lowercased. Required non-empty when fqdn-fwd or fqdn-rev is "
                       "true.", default=""),
    "state": {"type": "integer", "enum": [0, 1, 2], "default": 0,
              "description": "0 default (assigned), 1 declined, 2 expired-reclaimed."},
    "user-context": {"type": "object", "description": "Arbitrary JSON map, returned as stored."},
}

LEASE4_INPUT = obj(
    {
        "ip-address": string("IPv4 address of the lease.", format="ipv4"),
        "hw-address": string("Hardware address: `:`-separated hex bytes (one or two digits each, any case), "
                             "at most 20 bytes. May be empty only when client-id is given or state is 1."),
        "client-id": string("Client identifier: `:`-separated or plain hex, 2..128 bytes."),
        **_LEASE_COMMON_INPUT,
    },
    ["ip-address", "hw-address"],
    "An IPv4 lease as given to lease4-add/-update/-bulk-apply. The lease is built from these keys alone "
    "(update is a full replacement, not a patch); unknown keys are ignored.",
)

LEASE6_INPUT = obj(
    {
        "ip-address": string("IPv6 address of the lease (for IA_PD: the prefix).", format="ipv6"),
        "duid": string("Client DUID: `:`-separated or plain hex, 1..128 bytes."),
        "iaid": uint32("Identity association identifier."),
        "type": {"type": "string", "enum": LEASE6_TYPES, "default": "IA_NA",
                 "description": "Lease type, exactly these spellings."},
        "prefix-len": {"type": "integer", "minimum": 0, "maximum": 255,
                       "description": "Prefix length; required (and only used) when type is IA_PD."},
        "preferred-lft": uint32("Preferred lifetime in seconds. Default (Kea 2.2 quirk): the subnet's valid "
                                "lifetime."),
        "hw-address": string("Hardware address: `:`-separated hex bytes, at most 20."),
        **_LEASE_COMMON_INPUT,
    },
    ["ip-address", "duid", "iaid"],
    "An IPv6 lease as given to lease6-add/-update/-bulk-apply. IA_PD and IA_TA leases need subnet-id; IA_PD "
    "needs prefix-len; state 1 is refused for IA_PD. Unknown keys are ignored.",
    allOf=[
        {"if": {"properties": {"type": {"const": "IA_PD"}}, "required": ["type"]},
         "then": {"required": ["prefix-len", "subnet-id"]}},
        {"if": {"properties": {"type": {"const": "IA_TA"}}, "required": ["type"]},
         "then": {"required": ["subnet-id"]}},
    ],
)

FORCE_CREATE: Schema = {"type": "boolean", "default": False,
                        "description": "Create the lease when it does not exist (otherwise result 1)."}

_LEASE_OUTPUT_COMMON: dict[str, Schema] = {
    "cltt": {"type": "integer", "description": "Client last transaction time (Unix seconds) = expire - valid-lft."},
    "fqdn-fwd": {"type": "boolean"},
    "fqdn-rev": {"type": "boolean"},
    "hostname": string("Lowercased; `\"\"` when none."),
    "state": {"type": "integer", "enum": [0, 1, 2], "description": "0 default, 1 declined, 2 expired-reclaimed."},
    "subnet-id": uint32("Subnet identifier."),
    "valid-lft": uint32("Valid lifetime in seconds (4294967295 = infinite)."),
    "user-context": {"type": "object", "description": "Only when set."},
}

LEASE4 = obj(
    {
        "ip-address": string("IPv4 address.", format="ipv4"),
        "hw-address": string(f"Hardware address, {HEX_NOTE} (`\"\"` when the lease has none)."),
        "client-id": string(f"Client identifier, {HEX_NOTE}; only when the lease has one."),
        **_LEASE_OUTPUT_COMMON,
    },
    ["cltt", "fqdn-fwd", "fqdn-rev", "hostname", "ip-address", "state", "subnet-id", "valid-lft"],
    "An IPv4 lease as Kea returns it (keys sorted).",
    additionalProperties=False,
    example=json.loads('{ "client-id": "01:02:03", "cltt": 1999999000, "fqdn-fwd": true, "fqdn-rev": true, '
                       '"hostname": "host.example.org", "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": '
                       '"192.0.2.31", "state": 0, "subnet-id": 1, "user-context": { "version": 1 }, '
                       '"valid-lft": 1000 }'),
)

LEASE6 = obj(
    {
        "ip-address": string("IPv6 address in canonical compressed form (for IA_PD: the prefix).", format="ipv6"),
        "duid": string(f"DUID, {HEX_NOTE}."),
        "iaid": uint32("IAID."),
        "type": {"type": "string", "enum": LEASE6_TYPES},
        "prefix-len": {"type": "integer", "description": "Only for type IA_PD."},
        "preferred-lft": uint32("Preferred lifetime in seconds."),
        "hw-address": string(f"Hardware address, {HEX_NOTE}; only when the lease has one."),
        **_LEASE_OUTPUT_COMMON,
    },
    ["cltt", "duid", "fqdn-fwd", "fqdn-rev", "hostname", "iaid", "ip-address", "preferred-lft", "state",
     "subnet-id", "type", "valid-lft"],
    "An IPv6 lease as Kea returns it (keys sorted).",
    additionalProperties=False,
    example=json.loads('{ "cltt": 1795634999, "duid": "01:02:03:04:05:06:07:08", "fqdn-fwd": false, '
                       '"fqdn-rev": false, "hostname": "", "iaid": 7, "ip-address": "3000:1:0:1::", '
                       '"preferred-lft": 4000, "prefix-len": 64, "state": 0, "subnet-id": 1, "type": "IA_PD", '
                       '"valid-lft": 4000 }'),
)


def _query(v: int) -> Schema:
    """leaseX-get / leaseX-del: by address, or by identifier (Kea's getParameters)."""
    fmt = "ipv4" if v == 4 else "ipv6"
    by_address_props: dict[str, Schema] = {"ip-address": string(f"IPv{v} address of the lease. When present it "
                                                                "wins: other keys are ignored.", format=fmt)}
    if v == 6:
        by_address_props["type"] = {"type": "string", "enum": LEASE6_TYPES, "default": "IA_NA",
                                    "description": "Lease type; a prefix is only found with IA_PD."}
        id_types = ["duid"]
        id_props: dict[str, Schema] = {
            "iaid": uint32("IAID of the lease (without it nothing is found).", default=0),
            "type": {"type": "string", "enum": LEASE6_TYPES, "default": "IA_NA"},
        }
        id_required = ["identifier-type", "identifier", "iaid", "subnet-id"]
    else:
        id_types = ["hw-address", "client-id"]
        id_props = {}
        id_required = ["identifier-type", "identifier", "subnet-id"]
    by_address = obj(by_address_props, ["ip-address"], title=f"lease{v} by address")
    by_identifier = obj(
        {
            "identifier-type": {"type": "string", "enum": id_types, "description": "What `identifier` is."},
            "identifier": string("The identifier in hex (`:`-separated)."),
            "subnet-id": uint32("Subnet the lease is in."),
            **id_props,
        },
        id_required,
        title=f"lease{v} by identifier",
    )
    return {"description": f"Find the IPv{v} lease by its address or by (identifier, subnet-id).",
            "anyOf": [by_address, by_identifier]}


FAILED_LEASE = obj(
    {
        "error-message": string("Why the entry failed, e.g. `lease not found`."),
        "ip-address": string("Address (or prefix) of the entry."),
        "result": {"type": "integer", "enum": [1, 3], "description": "3 for a delete of an absent lease, else 1."},
        "type": {"type": "string", "enum": [*LEASE6_TYPES, "V4"]},
    },
    ["error-message", "ip-address", "result", "type"],
    "An entry of lease6-bulk-apply (or lease4-bulk-apply) that could not be applied.",
)


def _bulk_apply(v: int) -> Schema:
    fmt = "ipv4" if v == 4 else "ipv6"
    deleted_props: dict[str, Schema] = {"ip-address": string("Address of the lease to delete.", format=fmt)}
    if v == 6:
        deleted_props["type"] = {"type": "string", "enum": LEASE6_TYPES, "default": "IA_NA"}
    return obj(
        {
            "deleted-leases": {"type": "array", "items": obj(deleted_props, ["ip-address"]),
                               "description": "Leases to delete (by address, and type for IPv6)."},
            "leases": {"type": "array", "items": ref(f"Lease{v}Input"),
                       "description": f"Leases to add or replace, each a full lease{v}-update argument set "
                                      "(implicit force-create)."},
        },
        description="At least one of the two lists. Every entry is parsed first: one malformed entry rejects "
                    "the whole command (result 1) and nothing is applied. Deletions run first, then "
                    "adds/updates.",
        anyOf=[{"required": ["deleted-leases"]}, {"required": ["leases"]}],
    )


def _leases_found(v: int, page: bool = False) -> Schema:
    props: dict[str, Schema] = {"leases": {"type": "array", "items": ref(f"Lease{v}")}}
    required = ["leases"]
    if page:
        props["count"] = {"type": "integer", "minimum": 0, "description": "Number of leases in this page."}
        required = ["count", "leases"]
    return obj(props, required, f"Result 0 with `<n> IPv{v} lease(s) found.`; result 3 with an empty list.",
               additionalProperties=False)


STAT_SAMPLES: Schema = {
    "type": "array",
    "description": "Samples, newest first: `[value, \"YYYY-MM-DD HH:MM:SS.ffffff\"]`.",
    "items": {"type": "array", "prefixItems": [{"type": ["integer", "number"]}, {"type": "string"}],
              "minItems": 2, "maxItems": 2},
}

STAT_MAP = {"type": "object", "additionalProperties": STAT_SAMPLES,
            "description": "Statistic name → samples (empty map for an unknown name)."}

HA_RELATIONSHIP = obj(
    {
        "ha-mode": {"type": "string", "enum": ["load-balancing", "hot-standby", "passive-backup"]},
        "ha-servers": obj(
            {
                "local": obj({"role": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}},
                              "state": string("HA state of this server, e.g. `load-balancing`.")},
                             ["role", "scopes", "state"]),
                "remote": obj({
                    "age": {"type": "integer", "description": "Seconds since the partner's last answer."},
                    "analyzed-packets": {"type": "integer"},
                    "communication-interrupted": {"type": "boolean"},
                    "connecting-clients": {"type": "integer"},
                    "in-touch": {"type": "boolean"},
                    "last-scopes": {"type": "array", "items": {"type": "string"}},
                    "last-state": {"type": "string"},
                    "role": {"type": "string"},
                    "unacked-clients": {"type": "integer"},
                    "unacked-clients-left": {"type": "integer"},
                }, description="The partner as last seen (absent for backup and passive-backup)."),
            },
            ["local"],
        ),
        "leasesync": {"type": "object", "description": "leasesync extension: why the state is what it is "
                      "(`reason`, `since`, `next`) and, with replication checks, `replication`."},
    },
    ["ha-mode", "ha-servers"],
    "One HA relationship of the family (Kea's `high-availability` element of status-get).",
)

ORIGIN: Schema = {"type": "string", "enum": ["user", "ha-partner"], "default": "user",
                  "description": "Who disables/enables: the service is enabled again only when every origin that "
                                 "disabled it has enabled it."}

NO_ARGUMENTS: Schema = {"type": "object", "description": "This command takes no arguments (any given are ignored)."}
STAT_NAME = string("Statistic name, e.g. `subnet[1].assigned-addresses`, `pkt4-received`.")


# Examples from the lease_cmds specification (requests as sent to Kea 2.2, answers as it gave them).
# (command, title, request envelope, answer list)
_SPEC_EXAMPLES: list[tuple[str, str, str, str]] = [
    ('lease4-add', '',
     '{"command": "lease4-add", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"}}',
     '[{"result": 0, "text": "Lease for address 192.0.2.20, subnet-id 1 added."}]'),
    ('lease4-add', '',
     '{"command": "lease4-add", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.31", "hw-address": "1a:1b:1c:1d:1e:1f", "client-id": "01:02:03", "subnet-id": 1, "valid-lft": 1000, "expire": 2000000000, "fqdn-fwd": true, "fqdn-rev": true, "hostname": "Host.Example.ORG", "state": 0, "user-context": {"version": 1, "x": [1, 2]}}}',
     '[{"result": 0, "text": "Lease for address 192.0.2.31, subnet-id 1 added."}]'),
    ('lease4-add', '',
     '{"command": "lease4-add", "service": ["dhcp4"], "arguments": {"ip-address": "198.51.100.10", "hw-address": "aa:bb:cc:dd:ee:ff", "state": 1}}',
     '[{"result": 0, "text": "Lease for address 198.51.100.10, subnet-id 2 added."}]'),
    ('lease6-add', '',
     '{"command": "lease6-add", "service": ["dhcp6"], "arguments": {"ip-address": "2001:db8:1::100", "duid": "01:02:03:04:05:06:07:08", "iaid": 1234}}',
     '[{"result": 0, "text": "Lease for address 2001:db8:1::100, subnet-id 1 added."}]'),
    ('lease6-add', '',
     '{"command": "lease6-add", "service": ["dhcp6"], "arguments": {"subnet-id": 1, "type": "IA_PD", "ip-address": "3000:1:0:1::", "prefix-len": 64, "duid": "01:02:03:04:05:06:07:08", "iaid": 7}}',
     '[{"result": 0, "text": "Lease for prefix 3000:1:0:1::/64, subnet-id 1 added."}]'),
    ('lease6-add', '',
     '{"command": "lease6-add", "service": ["dhcp6"], "arguments": {"subnet-id": 1, "ip-address": "2001:db8:1::109", "duid": "01:02:03:04:05:06:07:08", "iaid": 1, "type": "IA_TA"}}',
     '[{"result": 0, "text": "Lease for prefix 2001:db8:1::109/128, subnet-id 1 added."}]'),
    ('lease4-get', '',
     '{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.31"}}',
     '[{"arguments": {"client-id": "01:02:03", "cltt": 1999999000, "fqdn-fwd": true, "fqdn-rev": true, "hostname": "host.example.org", "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "192.0.2.31", "state": 0, "subnet-id": 1, "user-context": {"version": 1, "x": [1, 2]}, "valid-lft": 1000}, "result": 0, "text": "IPv4 lease found."}]'),
    ('lease4-get', '',
     '{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20"}}',
     '[{"arguments": {"cltt": 1795634985, "fqdn-fwd": false, "fqdn-rev": false, "hostname": "newname.example.org", "hw-address": "1a:1b:1c:1d:1e:20", "ip-address": "192.0.2.20", "state": 0, "subnet-id": 1, "valid-lft": 500}, "result": 0, "text": "IPv4 lease found."}]'),
    ('lease4-get', '',
     '{"command": "lease4-get", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20"}}',
     '[{"arguments": {"cltt": 1795634965, "fqdn-fwd": false, "fqdn-rev": false, "hostname": "", "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "192.0.2.20", "state": 0, "subnet-id": 1, "valid-lft": 4000}, "result": 0, "text": "IPv4 lease found."}]'),
    ('lease4-update', '',
     '{"command": "lease4-update", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:20", "hostname": "NewName.example.org", "valid-lft": 500}}',
     '[{"result": 0, "text": "IPv4 lease updated."}]'),
    ('lease4-update', '',
     '{"command": "lease4-update", "service": ["dhcp4"], "arguments": {"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:20"}}',
     '[{"result": 0, "text": "IPv4 lease updated."}]'),
    ('lease6-get', '',
     '{"command": "lease6-get", "service": ["dhcp6"], "arguments": {"identifier-type": "duid", "identifier": "01:02:03:04:05:06:07:08", "iaid": 1234, "subnet-id": 1}}',
     '[{"arguments": {"cltt": 1795634999, "duid": "01:02:03:04:05:06:07:08", "fqdn-fwd": false, "fqdn-rev": false, "hostname": "", "iaid": 1234, "ip-address": "2001:db8:1::100", "preferred-lft": 4000, "state": 0, "subnet-id": 1, "type": "IA_NA", "valid-lft": 4000}, "result": 0, "text": "IPv6 lease found."}]'),
    ('lease6-get', '',
     '{"command": "lease6-get", "service": ["dhcp6"], "arguments": {"ip-address": "3000:1:0:1::", "type": "IA_PD"}}',
     '[{"arguments": {"cltt": 1795634999, "duid": "01:02:03:04:05:06:07:08", "fqdn-fwd": false, "fqdn-rev": false, "hostname": "", "iaid": 7, "ip-address": "3000:1:0:1::", "preferred-lft": 4000, "prefix-len": 64, "state": 0, "subnet-id": 1, "type": "IA_PD", "valid-lft": 4000}, "result": 0, "text": "IPv6 lease found."}]'),
    ('lease4-get-all', '',
     '{"command": "lease4-get-all", "service": ["dhcp4"], "arguments": {"subnets": [2]}}',
     '[{"arguments": {"leases": [{"cltt": 1795634965, "fqdn-fwd": false, "fqdn-rev": false, "hostname": "", "hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "198.51.100.10", "state": 1, "subnet-id": 2, "valid-lft": 7200}, {"cltt": 1795634965, "fqdn-fwd": false, "fqdn-rev": false, "hostname": "", "hw-address": "aa:bb:cc:dd:ee:01", "ip-address": "198.51.100.11", "state": 2, "subnet-id": 2, "valid-lft": 0}]}, "result": 0, "text": "2 IPv4 lease(s) found."}]'),
    ('lease4-get-all', 'empty database',
     '{"command": "lease4-get-all", "service": ["dhcp4"]}',
     '[{"arguments": {"leases": []}, "result": 3, "text": "0 IPv4 lease(s) found."}]'),
    ('lease4-get-page', '',
     '{"command": "lease4-get-page", "service": ["dhcp4"], "arguments": {"from": "start", "limit": 3}}',
     '[{"arguments": {"count": 3, "leases": [{"cltt": 1795634965, "fqdn-fwd": false, "fqdn-rev": false, "hostname": "", "hw-address": "aa:bb:cc:dd:ee:02", "ip-address": "192.0.2.1", "state": 0, "subnet-id": 1, "valid-lft": 4000}, {"cltt": 1795634965, "fqdn-fwd": false, "fqdn-rev": false, "hostname": "", "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "192.0.2.20", "state": 0, "subnet-id": 1, "valid-lft": 4000}, {"cltt": 1795634965, "fqdn-fwd": false, "fqdn-rev": false, "hostname": "", "hw-address": "01:02:03:04:05:06", "ip-address": "192.0.2.25", "state": 0, "subnet-id": 1, "valid-lft": 4000}]}, "result": 0, "text": "3 IPv4 lease(s) found."}]'),
    ('lease4-get-page', '198.51.100.11 = last lease',
     '{"command": "lease4-get-page", "service": ["dhcp4"], "arguments": {"from": "198.51.100.11", "limit": 3}}',
     '[{"arguments": {"count": 0, "leases": []}, "result": 3, "text": "0 IPv4 lease(s) found."}]'),
    ('lease4-get-by-hostname', '',
     '{"command": "lease4-get-by-hostname", "service": ["dhcp4"], "arguments": {"hostname": "HOST.example.org"}}',
     '[{"arguments": {"leases": [{"client-id": "01:02:03", "cltt": 1999999000, "fqdn-fwd": true, "fqdn-rev": true, "hostname": "host.example.org", "hw-address": "1a:1b:1c:1d:1e:1f", "ip-address": "192.0.2.31", "state": 0, "subnet-id": 1, "user-context": {"version": 1, "x": [1, 2]}, "valid-lft": 1000}]}, "result": 0, "text": "1 IPv4 lease(s) found."}]'),
    ('lease4-get-by-hw-address', '',
     '{"command": "lease4-get-by-hw-address", "service": ["dhcp4"], "arguments": {"hw-address": "99:99:99:99:99:99"}}',
     '[{"arguments": {"leases": []}, "result": 3, "text": "0 IPv4 lease(s) found."}]'),
    ('lease4-wipe', '',
     '{"command": "lease4-wipe", "service": ["dhcp4"], "arguments": {"subnet-id": 2}}',
     '[{"result": 0, "text": "Deleted 2 IPv4 lease(s) from subnet(s) 2"}]'),
    ('lease4-wipe', '',
     '{"command": "lease4-wipe", "service": ["dhcp4"]}',
     '[{"result": 0, "text": "Deleted 7 IPv4 lease(s) from subnet(s) 1 2"}]'),
    ('lease4-wipe', '',
     '{"command": "lease4-wipe", "service": ["dhcp4"], "arguments": {"subnet-id": 99}}',
     '[{"result": 3, "text": "Deleted 0 IPv4 lease(s) from subnet(s) 99"}]'),
    ('lease6-bulk-apply', '',
     '{"command": "lease6-bulk-apply", "service": ["dhcp6"], "arguments": {"deleted-leases": [{"ip-address": "2001:db8:1::100"}, {"ip-address": "2001:db8:1::dead"}], "leases": [{"subnet-id": 1, "ip-address": "2001:db8:1::300", "duid": "01:02:03:04:05:06:07:08", "iaid": 30}, {"subnet-id": 1, "ip-address": "2001:db8:1::103", "duid": "01", "iaid": 1, "hostname": "bulk.example.org"}]}}',
     '[{"arguments": {"failed-deleted-leases": [{"error-message": "lease not found", "ip-address": "2001:db8:1::dead", "result": 3, "type": "IA_NA"}]}, "result": 0, "text": "Bulk apply of 3 IPv6 leases completed."}]'),
    ('lease6-bulk-apply', '',
     '{"command": "lease6-bulk-apply", "service": ["dhcp6"], "arguments": {"leases": [{"subnet-id": 1, "ip-address": "2001:db8:1::310", "duid": "01:02:03:04:05:06:07:08", "iaid": 31}]}}',
     '[{"result": 0, "text": "Bulk apply of 1 IPv6 leases completed."}]'),
    ('lease6-bulk-apply', '',
     '{"command": "lease6-bulk-apply", "service": ["dhcp6"], "arguments": {"deleted-leases": [{"ip-address": "2001:db8:1::dead", "type": "IA_PD"}]}}',
     '[{"arguments": {"failed-deleted-leases": [{"error-message": "lease not found", "ip-address": "2001:db8:1::dead", "result": 3, "type": "IA_PD"}]}, "result": 3, "text": "Bulk apply of 0 IPv6 leases completed."}]'),
    ('lease6-bulk-apply', '',
     '{"command": "lease6-bulk-apply", "service": ["dhcp6"], "arguments": {"leases": []}}',
     '[{"result": 3, "text": "Bulk apply of 0 IPv6 leases completed."}]'),
    ('lease6-bulk-apply', '',
     '{"command": "lease6-bulk-apply", "service": ["dhcp6"], "arguments": {"leases": [{"subnet-id": 1, "ip-address": "2001:db8:1::301", "duid": "01:02:03:04:05:06:07:08", "iaid": 30}, {"ip-address": "2001:db8:1::302", "iaid": 30}]}}',
     '[{"result": 1, "text": "missing parameter \'duid\' (<wire>:0:130)"}]'),
]

# --- per-command documentation ---------------------------------------------------------------------

class CommandDoc:
    """What one command takes and answers.

    `arguments`: schema of the envelope's `arguments` (None: the command takes none);
    `answer`: schema of `arguments` in its answer maps (None: its answers carry none);
    `required`: `arguments` must be sent; `example`: arguments for the generated example.
    """

    __slots__ = ("arguments", "answer", "required", "example", "notes")

    def __init__(self, arguments: Schema | None = None, answer: Schema | None = None, *, required: bool = False,
                 example: Any = None, notes: str = "") -> None:
        self.arguments = arguments
        self.answer = answer
        self.required = required
        self.example = example
        self.notes = notes


def _lease_docs(v: int) -> dict[str, CommandDoc]:
    p = f"lease{v}"
    lease_in = ref(f"Lease{v}Input")
    update = {"allOf": [lease_in, obj({"force-create": FORCE_CREATE})]}
    fmt = "ipv4" if v == 4 else "ipv6"
    add_example = ({"ip-address": "192.0.2.20", "hw-address": "1a:1b:1c:1d:1e:1f"} if v == 4 else
                   {"ip-address": "2001:db8:1::100", "duid": "01:02:03:04:05:06:07:08", "iaid": 1234})
    address_example = {"ip-address": add_example["ip-address"]}
    subnets = obj({"subnets": {"type": "array", "items": uint32("Subnet identifier."),
                               "description": "Subnet identifiers; unknown ones match nothing."}},
                  ["subnets"], "Without `arguments`: every lease. With them: `subnets` is mandatory.")
    page = obj(
        {
            "from": {"type": "string", "anyOf": [{"const": "start"}, {"format": fmt}],
                     "description": f"`start`, or an IPv{v} address: leases with a greater address are returned "
                                    "(pass the last address of a page to get the next one)."},
            "limit": {"type": "integer", "minimum": 1, "maximum": UINT32_MAX,
                      "description": "Page size (capped by the agent's `max-page-limit`)."},
        },
        ["from", "limit"],
    )
    docs = {
        f"{p}-add": CommandDoc(lease_in, None, required=True, example=add_example,
                               notes="An existing lease (even an expired one) blocks the add: result 1."),
        f"{p}-update": CommandDoc(update, None, required=True, example={**add_example, "force-create": True},
                                  notes="Full replacement: every omitted optional key is reset to its default. "
                                        "Result 1 when the lease is absent and force-create is false."),
        f"{p}-get": CommandDoc(ref(f"Lease{v}Query"), ref(f"Lease{v}"), required=True, example=address_example,
                               notes="Answer: the lease map itself as `arguments` (result 0), or result 3 "
                                     "`Lease not found.`"),
        f"{p}-del": CommandDoc(ref(f"Lease{v}Query"), None, required=True, example=address_example,
                               notes=f"Result 3 `IPv{v} lease not found.` when absent."),
        f"{p}-get-all": CommandDoc(subnets, _leases_found(v), example={"subnets": [1, 2]}),
        f"{p}-get-page": CommandDoc(page, _leases_found(v, page=True), required=True,
                                    example={"from": "start", "limit": 100},
                                    notes="Stop paging at result 3 (count 0) or when count < limit."),
        f"{p}-get-by-hostname": CommandDoc(
            obj({"hostname": string("Hostname, matched case-insensitively; must not be empty.", minLength=1)},
                ["hostname"]), _leases_found(v), required=True, example={"hostname": "host.example.org"}),
        f"{p}-wipe": CommandDoc(
            obj({"subnet-id": uint32("Subnet to wipe; absent or 0: every configured subnet.", default=0)}),
            None, example={"subnet-id": 1},
            notes=f"Text `Deleted <n> IPv{v} lease(s) from subnet(s) <ids>`; result 3 when none was deleted."),
        f"{p}-resend-ddns": CommandDoc(
            obj({"ip-address": string(f"IPv{v} address of the lease.", format=fmt)}, ["ip-address"]), None,
            required=True, example=address_example,
            notes="leasesync has no DHCP-DDNS client: the request is forwarded to the local Kea daemon when its "
                  "control socket is configured, else result 1."),
        f"{p}-bulk-apply": CommandDoc(
            ref(f"Lease{v}BulkApply"),
            obj({"failed-deleted-leases": {"type": "array", "items": ref("FailedLease")},
                 "failed-leases": {"type": "array", "items": ref("FailedLease")}},
                description="Present only when something failed; each list only when non-empty.",
                additionalProperties=False),
            required=True,
            example={"deleted-leases": [{"ip-address": add_example["ip-address"]}], "leases": [add_example]},
            notes=f"Text `Bulk apply of <n> IPv{v} leases completed.`; result 0 if n >= 1, else 3."),
    }
    if v == 4:
        docs["lease4-get-by-hw-address"] = CommandDoc(
            obj({"hw-address": string("Hardware address, `:`-separated hex.")}, ["hw-address"]),
            _leases_found(4), required=True, example={"hw-address": "1a:1b:1c:1d:1e:1f"})
        docs["lease4-get-by-client-id"] = CommandDoc(
            obj({"client-id": string("Client identifier in hex.")}, ["client-id"]),
            _leases_found(4), required=True, example={"client-id": "01:02:03"})
    else:
        docs["lease6-get-by-duid"] = CommandDoc(
            obj({"duid": string("DUID in hex.")}, ["duid"]),
            _leases_found(6), required=True, example={"duid": "01:02:03:04:05:06:07:08"})
    return docs


_CONFIG_SECTIONS = {
    "LeaseSync": {"type": "object", "description": "The agent's section (no `service`)."},
    "Dhcp4": {"type": "object", "description": "The dhcp4 family's section (`service: [\"dhcp4\"]`)."},
    "Dhcp6": {"type": "object", "description": "The dhcp6 family's section (`service: [\"dhcp6\"]`)."},
}

_POSITIVE_SUBNET_ID = {"type": "integer", "minimum": 1}
STAT_LEASE_SELECTION = obj({
    "subnet-id": {**_POSITIVE_SUBNET_ID, "description": "Only this subnet."},
    "subnet-range": obj({"first-subnet-id": _POSITIVE_SUBNET_ID, "last-subnet-id": _POSITIVE_SUBNET_ID},
                        ["first-subnet-id", "last-subnet-id"],
                        description="The subnets with ids in this range; last must be greater than first."),
}, description="Optional: no arguments selects every subnet; subnet-id and subnet-range exclude each other.")
STAT_LEASE_RESULT_SET = obj({"result-set": obj({
    "columns": {"type": "array", "items": {"type": "string"},
                "description": "v4: subnet-id, total-addresses, cumulative-assigned-addresses, assigned-addresses, "
                               "declined-addresses; v6: subnet-id, total-nas, cumulative-assigned-nas, assigned-nas, "
                               "declined-nas, total-pds, cumulative-assigned-pds, assigned-pds."},
    "rows": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}},
             "description": "One row per selected subnet, ordered by subnet id, values in column order."},
    "timestamp": string("When the counts were taken (UTC, `YYYY-MM-DD HH:MM:SS.ffffff`)."),
}, ["columns", "rows", "timestamp"])}, ["result-set"])
_STAT_DURATION = {"type": "integer", "description": "Seconds of samples to keep."}
_STAT_MAX_SAMPLES = {"type": "integer", "description": "Samples to keep (0 keeps the newest one; negative: no limit)."}

COMMANDS: dict[str, CommandDoc] = {
    **_lease_docs(4),
    **_lease_docs(6),
    # --- agent and family ---
    "list-commands": CommandDoc(None, {"type": "array", "items": {"type": "string"},
                                       "description": "Command names, sorted."}),
    "version-get": CommandDoc(None, obj({"extended": string("Versions of leasesync and its parts.")}),
                              notes="`text` is the Kea version leasesync answers as."),
    "build-report": CommandDoc(None, None, notes="The report is the answer's `text`."),
    "status-get": CommandDoc(None, obj(
        {
            "pid": {"type": "integer"},
            "uptime": {"type": "integer", "description": "Seconds since start."},
            "reload": {"type": "integer", "description": "Seconds since the last (re)configuration."},
            "multi-threading-enabled": {"type": "boolean", "description": "Families only."},
            "sockets": obj({"status": {"type": "string"}}, description="Families only."),
            "high-availability": {"type": "array", "items": ref("HaRelationship"),
                                  "description": "Families with libdhcp_ha.so configured only."},
        },
        ["pid", "reload", "uptime"],
    )),
    "config-get": CommandDoc(None, obj(_CONFIG_SECTIONS, description="The section of whoever answers, secrets "
                                       "redacted.", minProperties=1, maxProperties=1)),
    "config-test": CommandDoc(obj(_CONFIG_SECTIONS, description="The section of whoever answers is mandatory."),
                              None, required=True, example={"Dhcp4": {"valid-lifetime": 4000}}),
    "config-set": CommandDoc(obj(_CONFIG_SECTIONS, description="The section of whoever answers is mandatory."),
                             None, required=True, example={"Dhcp4": {"valid-lifetime": 4000}},
                             notes="Checked as config-test checks it, then applied as config-reload applies the file's "
                                   "section (not written: use config-write). Redacted secrets (`*****`, as config-get "
                                   "shows them) keep the running values; a changed lease-database or HA block needs "
                                   "a restart."),
    "config-backend-pull": CommandDoc(None, None, notes="Result 3 `No config backend.` (leasesync reads none); "
                                                         "result 1 when `config-control` is configured; forwarded "
                                                         "to the local Kea with a control socket."),
    "config-reload": CommandDoc(None, None, notes="Re-reads the file given with `-c`."),
    "config-write": CommandDoc(obj({"filename": string("Target file; default: the file given with `-c`.")}),
                               obj({"filename": {"type": "string"}, "size": {"type": "integer"}},
                                   ["filename", "size"]),
                               example={"filename": "/tmp/leasesync-backup.json"}),
    "shutdown": CommandDoc(obj({"exit-value": {"type": "integer", "default": 0, "description":
        "The exit status of `leasesync serve` (truncated to 0-255 as the C library does)."}}),
                           None, example={"exit-value": 0}),
    "server-tag-get": CommandDoc(None, obj({"server-tag": {"type": "string"}}, ["server-tag"])),
    "dhcp-disable": CommandDoc(obj({
        "max-period": {"type": "integer", "minimum": 1,
                       "description": "Seconds after which the service is enabled again by itself; absent: "
                                      "until dhcp-enable."},
        "origin": ORIGIN}), None, example={"max-period": 60, "origin": "user"}),
    "dhcp-enable": CommandDoc(obj({"origin": ORIGIN}), None, example={"origin": "user"}),
    # --- HA ---
    "ha-heartbeat": CommandDoc(None, obj(
        {
            "date-time": string("The server's clock, RFC 1123 (`Tue, 01 Aug 2023 10:00:00 GMT`)."),
            "scopes": {"type": "array", "items": {"type": "string"}, "description": "Served scopes, sorted."},
            "state": string("HA state, e.g. `load-balancing`."),
            "unsent-update-count": {"type": "integer", "minimum": 0,
                                    "description": "Lease changes made without sending them to the partner."},
            "leasesync": obj({"server-name": {"type": "string"}, "peers": {"type": "array"}},
                             description="leasesync extension: this server's name and its peers."),
        },
        ["date-time", "scopes", "state", "unsent-update-count"],
    ), notes="Text `HA peer status returned.`; result 2 without HA."),
    "ha-sync": CommandDoc(obj({
        "server-name": string("The partner to fetch the leases from."),
        "max-period": {"type": "integer", "minimum": 1,
                       "description": "Seconds the partner's DHCP service stays disabled at most."},
    }, ["server-name"]), None, required=True, example={"server-name": "server2", "max-period": 60}),
    "ha-scopes": CommandDoc(obj({"scopes": {"type": "array", "items": {"type": "string"},
                                            "description": "Scope (server) names to serve; may be empty."}},
                                ["scopes"]), None, required=True, example={"scopes": ["server1", "server2"]}),
    "ha-continue": CommandDoc(None, None),
    "ha-reset": CommandDoc(None, None),
    "ha-maintenance-start": CommandDoc(None, None),
    "ha-maintenance-cancel": CommandDoc(None, None),
    "ha-maintenance-notify": CommandDoc(obj({"cancel": {"type": "boolean",
                                                        "description": "false: enter in-maintenance; true: leave."}},
                                            ["cancel"]), None, required=True, example={"cancel": False},
                                        notes="Result 1001 when the state does not allow maintenance."),
    "ha-sync-complete-notify": CommandDoc(None, None),
    # --- lease reclamation ---
    "leases-reclaim": CommandDoc(obj({"remove": {"type": "boolean", "description": (
        "true: delete the expired leases; false: keep them as expired-reclaimed (state 2) with the hostname and "
        "FQDN flags cleared. Expired declined leases are deleted either way.")}}, ["remove"]), None, required=True,
        example={"remove": False},
        notes="With a control-sockets entry for the family the local Kea reclaims instead (forwarded)."),
    # --- stat_cmds ---
    "stat-lease4-get": CommandDoc(STAT_LEASE_SELECTION, STAT_LEASE_RESULT_SET,
                                  example={"subnet-range": {"first-subnet-id": 1, "last-subnet-id": 10}},
                                  notes="Result 3 when no configured subnet is selected."),
    "stat-lease6-get": CommandDoc(STAT_LEASE_SELECTION, STAT_LEASE_RESULT_SET, example={"subnet-id": 1},
                                  notes="Result 3 when no configured subnet is selected."),
    # --- statistics ---
    "statistic-get": CommandDoc(obj({"name": STAT_NAME}, ["name"]), STAT_MAP, required=True,
                                example={"name": "subnet[1].assigned-addresses"}),
    "statistic-get-all": CommandDoc(None, STAT_MAP),
    "statistic-reset": CommandDoc(obj({"name": STAT_NAME}, ["name"]), None, required=True,
                                  example={"name": "subnet[1].assigned-addresses"}),
    "statistic-remove": CommandDoc(obj({"name": STAT_NAME}, ["name"]), None, required=True,
                                   example={"name": "subnet[1].assigned-addresses"}),
    "statistic-reset-all": CommandDoc(None, None),
    "statistic-remove-all": CommandDoc(None, None),
    "statistic-sample-age-set": CommandDoc(obj({"name": STAT_NAME, "duration": _STAT_DURATION},
                                               ["name", "duration"]), None, required=True,
                                           example={"name": "subnet[1].assigned-addresses", "duration": 1245}),
    "statistic-sample-age-set-all": CommandDoc(obj({"duration": _STAT_DURATION}, ["duration"]), None,
                                               required=True, example={"duration": 1245}),
    "statistic-sample-count-set": CommandDoc(obj({"name": STAT_NAME, "max-samples": _STAT_MAX_SAMPLES},
                                                 ["name", "max-samples"]), None, required=True,
                                             example={"name": "subnet[1].assigned-addresses", "max-samples": 100}),
    "statistic-sample-count-set-all": CommandDoc(obj({"max-samples": _STAT_MAX_SAMPLES}, ["max-samples"]), None,
                                                 required=True, example={"max-samples": 100}),
}


# --- the document ------------------------------------------------------------------------------------

ANSWER = obj(
    {
        "result": {"type": "integer", "enum": [0, 1, 2, 3, 1001],
                   "description": "0 success, 1 error, 2 unsupported, 3 empty (nothing found or changed); "
                                  "1001: HA maintenance not allowed in this state."},
        "text": string("Human-readable outcome (absent in some successful answers)."),
        "arguments": {"description": "Command-specific answer data."},
    },
    ["result"],
    "One Kea answer map (printed with sorted keys).",
)

TRANSPORT_ERROR = obj(
    {"result": {"type": "integer", "enum": [400, 401, 403, 408, 413]}, "text": {"type": "string"}},
    ["result", "text"],
    "A transport error as kea-ctrl-agent answers it: a bare map whose result is the HTTP status.",
)

_TRANSPORT_RESPONSES: dict[str, Any] = {
    "400": "Bad Request: bad JSON, wrong or missing Content-Type, no Content-Length, chunked body.",
    "401": "Unauthorized: bad or missing credentials (`authentication` configured); with WWW-Authenticate.",
    "403": "Forbidden: the command is outside the client's `commands` list.",
    "408": "Request Timeout: the body did not arrive within `request-timeout`.",
    "413": "Payload Too Large: past `max-request-size`.",
}

_SERVICE_NOTE = ("`service` selects who answers, as in kea-ctrl-agent: absent or empty, the agent; "
                 "`[\"dhcp4\"]`/`[\"dhcp6\"]`, that family (one answer map per listed service).")


def _schema_name(command: str) -> str:
    return "".join(part.capitalize() for part in command.replace("4", "4-").replace("6", "6-").split("-") if part)


def _service_schema(spec: CommandSpec) -> tuple[Schema | None, bool]:
    """The envelope's `service` for a command, and whether it must be given."""
    if spec.where == AGENT:
        return None, False
    families = [f"dhcp{spec.family}"] if spec.family else ["dhcp4", "dhcp6"]
    schema: Schema = {"type": "array", "items": {"type": "string", "enum": families}, "uniqueItems": True}
    if spec.where == BOTH:
        schema["description"] = "Absent or `[]`: the agent answers; otherwise each listed family answers."
        return schema, False
    schema["minItems"] = 1
    if spec.family or spec.name.startswith("ha-"):
        schema["description"] = ("The family that answers. May be left out: the command's family (or the family "
                                 "running HA) is implied.")
        return schema, False
    schema["description"] = "The family (or families) that answer."
    return schema, True


def _doc_for(spec: CommandSpec) -> CommandDoc:
    doc = COMMANDS.get(spec.name)
    if doc is not None:
        return doc
    # fallback for a command registered without a schema (missing_schemas() lists it)
    props = {k: {"description": v} for k, v in spec.arguments.items()}
    return CommandDoc(obj(props, description="Undocumented arguments (no schema in app/api/openapi.py)."),
                      {"description": "Undocumented answer arguments."})


def request_schema(spec: CommandSpec) -> Schema:
    doc = _doc_for(spec)
    service, service_required = _service_schema(spec)
    properties: dict[str, Schema] = {"command": {"type": "string", "const": spec.name}}
    required = ["command"]
    if service is not None:
        properties["service"] = service
        if service_required:
            required.append("service")
    properties["arguments"] = doc.arguments if doc.arguments is not None else NO_ARGUMENTS
    if doc.required:
        required.append("arguments")
    properties["remote-address"] = string("Ignored (kea-ctrl-agent sets it when forwarding).")
    return obj(properties, required, f"The `{spec.name}` command envelope.", title=f"{spec.name} request",
               additionalProperties=False)


def answer_schema(spec: CommandSpec) -> Schema:
    doc = _doc_for(spec)
    item: Schema = {"allOf": [ref("Answer")]}
    if doc.answer is not None:
        item["properties"] = {"arguments": doc.answer}
    return {"type": "array", "title": f"{spec.name} answer", "minItems": 1, "items": item,
            "description": "One answer map per service the command went to."}


def _tag(name: str) -> str:
    if name.startswith("lease4-"):
        return "IPv4 leases"
    if name.startswith("lease6-"):
        return "IPv6 leases"
    if name.startswith("ha-"):
        return "High availability"
    if name.startswith("statistic-"):
        return "Statistics"
    return "Server"


def _examples(spec: CommandSpec, doc: CommandDoc) -> tuple[dict[str, Any], dict[str, Any]]:
    """Request and answer examples: the specification's for lease commands, else one generated request."""
    requests: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for n, (command, title, request, answer) in enumerate(_SPEC_EXAMPLES):
        if command != spec.name:
            continue
        body = json.loads(request)
        key = f"spec-{n}"
        answer_list = json.loads(answer)
        summary = title or json.dumps(body.get("arguments", {}))[:80]
        if answer_list and any(a.get("result") == 1 for a in answer_list):
            summary = "rejected (result 1): " + summary  # an invalid request, shown with Kea's error
        requests[key] = {"summary": summary, "value": body}
        if answer_list is not None:
            answers[key] = {"summary": summary, "value": answer_list}
    if not requests:
        service, _ = _service_schema(spec)
        body = {"command": spec.name}
        if service is not None and spec.where != BOTH:
            body["service"] = [service["items"]["enum"][0]]
        if doc.example is not None:
            body["arguments"] = doc.example
        requests["example"] = {"summary": spec.summary, "value": body}
    return requests, answers


def _operation(spec: CommandSpec, request: Schema, answer: Schema, requests: dict[str, Any],
               answers: dict[str, Any], doc: CommandDoc) -> dict[str, Any]:
    description = [spec.summary]
    if doc.notes:
        description.append(doc.notes)
    if spec.arguments:
        description.append("Arguments: " + "; ".join(f"`{k}`: {v}" for k, v in spec.arguments.items()) + ".")
    description.append(
        f"Sent as `POST /{spec.name}` or, as with Kea, `POST /`: leasesync accepts any path and routes by the "
        f"envelope's `command`. {_SERVICE_NOTE}"
    )
    flags = [f for f, on in (("changes leases or state", spec.mutates), ("sent by HA partners", spec.ha_peer)) if on]
    if flags:
        description.append("Note: " + ", ".join(flags) + ".")
    content: dict[str, Any] = {"schema": answer}
    if answers:
        content["examples"] = answers
    responses: dict[str, Any] = {"200": {"description": "Kea's answer list.", "content": {"application/json": content}}}
    for code, text in _TRANSPORT_RESPONSES.items():
        responses[code] = {"description": text, "content": {"application/json": {"schema": ref("TransportError")}}}
    return {
        "tags": [_tag(spec.name)],
        "summary": spec.summary,
        "description": "\n\n".join(description),
        "operationId": spec.name.replace("-", "_"),
        "requestBody": {"required": True, "content": {"application/json": {"schema": request,
                                                                           "examples": requests}}},
        "responses": responses,
    }


def missing_schemas() -> list[str]:
    """Registry commands documented only by the generic fallback schema."""
    return [spec.name for spec in registry.all() if spec.name not in COMMANDS]


def stale_schemas() -> list[str]:
    """Documented commands that are not in the registry."""
    names = {spec.name for spec in registry.all()}
    return sorted(set(COMMANDS) - names)


def build_paths_and_components() -> tuple[dict[str, Any], dict[str, Schema]]:
    import app.commands  # noqa: F401 - registers every command

    components: dict[str, Schema] = {
        "Answer": ANSWER,
        "AnswerList": {"type": "array", "items": ref("Answer"), "description": "Kea's answer: a list of answer maps."},
        "TransportError": TRANSPORT_ERROR,
        "Lease4": LEASE4,
        "Lease6": LEASE6,
        "Lease4Input": LEASE4_INPUT,
        "Lease6Input": LEASE6_INPUT,
        "Lease4Query": _query(4),
        "Lease6Query": _query(6),
        "Lease4BulkApply": _bulk_apply(4),
        "Lease6BulkApply": _bulk_apply(6),
        "FailedLease": FAILED_LEASE,
        "HaRelationship": HA_RELATIONSHIP,
    }
    paths: dict[str, Any] = {}
    mapping: dict[str, str] = {}
    generic_examples: dict[str, Any] = {}
    for spec in registry.all():
        doc = _doc_for(spec)
        base = _schema_name(spec.name)
        components[f"{base}Request"] = request_schema(spec)
        components[f"{base}Answer"] = answer_schema(spec)
        mapping[spec.name] = REF + f"{base}Request"
        requests, answers = _examples(spec, doc)
        paths[f"/{spec.name}"] = {"post": _operation(spec, ref(f"{base}Request"), ref(f"{base}Answer"),
                                                     requests, answers, doc)}
        first = next(iter(requests.values()))
        generic_examples[spec.name] = {"summary": spec.name, "value": first["value"]}
    envelope = {
        "title": "Kea command envelope",
        "description": "Any command's envelope, selected by `command`.",
        "oneOf": [{"$ref": target} for target in mapping.values()],
        "discriminator": {"propertyName": "command", "mapping": mapping},
    }
    components["CommandRequest"] = envelope
    paths["/"] = {"post": {
        "tags": ["Control channel"],
        "summary": "Any command (Kea's envelope)",
        "description": "Kea's control channel: `{\"command\", \"service\", \"arguments\"}` in, a list of answer maps "
                       "out. Any path works (as with kea-ctrl-agent); the per-command paths in this document are "
                       "the same endpoint with each command's request and answer typed. " + _SERVICE_NOTE,
        "operationId": "command",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": ref("CommandRequest"), "examples": generic_examples}}},
        "responses": {
            "200": {"description": "Kea's answer list.", "content": {"application/json": {"schema": ref("AnswerList")}}},
            **{code: {"description": text, "content": {"application/json": {"schema": ref("TransportError")}}}
               for code, text in _TRANSPORT_RESPONSES.items()},
        },
    }}
    return paths, components


TAGS = [
    {"name": "Control channel", "description": "Kea's envelope at `POST /`."},
    {"name": "IPv4 leases", "description": "Kea's lease_cmds, IPv4 (`service: [\"dhcp4\"]`)."},
    {"name": "IPv6 leases", "description": "Kea's lease_cmds, IPv6 (`service: [\"dhcp6\"]`)."},
    {"name": "High availability", "description": "The HA hook's commands."},
    {"name": "Statistics", "description": "Kea's statistic-* commands."},
    {"name": "Server", "description": "Agent and family commands: versions, status, configuration, DHCP service."},
]


def merge_into(document: dict[str, Any]) -> dict[str, Any]:
    """Add the command paths, schemas and tags to FastAPI's document (in place; returned)."""
    paths, components = build_paths_and_components()
    document.setdefault("paths", {}).update(copy.deepcopy(paths))
    document.setdefault("components", {}).setdefault("schemas", {}).update(copy.deepcopy(components))
    known = {tag["name"] for tag in document.get("tags", [])}
    document.setdefault("tags", []).extend(tag for tag in TAGS if tag["name"] not in known)
    return document


def install(web: Any) -> None:
    """Make `web.openapi()` (hence /openapi.json and /docs) include every command."""
    original: Callable[[], dict[str, Any]] = web.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(web, "_leasesync_openapi", False):
            web.openapi_schema = merge_into(original())
            web._leasesync_openapi = True
        schema: dict[str, Any] = web.openapi_schema
        return schema

    web.openapi = openapi
