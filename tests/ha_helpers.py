"""Helpers for HA tests with real leasesync processes on loopback."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import ServerProcess, free_port, service_config


def ha_hook(this: str, mode: str, peers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    relationship = {
        "this-server-name": this,
        "mode": mode,
        "heartbeat-delay": 300,
        "max-response-delay": 1500,
        "max-ack-delay": 1000,
        "max-unacked-clients": 0,
        "sync-timeout": 10000,
        "sync-page-limit": 50,
        "peers": peers,
        **extra,
    }
    return {"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so",
            "parameters": {"high-availability": [relationship]}}


def pair_configs(dbs: list[dict[str, Any]], mode: str = "hot-standby", roles: tuple[str, ...] = ("primary", "standby"),
                 family: int = 4, **extra: Any) -> list[dict[str, Any]]:
    """Configs for len(dbs) servers named server1.. with the given roles, on free ports; the HA
    hook in Dhcp4 (and no Dhcp6), or with `family` 6 in Dhcp6 (beside a Dhcp4 without it)."""
    ports = [free_port() for _ in dbs]
    peers = [{"name": f"server{i + 1}", "url": f"http://127.0.0.1:{port}/", "role": role}
             for i, (port, role) in enumerate(zip(ports, roles, strict=True))]
    configs = []
    for i, db in enumerate(dbs):
        hooks = {"hooks-libraries": [ha_hook(f"server{i + 1}", mode, peers, **extra)]}
        if family == 4:
            configs.append(service_config(db, port=ports[i], dhcp6=False, dhcp4_extra=hooks))
        else:
            configs.append(service_config(db, port=ports[i], dhcp6_extra=hooks))
    return configs


def ha_state(server: ServerProcess, service: str = "dhcp4") -> str:
    try:
        answer = server.command("status-get", service, timeout=5)[0]
        return str(answer["arguments"]["high-availability"][0]["ha-servers"]["local"]["state"])
    except Exception:  # noqa: BLE001 - a server that does not answer has no state
        return "unreachable"


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last value: {last!r})")


def wait_states(servers: list[ServerProcess], states: list[str], timeout: float = 30.0, service: str = "dhcp4") -> None:
    wait_for(lambda: [ha_state(s, service) for s in servers] == states, timeout, what=f"states {states}: "
             f"{[ha_state(s, service) for s in servers]}")


def dump(server: ServerProcess, family: int = 4, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every lease of `family` on `server` (leaseX-get-all), by address."""
    answer = server.command(f"lease{family}-get-all", f"dhcp{family}", timeout=timeout)[0]
    return sorted(answer.get("arguments", {}).get("leases", []), key=lambda lease: lease["ip-address"])


def dump4(server: ServerProcess) -> list[dict[str, Any]]:
    return dump(server, 4)


def metric_values(text: str, name: str, **labels: str) -> list[float]:
    """The values of metric `name` in a /metrics page, on the lines that carry all of `labels`."""
    values = []
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            values.append(float(line.rsplit(" ", 1)[1]))
    return values


def metric(server: ServerProcess, name: str, **labels: str) -> float:
    """The sum of metric `name` over the lines with `labels` on a running server (0 when none)."""
    import httpx

    return sum(metric_values(httpx.get(server.url + "metrics", timeout=5).text, name, **labels))


class BlackHoleProxy:
    """A TCP proxy on loopback in front of a peer; while `swallowing`, what clients send is read
    and dropped, so a request leaves its sender but never reaches the peer. `swallow_containing`
    drops only the requests whose bytes hold it (a small request arrives in one read)."""

    def __init__(self, upstream_port: int) -> None:
        import socket
        import threading

        self.upstream_port = upstream_port
        self.swallowing = threading.Event()
        self.swallow_containing: bytes | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                continue
            upstream.settimeout(None)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: Any, sink: Any, outbound: bool) -> None:
        try:
            while data := source.recv(65536):
                pattern = self.swallow_containing
                if not (outbound and (self.swallowing.is_set() or (pattern is not None and pattern in data))):
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._listener.close()


def proxy_to_server2(configs: list[dict[str, Any]]) -> BlackHoleProxy:
    """A BlackHoleProxy in front of server2 of `pair_configs`, through which server1 reaches it."""
    proxy = BlackHoleProxy(configs[1]["LeaseSync"]["http-port"])
    relationship = configs[0]["Dhcp4"]["hooks-libraries"][0]["parameters"]["high-availability"][0]
    relationship["peers"][1]["url"] = f"http://127.0.0.1:{proxy.port}/"
    return proxy
