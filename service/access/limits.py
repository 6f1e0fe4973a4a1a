"""Per-key rate limits: a token bucket per caller, refilled at its role's requests a minute.

In memory, per process: each replica limits on its own, so N replicas allow up to N times the
rate; a limit is a guard against a runaway client, not a quota.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self, per_minute: Mapping[str, int], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = dict(per_minute)  # role → requests a minute; absent or 0: no limit
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def wait_needed(self, caller_id: str, role: str) -> float:
        """0 when this request may go ahead (and it is counted); else the seconds until it may."""
        rate = self.per_minute.get(role, 0)
        if rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault(caller_id, _Bucket(float(rate), now))
            bucket.tokens = min(float(rate), bucket.tokens + (now - bucket.at) * rate / 60)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) * 60 / rate

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
