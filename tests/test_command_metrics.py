"""leasesync_commands_total and leasesync_command_duration_seconds as a Prometheus scrape shows them."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from app.metrics import Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_commands_are_counted_by_command_and_result_code() -> None:
    metrics = Metrics()
    for result in (0, 0, 3):
        metrics.observe_command("lease4-get", result, 0.001)
    samples = _samples(metrics)
    assert samples[("leasesync_commands_total", (("command", "lease4-get"), ("result", "0")))] == 2
    assert samples[("leasesync_commands_total", (("command", "lease4-get"), ("result", "3")))] == 1


def test_a_latency_on_a_bucket_bound_counts_in_that_bucket() -> None:
    metrics = Metrics()
    metrics.observe_command("lease4-update", 0, 0.001)  # le="0.001" is "at most 0.001"
    metrics.observe_command("lease4-update", 0, 0.0011)
    metrics.observe_command("lease4-update", 0, 60.0)  # beyond the last bound: only +Inf
    samples = _samples(metrics)

    def bucket(le: str) -> float:
        return samples[("leasesync_command_duration_seconds_bucket", (("command", "lease4-update"), ("le", le)))]

    assert bucket("0.0005") == 0
    assert bucket("0.001") == 1
    assert bucket("0.0025") == 2
    assert bucket("10.0") == 2
    assert bucket("+Inf") == 3
    assert samples[("leasesync_command_duration_seconds_count", (("command", "lease4-update"),))] == 3
    assert abs(samples[("leasesync_command_duration_seconds_sum", (("command", "lease4-update"),))] - 60.0021) < 1e-9
