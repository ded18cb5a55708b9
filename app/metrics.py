"""Prometheus metrics, one registry per running service (tests can run several in a process)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

COMMAND_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)


class CommandMetrics(Collector):
    """leasesync_commands_total and leasesync_command_duration_seconds, counted in plain dicts.

    Every answered command is counted; prometheus_client's Counter.inc and Histogram.observe
    take a lock and walk the buckets in Python on each call, which was 4 % of a lease update's
    CPU. Here a command costs two dict updates and a bisect; the families are built when scraped.
    Only the serving loop writes them and scrapes run on that loop."""

    def __init__(self, buckets: tuple[float, ...] = COMMAND_BUCKETS) -> None:
        self.buckets = buckets
        self.counts: dict[tuple[str, int], int] = {}
        # per command: one count per bucket, the count above the last bound, then the sum
        self.latency: dict[str, list[float]] = {}

    def observe(self, command: str, result: int, seconds: float) -> None:
        key = (command, result)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        histogram = self.latency.get(command)
        if histogram is None:
            histogram = self.latency[command] = [0.0] * (len(self.buckets) + 2)
        histogram[bisect_left(self.buckets, seconds)] += 1
        histogram[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        commands = CounterMetricFamily("leasesync_commands", "Commands answered, by command and Kea result code",
                                       labels=["command", "result"])
        for (command, result), count in sorted(self.counts.items()):
            commands.add_metric([command, str(result)], count)
        yield commands
        latency = HistogramMetricFamily("leasesync_command_duration_seconds",
                                        "Time from parsed request to answer, by command", labels=["command"])
        bounds = [*(str(float(b)) for b in self.buckets), "+Inf"]
        for command, histogram in sorted(self.latency.items()):
            cumulative: list[tuple[str, float]] = []
            running = 0.0
            for bound, in_bucket in zip(bounds, histogram, strict=False):  # the sum, last, has no bound
                running += in_bucket
                cumulative.append((bound, running))
            latency.add_metric([command], cumulative, histogram[-1])
        yield latency


class StoreCounters(Collector):
    """The lease stores' own counters (LeaseStore.commits, failed_commits, lock_conflicts, its
    stall guard's shut_connections), by database: the store keeps plain integers on its hot path;
    a scrape reads them through `stores` (set by the runtime) and reports them as counters."""

    def __init__(self) -> None:
        self.stores: Callable[[], Iterable[Any]] = lambda: ()

    def collect(self) -> Iterator[Metric]:
        commits = CounterMetricFamily("leasesync_store_commits", "Transactions the lease database committed",
                                      labels=["database"])
        failed = CounterMetricFamily("leasesync_store_failed_commits",
                                     "Lease database writes or commits that failed (retried or answered as failed)",
                                     labels=["database"])
        conflicts = CounterMetricFamily("leasesync_store_lock_conflicts",
                                        "PostgreSQL batches that waited too long for a lock beside another "
                                        "writer's transaction and were redone alone", labels=["database"])
        given_up = CounterMetricFamily("leasesync_store_stalled_connections",
                                       "PostgreSQL connections given up because an operation on them outlived "
                                       "query-timeout and its grace period (a server or proxy that stopped "
                                       "answering)", labels=["database"])
        for store in self.stores():
            database = [store.config.redacted_url()]
            commits.add_metric(database, store.commits)
            failed.add_metric(database, store.failed_commits)
            conflicts.add_metric(database, store.lock_conflicts)
            guard = store.stall_guard
            given_up.add_metric(database, guard.shut_connections if guard is not None else 0)
        yield commits
        yield failed
        yield conflicts
        yield given_up


class CaptureCounters(Collector):
    """The change captures' own counts (app/capture.py ChangeCapture: delivered, failures,
    last_lag, listening), by database: kept as plain attributes, read through `captures` (set by
    the runtime) at each scrape."""

    def __init__(self) -> None:
        self.captures: Callable[[], Iterable[Any]] = lambda: ()

    def collect(self) -> Iterator[Metric]:
        changes = CounterMetricFamily("leasesync_capture_changes",
                                      "Lease changes another writer (the local Kea) made in the database, "
                                      "captured and handed to HA", labels=["database"])
        failures = CounterMetricFamily("leasesync_capture_failures",
                                       "Capture rounds that failed (the changes stay queued and are tried again)",
                                       labels=["database"])
        lag = GaugeMetricFamily("leasesync_capture_lag_seconds",
                                "How long the newest change of the last batch waited in the change table to be read",
                                labels=["database"])
        listening = GaugeMetricFamily("leasesync_capture_listening",
                                      "PostgreSQL: 1 while LISTEN wakes the capture, 0 when it polls instead (a "
                                      "pooler in transaction mode)", labels=["database"])
        for capture in self.captures():
            database = [capture.store.config.redacted_url()]
            changes.add_metric(database, capture.delivered)
            failures.add_metric(database, capture.failures)
            if capture.last_lag is not None:
                lag.add_metric(database, capture.last_lag)
            if capture.listening is not None:
                listening.add_metric(database, 1 if capture.listening else 0)
        yield changes
        yield failures
        yield lag
        yield listening


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = CommandMetrics()
        r.register(self.commands)
        self.store_counters = StoreCounters()
        r.register(self.store_counters)
        self.capture_counters = CaptureCounters()
        r.register(self.capture_counters)
        self.observe_command = self.commands.observe
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

        self.reclaimed = Counter("leasesync_reclaimed_leases_total",
                                 "Expired leases reclaimed (leases-reclaim and the reclaim timer)", ["family"], registry=r)
        self.flushed = Counter("leasesync_flushed_leases_total",
                               "Expired-reclaimed leases deleted after hold-reclaimed-time", ["family"], registry=r)
        self.reclaim_failures = Counter("leasesync_reclaim_failures_total",
                                        "Reclaim or flush timer runs that failed (retried at the next run)",
                                        ["family"], registry=r)

        self.replication_diverged = Gauge(
            "leasesync_replication_diverged_leases",
            "Local lease changes the partner still lacks after the grace period (send-lease-updates false)",
            ["family"], registry=r)
        self.replication_lag = Gauge("leasesync_replication_lag_seconds",
                                     "Largest observed delay until a local change was seen at the partner",
                                     ["family"], registry=r)
