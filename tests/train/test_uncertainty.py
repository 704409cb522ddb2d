import numpy as np
import pytest

from sagatsr.train.uncertainty import (
    REPORTED_LEVELS,
    SpreadCalibration,
    calibrate_spread,
    interval_coverage,
    uncertainty_report,
)


def heteroscedastic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets whose error scale is 3x the ensemble spread (a spread that is too small)."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=n)
    spread = rng.uniform(0.05, 1.0, size=n)
    targets = mean + 3.0 * spread * rng.standard_t(df=5, size=n)
    return targets, mean, spread


def test_calibration_on_one_sample_gives_nominal_coverage_on_another() -> None:
    calibration = calibrate_spread(*heteroscedastic(4000, 0))
    coverage = interval_coverage(*heteroscedastic(4000, 1), calibration)
    assert set(coverage) == {f"{level:.2f}" for level in REPORTED_LEVELS}
    assert coverage["0.68"] == pytest.approx(0.68, abs=0.025)
    assert coverage["0.95"] == pytest.approx(0.95, abs=0.015)
    # the raw spread, uncalibrated, would cover far less
    errors = np.abs(np.subtract(*heteroscedastic(4000, 1)[:2]))
    assert np.mean(errors <= heteroscedastic(4000, 1)[2]) < 0.4


def test_report_ranks_structures_by_spread() -> None:
    calibration = calibrate_spread(*heteroscedastic(2000, 2))
    report = uncertainty_report(*heteroscedastic(2000, 3), calibration)
    assert report["n"] == 2000
    assert report["mae_most_uncertain_decile"] > 2 * report["mae_other_deciles"]
    observed = report["reliability"]["observed"]
    assert len(observed) == len(report["reliability"]["nominal"]) == 19
    assert observed == sorted(observed)
    assert report["mean_half_width_68"] > 0


def test_half_width_grows_with_level_and_spread_and_round_trips() -> None:
    calibration = calibrate_spread(*heteroscedastic(500, 4))
    spread = np.array([0.1, 0.5])
    assert (calibration.half_width(spread, 0.95) > calibration.half_width(spread, 0.68)).all()
    assert calibration.half_width(spread)[1] == pytest.approx(5 * calibration.half_width(spread)[0])
    # a zero spread still gets a (small) interval
    assert calibration.half_width(np.array([0.0]))[0] > 0
    again = SpreadCalibration.from_dict(calibration.to_dict())
    assert again == calibration
    with pytest.raises(ValueError, match="outside"):
        calibration.half_width(spread, 0.999)


def test_too_few_or_mismatched_values_are_refused() -> None:
    with pytest.raises(ValueError):
        calibrate_spread(np.zeros(1), np.zeros(1), np.ones(1))
    with pytest.raises(ValueError):
        calibrate_spread(np.zeros(3), np.zeros(2), np.ones(3))
