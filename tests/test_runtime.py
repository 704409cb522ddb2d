import torch

from sagatsr.runtime import available_cores, configure_cpu, retain_freed_memory, training_threads


def test_threads_are_explicit_or_the_environment_or_a_share_of_the_cores(monkeypatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = available_cores()
    assert training_threads(3) == 3
    assert training_threads(0) == cores
    assert training_threads(0, processes=2) == max(1, cores // 2)
    assert training_threads(0, processes=10 * cores) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert training_threads(0) == 1
    assert training_threads(2) == 2


def test_configure_cpu_applies_and_reports_its_settings(monkeypatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        settings = configure_cpu(1)
        assert settings.threads == torch.get_num_threads() == 1
        assert settings.flush_denormal
        # a float32 denormal now becomes zero in arithmetic
        assert float(torch.tensor([1e-39]) * 1.0) == 0.0
    finally:
        torch.set_num_threads(before)
        torch.set_flush_denormal(False)


def test_retaining_freed_memory_succeeds_with_glibc() -> None:
    import platform

    if platform.libc_ver()[0] != "glibc":
        assert retain_freed_memory() is False
    else:
        assert retain_freed_memory() is True
