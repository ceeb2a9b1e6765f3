"""In-memory, per-process limits keyed by client (or anything else): a token bucket and a failure lockout.

Each process counts on its own: N replicas admit up to N times the configured rate, so a cluster should also limit
at its proxy. Memory is bounded: past `max_keys`, the key used longest ago is forgotten first.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from starlette.exceptions import HTTPException

from shared.clock import Clock

V = TypeVar("V")

_MICROSECOND = timedelta(microseconds=1)
_PER_SECOND = 1_000_000


def too_many_requests(retry_after: float, message: str = "too many requests; retry later") -> HTTPException:
    """A 429 (rendered as the JSON error `rate_limited`) whose Retry-After says how many seconds to wait."""
    return HTTPException(429, message, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


class BoundedMap(Generic[V]):
    """A dict that forgets its least recently used keys beyond `max_keys`."""

    def __init__(self, max_keys: int):
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self._items: OrderedDict[str, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_keys:
            self._items.popitem(last=False)


class _Elapsed:
    """Whole microseconds since the limit was made: exact arithmetic, so boundaries hold to the microsecond."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.origin = clock.now()

    def now(self) -> int:
        return (self.clock.now() - self.origin) // _MICROSECOND


class TokenBucket:
    """`per_minute` requests a minute per key, with bursts of up to `burst`. 0 for either admits everything.

    Kept as each key's theoretical arrival time (GCRA): one integer per key, refilled by the passing of time.
    """

    def __init__(self, clock: Clock, *, per_minute: int, burst: int, max_keys: int):
        self.enabled = per_minute > 0 and burst > 0
        self._time = _Elapsed(clock)
        self._interval = 60 * _PER_SECOND // max(per_minute, 1)
        self._tolerance = self._interval * (burst - 1)
        self._arrivals: BoundedMap[int] = BoundedMap(max_keys)

    def __len__(self) -> int:
        return len(self._arrivals)

    def take(self, key: str) -> float | None:
        """Spends one request of `key`: None when admitted, else the seconds until it may make one."""
        if not self.enabled:
            return None
        now = self._time.now()
        stored = self._arrivals.get(key)
        arrival = now if stored is None else max(stored, now)
        early = arrival - now - self._tolerance
        if early > 0:
            return early / _PER_SECOND
        self._arrivals.put(key, arrival + self._interval)
        return None


@dataclass
class _Strikes:
    count: int
    window_start: int
    locked_until: int = 0


class FailureLockout:
    """Locks a key out for `window_s` seconds once it has failed `max_failures` times within `window_s`.

    0 failures switches it off. A success does not clear the count, so successes cannot launder failures.
    """

    def __init__(self, clock: Clock, *, max_failures: int, window_s: float, max_keys: int):
        self.max_failures = max_failures
        self._time = _Elapsed(clock)
        self._window = round(window_s * _PER_SECOND)
        self._strikes: BoundedMap[_Strikes] = BoundedMap(max_keys)

    def __len__(self) -> int:
        return len(self._strikes)

    def locked(self, key: str) -> float | None:
        """None when `key` may try, else the seconds until it may try again."""
        strikes = self._strikes.get(key) if self.max_failures > 0 else None
        if strikes is None:
            return None
        remaining = strikes.locked_until - self._time.now()
        return remaining / _PER_SECOND if remaining > 0 else None

    def fail(self, key: str) -> None:
        """Counts one failure of `key`; the one that reaches the limit starts a lockout of a whole window."""
        if self.max_failures <= 0:
            return
        now = self._time.now()
        strikes = self._strikes.get(key)
        if strikes is None or now - strikes.window_start >= self._window:
            strikes = _Strikes(count=0, window_start=now)
        strikes.count += 1
        if strikes.count >= self.max_failures:
            # Locked for a window; the next window of failures starts when the lockout ends.
            strikes.locked_until = now + self._window
            strikes.count = 0
            strikes.window_start = strikes.locked_until
        self._strikes.put(key, strikes)
