"""Timing shared by the benchmarks: best and median of several runs, each from cold caches."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from privacy_inspector.core import sites, times


class Timing(float):
    """Best of the runs (the figure compared), with the median kept for the report."""

    median: float


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[Timing, Any]:
    runs = []
    result = None
    for _ in range(repeat):
        # Start each run as a fresh process would: no dates or sites cached yet.
        times._DAYS.clear()
        sites.registrable_domain.cache_clear()
        # Free the previous run's entries before the clock starts, not inside it.
        result = None
        start = time.perf_counter()
        value = fn()
        runs.append(time.perf_counter() - start)
        result = value
    timing = Timing(min(runs))
    timing.median = statistics.median(runs)
    return timing, result
