"""The production server entry point: Daphne with spread keepalive pings."""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

import pytest

from coordination import server as server_module
from coordination.server import SpreadPingServer, tune_process


class FakeProtocol:
    def __init__(self, now: float) -> None:
        self.last_ping = now
        self.checks = 0

    def check_timeouts(self) -> None:
        self.checks += 1


class FakeReactor:
    def __init__(self) -> None:
        self.scheduled: list[float] = []

    def callLater(self, delay: float, func: Any) -> None:
        self.scheduled.append(delay)


def make_server(connections: int, ping_interval: float = 20.0) -> SpreadPingServer:
    server = SpreadPingServer.__new__(SpreadPingServer)  # no endpoints: nothing is served
    server.ping_interval = ping_interval
    server.connections = {FakeProtocol(1000.0): {} for _ in range(connections)}
    server._round = []
    server._slice = 1
    return server


def test_each_connection_is_checked_once_per_round_in_small_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reactor = FakeReactor()
    monkeypatch.setattr(server_module, "reactor", reactor)
    server = make_server(800)
    ticks = round(server_module.CHECK_ROUND_SECONDS / server_module.CHECK_TICK_SECONDS)
    checked_per_tick = []
    for _ in range(ticks):
        before = sum(p.checks for p in server.connections)
        server.timeout_checker()
        checked_per_tick.append(sum(p.checks for p in server.connections) - before)
    assert all(p.checks == 1 for p in server.connections)
    assert max(checked_per_tick) <= 800 / ticks
    assert reactor.scheduled == [server_module.CHECK_TICK_SECONDS] * ticks


def test_first_pings_of_connections_opened_together_are_spread_over_the_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server_module, "reactor", FakeReactor())
    server = make_server(1000, ping_interval=20.0)
    for _ in range(8):
        server.timeout_checker()
    offsets = sorted(1000.0 - p.last_ping for p in server.connections)
    assert offsets[0] >= 0
    assert offsets[-1] <= 20.0
    # Roughly uniform: each fifth of the interval gets a fair share of the first pings.
    for fifth in range(5):
        share = sum(1 for o in offsets if fifth * 4 <= o < (fifth + 1) * 4)
        assert 120 < share < 280
    # A connection is offset once, not again at every round.
    server.timeout_checker()
    assert sorted(1000.0 - p.last_ping for p in server.connections) == offsets


def test_a_closed_connection_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "reactor", FakeReactor())
    server = make_server(16)
    gone = next(iter(server.connections))
    server.timeout_checker()  # the round is taken; then the connection goes
    del server.connections[gone]
    for _ in range(8):
        server.timeout_checker()
    assert gone.checks <= 1


def test_tuning_freezes_what_is_loaded_and_collects_less_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    interval = sys.getswitchinterval()
    thresholds = gc.get_threshold()
    monkeypatch.delenv("GC_THRESHOLD", raising=False)
    try:
        tune_process()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (5000, 10, 100)
        assert sys.getswitchinterval() == pytest.approx(0.001)
        monkeypatch.setenv("GC_THRESHOLD", "5000,20,20")
        tune_process()
        assert gc.get_threshold() == (5000, 20, 20)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)


def test_frames_are_sent_without_formatting_dropped_debug_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    txaio: Any = importlib.import_module("txaio")
    protocol: Any = importlib.import_module("autobahn.websocket.protocol")
    txaio.use_twisted()
    monkeypatch.setattr(protocol, "hltype", protocol.hltype)
    monkeypatch.setattr(protocol, "hlval", protocol.hlval)
    server_module.spare_frame_debug_formatting()
    assert protocol.hltype(make_server) is make_server
    assert protocol.hlval(42) == 42
