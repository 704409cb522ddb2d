import time

import numpy as np
import pytest

from sagatsr.bench.timing import PeakMemory, resident_bytes, time_call


def test_time_call_warms_up_and_takes_the_median() -> None:
    calls = []

    def work() -> None:
        calls.append(1)
        time.sleep(0.01 if len(calls) > 1 else 0.2)  # the first call is slow (warm-up)

    timing = time_call(work, warmup=1, repeats=3)
    assert len(calls) == 4 and len(timing.repeats) == 3
    assert 0.009 < timing.median < 0.15 and timing.minimum <= timing.median <= timing.maximum
    with pytest.raises(ValueError):
        time_call(work, repeats=0)


def test_peak_memory_sees_a_temporary_allocation() -> None:
    assert resident_bytes() > 0
    with PeakMemory() as small:
        np.ones(10)
    with PeakMemory() as large:
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
        block += 1
        time.sleep(0.01)
        del block
    assert large.peak_bytes > 48 * 2**20
    assert small.peak_bytes < large.peak_bytes
