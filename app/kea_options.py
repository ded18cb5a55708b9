"""Kea 2.2's reading of `option-def` and `option-data` entries, for `config-test` (app/config.py).

Kea parses an option's `data` with the option's definition: the standard ones of each family, the
DOCSIS 3 vendor ones, the softwire (RFC 7598) sub-option spaces, and the configuration's own
`option-def`. In CSV format (the default) the data is split at commas (a backslash escapes one),
each value is trimmed and written as the definition's field type says; without CSV it is hex (or
a 'quoted' string). The texts are Kea's, established by asking Kea 2.2 the same question
(the "config-test/option-data-*" cases of tests/kea_cases.py). What Kea checks only once the option is built from those
bytes is covered where it is simple (address list lengths, a single IPv6 address given an IPv4
one); the rest of Kea's option classes' own checks are not reproduced (README).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# (space code name type): the type with [] when the option is an array of it, a record's field
# types in parentheses, and >space when the option carries sub-options of that space. The
# definitions of Kea 2.2 (src/lib/dhcp/std_option_defs.h, docsis3_option_defs.h), read as data.
_DEFINITIONS = """
dhcp4 1 subnet-mask ipv4-address
dhcp4 2 time-offset int32
dhcp4 3 routers ipv4-address[]
dhcp4 4 time-servers ipv4-address[]
dhcp4 5 name-servers ipv4-address[]
dhcp4 6 domain-name-servers ipv4-address[]
dhcp4 7 log-servers ipv4-address[]
dhcp4 8 cookie-servers ipv4-address[]
dhcp4 9 lpr-servers ipv4-address[]
dhcp4 10 impress-servers ipv4-address[]
dhcp4 11 resource-location-servers ipv4-address[]
dhcp4 12 host-name string
dhcp4 13 boot-size uint16
dhcp4 14 merit-dump string
dhcp4 15 domain-name string
dhcp4 16 swap-server ipv4-address
dhcp4 17 root-path string
dhcp4 18 extensions-path string
dhcp4 19 ip-forwarding boolean
dhcp4 20 non-local-source-routing boolean
dhcp4 21 policy-filter ipv4-address[]
dhcp4 22 max-dgram-reassembly uint16
dhcp4 23 default-ip-ttl uint8
dhcp4 24 path-mtu-aging-timeout uint32
dhcp4 25 path-mtu-plateau-table uint16[]
dhcp4 26 interface-mtu uint16
dhcp4 27 all-subnets-local boolean
dhcp4 28 broadcast-address ipv4-address
dhcp4 29 perform-mask-discovery boolean
dhcp4 30 mask-supplier boolean
dhcp4 31 router-discovery boolean
dhcp4 32 router-solicitation-address ipv4-address
dhcp4 33 static-routes ipv4-address[]
dhcp4 34 trailer-encapsulation boolean
dhcp4 35 arp-cache-timeout uint32
dhcp4 36 ieee802-3-encapsulation boolean
dhcp4 37 default-tcp-ttl uint8
dhcp4 38 tcp-keepalive-interval uint32
dhcp4 39 tcp-keepalive-garbage boolean
dhcp4 40 nis-domain string
dhcp4 41 nis-servers ipv4-address[]
dhcp4 42 ntp-servers ipv4-address[]
dhcp4 44 netbios-name-servers ipv4-address[]
dhcp4 45 netbios-dd-server ipv4-address[]
dhcp4 46 netbios-node-type uint8
dhcp4 47 netbios-scope string
dhcp4 48 font-servers ipv4-address[]
dhcp4 49 x-display-manager ipv4-address[]
dhcp4 50 dhcp-requested-address ipv4-address
dhcp4 51 dhcp-lease-time uint32
dhcp4 52 dhcp-option-overload uint8
dhcp4 53 dhcp-message-type uint8
dhcp4 54 dhcp-server-identifier ipv4-address
dhcp4 55 dhcp-parameter-request-list uint8[]
dhcp4 56 dhcp-message string
dhcp4 57 dhcp-max-message-size uint16
dhcp4 58 dhcp-renewal-time uint32
dhcp4 59 dhcp-rebinding-time uint32
dhcp4 60 vendor-class-identifier string
dhcp4 61 dhcp-client-identifier binary
dhcp4 62 nwip-domain-name string
dhcp4 63 nwip-suboptions binary
dhcp4 64 nisplus-domain-name string
dhcp4 65 nisplus-servers ipv4-address[]
dhcp4 66 tftp-server-name string
dhcp4 67 boot-file-name string
dhcp4 68 mobile-ip-home-agent ipv4-address[]
dhcp4 69 smtp-server ipv4-address[]
dhcp4 70 pop-server ipv4-address[]
dhcp4 71 nntp-server ipv4-address[]
dhcp4 72 www-server ipv4-address[]
dhcp4 73 finger-server ipv4-address[]
dhcp4 74 irc-server ipv4-address[]
dhcp4 75 streettalk-server ipv4-address[]
dhcp4 76 streettalk-directory-assistance-server ipv4-address[]
dhcp4 77 user-class binary
dhcp4 78 slp-directory-agent record[](boolean,ipv4-address)
dhcp4 79 slp-service-scope record(boolean,string)
dhcp4 81 fqdn record(uint8,uint8,uint8,fqdn)
dhcp4 82 dhcp-agent-options empty >dhcp-agent-options-space
dhcp4 85 nds-servers ipv4-address[]
dhcp4 86 nds-tree-name string
dhcp4 87 nds-context string
dhcp4 88 bcms-controller-names fqdn[]
dhcp4 89 bcms-controller-address ipv4-address[]
dhcp4 90 authenticate binary
dhcp4 91 client-last-transaction-time uint32
dhcp4 92 associated-ip ipv4-address[]
dhcp4 93 client-system uint16[]
dhcp4 94 client-ndi record(uint8,uint8,uint8)
dhcp4 97 uuid-guid record(uint8,binary)
dhcp4 98 uap-servers string
dhcp4 99 geoconf-civic binary
dhcp4 100 pcode string
dhcp4 101 tcode string
dhcp4 108 v6-only-preferred uint32
dhcp4 112 netinfo-server-address ipv4-address[]
dhcp4 113 netinfo-server-tag string
dhcp4 114 v4-captive-portal string
dhcp4 116 auto-config uint8
dhcp4 117 name-service-search uint16[]
dhcp4 118 subnet-selection ipv4-address
dhcp4 119 domain-search fqdn[]
dhcp4 124 vivco-suboptions record(uint32,binary)
dhcp4 125 vivso-suboptions uint32
dhcp4 136 pana-agent ipv4-address[]
dhcp4 137 v4-lost fqdn
dhcp4 138 capwap-ac-v4 ipv4-address[]
dhcp4 141 sip-ua-cs-domains fqdn[]
dhcp4 146 rdnss-selection record[](uint8,ipv4-address,ipv4-address,fqdn)
dhcp4 159 v4-portparams record(uint8,psid)
dhcp4 212 option-6rd record[](uint8,uint8,ipv6-address,ipv4-address)
dhcp4 213 v4-access-domain fqdn
dhcp6 1 clientid binary
dhcp6 2 serverid binary
dhcp6 3 ia-na record(uint32,uint32,uint32)
dhcp6 4 ia-ta uint32
dhcp6 5 iaaddr record(ipv6-address,uint32,uint32)
dhcp6 6 oro uint16[]
dhcp6 7 preference uint8
dhcp6 8 elapsed-time uint16
dhcp6 9 relay-msg binary
dhcp6 11 auth binary
dhcp6 12 unicast ipv6-address
dhcp6 13 status-code record(uint16,string)
dhcp6 14 rapid-commit empty
dhcp6 15 user-class binary
dhcp6 16 vendor-class record(uint32,binary)
dhcp6 17 vendor-opts uint32
dhcp6 18 interface-id binary
dhcp6 19 reconf-msg uint8
dhcp6 20 reconf-accept empty
dhcp6 21 sip-server-dns fqdn[]
dhcp6 22 sip-server-addr ipv6-address[]
dhcp6 23 dns-servers ipv6-address[]
dhcp6 24 domain-search fqdn[]
dhcp6 25 ia-pd record(uint32,uint32,uint32)
dhcp6 26 iaprefix record(uint32,uint32,uint8,ipv6-address)
dhcp6 27 nis-servers ipv6-address[]
dhcp6 28 nisp-servers ipv6-address[]
dhcp6 29 nis-domain-name fqdn[]
dhcp6 30 nisp-domain-name fqdn[]
dhcp6 31 sntp-servers ipv6-address[]
dhcp6 32 information-refresh-time uint32
dhcp6 33 bcmcs-server-dns fqdn[]
dhcp6 34 bcmcs-server-addr ipv6-address[]
dhcp6 36 geoconf-civic record(uint8,uint16,binary)
dhcp6 37 remote-id record(uint32,binary)
dhcp6 38 subscriber-id binary
dhcp6 39 client-fqdn record(uint8,fqdn)
dhcp6 40 pana-agent ipv6-address[]
dhcp6 41 new-posix-timezone string
dhcp6 42 new-tzdb-timezone string
dhcp6 43 ero uint16[]
dhcp6 44 lq-query record(uint8,ipv6-address) >dhcp6
dhcp6 45 client-data empty >dhcp6
dhcp6 46 clt-time uint32
dhcp6 47 lq-relay-data record(ipv6-address,binary)
dhcp6 48 lq-client-link ipv6-address[]
dhcp6 51 v6-lost fqdn
dhcp6 52 capwap-ac-v6 ipv6-address[]
dhcp6 53 relay-id binary
dhcp6 57 v6-access-domain fqdn
dhcp6 58 sip-ua-cs-list fqdn[]
dhcp6 59 bootfile-url string
dhcp6 60 bootfile-param tuple[]
dhcp6 61 client-arch-type uint16[]
dhcp6 62 nii record(uint8,uint8,uint8)
dhcp6 64 aftr-name fqdn
dhcp6 65 erp-local-domain-name fqdn
dhcp6 66 rsoo empty >rsoo-opts
dhcp6 67 pd-exclude ipv6-prefix
dhcp6 74 rdnss-selection record[](ipv6-address,uint8,fqdn)
dhcp6 79 client-linklayer-addr binary
dhcp6 80 link-address ipv6-address
dhcp6 82 solmax-rt uint32
dhcp6 83 inf-max-rt uint32
dhcp6 87 dhcpv4-message binary
dhcp6 88 dhcp4o6-server-addr ipv6-address[]
dhcp6 103 v6-captive-portal string
dhcp6 135 relay-source-port uint16
dhcp6 143 ipv6-address-andsf ipv6-address[]
dhcp6 94 s46-cont-mape empty >s46-cont-mape-options
dhcp6 95 s46-cont-mapt empty >s46-cont-mapt-options
dhcp6 96 s46-cont-lw empty >s46-cont-lw-options
4o6 60000 4o6-interface string
4o6 60001 4o6-source-address ipv6-address
4o6 60002 4o6-source-port uint16
s46-cont-mape-options 90 s46-br ipv6-address
s46-cont-mape-options 89 s46-rule record(uint8,uint8,uint8,ipv4-address,ipv6-prefix) >s46-rule-options
s46-cont-mapt-options 89 s46-rule record(uint8,uint8,uint8,ipv4-address,ipv6-prefix) >s46-rule-options
s46-cont-mapt-options 91 s46-dmr ipv6-prefix
s46-cont-lw-options 90 s46-br ipv6-address
s46-cont-lw-options 92 s46-v4v6bind record(ipv4-address,ipv6-prefix) >s46-v4v6bind-options
s46-rule-options 93 s46-portparams record(uint8,psid)
s46-v4v6bind-options 93 s46-portparams record(uint8,psid)
docsis3-v4 1 oro uint8[]
docsis3-v4 2 tftp-servers ipv4-address[]
docsis3-v6 1 oro uint16[]
docsis3-v6 2 device-type string
docsis3-v6 10 vendor-type string
docsis3-v6 32 tftp-servers ipv6-address[]
docsis3-v6 37 time-servers ipv6-address[]
docsis3-v6 33 config-file string
docsis3-v6 34 syslog-servers ipv6-address[]
docsis3-v6 36 device-id binary
docsis3-v6 38 time-offset int32
docsis3-v6 1026 cmts-cm-mac binary
"""


@dataclass(frozen=True)
class OptionDefinition:
    space: str
    code: int
    name: str
    type: str
    array: bool = False
    records: tuple[str, ...] = ()
    encapsulate: str = ""


_LINE = re.compile(r"(\S+) (\d+) (\S+) ([a-z0-9-]+)(\[\])?(?:\(([a-z0-9,-]+)\))?(?: >(\S+))?$")


def _load() -> dict[str, list[OptionDefinition]]:
    spaces: dict[str, list[OptionDefinition]] = {}
    for line in _DEFINITIONS.strip().splitlines():
        match = _LINE.match(line)
        assert match is not None, line
        space, code, name, kind, array, records, encapsulate = match.groups()
        spaces.setdefault(space, []).append(OptionDefinition(
            space, int(code), name, kind, bool(array), tuple(records.split(",")) if records else (), encapsulate or ""))
    return spaces


STANDARD: dict[str, list[OptionDefinition]] = _load()
# Kea's definition of last resort for v4 option 43, found after every other
_LAST_RESORT = OptionDefinition("dhcp4", 43, "vendor-encapsulated-options", "empty",
                                encapsulate="vendor-encapsulated-options-space")


class OptionRefusal(Exception):
    """Kea's refusal of one option entry: its text and the element whose position Kea names."""

    def __init__(self, text: str, at: tuple[Any, Any]) -> None:
        super().__init__(text)
        self.text = text
        self.at = at


class _BadValue(Exception):
    """A value the definition's type cannot take (Kea's text, without the option's preamble)."""


@dataclass
class OptionDefinitions:
    """The definitions a configuration adds with `option-def`, looked up before the standard ones."""

    custom: list[OptionDefinition] = field(default_factory=list)

    def find(self, family: int, space: str, code: int | None, name: str | None) -> OptionDefinition | None:
        def match(candidates: list[OptionDefinition]) -> OptionDefinition | None:
            for candidate in candidates:
                if (candidate.code == code) if code is not None else (candidate.name == name):
                    return candidate
            return None

        found = match([d for d in self.custom if d.space == space]) or match(STANDARD.get(space, []))
        if found is None and space == "vendor-4491":  # the DOCSIS 3 definitions, by enterprise id
            found = match(STANDARD.get(f"docsis3-v{family}", []))
        if found is None and space == "dhcp4" and family == 4:
            found = match([_LAST_RESORT])
        return found


# Kea's data type names, in the order of its OptionDataType enumeration (whose numbers some of its
# texts print); "any-address" has a number but no name a configuration can use
_TYPE_ORDER = ["empty", "binary", "boolean", "int8", "int16", "int32", "uint8", "uint16", "uint32", "any-address",
               "ipv4-address", "ipv6-address", "ipv6-prefix", "psid", "string", "tuple", "fqdn", "record", "unknown"]
_TYPE_NUMBER = {name: number for number, name in enumerate(_TYPE_ORDER) if name != "any-address"}
_UNKNOWN = _TYPE_NUMBER["unknown"]


def parse_definition(entry: dict[str, Any], family: int) -> OptionDefinition:
    """Kea's OptionDefParser on one `option-def` entry whose keys and types were checked (Kea's
    defaults filled `array`, `record-types`, `space` and `encapsulate`)."""
    for key in ("name", "code", "type"):
        if key not in entry:
            raise OptionRefusal(f"missing parameter '{key}'", (entry, None))
    name, code, kind = entry["name"], entry["code"], entry["type"]
    array: bool = entry.get("array", False)
    records: str = entry.get("record-types", "")
    space: str = entry.get("space", "dhcp4" if family == 4 else "dhcp6")
    encapsulate: str = entry.get("encapsulate", "")
    if code < 0:
        raise OptionRefusal("option code must not be negative", (entry, "code"))
    highest = 255 if family == 4 else 65535
    if code > highest:
        raise OptionRefusal(f"invalid option code '{code}', it must not be greater than '{highest}'", (entry, "code"))
    if not valid_space_name(space):
        raise OptionRefusal(f"invalid option space name '{space}'", (entry, "space" if "space" in entry else None))
    if space == "dhcp4" and code in (0, 255):
        reserved = "PAD" if code == 0 else "END"
        raise OptionRefusal(f"invalid option code '{code}': reserved for {reserved}", (entry, "code"))
    if space == "dhcp6" and code == 0:
        raise OptionRefusal("invalid option code '0': reserved value", (entry, "code"))
    if encapsulate:
        if array:
            raise OptionRefusal(f"option '{space}.{name}', comprising an array of data fields may not encapsulate "
                                "any option space", (entry, None))
        if encapsulate == space:
            raise OptionRefusal(f"option must not encapsulate an option space it belongs to: '{space}.{name}' is "
                                f"set to encapsulate '{space}'", (entry, None))
        array = False
    type_number = _TYPE_NUMBER.get(kind, _UNKNOWN)
    fields: list[int] = []
    for token in (t.strip() for t in records.split(",")):
        if not token:
            continue
        field_number = _TYPE_NUMBER.get(token, _UNKNOWN)
        if type_number != _TYPE_NUMBER["record"]:
            problem = (f"'record' option type must be used instead of '{_TYPE_ORDER[type_number]}' to add data "
                       "fields to the record")
        elif field_number >= _TYPE_NUMBER["record"] or field_number == 0:
            problem = f"attempted to add invalid data type '{_TYPE_ORDER[field_number]}' to the record."
        else:
            fields.append(field_number)
            continue
        raise OptionRefusal(f"invalid record type values specified for the option definition: {problem}",
                            (entry, "record-types" if "record-types" in entry else None))
    problem = _malformed(name, space, encapsulate, type_number, fields, array)
    if problem:
        raise OptionRefusal(problem, (entry, None))
    return OptionDefinition(space, code, name, _TYPE_ORDER[type_number], array,
                            tuple(_TYPE_ORDER[f] for f in fields), encapsulate)


def add_definition(defined: list[OptionDefinition], definition: OptionDefinition, entry: dict[str, Any]) -> None:
    """Kea's table of option definitions taking `definition` (from `entry`): no code or name twice
    in a space, none of a standard option's."""
    space, code, name = definition.space, definition.code, definition.name
    problem = ""
    if any(d.space == space and d.code == code for d in defined):
        problem = f"option definition with code '{code}' already exists in option space '{space}'"
    elif any(d.space == space and d.name == name for d in defined):
        problem = f"option definition with name '{name}' already exists in option space '{space}'"
    elif any(d.code == code for d in STANDARD.get(space, [])):
        problem = f"unable to override definition of option '{code}' in standard option space '{space}'"
    elif any(d.name == name for d in STANDARD.get(space, [])):
        problem = f"unable to override definition of option '{name}' in standard option space '{space}'"
    if problem:
        raise OptionRefusal(problem, (entry, None))
    defined.append(definition)


def _malformed(name: str, space: str, encapsulate: str, kind: int, fields: list[int], array: bool) -> str:
    """Kea's OptionDefinition::validate: what makes a definition malformed, or ''."""
    record, string, binary, empty = (_TYPE_NUMBER[t] for t in ("record", "string", "binary", "empty"))
    if not valid_space_name(name):
        return f"invalid option name '{name}'"
    if not valid_space_name(space):
        return f"invalid option space name: '{space}'"
    if encapsulate and not valid_space_name(encapsulate):
        return f"invalid encapsulated option space name: '{encapsulate}'"
    if kind >= _UNKNOWN:
        return f"option type {kind} not supported."
    if kind == record:
        if len(fields) < 2:
            return f"invalid number of data fields: {len(fields)} specified for the option of type 'record'. " \
                   "Expected at least 2 fields."
        for position, field_type in enumerate(fields):
            last = position == len(fields) - 1
            if field_type == string and not last:
                return "string data field can't be laid before data fields of other types."
            if field_type == binary and not last:
                return "binary data field can't be laid before data fields of other types."
        if array and fields[-1] == string:
            return "array of strings is not a valid option definition."
        if array and fields[-1] == binary:
            return "array of binary values is not a valid option definition."
    elif array:
        if kind == string:
            return "array of strings is not a valid option definition."
        if kind == binary:
            return "array of binary values is not a valid option definition."
        if kind == empty:
            return "array of empty value is not a valid option definition."
    return ""


def tokens(text: str) -> list[str]:
    """Kea's tokens(text, ",", escape=true): values split at commas, a backslash keeping the next
    comma (or backslash) in the value, empty values dropped."""
    out: list[str] = []
    token: list[str] = []
    in_token = escaped = False
    for ch in text:
        if ch == ",":
            if not in_token:
                continue
            if escaped:
                escaped = False
                token.append(ch)
            else:
                if token:
                    out.append("".join(token))
                in_token = False
                token = []
        elif ch == "\\":
            in_token = True
            if escaped:
                escaped = False
                token.append(ch)
            else:
                escaped = True
        else:
            in_token = True
            if escaped:
                escaped = False
                token.append("\\")
            token.append(ch)
    if escaped:
        token.append("\\")
    if token:
        out.append("".join(token))
    return out


def _trim(text: str) -> str:
    return text.strip(" \t\n")


_INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (-2147483648, 2147483647),
               "uint8": (0, 255), "uint16": (0, 65535), "uint32": (0, 4294967295)}
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_HEX = re.compile(r"\s*[+-]?(?:0[xX])?[0-9a-fA-F]+")
_INT64 = (-(1 << 63), (1 << 63) - 1)


def _integer(value: str, kind: str) -> int:
    """Kea's lexicalCastWithRangeCheck: decimal, or else hexadecimal (with or without 0x)."""
    result: int | None = None
    if _DECIMAL.fullmatch(value):
        result = int(value)
        if not _INT64[0] <= result <= _INT64[1]:
            result = None
    if result is None:
        if not _HEX.fullmatch(value):
            raise _BadValue(f"unable to convert the value '{value}' to integer data type")
        text = value.strip()
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        digits = digits[2:] if digits[:2] in ("0x", "0X") else digits
        result = sign * int(digits, 16)
        if not _INT64[0] <= result <= _INT64[1]:
            raise _BadValue(f"unable to convert the value '{value}' to integer data type")
    low, high = _INT_RANGES[kind]
    if not low <= result <= high:
        raise _BadValue(f"unable to convert '{value}' to numeric type. This value is expected to be in the "
                        f"range of {low}..{high}")
    return result


def _boolean(value: str) -> None:
    if value.lower() in ("true", "false"):
        return
    if not _DECIMAL.fullmatch(value) or not -(1 << 31) <= int(value) < (1 << 31):
        raise _BadValue(f"unable to covert the value '{value}' to boolean data type")  # sic: Kea's spelling
    if int(value) not in (0, 1):
        raise _BadValue(f"unable to convert '{value}' to boolean data type")


def _address_bytes(value: str) -> int:
    """The length of the address Kea's IOAddress reads from `value` (4 or 16)."""
    for family, size in ((socket.AF_INET, 4), (socket.AF_INET6, 16)):
        try:
            socket.inet_pton(family, value)
            return size
        except OSError:
            pass
    raise _BadValue(f"Failed to convert string to address '{value}': Invalid argument")


_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")


def _fqdn(value: str) -> None:
    """The checks of Kea's DNS name parser that a configuration is likely to trip."""
    if value.startswith(".") and value != ".":
        raise _BadValue(f"non terminating empty label in {value}")
    for label in value.rstrip(".").split(".") if value not in ("", ".") else []:
        if not label:
            raise _BadValue(f"duplicate period in {value}")
        if len(label) > 63:
            raise _BadValue(f"label is too long in {value}")


def base16_problem(text: str) -> str:
    """Why Kea's base16 decoder (util::encode::decodeHex) refuses `text`, or "": it skips white
    space and wants whole bytes of hex digits."""
    digits = "".join(text.split())
    if not _HEX_DIGITS.fullmatch(digits):
        return "attempt to decode a value not in base16 char set"
    if len(digits) % 2:
        return f"Incomplete input for base16: {text}"
    return ""


def _write(value: str, kind: str, family: int) -> int:
    """Kea's writeToBuffer of one value; the number of bytes written, where it matters (addresses)."""
    if kind == "binary":
        problem = base16_problem(value)
        if problem:
            raise _BadValue(f"unable to cast {value} to binary data type: {problem}")
    elif kind == "boolean":
        _boolean(value)
    elif kind in _INT_RANGES:
        _integer(value, kind)
    elif kind in ("ipv4-address", "ipv6-address"):
        return _address_bytes(value)
    elif kind == "ipv6-prefix":
        text = value.replace(" ", "").replace("\t", "")
        if "/" not in text:
            raise _BadValue(f"provided address/prefix {value} is not valid.")
        address, _, length = text.partition("/")
        if _address_bytes(address) != 16:
            raise _BadValue(f"provided address {address} is not a valid IPv4 or IPv6 address.")
        try:
            _integer(length, "uint8")
        except _BadValue:
            raise _BadValue(f"provided prefix {length} is not valid.") from None
    elif kind == "psid":
        text = value.replace(" ", "").replace("\t", "")
        if "/" not in text:
            raise _BadValue(f"provided PSID value {value} is not valid")
        psid, _, psid_len = text.partition("/")
        for part, kind_of, what in ((psid, "uint16", "PSID"), (psid_len, "uint8", "PSID length")):
            try:
                _integer(part, kind_of)
            except _BadValue:
                raise _BadValue(f"provided {what} {part} is not valid") from None
    elif kind == "fqdn":
        _fqdn(value)
    elif kind == "tuple":
        limit = 255 if family == 4 else 65535
        if len(value.encode()) > limit:
            raise _BadValue(f"invalid tuple value (size {len(value.encode())} larger than {limit})")
    elif kind != "string":
        # the empty type has no value to write: Kea names the type by its number
        raise _BadValue("attempt to write invalid option data field type into the option buffer: 0")
    return 0


def _build(definition: OptionDefinition, values: list[str], family: int) -> None:
    """Kea's optionFactory from CSV values, then the checks of the option it builds that are simple."""
    kind = definition.type
    if kind == "record":
        fields = definition.records
        if len(fields) > len(values):
            raise _BadValue(f"number of data fields for the option type '{definition.code}' is greater than "
                            "number of values provided.")
        for index, value in enumerate(values[:len(fields)] if not definition.array else values):
            _write(_trim(value), fields[min(index, len(fields) - 1)], family)
        return
    if not definition.array:
        if not values:
            if kind != "empty":
                raise _BadValue("no option value specified")
            return
        size = _write(_trim(values[0]), kind, family)
        if kind == "ipv6-address" and size == 4:
            raise _BadValue("option buffer truncated")
        return
    total = sum(_write(_trim(value), kind, family) for value in values)
    if kind in _INT_RANGES and not values:
        raise _BadValue(f"option {definition.code} empty")
    if kind == "ipv6-address" and total % 16:
        raise _BadValue(f"Option {definition.code} malformed: len={total} is not divisible by 16.")


def _special_from_csv(definition: OptionDefinition, values: list[str], family: int) -> None:
    """CSV data of an option Kea builds with a class of its own: Kea writes the values to bytes
    and that class reads them back (a client FQDN's N and S flags, vendor-class tuples, a
    PD exclude prefix of length 0), so the bytes are written and read the same way here."""
    special = _SPECIAL_FORMAT.get((definition.space, definition.code))
    fields = definition.records or (definition.type,)
    if special is None or definition.array or not set(fields) <= set(_CSV_WRITERS):
        return
    special(b"".join(_CSV_WRITERS[kind](_trim(value)) for kind, value in zip(fields, values, strict=False)))


def _prefix_bytes(value: str) -> bytes:
    address, _, length = value.replace(" ", "").replace("\t", "").partition("/")
    bits = _integer(length, "uint8")
    return bytes([bits]) + socket.inet_pton(socket.AF_INET6, address)[:(bits + 7) // 8]


def _name_bytes(value: str) -> bytes:
    labels = [label for label in value.rstrip(".").split(".") if label] if value not in ("", ".") else []
    return b"".join(bytes([len(label.encode())]) + label.encode() for label in labels) + b"\0"


# Kea's writeToBuffer for the field types of the options with classes of their own
_CSV_WRITERS: dict[str, Callable[[str], bytes]] = {
    "uint8": lambda value: _integer(value, "uint8").to_bytes(1, "big"),
    "uint16": lambda value: _integer(value, "uint16").to_bytes(2, "big"),
    "uint32": lambda value: _integer(value, "uint32").to_bytes(4, "big"),
    "boolean": lambda value: bytes([value.lower() == "true" or (value.lower() != "false" and int(value) == 1)]),
    "string": lambda value: value.encode(),
    "binary": lambda value: bytes.fromhex("".join(value.split())),
    "ipv6-prefix": _prefix_bytes,
    "fqdn": _name_bytes,
}


def valid_space_name(name: str) -> bool:
    """Kea's OptionSpace::validateName (option names are held to the same rule)."""
    return bool(_NAME.fullmatch(name)) and name[0] not in "-_" and name[-1] not in "-_"


_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _binary(data: str) -> bytes | None:
    """Kea's reading of non-CSV data: a 'quoted' string (not empty), else hex in any of the
    spellings of Kea's decodeFormattedHexString; None when it is neither."""
    if len(data) > 2 and data[0] == data[-1] == "'":
        return data[1:-1].encode()
    from app.commands.lease_parse import decode_formatted_hex  # lease_parse imports the configuration
    from app.errors import CommandError

    try:
        return decode_formatted_hex(data) if data else b""
    except CommandError:
        return None


_IA_SIZES = {3: 12, 25: 12, 5: 24, 26: 25}  # IA_NA, IA_PD, IAADDR, IAPREFIX: their fixed parts
_INTEGER_SIZES = {"int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4}
_FIXED_SIZES = {**_INTEGER_SIZES, "boolean": 1, "ipv4-address": 4, "ipv6-address": 16, "psid": 3}
_TRUNCATED = "option buffer truncated"


class _SkipOption(_BadValue):
    """Kea's SkipThisOptionError: refused as an option of its own, left out as a sub-option."""


def _build_binary(definition: OptionDefinition, data: bytes, family: int,
                  custom: Sequence[OptionDefinition] = ()) -> None:
    """Kea's option factory on an option given in hex: the class it picks for the definition
    (integers, integer arrays, address lists, strings, tuples, or the generic record reader)
    and what that class refuses in the bytes, sub-options included (`custom`: the
    configuration's own definitions, for the spaces options encapsulate)."""
    kind, code = definition.type, definition.code
    least = _IA_SIZES.get(code) if definition.space == "dhcp6" else None
    if least is not None:
        if len(data) < least:
            raise _BadValue(f"input option buffer has invalid size, expected at least {least} bytes")
        _sub_options(data[least:], "dhcp6", 6, custom)
        return
    special = _SPECIAL_FORMAT.get((definition.space, code))
    if special is not None:
        special(data)
        return
    if family == 4 and kind == "fqdn" and definition.array:
        _fqdn_list(definition, data)
        return
    if kind == "binary":
        return
    if kind == "empty":
        if definition.encapsulate:
            _sub_options(data, definition.encapsulate, family, custom)
        return
    if kind in _INTEGER_SIZES:
        size = _INTEGER_SIZES[kind]
        if definition.array:
            if not data:
                raise _BadValue(f"option {code} empty")
            if len(data) % size:
                raise _BadValue(f"OptionIntArray {code} truncated")
        elif len(data) < size:
            raise _BadValue(f"OptionInt {code} truncated")
        elif definition.encapsulate:
            _sub_options(data[size:], definition.encapsulate, family, custom)
        return
    if definition.array and kind == "ipv4-address":
        if len(data) % 4:
            raise _BadValue(f"DHCPv4 Option4AddrLst {code} has invalid length={len(data)}, must be divisible by 4.")
        return
    if definition.array and kind == "ipv6-address":
        if len(data) % 16:
            raise _BadValue(f"Option {code} malformed: len={len(data)} is not divisible by 16.")
        return
    if kind == "string":
        if not data.rstrip(b"\0"):  # Kea trims trailing NULs first
            raise _SkipOption(f"failed to parse an option '{code}' holding string value' was empty or contained "
                            "only nuls")
        return
    if kind == "tuple" and definition.array:
        _opaque_tuples(data, family)
        return
    _custom_buffers(definition, data, family, custom)


def _sub_options(data: bytes, space: str, family: int, custom: Sequence[OptionDefinition]) -> None:
    """Kea's reading of the options an option encapsulates: each one whole within the bytes is
    built with its definition in `space` (standard, then the configuration's); a truncated one
    ends the list quietly, and one Kea skips (an empty string) is left out."""
    definitions = {d.code: d for d in [*(d for d in custom if d.space == space), *STANDARD.get(space, [])]}
    at = 0
    while at < len(data):
        if family == 4:
            code = data[at]
            at += 1
            if space == "dhcp4" and code in (0, 255):
                if code == 255:
                    return
                continue
            if at + 1 > len(data):
                return
            length = data[at]
            at += 1
            if at + length > len(data):
                return
            deferred = space == "dhcp4" and (code == 43 or 224 <= code <= 254 or (code == 12 and length == 0))
        else:
            if at + 4 > len(data):
                return
            code, length = int.from_bytes(data[at:at + 2], "big"), int.from_bytes(data[at + 2:at + 4], "big")
            at += 4
            if at + length > len(data):
                return
            if code == 17:  # vendor options, whatever the space
                if at + 4 > len(data):
                    return
                _vendor_options(data[at:at + length], 6)
                at += length
                continue
            deferred = False
        definition = None if deferred else definitions.get(code)
        if definition is not None:
            try:
                _build_binary(definition, data[at:at + length], family, custom)
            except _SkipOption:
                pass
        at += length


def _status_code(data: bytes) -> None:
    if len(data) < 2:
        raise _BadValue("Status Code option (13) truncated")


def _slp_service_scope(data: bytes) -> None:
    if not data:
        raise _BadValue("SLP Service Scope option (79) truncated")
    if data[0] > 1:
        raise _BadValue(f"unable to read the buffer as boolean value. Invalid value {data[0]}")


def _pd_exclude(data: bytes) -> None:
    if len(data) < 2:
        raise _BadValue("truncated Prefix Exclude option")
    if data[0] == 0:
        raise _BadValue("excluded prefix length must not be 0")


def _client_fqdn4(data: bytes) -> None:
    if len(data) < 3:
        raise _BadValue("DHCPv4 Client FQDN Option (81) is truncated")
    flags, name = data[0], data[3:]
    try:
        if flags & 0x04:  # E: the name in wire format
            _client_fqdn_name(name)
        elif name:
            _fqdn(name.decode("latin-1"))
    except _BadValue as exc:
        raise _BadValue(f"failed to parse the domain-name in DHCPv4 Client FQDN Option: {exc}") from None
    if flags & 0x09 == 0x09:
        raise _BadValue("both N and S flag of the DHCPv4 Client FQDN Option are set. According to RFC 4702, if "
                        "the N bit is 1 the S bit MUST be 0")


def _client_fqdn6(data: bytes) -> None:
    if not data:
        raise _BadValue("DHCPv6 Client FQDN Option (39) is truncated. Minimal option size is 1, got option with "
                        "size 0")
    flags, name = data[0], data[1:]
    try:
        _client_fqdn_name(name)
    except _BadValue:
        kind = "partial" if name[-1] != 0 else "fully qualified"
        raise _BadValue(f"failed to parse {kind} domain-name from wire format") from None
    if flags & 0x05 == 0x05:
        raise _BadValue("both N and S flag of the DHCPv6 Client FQDN Option are set. According to RFC 4704, if "
                        "the N bit is 1 the S bit MUST be 0")


def _client_fqdn_name(name: bytes) -> None:
    """A client FQDN option's name: wire format, a partial name lacking its final zero."""
    if name:
        _read_wire_name(name if name[-1] == 0 else name + b"\0", 0)


def _vendor_class(data: bytes, family: int) -> None:
    """Kea's OptionVendorClass: an enterprise id, then tuples (v4: each block after the first
    with an enterprise id of its own)."""
    if len(data) < 4:
        raise _BadValue(f"parsed Vendor Class option data truncated to size {len(data)}")
    rest, width, at = data[4:], 1 if family == 4 else 2, 0
    while at < len(rest):
        at = _opaque_tuple_end(rest, at, width)
        if family == 4 and at != len(rest):
            at += 4
            if at + 1 >= len(rest):
                raise _BadValue("truncated DHCPv4 V-I Vendor Class option - it should contain enterprise id "
                                "followed by opaque data field tuple")


def _vendor_options(data: bytes, family: int) -> None:
    """Kea's OptionVendor: an enterprise id, then that vendor's options, each read with its
    definition when Kea has one (DOCSIS 3 for 4491)."""
    if len(data) < 4:
        raise _BadValue(f"Truncated vendor-specific information option, length={len(data)}")
    vendor, rest = int.from_bytes(data[:4], "big"), data[4:]
    definitions = {d.code: d for d in STANDARD.get(f"docsis3-v{family}", [])} if vendor == 4491 else {}
    at = 0
    if family == 6:
        while at < len(rest):
            if at + 4 > len(rest):
                raise _BadValue("Vendor option parse failed: truncated header")
            code, length = int.from_bytes(rest[at:at + 2], "big"), int.from_bytes(rest[at + 2:at + 4], "big")
            at += 4
            if at + length > len(rest):
                raise _BadValue(f"Vendor option parse failed. Tried to parse {at + length} bytes from {len(rest)}-byte "
                                "long buffer.")
            if code in definitions:
                _build_binary(definitions[code], rest[at:at + length], family)
            at += length
        return
    if not rest:
        return
    block = rest[at]
    at += 1
    if at + block > len(rest):
        raise _BadValue("Attempt to parse truncated vendor option")
    end = (at + block) & 0xFF  # Kea keeps this end in a byte
    while at < end:  # only the first vendor block is read
        code = rest[at]
        at += 1
        if at + 1 > end:
            raise _BadValue(f"Attempt to parse truncated vendor option {code}")
        length = rest[at]
        at += 1
        if at + length > end:
            raise _BadValue(f"Option parse failed. Tried to parse {at + length} bytes from {len(rest)}-byte long "
                            "buffer.")
        if code in definitions:
            _build_binary(definitions[code], rest[at:at + length], family)
        at += length


# the standard options Kea builds with classes of their own, and those classes' checks
_SPECIAL_FORMAT: dict[tuple[str, int], Callable[[bytes], None]] = {
    ("dhcp6", 13): _status_code, ("dhcp4", 79): _slp_service_scope, ("dhcp6", 67): _pd_exclude,
    ("dhcp4", 81): _client_fqdn4, ("dhcp6", 39): _client_fqdn6,
    ("dhcp4", 124): lambda data: _vendor_class(data, 4), ("dhcp6", 16): lambda data: _vendor_class(data, 6),
    ("dhcp4", 125): lambda data: _vendor_options(data, 4), ("dhcp6", 17): lambda data: _vendor_options(data, 6)}


def _custom_buffers(definition: OptionDefinition, data: bytes, family: int,
                    custom: Sequence[OptionDefinition] = ()) -> None:
    """Kea's OptionCustom splitting the bytes into its fields (records, single values, arrays);
    what follows a single value or a record is sub-options when the option encapsulates a space."""
    fields = definition.records if definition.type == "record" else (definition.type,)
    at = 0
    if definition.type != "record":
        if len(data) < _FIXED_SIZES.get(definition.type, 0):
            raise _BadValue(_TRUNCATED)
        if not definition.array:
            size = _field_size(definition, definition.type, False, data, family)
            if size == 0 or len(data) < size:
                raise _BadValue(_TRUNCATED)
            if definition.encapsulate:
                _sub_options(data[size:], definition.encapsulate, family, custom)
            return
    else:
        for kind in fields:
            size = _field_size(definition, kind, False, data[at:], family)
            if len(data) - at < size:
                raise _BadValue(_TRUNCATED)
            at += size
        if not definition.array:
            if definition.encapsulate:
                _sub_options(data[at:], definition.encapsulate, family, custom)
            return
    while at < len(data):  # an array: whole values while they fit, a short tail left unread
        size = _field_size(definition, fields[-1], True, data[at:], family)
        if len(data) - at < size:
            break
        at += size


def _field_size(definition: OptionDefinition, kind: str, in_array: bool, rest: bytes, family: int) -> int:
    """The bytes one field takes at the start of `rest`, read as Kea reads them (fqdn, prefix and
    tuple fields by parsing them; a string or binary takes the rest unless the option is an array)."""
    size = _FIXED_SIZES.get(kind, 0)
    if size:
        return size
    if kind == "fqdn":
        return len(_wire_name_text(rest)) + 1  # Kea sizes the field by the name's text form
    if not definition.array and kind in ("binary", "string"):
        return len(rest)
    if kind == "ipv6-prefix":
        if not rest and not in_array:
            return 0
        if not rest:
            raise _BadValue("unable to read prefix length from a truncated buffer")
        length = rest[0]
        if len(rest) - 1 < (length + 7) // 8:
            raise _BadValue(f"unable to read a prefix having length of {length} from a truncated buffer")
        return 1 + (length + 7) // 8
    if kind == "tuple":
        width = 1 if family == 4 else 2
        if len(rest) < width:
            raise _BadValue(f"unable to read data from the buffer as tuple (length). Invalid buffer size: {len(rest)}")
        length = int.from_bytes(rest[:width], "big")
        if len(rest) < width + length:
            raise _BadValue(f"unable to read data from the buffer as tuple (length {length}). Invalid buffer size: "
                            f"{len(rest)}")
        return width + length
    raise _BadValue(_TRUNCATED)


def _opaque_tuples(data: bytes, family: int) -> None:
    """Kea's OptionOpaqueDataTuples: length-prefixed values to the end of the option, which must
    be at least 4 bytes long with its header (a v4 header is 2 bytes, a v6 one 4)."""
    width = 1 if family == 4 else 2
    if family == 4 and len(data) < 2:
        raise _BadValue(f"parsed data tuples option data truncated to size {len(data)}")
    at = 0
    while at < len(data):
        at = _opaque_tuple_end(data, at, width)


def _opaque_tuple_end(data: bytes, at: int, width: int) -> int:
    """Kea's OpaqueDataTuple read at `at`: a `width`-byte length, then that many bytes; where it ends."""
    left = len(data) - at
    if left < width:
        raise _BadValue(f"unable to parse the opaque data tuple, the buffer length is {left}, expected at least "
                        f"{width}")
    length = int.from_bytes(data[at:at + width], "big")
    if left - width < length:
        raise _BadValue(f"unable to parse the opaque data tuple, the buffer length is {left - width}, but the tuple "
                        f"length is {length}")
    return at + width + length


_NAME_SPECIALS = frozenset(b'"().;\\@$')


def _wire_name_text(buffer: bytes) -> str:
    """The domain name in DNS wire format at the start of `buffer` (a field of an option, where
    no compression pointer can point anywhere), in its text form."""
    if not buffer:
        raise _BadValue("unable to read FQDN from a buffer. The buffer is empty.")
    return _name_text(_read_wire_name(buffer, 0)[0])


def _name_text(labels: list[bytes]) -> str:
    return ".".join(_label_text(label) for label in labels) + "." if labels else "."


def _read_wire_name(buffer: bytes, start: int) -> tuple[list[bytes], int]:
    """Kea's Name read from `buffer` at `start`: (its labels, where the next name starts). A
    compression pointer must point before the name and before any earlier pointer of it."""
    labels: list[bytes] = []
    at = biggest = start
    used = consumed = 0
    jumped = False
    while at < len(buffer):
        length = buffer[at]
        at += 1
        consumed += 0 if jumped else 1
        if length <= 63:
            if used + length + 1 > 255:
                raise _BadValue(f"wire name is too long: {used + length + 1} bytes")
            used += length + 1
            if length == 0:
                return labels, start + consumed
            label = buffer[at:at + length]
            consumed += 0 if jumped else len(label)
            at += len(label)
            if len(label) < length:
                break
            labels.append(label)
        elif length & 0xC0 == 0xC0:
            if at >= len(buffer):
                break
            target = ((length & 0x3F) << 8) + buffer[at]
            consumed += 0 if jumped else 1
            if target >= biggest:
                raise _BadValue(f"bad compression pointer (out of range): {target}")
            biggest = at = target
            jumped = True
        else:
            raise _BadValue(f"unknown label character: {length}")
    raise _BadValue("incomplete wire-format name")


def _fqdn_list(definition: OptionDefinition, data: bytes) -> None:
    """Kea's v4 list of domain names: compression allowed (pointing back into the list), then
    the names, uncompressed, read again by the generic reader (which sizes each by its text)."""
    if not data:
        raise _BadValue("FQDN list option has invalid length of 0")
    at = 0
    uncompressed = b""
    while at < len(data):
        labels, at = _read_wire_name(data, at)
        uncompressed += b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    _custom_buffers(definition, uncompressed, 4)


def _label_text(label: bytes) -> str:
    return "".join("\\" + chr(c) if c in _NAME_SPECIALS else chr(c) if 0x20 < c < 0x7F else f"\\{c:03d}"
                   for c in label)


def check_option(entry: dict[str, Any], family: int, definitions: OptionDefinitions, *, csv_default: bool) -> None:
    """Kea's OptionDataParser on one entry whose keys and types were checked; `csv_default`: Kea
    filled a missing `csv-format` with true (global option data), else a missing one stays unset."""
    default_space = "dhcp4" if family == 4 else "dhcp6"
    code: int | None = None
    if "code" in entry:
        code = entry["code"] & 0xFFFFFFFF
        if family == 4 and code > 255:
            raise OptionRefusal(f"invalid option code '{code}', it must not be greater than '255'", (entry, "code"))
        if family == 6 and code > 65535:
            raise OptionRefusal(f"invalid option code '{code}', it must not exceed '65535'", (entry, "code"))
    name: str | None = entry.get("name")
    if name is not None and " " in name:
        raise OptionRefusal(f"invalid option name '{name}', space character is not allowed", (entry, "name"))
    csv: bool | None = entry.get("csv-format", True if csv_default else None)
    data: str = entry.get("data", "")
    space: str = entry.get("space", default_space)
    if "space" in entry:
        if not valid_space_name(space):
            raise OptionRefusal(f"invalid option space name '{space}'", (entry, "space"))
        if space == "dhcp4" and family == 6:
            raise OptionRefusal("'dhcp4' option space name is reserved for DHCPv4 server", (entry, "space"))
        if space == "dhcp6" and family == 4:
            raise OptionRefusal("'dhcp6' option space name is reserved for DHCPv6 server", (entry, "space"))
    if code is None and name is None:
        raise OptionRefusal("option data configuration requires one of 'code' or 'name' parameters to be specified",
                            (entry, None))
    definition = definitions.find(family, space, code, name)
    named = (entry, "name" if "name" in entry else None)
    if definition is None:
        if csv:
            raise OptionRefusal(f"definition for the option '{space}.{name or ''}' having code '{code or 0}' "
                                "does not exist", named)
        if name is not None and code is None:
            raise OptionRefusal(f"definition for the option '{space}.{name}' does not exist", named)
    binary = b""
    if definition is None or csv is False:
        decoded = _binary(data)
        if decoded is None:
            raise OptionRefusal(f"option data is not a valid string of hexadecimal digits: {data}", (entry, "data"))
        binary = decoded
    if definition is not None:
        if name is not None and definition.name != name:
            raise OptionRefusal(f"specified option name '{name}' does not match the option definition: "
                                f"'{space}.{definition.name}'", named)
        try:
            if csv is False:
                _build_binary(definition, binary, family, definitions.custom)
            else:
                values = tokens(data)
                _build(definition, values, family)
                _special_from_csv(definition, values, family)
        except _BadValue as exc:
            raise OptionRefusal(f"option data does not match option definition (space: {space}, code: "
                                f"{definition.code}): {exc}", (entry, "data")) from None
    final_code = definition.code if definition is not None else code
    if space == "dhcp4" and final_code in (0, 255):
        reserved = "PAD" if final_code == 0 else "END"
        raise OptionRefusal(f"invalid option code '{final_code}': reserved for {reserved}", (entry, None))
    if space == "dhcp6" and final_code == 0:
        raise OptionRefusal("invalid option code '0': reserved value", (entry, None))
