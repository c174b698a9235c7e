"""Bounded time and memory: a watch that samples this process's resident memory while a
hostile input is being handled (the API under test is served from a thread of this same
process, so its memory is counted too)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DEADLINE_S = 20.0
"""Seconds any single hostile input may take, generous for a loaded machine."""
MAX_GROWTH_MB = 300.0
"""How far the resident memory may rise above where it was while one input is handled.
The zip bombs expand to 512 MiB and the 1,000,000-vertex polygon is 26 MB of text (over
200 MB once parsed into Python objects): a guard that failed would show here."""
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE / 2**20


@dataclass
class Usage:
    seconds: float = 0.0
    growth_mb: float = 0.0
    """Peak resident memory during the watch, above the memory before it."""

    def check(self, what: str) -> None:
        assert self.seconds < DEADLINE_S, f"{what}: {self.seconds:.1f} s"
        assert self.growth_mb < MAX_GROWTH_MB, f"{what}: +{self.growth_mb:.0f} MB"


@contextmanager
def watch(interval: float = 0.01) -> Iterator[Usage]:
    """Time the block and sample the resident memory every ``interval`` seconds."""
    usage = Usage()
    start_mb = peak = rss_mb()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb())
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        yield usage
    finally:
        usage.seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        usage.growth_mb = max(peak, rss_mb()) - start_mb
