"""Parsing lease arguments exactly as Kea 2.2's lease_cmds does: same checks, order and texts.

Kea appends the position of a bad element to some texts (`(<wire>:0:93)`); these errors say
which element they are about (`CommandError.at`) and the dispatcher adds Kea's position for
commands that came with `service`, as the daemon behind kea-ctrl-agent does.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any

from app.config import FamilyConfig, Subnet
from app.errors import NOT_A_STRING, NOT_AN_INTEGER, CommandError
from app.sentinels import MISSING
from app.store.leases import LEASE6_TYPE_CODES, Lease4, Lease6, ascii_lower

UINT32_MAX = 0xFFFFFFFF
MAX_HWADDR_LEN = 20
MAX_DUID_LEN = 128
STATE_NAMES = {0: "default", 1: "declined", 2: "expired-reclaimed"}


# --- Kea's SimpleParser getters ----------------------------------------------------------------

def _missing(args: dict[str, Any], name: str) -> CommandError:
    return CommandError(f"missing parameter '{name}'", at=(args, None))


def _bad_type(args: dict[str, Any], name: str) -> CommandError:
    return CommandError(f"invalid type specified for parameter '{name}'", at=(args, name))


def get_string(args: dict[str, Any], name: str) -> str:
    if name not in args:
        raise _missing(args, name)
    value = args[name]
    if not isinstance(value, str):
        raise _bad_type(args, name)
    return value


def get_bool(args: dict[str, Any], name: str) -> bool:
    if name not in args:
        raise _missing(args, name)
    value = args[name]
    if not isinstance(value, bool):
        raise _bad_type(args, name)
    return value


def get_integer(args: dict[str, Any], name: str) -> int:
    if name not in args:
        raise _missing(args, name)
    value = args[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_type(args, name)
    return value


def get_uint(args: dict[str, Any], name: str, maximum: int = UINT32_MAX) -> int:
    value = get_integer(args, name)
    if value < 0 or value > maximum:
        raise CommandError(f"out of range value ({value}) specified for parameter '{name}'", at=(args, name))
    return value


def get_address(args: dict[str, Any], name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    text = get_string(args, name)
    try:
        return parse_address(text, f"Failed to convert '{text}' to address: ")
    except CommandError as exc:
        # Kea appends the position straight after "Invalid argument", without a space
        exc.at, exc.separator = (args, name), ""
        raise


def parse_address(text: str, prefix: str = "") -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    # inet_pton is what Kea parses addresses with; from its bytes an address is built at a fraction
    # of ipaddress's string parsing. What it refuses goes the long way, which words the error.
    try:
        if ":" in text:
            if "%" not in text:
                return ipaddress.IPv6Address(socket.inet_pton(socket.AF_INET6, text))
        else:
            return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError):
        pass
    try:
        if "%" in text:
            raise ValueError(text)
        return ipaddress.ip_address(text)
    except ValueError:
        raise CommandError(f"{prefix}Failed to convert string to address '{text}': Invalid argument") from None


def v6_text(address: ipaddress.IPv6Address) -> str:
    """The canonical (RFC 5952) text of an IPv6 address, as ``str()`` gives it.

    inet_ntop writes the same text several times faster, except for addresses whose first 80
    bits are zero, where it may print an embedded IPv4 address (``::ffff:1.2.3.4``) and
    ``str()`` does not; those keep ``str()``, so stored addresses are spelt as before."""
    packed = address.packed
    if packed[:10] == _ZERO_80:
        return str(address)
    return socket.inet_ntop(socket.AF_INET6, packed)


_ZERO_80 = bytes(10)


def address_text(address: Any) -> str:
    """An address as Kea prints it in its texts (inet_ntop): ::ffff:192.0.2.1, where Python writes
    ::ffff:c000:201. Stored lease addresses keep `v6_text`'s spelling."""
    if address.version == 6:
        return socket.inet_ntop(socket.AF_INET6, address.packed)
    return str(address)


# --- hex identifiers -------------------------------------------------------------------------

def _decode_separated(text: str, separator: str) -> bytes:
    size = len(text)
    if size % 3 == 2 and text[2::3] == separator * (size // 3):
        # the usual spelling, two hex digits per byte ("0a:1b:2c"): one C call
        digits = text.replace(separator, "")
        if digits.isascii() and digits.isalnum():
            try:
                return bytes.fromhex(digits)
            except ValueError:
                pass  # not hex: the loop below names the bad digit
    out = bytearray()
    tokens = text.split(separator)
    for token in tokens:
        # token by token, as Kea checks them: an empty one (two separators in a row, or one at
        # either end) before a long one
        if not token:
            if len(tokens) > 1:
                raise CommandError(f"two consecutive separators ('{separator}') specified in a decoded string '{text}'")
            continue
        if len(token) > 2:
            raise CommandError(f"invalid format of the decoded string '{text}'")
        try:
            out.append(int(token, 16))
        except ValueError:
            bad = next(ch for ch in token if ch not in "0123456789abcdefABCDEF")
            raise CommandError(f"'{bad}' is not a valid hexadecimal digit in decoded string '{text}'") from None
        if any(ch not in "0123456789abcdefABCDEF" for ch in token):
            bad = next(ch for ch in token if ch not in "0123456789abcdefABCDEF")
            raise CommandError(f"'{bad}' is not a valid hexadecimal digit in decoded string '{text}'")
    return bytes(out)


def parse_hwaddr(text: str) -> bytes:
    """Kea's HWAddr::fromText: colon-separated bytes, one or two hex digits each."""
    if not text:
        return b""
    data = _decode_separated(text, ":")
    if len(data) > MAX_HWADDR_LEN:
        raise CommandError("address vector size exceeds MAX_HWADDR_LEN")
    return data


def decode_formatted_hex(text: str) -> bytes:
    """Kea's decodeFormattedHexString: `01:02`, `01 02`, `0102` or `0x0102`."""
    if ":" in text:
        return _decode_separated(text, ":")
    if " " in text:
        return _decode_separated(text, " ")
    digits = text[2:] if len(text) > 2 and text.startswith("0x") else text
    if len(text) % 2:
        digits = "0" + digits
    try:
        return bytes.fromhex(digits) if all(c in "0123456789abcdefABCDEF" for c in digits) else _raise_hex(text)
    except ValueError:
        return _raise_hex(text)


def _raise_hex(text: str) -> bytes:
    raise CommandError(f"'{text}' is not a valid string of hexadecimal digits")


def parse_duid(text: str) -> bytes:
    data = decode_formatted_hex(text)
    if len(data) > MAX_DUID_LEN:
        raise CommandError(f"DUID size is {len(data)} bytes, exceeds maximum of {MAX_DUID_LEN}")
    if not data:
        raise CommandError("Empty DUIDs are not allowed")
    return data


def parse_client_id(text: str) -> bytes:
    data = parse_duid(text)
    if len(data) < 2:
        raise CommandError(f"client-id is too short ({len(data)}), at least 2 is required")
    return data


# --- whole leases ----------------------------------------------------------------------------

def _subnet_text(subnet: Subnet) -> str:
    return str(subnet.prefix)


def _resolve_subnet(args: dict[str, Any], family: FamilyConfig, address: Any, prefix_lease: bool) -> Subnet:
    subnet_id = get_uint(args, "subnet-id") if "subnet-id" in args else 0
    v = family.family
    if subnet_id:
        subnet = family.subnets.get(subnet_id)
        if subnet is None:
            raise CommandError(f"Invalid subnet-id: No IPv{v} subnet with subnet-id={subnet_id} currently configured.")
        if not prefix_lease and address not in subnet.prefix:
            raise CommandError(
                f"The address {address_text(address)} does not belong to subnet {_subnet_text(subnet)}, subnet-id={subnet_id}"
            )
        return subnet
    if prefix_lease:
        raise CommandError(
            "Subnet-id is 0 or not specified. This is allowed for address leases only, not prefix leases."
        )
    found = family.subnet_for(address) if address.version == v else None
    if found is None:
        raise CommandError(f"subnet-id not specified and failed to find a subnet for address {address_text(address)}")
    return found


def _cltt(args: dict[str, Any], valid: int, address: Any, now: int | None) -> int:
    if "expire" in args:
        expire = get_integer(args, "expire")
        if expire <= 0:
            raise CommandError(f"expiration time must be positive for address {address_text(address)}")
        if expire < valid:  # Kea 2.2: expire == valid-lft is accepted (cltt 0)
            raise CommandError(f"expiration time must be greater than valid lifetime for address {address_text(address)}")
        return expire - valid
    return int(time.time()) if now is None else now


def _common_tail(args: dict[str, Any], prefix: bool = False) -> tuple[bool, bool, str, int, dict[str, Any] | None]:
    fqdn_fwd = get_bool(args, "fqdn-fwd") if "fqdn-fwd" in args else False
    fqdn_rev = get_bool(args, "fqdn-rev") if "fqdn-rev" in args else False
    hostname = get_string(args, "hostname") if "hostname" in args else ""
    if not hostname and (fqdn_fwd or fqdn_rev):
        raise CommandError("No hostname specified and either forward or reverse fqdn was set to true.")
    state = get_uint(args, "state", 255) if "state" in args else 0
    if state > 2:
        raise CommandError(
            f"Invalid state value: {state}, supported values are: 0 (default), 1 (declined) and 2 (expired-reclaimed)"
        )
    if state == 1 and prefix:
        raise CommandError("Invalid declined state for PD prefix.")
    context = args.get("user-context")
    if "user-context" in args and not isinstance(context, dict):
        from app.kea_json import dumps

        raise CommandError(f"Invalid user context '{dumps(context).decode()}' is not a JSON map.")
    if "comment" in args:
        # Kea keeps a lease's `comment` (any JSON value) in its user context
        comment = args["comment"]
        if context is not None and "comment" in context:
            from app.kea_json import dumps

            raise CommandError(f"Duplicated comment entry '{dumps(comment).decode()}' in user context "
                               f"'{dumps(context).decode()}'")
        context = {**(context or {}), "comment": comment}
    return fqdn_fwd, fqdn_rev, ascii_lower(hostname), state, context


@dataclass(slots=True)
class ParsedLease4:
    lease: Lease4
    force_create: bool


def parse_lease4(args: dict[str, Any], family: FamilyConfig, now: int | None = None) -> ParsedLease4:
    return _fast_lease4(args, family, now) or _checked_lease4(args, family, now)


def _checked_lease4(args: dict[str, Any], family: FamilyConfig, now: int | None) -> ParsedLease4:
    address = get_address(args, "ip-address")
    if address.version != 4:
        raise CommandError(f"Non-IPv4 address specified: {address_text(address)}")
    hwaddr = parse_hwaddr(get_string(args, "hw-address"))
    subnet = _resolve_subnet(args, family, address, prefix_lease=False)
    client_id = parse_client_id(get_string(args, "client-id")) if "client-id" in args else None
    valid = get_uint(args, "valid-lft") if "valid-lft" in args else subnet.valid_lifetime
    cltt = _cltt(args, valid, address, now)
    fqdn_fwd, fqdn_rev, hostname, state, context = _common_tail(args)
    force_create = get_bool(args, "force-create") if "force-create" in args else False
    if not hwaddr and not client_id and state != 1:
        # Kea's lease file refuses such a lease; keep the same rule so both stores agree.
        raise CommandError(
            f"Lease4: {address}, state: {STATE_NAMES[state]} has neither hardware address or client id"
        )
    lease = Lease4(int(address), hwaddr or None, client_id, valid, cltt, subnet.id, fqdn_fwd, fqdn_rev,
                   hostname, state, context)
    return ParsedLease4(lease, force_create)


@dataclass(slots=True)
class ParsedLease6:
    lease: Lease6
    force_create: bool


def parse_lease6(args: dict[str, Any], family: FamilyConfig, now: int | None = None) -> ParsedLease6:
    return _fast_lease6(args, family, now) or _checked_lease6(args, family, now)


def _checked_lease6(args: dict[str, Any], family: FamilyConfig, now: int | None) -> ParsedLease6:
    address = get_address(args, "ip-address")
    if address.version != 6:
        raise CommandError(f"Non-IPv6 address specified: {address}")
    duid = parse_duid(get_string(args, "duid"))
    lease_type = 0
    prefix_len = 128
    if "type" in args:
        type_text = get_string(args, "type")
        if type_text not in LEASE6_TYPE_CODES:
            raise CommandError(f"Incorrect lease type: {type_text}, the only supported values are: na, ta and pd")
        lease_type = LEASE6_TYPE_CODES[type_text]
        if lease_type == 2:
            prefix_len = get_uint(args, "prefix-len", 255)
    # Kea's order of checks (the first failing one answers): subnet, iaid, hw-address, lifetimes
    subnet = _resolve_subnet(args, family, address, prefix_lease=lease_type != 0)
    iaid = get_uint(args, "iaid")
    hwaddr = parse_hwaddr(get_string(args, "hw-address")) if "hw-address" in args else b""
    valid = get_uint(args, "valid-lft") if "valid-lft" in args else subnet.valid_lifetime
    # Kea 2.2 quirk (observed live): without preferred-lft the subnet's *valid* lifetime is used.
    preferred = get_uint(args, "preferred-lft") if "preferred-lft" in args else subnet.valid_lifetime
    cltt = _cltt(args, valid, address, now)
    fqdn_fwd, fqdn_rev, hostname, state, context = _common_tail(args, prefix=lease_type == 2)
    force_create = get_bool(args, "force-create") if "force-create" in args else False
    lease = Lease6(
        address=v6_text(address), duid=duid, iaid=iaid, type=lease_type, prefix_len=prefix_len, valid_lft=valid,
        preferred_lft=preferred, cltt=cltt, subnet_id=subnet.id, fqdn_fwd=fqdn_fwd, fqdn_rev=fqdn_rev,
        hostname=hostname, state=state, hwaddr=hwaddr or None, hwtype=1 if hwaddr else 0, hwaddr_source=0,
        user_context=context,
    )
    return ParsedLease6(lease, force_create)


# --- the fast path ---------------------------------------------------------------------------
#
# A lease as Kea's HA hook and scripts send it (every value of the right type and in range, a
# subnet-id, identifiers spelt "0a:1b:..") is parsed here in one pass with no address objects,
# which is most of what a lease6-bulk-apply costs. Anything else (a missing or odd value, an
# error to word, a rarer spelling) answers None and the parser above does the whole job, so the
# errors, their order and their texts stay that parser's alone. The lease built here must equal
# the one the parser above builds for the same arguments (tests/test_lease_parse_fast.py).


def _fast_uint(value: Any, maximum: int = UINT32_MAX) -> int | None:
    return value if type(value) is int and 0 <= value <= maximum else None


def _fast_uint_or(args: dict[str, Any], name: str, default: int) -> int | None:
    """An optional uint32 argument, `default` when absent."""
    value = args.get(name, MISSING)
    return default if value is MISSING else _fast_uint(value)


def _fast_colon_hex(text: Any) -> bytes | None:
    """Bytes spelt two hex digits each, colon-separated ("0a:1b"), or a single byte ("0a")."""
    if type(text) is not str:
        return None
    size = len(text)
    if size % 3 != 2 or text[2::3] != ":" * (size // 3):
        return None
    digits = text.replace(":", "")
    if not (digits.isascii() and digits.isalnum()):
        return None
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return None


def _fast_hwaddr(text: Any) -> bytes | None:
    """`parse_hwaddr` for the usual spelling: "" is no address (b"")."""
    if text == "":
        return b""
    hwaddr = _fast_colon_hex(text)
    return hwaddr if hwaddr is not None and len(hwaddr) <= MAX_HWADDR_LEN else None


def _fast_subnet(args: dict[str, Any], family: FamilyConfig, address: int, prefix_lease: bool) -> Subnet | None:
    subnet_id = _fast_uint(args.get("subnet-id"))
    if not subnet_id:  # absent (the subnet is looked up by address) or 0: the parser above
        return None
    subnet = family.subnets.get(subnet_id)
    if subnet is None:
        return None
    if not prefix_lease:
        network, mask = subnet.bounds
        if address & mask != network:
            return None
    return subnet


def _fast_lifetimes(args: dict[str, Any], subnet: Subnet, now: int | None) -> tuple[int, int] | None:
    """(valid-lft, cltt)."""
    valid = _fast_uint_or(args, "valid-lft", subnet.valid_lifetime)
    if valid is None:
        return None
    expire = args.get("expire", MISSING)
    if expire is MISSING:
        return valid, int(time.time()) if now is None else now
    if type(expire) is not int or expire <= 0 or expire < valid:
        return None
    return valid, expire - valid


def _fast_tail(args: dict[str, Any], prefix: bool) -> tuple[bool, bool, str, int, dict[str, Any] | None] | None:
    """`_common_tail` for arguments it would take as they are."""
    fqdn_fwd = args.get("fqdn-fwd", False)
    fqdn_rev = args.get("fqdn-rev", False)
    hostname = args.get("hostname", "")
    state = args.get("state", 0)
    context = args.get("user-context")
    if (type(fqdn_fwd) is not bool or type(fqdn_rev) is not bool or type(hostname) is not str
            or type(state) is not int or not 0 <= state <= 2 or (state == 1 and prefix)
            or (not hostname and (fqdn_fwd or fqdn_rev))
            or (context is not None and type(context) is not dict)
            or ("user-context" in args and context is None) or "comment" in args):
        return None
    return fqdn_fwd, fqdn_rev, ascii_lower(hostname), state, context


def _fast_force_create(args: dict[str, Any]) -> bool | None:
    force_create = args.get("force-create", False)
    return force_create if type(force_create) is bool else None


def _fast_lease4(args: dict[str, Any], family: FamilyConfig, now: int | None) -> ParsedLease4 | None:
    text = args.get("ip-address")
    if type(text) is not str or ":" in text:
        return None
    try:
        address = int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except OSError:
        return None
    hwaddr = _fast_hwaddr(args.get("hw-address"))
    if hwaddr is None:
        return None
    subnet = _fast_subnet(args, family, address, prefix_lease=False)
    if subnet is None:
        return None
    client_id = None
    if "client-id" in args:
        client_id = _fast_colon_hex(args["client-id"])
        if client_id is None or not 2 <= len(client_id) <= MAX_DUID_LEN:
            return None
    lifetimes = _fast_lifetimes(args, subnet, now)
    tail = _fast_tail(args, prefix=False)
    force_create = _fast_force_create(args)
    if lifetimes is None or tail is None or force_create is None:
        return None
    fqdn_fwd, fqdn_rev, hostname, state, context = tail
    if not hwaddr and not client_id and state != 1:
        return None
    valid, cltt = lifetimes
    lease = Lease4(address, hwaddr or None, client_id, valid, cltt, subnet.id, fqdn_fwd, fqdn_rev,
                   hostname, state, context)
    return ParsedLease4(lease, force_create)


def _fast_lease6(args: dict[str, Any], family: FamilyConfig, now: int | None) -> ParsedLease6 | None:
    text = args.get("ip-address")
    if type(text) is not str or "%" in text:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        return None
    if packed[:10] == _ZERO_80:  # v6_text spells these with str(); the parser above does that
        return None
    duid = _fast_colon_hex(args.get("duid"))
    if not duid or len(duid) > MAX_DUID_LEN:
        return None
    lease_type = 0
    prefix_len: int | None = 128
    if "type" in args:
        type_text = args["type"]
        lease_type = LEASE6_TYPE_CODES.get(type_text, -1) if type(type_text) is str else -1
        if lease_type < 0:
            return None
        if lease_type == 2:
            prefix_len = _fast_uint(args.get("prefix-len"), 255)
    subnet = _fast_subnet(args, family, int.from_bytes(packed, "big"), prefix_lease=lease_type != 0)
    iaid = _fast_uint(args.get("iaid"))
    if subnet is None or iaid is None or prefix_len is None:
        return None
    hwaddr = _fast_hwaddr(args["hw-address"]) if "hw-address" in args else b""
    if hwaddr is None:
        return None
    # Kea 2.2's quirk, as the parser above: without preferred-lft the subnet's *valid* lifetime
    preferred = _fast_uint_or(args, "preferred-lft", subnet.valid_lifetime)
    lifetimes = _fast_lifetimes(args, subnet, now)
    tail = _fast_tail(args, prefix=lease_type == 2)
    force_create = _fast_force_create(args)
    if preferred is None or lifetimes is None or tail is None or force_create is None:
        return None
    valid, cltt = lifetimes
    fqdn_fwd, fqdn_rev, hostname, state, context = tail
    lease = Lease6(socket.inet_ntop(socket.AF_INET6, packed), duid, iaid, lease_type, prefix_len, valid, preferred,
                   cltt, subnet.id, fqdn_fwd, fqdn_rev, hostname, state, hwaddr or None, 1 if hwaddr else 0, 0,
                   context)
    return ParsedLease6(lease, force_create)


# --- get/del query parameters ---------------------------------------------------------------

@dataclass(frozen=True)
class LeaseQuery:
    kind: str  # "address", "hw-address", "client-id", "duid"
    address: Any = None
    lease_type: int = 0
    subnet_id: int = 0
    iaid: int = 0
    identifier: bytes = b""


_QUERY_LEASE_TYPES = {"IA_NA": 0, "0": 0, "IA_TA": 1, "1": 1, "IA_PD": 2, "2": 2, "V4": 3, "3": 3}


def parse_query(args: Any, v6: bool) -> LeaseQuery:
    """Kea's getParameters() for leaseX-get / leaseX-del."""
    if not isinstance(args, dict):
        raise CommandError("Parameters missing or are not a map.")
    lease_type = 0
    if "type" in args:
        type_text = args["type"]
        if not isinstance(type_text, str):
            raise CommandError(NOT_A_STRING, at=(args, "type"))
        if type_text not in _QUERY_LEASE_TYPES:
            raise CommandError(
                f"Invalid lease type specified: {type_text}, only supported values are: IA_NA, IA_TA, IA_PD and V4"
            )
        lease_type = _QUERY_LEASE_TYPES[type_text]
    if "ip-address" in args:
        text = args["ip-address"]
        if not isinstance(text, str):
            raise CommandError("'ip-address' is not a string.")
        address = parse_address(text)
        if address.version != (6 if v6 else 4):
            raise CommandError(f"Invalid IPv{6 if v6 else 4} address specified: {text}")
        return LeaseQuery("address", address=address, lease_type=lease_type)
    if "subnet-id" not in args:
        raise CommandError("Mandatory 'subnet-id' parameter missing.")
    subnet_id = args["subnet-id"]
    if isinstance(subnet_id, bool) or not isinstance(subnet_id, int):
        raise CommandError("'subnet-id' parameter is not integer.")
    iaid = args.get("iaid", 0)
    if isinstance(iaid, bool) or not isinstance(iaid, int):
        raise CommandError(NOT_AN_INTEGER, at=(args, "iaid"))
    id_type = args.get("identifier-type")
    identifier = args.get("identifier")
    if not isinstance(id_type, str):
        raise CommandError("No 'ip-address' provided and 'identifier-type' is either missing or not a string.")
    if not isinstance(identifier, str):
        raise CommandError("No 'ip-address' provided and 'identifier' is either missing or not a string.")
    if id_type not in ("address", "hw-address", "duid", "client-id"):
        raise CommandError(
            f"Incorrect identifier type: {id_type}, the only supported values are: address, hw-address, duid"
        )
    if id_type == "address":
        # Kea: an address query whose address was never set, i.e. 0.0.0.0 / :: (found nowhere)
        return LeaseQuery("address", address=ipaddress.ip_address("::" if v6 else "0.0.0.0"), lease_type=lease_type)
    if id_type == "hw-address":
        data = parse_hwaddr(identifier)
    elif id_type == "client-id":
        data = parse_client_id(identifier)
    else:
        data = parse_duid(identifier)
    return LeaseQuery(id_type, lease_type=lease_type, subnet_id=subnet_id, iaid=iaid & UINT32_MAX, identifier=data)
