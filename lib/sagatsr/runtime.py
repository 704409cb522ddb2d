"""Process-wide settings for running the network on a CPU: threads, denormals, allocator.

* Threads. A training step of these models is thousands of small operations; a
  second intra-op thread speeds it up far less than the core count suggests,
  and two processes that each use every core slow each other down about
  ten-fold (oversubscription). Each training process therefore takes its share
  of the cores it may run on: all of them for one process, half each for two
  DDP processes or two trainings side by side (``--threads 1`` each on two
  cores).
* Denormals. The self-adaptable encoding's Gaussians produce values far below
  ``1e-38`` for features far from a centre; arithmetic on such denormal floats
  is many times slower on x86. Flushing them to zero changes no result that
  matters (they are smaller than any rounding error of the sums they enter).
* Allocator. glibc serves large allocations with fresh ``mmap`` pages and
  unmaps them on free, so every batch pays page faults for its tensors;
  :func:`retain_freed_memory` keeps freed memory for reuse (the usual advice
  is jemalloc or tcmalloc, which a pip install cannot bring).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: How the command line and the processes it starts print log records.
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity; else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def training_threads(requested: int = 0, *, processes: int = 1) -> int:
    """Torch threads for one of ``processes`` processes that share this machine's cores.

    Args:
        requested: An explicit count (``>= 1``), or ``0`` for automatic.
        processes: Processes sharing the cores (e.g. DDP ranks on CPU).

    Returns:
        ``requested`` if given; else ``OMP_NUM_THREADS`` if the environment sets
        it; else the available cores divided among the processes (at least 1).
    """
    if requested > 0:
        return requested
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, available_cores() // max(1, processes))


@dataclass(frozen=True)
class CpuSettings:
    """What :func:`configure_cpu` set.

    Attributes:
        threads: Torch intra-op threads of this process.
        processes: Processes assumed to share the cores.
        cores: Cores available to this process.
        flush_denormal: Whether denormal floats are flushed to zero.
    """

    threads: int
    processes: int
    cores: int
    flush_denormal: bool


def configure_cpu(threads: int = 0, *, processes: int = 1) -> CpuSettings:
    """Set torch's thread count (:func:`training_threads`) and flush denormals; log both.

    Args:
        threads: Requested threads per process (``0``: automatic).
        processes: Processes sharing the cores.

    Returns:
        The settings now in force.
    """
    count = training_threads(threads, processes=processes)
    import torch  # here, so that importing this module stays cheap

    torch.set_num_threads(count)
    flushed = bool(torch.set_flush_denormal(True))
    settings = CpuSettings(count, max(1, processes), available_cores(), flushed)
    logger.info(
        "torch: %d thread(s) per process (%d process(es), %d available core(s)), "
        "denormals flushed: %s",
        settings.threads,
        settings.processes,
        settings.cores,
        settings.flush_denormal,
    )
    return settings


def retain_freed_memory() -> bool:
    """Let glibc keep freed memory for reuse instead of returning it to the OS.

    By default glibc serves large allocations with fresh ``mmap`` pages and
    unmaps them on free, so every forward pass on a large structure pays page
    faults proportional to its tensors' size; that adds a super-linear-looking
    term to CPU timings (the usual PyTorch advice is jemalloc or tcmalloc).
    This raises the mmap and trim thresholds (``mallopt``) for the rest of the
    process; the command-line entry points that run the network call it.

    Returns:
        Whether the settings were applied (``False`` without glibc).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    return bool(
        libc.mallopt(m_mmap_threshold, 2**30)
        and libc.mallopt(m_trim_threshold, 2**31 - 1)
        and libc.mallopt(m_top_pad, 2**28)
    )
