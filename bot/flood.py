"""Fairness between people: a token bucket per person, so one flooding the bot cannot starve
everyone else (X6)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    refilled_at: float
    warned: bool = False


class FloodGate:
    """`per_minute` updates per person, refilled continuously; bursts up to the same number."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[int, Bucket] = {}

    def admit(self, user_id: int) -> Bucket | None:
        """Take a token; None means admitted, a bucket means refused (and whether we warned)."""
        now = self.clock()
        bucket = self.buckets.setdefault(user_id, Bucket(self.capacity, now))
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.refilled_at) * self.rate)
        bucket.refilled_at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return None
        return bucket
