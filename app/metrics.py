"""Prometheus metrics, one registry per running service (tests can run several in a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = Counter("leasesync_commands_total", "Commands answered, by command and Kea result code",
                                ["command", "result"], registry=r)
        self.command_latency = Histogram(
            "leasesync_command_duration_seconds", "Time from parsed request to answer, by command", ["command"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10), registry=r)
        self._command_counters: dict[tuple[str, int], Counter] = {}
        self._command_latency: dict[str, Histogram] = {}
        self.auth_failures = Counter("leasesync_auth_failures_total", "Requests refused for bad credentials", registry=r)
        self.leases = Gauge("leasesync_leases", "Leases in the store, by family, subnet and state",
                            ["family", "subnet_id", "state"], registry=r)
        self.ha_state = Gauge("leasesync_ha_state", "1 for the HA state this server is in, by family and state",
                              ["family", "server", "state"], registry=r)
        self.partner_reachable = Gauge("leasesync_ha_partner_reachable", "1 when the last heartbeat succeeded",
                                       ["family", "peer"], registry=r)
        self.heartbeat_rtt = Histogram("leasesync_ha_heartbeat_rtt_seconds", "Heartbeat round-trip time",
                                       ["family", "peer"], registry=r)
        self.updates_sent = Counter("leasesync_ha_lease_updates_sent_total", "Lease updates acknowledged by a peer",
                                    ["family", "peer"], registry=r)
        self.updates_failed = Counter("leasesync_ha_lease_updates_failed_total", "Lease updates that failed",
                                      ["family", "peer", "reason"], registry=r)
        self.updates_received = Counter("leasesync_ha_lease_updates_received_total",
                                        "Lease changes received from HA peers", ["family", "peer"], registry=r)
        self.backlog_depth = Gauge("leasesync_ha_backlog_depth", "Lease updates waiting for a peer",
                                   ["family", "peer"], registry=r)
        self.backlog_age = Gauge("leasesync_ha_backlog_oldest_age_seconds", "Age of the oldest waiting update",
                                 ["family", "peer"], registry=r)
        self.sync_leases = Counter("leasesync_ha_sync_leases_total", "Leases fetched from the partner in syncs",
                                   ["family"], registry=r)
        self.sync_duration = Histogram("leasesync_ha_sync_duration_seconds", "Duration of lease syncs", ["family"],
                                       buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300), registry=r)

        self.replication_diverged = Gauge(
            "leasesync_replication_diverged_leases",
            "Local lease changes the partner still lacks after the grace period (send-lease-updates false)",
            ["family"], registry=r)
        self.replication_lag = Gauge("leasesync_replication_lag_seconds",
                                     "Largest observed delay until a local change was seen at the partner",
                                     ["family"], registry=r)

    def observe_command(self, command: str, result: int, seconds: float) -> None:
        # labels() builds and looks up a key under a lock on every call: keep the children
        counter = self._command_counters.get((command, result))
        if counter is None:
            counter = self._command_counters[(command, result)] = self.commands.labels(command, str(result))
        latency = self._command_latency.get(command)
        if latency is None:
            latency = self._command_latency[command] = self.command_latency.labels(command)
        counter.inc()
        latency.observe(seconds)
