"""Fixtures for the sans-I/O HA core: config builders and two cores wired back to back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.ha.actions import (
    Action,
    SendBacklog,
    SendHaReset,
    SendHeartbeat,
    SendLeaseUpdates,
    SendMaintenanceNotify,
    StartSync,
)
from app.ha.config import HaConfig, parse_ha_parameters
from app.ha.state_machine import HaStateMachine
from app.ha.states import HaState
from app.sentinels import MISSING

CAPTURES = Path("/work/shared/kea-captures")
WALL_EPOCH = 1_795_000_000.0  # wall clock = WALL_EPOCH + fake monotonic time (+ per-server skew)


def relationship(this: str = "server1", mode: str = "hot-standby", **overrides: Any) -> dict[str, Any]:
    """A Kea-style relationship map; `peers` defaults to a pair matching `mode`."""
    second_role = {"hot-standby": "standby", "load-balancing": "secondary", "passive-backup": "backup"}[mode]
    rel: dict[str, Any] = {
        "this-server-name": this,
        "mode": mode,
        "heartbeat-delay": 3000,
        "max-response-delay": 10000,
        "max-ack-delay": 5000,
        "max-unacked-clients": 0,
        "peers": [
            {"name": "server1", "url": "http://127.0.0.1:19101/", "role": "primary"},
            {"name": "server2", "url": "http://127.0.0.1:19102/", "role": second_role},
        ],
    }
    rel.update(overrides)
    return rel


def make_config(this: str = "server1", mode: str = "hot-standby", **overrides: Any) -> HaConfig:
    return parse_ha_parameters([relationship(this, mode, **overrides)], "high-availability")


def capture_ha_params(folder: str, server: str = "server1", family: str = "4") -> list[Any]:
    conf = json.loads((CAPTURES / folder / f"{server}-kea-dhcp{family}.json").read_text())
    for hook in conf[f"Dhcp{family}"]["hooks-libraries"]:
        if hook["library"].endswith("libdhcp_ha.so"):
            return list(hook["parameters"]["high-availability"])
    raise AssertionError("no HA hook")


class Pair:
    """Two (or more) HA cores exchanging messages instantly in memory, on a fake clock.

    Links can be cut per direction; `skew` shifts one server's wall clock (clock-skew tests).
    """

    def __init__(self, *configs: HaConfig, service: str = "dhcp4") -> None:
        self.now = 0.0
        self.machines = {c.this_server_name: HaStateMachine(c, self.now, service) for c in configs}  # type: ignore[arg-type]
        self.down: set[tuple[str, str]] = set()
        self.skew: dict[str, float] = {}
        self.log: list[tuple[str, Action]] = []
        self.sync_ok: Callable[[str, str], bool] = lambda src, dst: (src, dst) not in self.down

    def __getitem__(self, name: str) -> HaStateMachine:
        return self.machines[name]

    def wall(self, name: str) -> float:
        return WALL_EPOCH + self.now + self.skew.get(name, 0.0)

    def start(self) -> None:
        for name, machine in self.machines.items():
            self.process(name, machine.start(self.now))

    def cut(self, a: str, b: str, both: bool = True) -> None:
        self.down.add((a, b))
        if both:
            self.down.add((b, a))

    def heal(self) -> None:
        self.down.clear()

    def reachable(self, src: str, dst: str) -> bool:
        return (src, dst) not in self.down and dst in self.machines

    def process(self, name: str, actions: list[Action]) -> None:
        me = self.machines[name]
        for action in actions:
            self.log.append((name, action))
            if isinstance(action, SendHeartbeat):
                if self.reachable(name, action.peer):
                    body = [self.machines[action.peer].heartbeat_answer(self.wall(action.peer))]
                    self.process(name, me.on_heartbeat_ok(body, self.now, self.wall(name)))
                else:
                    self.process(name, me.on_heartbeat_failed(self.now, "Connection refused"))
            elif isinstance(action, StartSync):
                ok = self.reachable(name, action.peer)
                if ok:
                    peer = self.machines[action.peer]
                    self.process(action.peer, peer.on_partner_dhcp_disable(action.max_period, self.now))
                    self.process(action.peer, peer.on_sync_complete_notify(self.now).actions)
                self.process(
                    name, me.on_sync_done(ok, self.now, "" if ok else "Connection refused", action.manual)
                )
            elif isinstance(action, SendBacklog):
                self.process(name, me.on_backlog_done(self.reachable(name, action.peer), self.now))
            elif isinstance(action, SendHaReset):
                ok = self.reachable(name, action.peer)
                if ok:
                    self.process(
                        action.peer, self.machines[action.peer].on_admin("ha-reset", self.now).actions
                    )
                self.process(name, me.on_ha_reset_done(ok, self.now))
            elif isinstance(action, SendLeaseUpdates):
                self.process(
                    name, me.on_lease_update_done(action.peer, self.reachable(name, action.peer), self.now)
                )
            elif isinstance(action, SendMaintenanceNotify):
                pass  # answered by `admin`, which owns the operator's answer

    def admin(self, name: str, command: str, arguments: object = MISSING) -> dict[str, Any]:
        """Run an operator command, performing a maintenance notify exchange if needed."""
        me = self.machines[name]
        outcome = me.on_admin(command, self.now, arguments)
        self.process(name, outcome.actions)
        notify = [a for a in outcome.actions if isinstance(a, SendMaintenanceNotify)]
        if outcome.answer is not None:
            return outcome.answer
        assert notify, "command waits for something other than a maintenance notify"
        peer = notify[0].peer
        if self.reachable(name, peer):
            received = self.machines[peer].on_maintenance_notify({"cancel": notify[0].cancel}, self.now)
            self.process(peer, received.actions)
            done = me.on_maintenance_notify_done([received.answer], None, self.now)
        else:
            done = me.on_maintenance_notify_done(None, "Connection refused", self.now)
        self.process(name, done.actions)
        assert done.answer is not None
        return done.answer

    def advance(self, seconds: float) -> None:
        """Move the clock, firing every timer that falls due, in time order."""
        end = self.now + seconds
        while True:
            due = [(t, n) for n, m in self.machines.items() if (t := m.get_timer()) is not None and t <= end]
            if not due:
                break
            when, name = min(due)
            self.now = max(self.now, when)
            self.process(name, self.machines[name].handle_timer(self.now))
        self.now = end

    def states(self) -> dict[str, HaState]:
        return {n: m.state for n, m in self.machines.items()}

    def actions_of(self, name: str, kind: type) -> list[Any]:
        return [a for n, a in self.log if n == name and isinstance(a, kind)]
