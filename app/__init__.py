"""leasesync: an HA-aware DHCP lease control agent that speaks ISC Kea's control channel."""

__version__ = "0.1.0"
KEA_COMPAT_VERSION = "2.2.0"
