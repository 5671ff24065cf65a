"""The token bucket behind the flood gate (X6)."""

from __future__ import annotations

from bot.flood import FloodGate
from tests.support.fakes import FakeClock


def test_flood_gate_refills_over_time():
    clock = FakeClock()
    gate = FloodGate(per_minute=3, clock=clock)
    assert [gate.admit(1) is None for _ in range(4)] == [True, True, True, False]
    assert gate.admit(2) is None  # someone else is unaffected
    clock.now += 20  # one token back after 20 s at 3 per minute
    assert gate.admit(1) is None
    assert gate.admit(1) is not None
