"""Kea 2.2's running configuration of a family, as its ``config-get`` shows it.

A Kea daemon answers ``config-get`` with the configuration it runs: the keys it was given, with
its normalisations (a ``comment`` moves into ``user-context``, a pool that is a whole prefix is
printed as one, an option is shown with its code, name, space, ``csv-format`` and
``always-send``), plus every key it fills with a default, at the global level and inside each
subnet, shared network, pool, pd-pool, reservation, client class, logger and the HA hook's
parameters. ``running_config`` builds that view from the configuration leasesync was given; the
values were established by asking Kea 2.2 itself (tests/kea_cases.py, "config-get/*" cases).

What Kea would not know stays leasesync's own: the ``lease-database`` map is shown as given (and
``config-get`` redacts its password), and keys Kea does not model here are shown as given.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from app.config import FamilyConfig

_STD_OPTIONS4: dict[int, str] = {
    1: "subnet-mask", 2: "time-offset", 3: "routers", 4: "time-servers", 5: "name-servers", 6: "domain-name-servers",
    7: "log-servers", 8: "cookie-servers", 9: "lpr-servers", 10: "impress-servers", 11: "resource-location-servers",
    12: "host-name", 13: "boot-size", 14: "merit-dump", 15: "domain-name", 16: "swap-server", 17: "root-path",
    18: "extensions-path", 19: "ip-forwarding", 20: "non-local-source-routing", 21: "policy-filter",
    22: "max-dgram-reassembly", 23: "default-ip-ttl", 24: "path-mtu-aging-timeout", 25: "path-mtu-plateau-table",
    26: "interface-mtu", 27: "all-subnets-local", 28: "broadcast-address", 29: "perform-mask-discovery",
    30: "mask-supplier", 31: "router-discovery", 32: "router-solicitation-address", 33: "static-routes",
    34: "trailer-encapsulation", 35: "arp-cache-timeout", 36: "ieee802-3-encapsulation", 37: "default-tcp-ttl",
    38: "tcp-keepalive-interval", 39: "tcp-keepalive-garbage", 40: "nis-domain", 41: "nis-servers", 42: "ntp-servers",
    43: "vendor-encapsulated-options", 44: "netbios-name-servers", 45: "netbios-dd-server", 46: "netbios-node-type",
    47: "netbios-scope", 48: "font-servers", 49: "x-display-manager", 50: "dhcp-requested-address",
    51: "dhcp-lease-time", 52: "dhcp-option-overload", 53: "dhcp-message-type", 54: "dhcp-server-identifier",
    55: "dhcp-parameter-request-list", 56: "dhcp-message", 57: "dhcp-max-message-size", 58: "dhcp-renewal-time",
    59: "dhcp-rebinding-time", 60: "vendor-class-identifier", 61: "dhcp-client-identifier", 62: "nwip-domain-name",
    63: "nwip-suboptions", 64: "nisplus-domain-name", 65: "nisplus-servers", 66: "tftp-server-name",
    67: "boot-file-name", 68: "mobile-ip-home-agent", 69: "smtp-server", 70: "pop-server", 71: "nntp-server",
    72: "www-server", 73: "finger-server", 74: "irc-server", 75: "streettalk-server",
    76: "streettalk-directory-assistance-server", 77: "user-class", 78: "slp-directory-agent",
    79: "slp-service-scope", 81: "fqdn", 82: "dhcp-agent-options", 85: "nds-server", 86: "nds-tree-name",
    87: "nds-context", 88: "bcms-controller-names", 89: "bcms-controller-address", 90: "authenticate",
    91: "client-last-transaction-time", 92: "associated-ip", 93: "client-system", 94: "client-ndi", 97: "uuid-guid",
    98: "uap-servers", 99: "geoconf-civic", 100: "pcode", 101: "tcode", 108: "v6-only-preferred",
    112: "netinfo-server-address", 113: "netinfo-server-tag", 114: "v4-captive-portal", 116: "auto-config",
    117: "name-service-search", 118: "subnet-selection", 119: "domain-search", 124: "vivco-suboptions",
    125: "vivso-suboptions", 136: "pana-agent", 137: "v4-lost", 138: "capwap-ac-v4", 141: "sip-ua-cs-domains",
    146: "rdnss-selection", 159: "v4-portparams", 212: "option-6rd", 213: "v4-access-domain",
}
_STD_OPTIONS6: dict[int, str] = {
    1: "client-id", 2: "server-id", 3: "ia-na", 4: "ia-ta", 5: "iaaddr", 6: "oro", 7: "preference", 8: "elapsed-time",
    9: "relay-msg", 11: "auth", 12: "unicast", 13: "status-code", 14: "rapid-commit", 15: "user-class",
    16: "vendor-class", 17: "vendor-opts", 18: "interface-id", 21: "sip-server-dns", 22: "sip-server-addr",
    23: "dns-servers", 24: "domain-search", 25: "ia-pd", 26: "iaprefix", 27: "nis-servers", 28: "nisp-servers",
    29: "nis-domain-name", 30: "nisp-domain-name", 31: "sntp-servers", 32: "information-refresh-time",
    33: "bcmcs-server-dns", 34: "bcmcs-server-addr", 36: "geoconf-civic", 37: "remote-id", 38: "subscriber-id",
    39: "client-fqdn", 40: "pana-agent", 41: "new-posix-timezone", 42: "new-tzdb-timezone", 43: "ero", 51: "v6-lost",
    52: "capwap-ac-v6", 53: "relay-id", 57: "v6-access-domain", 58: "sip-ua-cs-list", 59: "bootfile-url",
    60: "bootfile-param", 61: "client-arch-type", 62: "nii", 64: "aftr-name", 65: "erp-local-domain-name", 66: "rsoo",
    67: "pd-exclude", 74: "rdnss-selection", 79: "client-linklayer-addr", 80: "link-address", 82: "solmax-rt",
    83: "inf-max-rt", 88: "dhcp4o6-server-addr", 89: "s46-rule", 90: "s46-br", 91: "s46-dmr", 92: "s46-v4v6bind",
    93: "s46-portparams", 94: "s46-cont-mape", 95: "s46-cont-mapt", 96: "s46-cont-lw", 103: "v6-captive-portal",
    143: "ipv6-address-andsf",
}
_STD_OPTIONS = {4: _STD_OPTIONS4, 6: _STD_OPTIONS6}
# the vendor options Kea defines itself: DOCSIS 3 (CableLabs, enterprise 4491), asked of Kea 2.2
_VENDOR_OPTIONS: dict[int, dict[str, dict[int, str]]] = {
    4: {"vendor-4491": {1: "oro", 2: "tftp-servers"}},
    6: {"vendor-4491": {1: "oro", 2: "device-type", 10: "vendor-type", 32: "tftp-servers", 33: "config-file",
                        34: "syslog-servers", 36: "device-id", 37: "time-servers", 38: "time-offset",
                        1026: "cmts-cm-mac"},
        # the softwire (RFC 7598) containers' sub-option spaces
        "s46-cont-mape-options": {89: "s46-rule", 90: "s46-br"},
        "s46-cont-mapt-options": {89: "s46-rule", 91: "s46-dmr"},
        "s46-cont-lw-options": {90: "s46-br", 92: "s46-v4v6bind"},
        "s46-rule-options": {93: "s46-portparams"},
        "s46-v4v6bind-options": {93: "s46-portparams"}},
}

# --- the defaults Kea 2.2 fills in ----------------------------------------------------------

_GLOBAL_COMMON: dict[str, Any] = {
    "ddns-generated-prefix": "myhost", "ddns-override-client-update": False, "ddns-override-no-update": False,
    "ddns-qualifying-suffix": "", "ddns-replace-client-name": "never", "ddns-send-updates": True,
    "ddns-update-on-renew": False, "ddns-use-conflict-resolution": True, "decline-probation-period": 86400,
    "dhcp4o6-port": 0, "early-global-reservations-lookup": False, "hooks-libraries": [],
    "hostname-char-replacement": "", "hostname-char-set": "[^A-Za-z0-9.-]", "ip-reservations-unique": True,
    "option-data": [], "option-def": [], "parked-packet-limit": 256, "reservations-global": False,
    "reservations-in-subnet": True, "reservations-lookup-first": False, "reservations-out-of-pool": False,
    "server-tag": "", "shared-networks": [], "statistic-default-sample-age": 0,
    "statistic-default-sample-count": 20, "store-extended-info": False, "t1-percent": 0.5, "valid-lifetime": 7200,
}
_GLOBAL: dict[int, dict[str, Any]] = {
    4: {**_GLOBAL_COMMON, "authoritative": False, "boot-file-name": "", "calculate-tee-times": False,
        "echo-client-id": True, "host-reservation-identifiers": ["hw-address", "duid", "circuit-id", "client-id"],
        "match-client-id": True, "next-server": "0.0.0.0", "server-hostname": "", "subnet4": [], "t2-percent": 0.875},
    6: {**_GLOBAL_COMMON, "calculate-tee-times": True, "host-reservation-identifiers": ["hw-address", "duid"],
        "mac-sources": ["any"], "preferred-lifetime": 3600, "relay-supplied-options": ["65"], "subnet6": [],
        "t2-percent": 0.8},
}
# maps Kea always shows, the given keys merged over these
_GLOBAL_MAPS: dict[int, dict[str, dict[str, Any]]] = {
    family: {
        "dhcp-ddns": {"enable-updates": False, "max-queue-size": 1024, "ncr-format": "JSON", "ncr-protocol": "UDP",
                      "sender-ip": "0.0.0.0", "sender-port": 0, "server-ip": "127.0.0.1", "server-port": 53001},
        "dhcp-queue-control": {"capacity": 64, "enable-queue": False, "queue-type": f"kea-ring{family}"},
        "expired-leases-processing": {"flush-reclaimed-timer-wait-time": 25, "hold-reclaimed-time": 3600,
                                      "max-reclaim-leases": 100, "max-reclaim-time": 250,
                                      "reclaim-timer-wait-time": 10, "unwarned-reclaim-cycles": 5},
        "multi-threading": {"enable-multi-threading": False, "packet-queue-size": 64, "thread-pool-size": 0},
        "sanity-checks": {"lease-checks": "warn"},
        **({"server-id": {"enterprise-id": 0, "htype": 0, "identifier": "", "persist": True, "time": 0,
                          "type": "LLT"}} if family == 6 else {}),
    }
    for family in (4, 6)
}
# what subnets and shared networks take from the level above when they do not set it themselves
_INHERITED: dict[int, tuple[str, ...]] = {
    4: ("valid-lifetime", "min-valid-lifetime", "max-valid-lifetime", "renew-timer", "rebind-timer",
        "calculate-tee-times", "t1-percent", "t2-percent", "store-extended-info"),
}
_INHERITED[6] = _INHERITED[4] + ("preferred-lifetime", "min-preferred-lifetime", "max-preferred-lifetime")
_TRIPLETS: dict[int, tuple[str, ...]] = {4: ("valid",), 6: ("valid", "preferred")}
_RELAY_DEFAULT: dict[str, Any] = {"ip-addresses": []}
_RESERVATION_DEFAULTS: dict[int, dict[str, Any]] = {
    4: {"boot-file-name": "", "client-classes": [], "hostname": "", "next-server": "0.0.0.0", "option-data": [],
        "server-hostname": ""},
    6: {"client-classes": [], "hostname": "", "ip-addresses": [], "option-data": [], "prefixes": []},
}
_CLASS_DEFAULTS: dict[int, dict[str, Any]] = {
    4: {"boot-file-name": "", "next-server": "0.0.0.0", "option-data": [], "option-def": [], "server-hostname": ""},
    6: {"option-data": []},
}
_HA_DEFAULTS: dict[str, Any] = {
    "heartbeat-delay": 10000, "max-ack-delay": 10000, "max-response-delay": 60000, "max-unacked-clients": 10,
    "require-client-certs": True, "restrict-commands": False, "send-lease-updates": True, "sync-leases": True,
    "sync-page-limit": 10000, "sync-timeout": 60000, "wait-backup-ack": False,
}
_HA_MT_DEFAULTS: dict[str, Any] = {"enable-multi-threading": False, "http-client-threads": 0,
                                   "http-dedicated-listener": False, "http-listener-threads": 0}
_LOG_FILE_DEFAULTS: dict[str, Any] = {"maxsize": 10240000, "maxver": 1}


# --- helpers --------------------------------------------------------------------------------

def _with_comment(obj: dict[str, Any]) -> dict[str, Any]:
    """Kea keeps a ``comment`` inside ``user-context``."""
    if "comment" not in obj:
        return obj
    out = dict(obj)
    comment = out.pop("comment")
    context = out.get("user-context")
    out["user-context"] = {**(context if isinstance(context, dict) else {}), "comment": comment}
    return out


def _merged(defaults: dict[str, Any], given: Any) -> Any:
    if not isinstance(given, dict):
        return given
    return _with_comment({**copy.deepcopy(defaults), **given})


# what Kea keeps only when it names something: given empty in a subnet, shared network or pool,
# it is not shown
_OMITTED_WHEN_EMPTY = ("client-class", "server-hostname", "boot-file-name", "require-client-classes", "interface",
                       "interface-id")


def _without_empty(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not (key in _OMITTED_WHEN_EMPTY and value in ("", []))}


def _by_space(items: list[Any]) -> list[Any]:
    """Options or option definitions in the order Kea shows them: space by space in name order,
    vendor spaces (`vendor-NNNN`) last, as given within one space."""
    if not all(isinstance(item, dict) and isinstance(item.get("space"), str) for item in items):
        return items

    def order(item: dict[str, Any]) -> tuple[bool, str]:
        space: str = item["space"]
        return space.startswith("vendor-") and space[len("vendor-"):].isdigit(), space

    return sorted(items, key=order)


def _option_defs(definitions: list[Any], family: int) -> list[Any]:
    """Option definitions as Kea shows them: its defaults filled in, space by space in name order."""
    return _by_space([_with_comment({"array": False, "encapsulate": "", "record-types": "", "space": f"dhcp{family}",
                                     **d}) if isinstance(d, dict) else d for d in definitions])


def _hex(text: str) -> str:
    digits = text.strip()
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    digits = "".join(ch for ch in digits if ch not in " :-")
    if len(digits) % 2:
        digits = "0" + digits
    return digits


class _Options:
    """Resolves option names and codes like Kea: its standard options and the configured option-def."""

    def __init__(self, family: int, option_defs: Any) -> None:
        self.family = family
        self.space = f"dhcp{family}"
        self.by_code: dict[tuple[str, int], str] = {(self.space, c): n for c, n in _STD_OPTIONS[family].items()}
        for vendor_space, names in _VENDOR_OPTIONS[family].items():
            self.by_code.update({(vendor_space, code): name for code, name in names.items()})
        for definition in option_defs if isinstance(option_defs, list) else []:
            if isinstance(definition, dict) and isinstance(definition.get("name"), str) \
                    and isinstance(definition.get("code"), int):
                self.by_code[(definition.get("space", self.space), definition["code"])] = definition["name"]
        self.by_name = {(space, name): code for (space, code), name in self.by_code.items()}

    def normalise(self, items: Any) -> Any:
        if not isinstance(items, list):
            return items
        return _by_space([self._one(item) for item in items])

    def _one(self, item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        # an option without data is an empty binary one
        csv_format = "data" in item
        out = _with_comment({"always-send": False, "csv-format": csv_format, "space": self.space, **item})
        space = out["space"]
        if "code" not in out and (space, out.get("name")) in self.by_name:
            out["code"] = self.by_name[(space, out["name"])]
        if "name" not in out and isinstance(out.get("code"), int) and (space, out["code"]) in self.by_code:
            out["name"] = self.by_code[(space, out["code"])]
        data = out.get("data", "")
        if out["csv-format"] is False and isinstance(data, str):
            data = _hex(data).upper()
        out["data"] = data
        return out


def _address_range(text: str, family: int) -> str:
    """A pool as Kea prints it: "first-last", or "prefix/len" when the range is exactly one prefix."""
    try:
        if "-" in text:
            first, last = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
        else:
            network = ipaddress.ip_network(text.strip(), strict=False)
            first, last = network.network_address, network.broadcast_address
        if first.version != family or last.version != family:
            return text
        networks: list[Any] = list(ipaddress.summarize_address_range(first, last))  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return text
    if len(networks) == 1:
        return f"{networks[0].network_address}/{networks[0].prefixlen}"
    return f"{first}-{last}"


def _address(text: Any) -> Any:
    try:
        return str(ipaddress.ip_address(text.strip())) if isinstance(text, str) else text
    except ValueError:
        return text


# --- the levels -----------------------------------------------------------------------------

class _Builder:
    def __init__(self, config: FamilyConfig) -> None:
        self.family = config.family
        self.raw = config.raw
        self.options = _Options(self.family, config.raw.get("option-def"))
        self.ids = iter([subnet.id for subnet in config.subnets.values()])
        self.subnet_key = f"subnet{self.family}"

    def _inherit(self, parent: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
        values = dict(parent)
        values.update({key: obj[key] for key in _INHERITED[self.family] if key in obj})
        return values

    def _inherited_keys(self, values: dict[str, Any]) -> dict[str, Any]:
        out = dict(values)
        for name in _TRIPLETS[self.family]:
            value = values.get(f"{name}-lifetime")
            for bound in ("min", "max"):
                out.setdefault(f"{bound}-{name}-lifetime", value)
        return out

    def pool(self, pool: Any) -> Any:
        if not isinstance(pool, dict):
            return pool
        out = _with_comment({"option-data": [], **_without_empty(pool)})
        out["option-data"] = self.options.normalise(out["option-data"])
        if isinstance(out.get("pool"), str):
            out["pool"] = _address_range(out["pool"], self.family)
        return out

    def pd_pool(self, pool: Any) -> Any:
        if not isinstance(pool, dict):
            return pool
        out = _with_comment({"option-data": [], **_without_empty(pool)})
        out["option-data"] = self.options.normalise(out["option-data"])
        for key in ("prefix", "excluded-prefix"):
            if key in out:
                out[key] = _address(out[key])
        return out

    def reservation(self, host: Any) -> Any:
        if not isinstance(host, dict):
            return host
        out = _with_comment({**copy.deepcopy(_RESERVATION_DEFAULTS[self.family]), **host})
        out["option-data"] = self.options.normalise(out["option-data"])
        for key in ("hw-address", "duid"):
            if isinstance(out.get(key), str):
                digits = _hex(out[key]).lower()
                out[key] = ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))
        # Kea prints these three as upper-case hex without separators (a quoted string as its bytes)
        for key in ("client-id", "circuit-id", "flex-id"):
            value = out.get(key)
            if isinstance(value, str):
                text = value.strip()
                quoted = len(text) >= 2 and text[0] == text[-1] == "'"
                out[key] = text[1:-1].encode().hex().upper() if quoted else _hex(text).upper()
        return out

    def _relay_supplied(self, given: list[Any]) -> list[Any]:
        """Kea always adds option 65 (erp-local-domain-name) and shows the codes, in order."""
        codes: set[int] = {65}
        for item in given:
            if isinstance(item, str) and item.strip().isdigit():
                codes.add(int(item))
            elif isinstance(item, str) and (self.options.space, item.strip()) in self.options.by_name:
                codes.add(self.options.by_name[(self.options.space, item.strip())])
            else:
                return given  # not one Kea would take; shown as given
        return [str(code) for code in sorted(codes)]

    def reservations(self, hosts: Any) -> Any:
        """Kea keeps hosts ordered by their identifier's bytes (then its type) and shows them so."""
        if not isinstance(hosts, list):
            return hosts
        built = [self.reservation(h) for h in hosts]
        found = [_host_order(h) for h in hosts]
        keys = [key for key in found if key is not None]
        if len(keys) != len(built):
            return built
        return [host for _, host in sorted(zip(keys, built, strict=True), key=lambda pair: pair[0])]

    def subnet(self, subnet: Any, parent: dict[str, Any], shared: bool) -> Any:
        if not isinstance(subnet, dict):
            return subnet
        # a subnet of a shared network without a relay of its own shows the network's
        relay = parent.get("relay", _RELAY_DEFAULT) if shared else _RELAY_DEFAULT
        defaults: dict[str, Any] = {"option-data": [], "pools": [], "relay": copy.deepcopy(relay), "reservations": []}
        if self.family == 4:
            defaults.update({"4o6-interface": "", "4o6-interface-id": "", "4o6-subnet": ""})
        else:
            defaults["pd-pools"] = []
            if not shared:
                defaults["rapid-commit"] = False
        out = _with_comment({**defaults, **self._inherited_keys(self._inherit(parent, subnet)),
                             **_without_empty(subnet)})
        out["id"] = next(self.ids, out.get("id"))
        out["option-data"] = self.options.normalise(out["option-data"])
        out["relay"] = _relay(out["relay"])
        if isinstance(out["pools"], list):
            out["pools"] = [self.pool(p) for p in out["pools"]]
        if isinstance(out.get("pd-pools"), list):
            out["pd-pools"] = [self.pd_pool(p) for p in out["pd-pools"]]
        out["reservations"] = self.reservations(out["reservations"])
        return out

    def subnets(self, items: Any, parent: dict[str, Any], shared: bool) -> Any:
        if not isinstance(items, list):
            return items
        built = [self.subnet(s, parent, shared) for s in items]
        # Kea keeps subnets ordered by id and shows them so
        if all(isinstance(s, dict) and isinstance(s.get("id"), int) for s in built):
            built.sort(key=lambda s: s["id"])
        return built

    def shared_network(self, network: Any, parent: dict[str, Any]) -> Any:
        if not isinstance(network, dict):
            return network
        values = self._inherit(parent, network)
        defaults: dict[str, Any] = {"option-data": [], "relay": dict(_RELAY_DEFAULT), self.subnet_key: []}
        if self.family == 6:
            defaults["rapid-commit"] = False
        out = _with_comment({**defaults, **self._inherited_keys(values), **_without_empty(network)})
        out["option-data"] = self.options.normalise(out["option-data"])
        out["relay"] = _relay(out["relay"])
        out[self.subnet_key] = self.subnets(out[self.subnet_key], {**values, "relay": out["relay"]}, True)
        return out

    def client_class(self, cls: Any) -> Any:
        if not isinstance(cls, dict):
            return cls
        out = _with_comment({**copy.deepcopy(_CLASS_DEFAULTS[self.family]), **cls})
        out["option-data"] = self.options.normalise(out["option-data"])
        if isinstance(out.get("option-def"), list):
            out["option-def"] = _option_defs(out["option-def"], self.family)
        return out

    def build(self, lease_database: dict[str, Any]) -> dict[str, Any]:
        raw = self.raw
        out: dict[str, Any] = copy.deepcopy(_GLOBAL[self.family])
        out.update(copy.deepcopy(raw))
        out = _with_comment(out)
        for key, defaults in _GLOBAL_MAPS[self.family].items():
            out[key] = _merged(defaults, raw.get(key, {}))
        given_interfaces = raw.get("interfaces-config")
        out["interfaces-config"] = _merged({"interfaces": [], "re-detect": given_interfaces is not None},
                                           given_interfaces if given_interfaces is not None else {})
        if isinstance(out.get("control-socket"), dict):
            out["control-socket"] = _with_comment(out["control-socket"])
        out.setdefault("lease-database", lease_database)
        out["option-data"] = self.options.normalise(out["option-data"])
        if isinstance(out.get("loggers"), list):
            out["loggers"] = [_logger(x) for x in out["loggers"]]
        if isinstance(out.get("hooks-libraries"), list):
            out["hooks-libraries"] = [_hook(x) for x in out["hooks-libraries"]]
        if isinstance(out.get("client-classes"), list):
            out["client-classes"] = [self.client_class(c) for c in out["client-classes"]]
        if "reservations" in out:
            out["reservations"] = self.reservations(out["reservations"])
            if out["reservations"] == []:
                del out["reservations"]  # Kea shows global reservations only when there are some
        out.pop("compatibility", None)  # Kea 2.2 takes it and does not show it
        if isinstance(out.get("option-def"), list):
            out["option-def"] = _option_defs(out["option-def"], self.family)
        if self.family == 6 and isinstance(out.get("relay-supplied-options"), list):
            out["relay-supplied-options"] = self._relay_supplied(out["relay-supplied-options"])
        top = self._inherit({}, out)
        # the order FamilyConfig.subnets holds them in (Kea's: shared networks first), for self.ids
        if isinstance(out["shared-networks"], list):
            out["shared-networks"] = [self.shared_network(n, top) for n in out["shared-networks"]]
        out[self.subnet_key] = self.subnets(out[self.subnet_key], top, False)
        return out


_IDENTIFIER_TYPES = ("hw-address", "duid", "circuit-id", "client-id", "flex-id")  # Kea's IdentifierType order


def _host_order(host: Any) -> tuple[bytes, int] | None:
    """A reservation's place in Kea's host container: its identifier's bytes, then its type."""
    if not isinstance(host, dict):
        return None
    for kind, name in enumerate(_IDENTIFIER_TYPES):
        value = host.get(name)
        if isinstance(value, str):
            text = value.strip()
            if len(text) >= 2 and text[0] == text[-1] == "'":  # a quoted string: its characters
                return text[1:-1].encode(), kind
            try:
                return bytes.fromhex(_hex(text)), kind
            except ValueError:
                return None
    return None


def _relay(relay: Any) -> Any:
    """Kea 2.2 shows the single ``ip-address`` form of a relay as the ``ip-addresses`` list."""
    if isinstance(relay, dict) and "ip-address" in relay and "ip-addresses" not in relay:
        out = {k: v for k, v in relay.items() if k != "ip-address"}
        out["ip-addresses"] = [relay["ip-address"]]
        return _with_comment(out)
    return _with_comment(relay) if isinstance(relay, dict) else relay


def _logger(logger: Any) -> Any:
    if not isinstance(logger, dict):
        return logger
    out = _with_comment({"debuglevel": 0, **logger})
    if isinstance(out.get("output_options"), list):
        outputs = []
        for option in out["output_options"]:
            if isinstance(option, dict):
                option = {"flush": True, "pattern": "", **option}
                target = option.get("output")
                if target in ("stdout", "stderr") or (isinstance(target, str) and target.startswith("syslog")):
                    option = {k: v for k, v in option.items() if k not in _LOG_FILE_DEFAULTS}
                else:
                    option = {**_LOG_FILE_DEFAULTS, **option}
            outputs.append(option)
        out["output_options"] = outputs
    return out


def _hook(hook: Any) -> Any:
    """The HA hook fills its parameters' defaults in place, so Kea shows them; others are as given."""
    if not isinstance(hook, dict) or not str(hook.get("library", "")).rsplit("/", 1)[-1].startswith("libdhcp_ha"):
        return hook
    parameters = hook.get("parameters")
    if not isinstance(parameters, dict) or not isinstance(parameters.get("high-availability"), list):
        return hook
    shown = []
    for relationship in parameters["high-availability"]:
        if isinstance(relationship, dict):
            defaults = {**_HA_DEFAULTS,
                        "delayed-updates-limit": 100 if relationship.get("mode") == "load-balancing" else 0}
            relationship = {**defaults, **relationship}
            relationship["multi-threading"] = _merged(_HA_MT_DEFAULTS, relationship.get("multi-threading", {}))
            if isinstance(relationship.get("peers"), list):
                relationship["peers"] = [{"auto-failover": True, **p} if isinstance(p, dict) else p
                                         for p in relationship["peers"]]
        shown.append(relationship)
    return {**hook, "parameters": {**parameters, "high-availability": shown}}


def running_config(config: FamilyConfig) -> dict[str, Any]:
    """The family's configuration as Kea 2.2's ``config-get`` shows it (secrets not yet redacted)."""
    database = config.lease_database
    lease_database: dict[str, Any] = {"type": database.type, "name": database.name}
    return _Builder(config).build(lease_database)


def control_agent_config(section: dict[str, Any]) -> dict[str, Any]:
    """A kea-ctrl-agent file's ``Control-agent`` section as kea-ctrl-agent 2.2's ``config-get``
    shows it: an empty ``hooks-libraries`` when none is given, loggers with their defaults."""
    out = _with_comment({"hooks-libraries": [], **copy.deepcopy(section)})
    if isinstance(out.get("loggers"), list):
        out["loggers"] = [_logger(x) for x in out["loggers"]]
    if isinstance(out.get("hooks-libraries"), list):
        out["hooks-libraries"] = [_hook(x) for x in out["hooks-libraries"]]
    return out
