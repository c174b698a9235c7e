"""A concurrent HTTP client for benchmarks: fetch a fixed list of paths from one server
with a fixed number of requests in flight, and time each request and the whole pass.

The same client (httpx, asyncio, one connection per request in flight, kept alive) is
used against every server compared, with the same headers.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

HEADERS = {"Accept-Encoding": "identity", "User-Agent": "secplac-bench"}
"""No compression: tipg compresses when asked (the platform leaves that to a proxy), and
the benchmark measures serving, not gzip."""
TIMEOUT = 300.0
Meter = Callable[[], dict[str, float]]
"""CPU seconds used so far by each process of interest (client, server, database)."""


@dataclass
class Pass:
    """One pass over the paths: wall time, each request's latency and status, bytes."""

    seconds: float
    latencies: list[float]
    statuses: Counter[int]
    size: int
    bodies: dict[int, bytes] = field(default_factory=dict)
    """The bodies of the requests asked to be kept, by position in the list."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds used during the pass, by process (see :data:`Meter`)."""

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def figures(self, unit: str = "requests", per_request: int = 1) -> dict[str, Any]:
        """Throughput (``unit``/s; ``per_request`` units in each response) and latency."""
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            f"{unit}_per_s": round(self.requests * per_request / self.seconds, 1),
            "p50_ms": round(percentile(self.latencies, 50) * 1000, 2),
            "p95_ms": round(percentile(self.latencies, 95) * 1000, 2),
            "mib": round(self.size / 1024 / 1024, 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "cpu_seconds": self.cpu,
        }

    def check(self, server: str, allowed: Iterable[int] = (200, 204)) -> Pass:
        bad = {k: v for k, v in self.statuses.items() if k not in set(allowed)}
        if bad:
            raise RuntimeError(f"{server}: respuestas inesperadas {bad} de {self.requests}.")
        return self


def percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (inclusive method; the value itself for one value)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def fetch_all(base_url: str, paths: Sequence[str], concurrency: int,
              keep: Iterable[int] = (), warmup: Sequence[str] = (),
              meter: Meter | None = None) -> Pass:
    """GET every path of ``paths`` from ``base_url``, ``concurrency`` at a time (after
    the ``warmup`` paths, untimed, which open the client's connections and the server's
    database connections; ``/`` ``concurrency`` times when none are given). ``meter``
    is read when the clock starts and stops."""
    return asyncio.run(_fetch_all(base_url, paths, concurrency, set(keep),
                                  list(warmup) or ["/"] * concurrency, meter))


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 2) for k in before}


async def _fetch_all(base_url: str, paths: Sequence[str], concurrency: int,
                     keep: set[int], warmup: list[str], meter: Meter | None) -> Pass:
    limits = httpx.Limits(max_connections=concurrency,
                          max_keepalive_connections=concurrency)
    latencies = [0.0] * len(paths)
    statuses: Counter[int] = Counter()
    bodies: dict[int, bytes] = {}
    size = 0
    queue = iter(range(len(paths)))

    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS, limits=limits,
                                 timeout=TIMEOUT) as client:
        pending = iter(warmup)

        async def warm() -> None:
            for path in pending:
                (await client.get(path)).raise_for_status()

        await asyncio.gather(*(warm() for _ in range(concurrency)))

        async def worker() -> None:
            nonlocal size
            for i in queue:
                start = time.perf_counter()
                response = await client.get(paths[i])
                body = response.content
                latencies[i] = time.perf_counter() - start
                statuses[response.status_code] += 1
                size += len(body)
                if i in keep:
                    bodies[i] = body

        before = meter() if meter else {}
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
        cpu = cpu_used(before, meter()) if meter else {}
    return Pass(seconds, latencies, statuses, size, bodies, cpu)
