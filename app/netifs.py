"""The host's network interfaces and their addresses, as Kea's interface manager detects them.

Kea's `config-test` selects the interfaces of `interfaces-config` against the host it runs on
(`interface 'eth9' doesn't exist in the system`); leasesync runs beside the DHCP server, so it
asks the same host, with the C library's getifaddrs() as Kea does. Where that is not available
(not Linux/glibc-like), `host_interfaces` returns None and the host-dependent checks are skipped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import socket
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class _SockAddr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("data", ctypes.c_ubyte * 14)]


class _SockAddrIn6(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("port", ctypes.c_ushort), ("flowinfo", ctypes.c_uint32),
                ("addr", ctypes.c_ubyte * 16), ("scope_id", ctypes.c_uint32)]


class _IfAddrs(ctypes.Structure):
    pass


_IfAddrs._fields_ = [("next", ctypes.POINTER(_IfAddrs)), ("name", ctypes.c_char_p), ("flags", ctypes.c_uint),
                     ("addr", ctypes.POINTER(_SockAddr)), ("netmask", ctypes.POINTER(_SockAddr)),
                     ("ifu", ctypes.POINTER(_SockAddr)), ("data", ctypes.c_void_p)]


def c_library() -> Any:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def host_interfaces() -> dict[str, set[IPAddress]] | None:
    """Every interface of the host by name, with its IPv4 and IPv6 addresses (a link-local IPv6
    address without its zone); None when the host cannot be asked."""
    try:
        libc = c_library()
        if libc is None or not hasattr(libc, "getifaddrs"):
            return None
        head = ctypes.POINTER(_IfAddrs)()
        if libc.getifaddrs(ctypes.byref(head)) != 0:
            return None
    except (OSError, AttributeError):
        return None
    found: dict[str, set[IPAddress]] = {}
    try:
        entry = head
        while entry:
            item = entry.contents
            name = (item.name or b"").decode("utf-8", "replace")
            addresses = found.setdefault(name, set())
            if item.addr:
                family = item.addr.contents.family
                if family == socket.AF_INET:
                    addresses.add(ipaddress.IPv4Address(bytes(item.addr.contents.data[2:6])))
                elif family == socket.AF_INET6:
                    raw = ctypes.cast(item.addr, ctypes.POINTER(_SockAddrIn6)).contents
                    addresses.add(ipaddress.IPv6Address(bytes(raw.addr)))
            entry = item.next
    finally:
        libc.freeifaddrs(head)
    try:  # an interface with no address at all still exists (getifaddrs lists it via AF_PACKET on Linux)
        for _, name in socket.if_nameindex():
            found.setdefault(name, set())
    except OSError:
        pass
    return found
