"""Timing and memory measurement: warm-up, repeats, medians, peak memory."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Timing:
    """Wall times of repeated calls (seconds).

    Attributes:
        median: Median over the repeats.
        minimum: Fastest repeat.
        maximum: Slowest repeat.
        repeats: Every measured time, in order.
        warmup: Number of unmeasured warm-up calls.
    """

    median: float
    minimum: float
    maximum: float
    repeats: tuple[float, ...]
    warmup: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "median_s": self.median,
            "min_s": self.minimum,
            "max_s": self.maximum,
            "repeats_s": list(self.repeats),
            "warmup": self.warmup,
        }


def time_call(
    fn: Callable[[], Any],
    *,
    warmup: int = 1,
    repeats: int = 5,
    synchronize: Callable[[], None] | None = None,
) -> Timing:
    """Time ``fn`` after ``warmup`` unmeasured calls.

    Args:
        fn: The work (no arguments).
        warmup: Unmeasured calls first (caches, lazy initialisation, kernels).
        repeats: Measured calls.
        synchronize: Called before reading the clock (e.g.
            ``torch.cuda.synchronize`` so GPU work is finished).

    Returns:
        The timing.

    Raises:
        ValueError: If ``repeats < 1`` or ``warmup < 0``.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError("repeats must be >= 1 and warmup >= 0")
    sync = synchronize or (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return Timing(statistics.median(times), min(times), max(times), tuple(times), warmup)


def resident_bytes() -> int:
    """Current resident set size of this process (bytes; Linux ``/proc``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * _PAGE_BYTES
    except (OSError, IndexError, ValueError):
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def release_free_memory() -> None:
    """Return the C allocator's free memory to the OS (glibc ``malloc_trim``; no-op elsewhere).

    Without it, memory freed by earlier work stays in the process and is
    reused, so a later allocation would not raise the resident set size.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Peak resident memory above the level at entry, sampled in a background thread.

    Use as a context manager; ``peak_bytes`` is the largest increase of the
    resident set size seen while the block ran (sampling every ``interval``
    seconds, plus once at entry and exit). Free allocator memory is returned
    to the OS at entry (:func:`release_free_memory`), so that the block's
    allocations show up in the resident set size.

    Args:
        interval: Sampling period in seconds.
    """

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.baseline = 0
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._highest = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._highest = max(self._highest, resident_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        release_free_memory()
        self.baseline = resident_bytes()
        self._highest = self.baseline
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._highest = max(self._highest, resident_bytes())
        self.peak_bytes = self._highest - self.baseline


def gpu_peak_memory(fn: Callable[[], Any], device: Any) -> int:
    """Peak CUDA memory allocated by ``fn`` above the level before it (bytes)."""
    import torch

    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device) - before)
