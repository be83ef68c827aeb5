"""Prediction intervals: split conformal per step ahead, from the validation split to the
SavedModel, with answers known in advance."""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest

from lstm_tuner.config.schema import config_from_dict
from lstm_tuner.job.verdict import calibrate_intervals, evaluate_on_test, interval_verdict, verdict
from lstm_tuner.serving.export import export_model
from lstm_tuner.serving.forecast import load_export
from lstm_tuner.timeseries.intervals import (
    ConformalIntervals,
    band_names,
    calibrated_band,
    interval_scores,
    level_name,
    min_calibration_windows,
)
from lstm_tuner.timeseries.series import load_data

WINDOW = 16
PERIOD = 16
NOISE = 0.3


# -- the method, by hand --------------------------------------------------------------------------


def test_offsets_are_the_finite_sample_quantile_per_step():
    predicted = np.zeros((19, 2))
    actual = np.stack([np.arange(1, 20), -10 * np.arange(1, 20)], axis=1).astype(float)
    ci = ConformalIntervals.calibrate(predicted, actual, [80, 95])
    # n = 19: the 80% offset is the ceil(20 * 0.8) = 16th smallest |residual|, the 95% the 19th
    np.testing.assert_array_equal(ci.offsets[80.0], [16, 160])
    np.testing.assert_array_equal(ci.offsets[95.0], [19, 190])
    bands = ci.bands(np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(bands["lower_80"], [[-15, -158]])
    np.testing.assert_array_equal(bands["upper_95"], [[20, 192]])


def test_relative_bands_grow_with_the_forecast():
    predicted = np.full((9, 1), 10.0)
    actual = predicted * (1 + np.linspace(-0.1, 0.1, 9))[:, None]
    ci = ConformalIntervals.calibrate(predicted, actual, [80], scale="relative")
    q = ci.offsets[80.0][0]
    assert q == pytest.approx(0.1)  # ceil(10 * 0.8) = 8th smallest of |r| / 10
    bands = ci.bands(np.array([[100.0], [-50.0]]))
    np.testing.assert_allclose(bands["lower_80"], [[90.0], [-55.0]])
    np.testing.assert_allclose(bands["upper_80"], [[110.0], [-45.0]])


def test_a_level_with_too_few_calibration_windows_is_left_out():
    assert [min_calibration_windows(v) for v in (50, 80, 90, 95, 97.5, 99)] == [1, 4, 9, 19, 39, 99]
    ci = ConformalIntervals.calibrate(np.zeros(20), np.arange(20.0), [80, 99])
    assert ci.levels == (80.0,)
    assert ci.dropped == {
        99.0: "the 99% interval needs at least 99 calibration windows, got 20: left out"
    }
    assert "lower_99" not in ci.bands(np.zeros((1, 1)))
    restored = ConformalIntervals.from_dict(json.loads(json.dumps(ci.to_dict())))
    assert restored.levels == ci.levels and restored.dropped == ci.dropped
    np.testing.assert_array_equal(restored.offsets[80.0], ci.offsets[80.0])


def test_names_of_levels_that_are_not_whole_numbers():
    assert level_name(80) == "80"
    assert level_name(97.5) == "97_5"
    assert band_names(99.9) == ("lower_99_9", "upper_99_9")


def test_interval_scores_by_hand():
    lower, upper = np.zeros(4), np.full(4, 2.0)
    actual = np.array([1.0, 3.0, -1.0, 2.0])
    scores = interval_scores(lower, upper, actual, 80)
    assert scores["coverage"] == 0.5
    assert scores["mean_width"] == 2.0
    # width 2, plus 2 / 0.2 = 10 times each miss (1 above, 1 below): (2 + 12 + 12 + 2) / 4
    assert scores["winkler"] == pytest.approx(7.0)


def test_calibrated_band_matches_a_simulation():
    rng = np.random.default_rng(0)
    n, m, level = 50, 50, 80
    k = math.ceil((n + 1) * 0.8)
    coverage = []
    for _ in range(4000):  # exchangeable scores: the k-th smallest of n, applied to m new ones
        scores = rng.normal(size=n + m)
        q = np.sort(np.abs(scores[:n]))[k - 1]
        coverage.append(np.mean(np.abs(scores[n:]) <= q))
    lo, hi = calibrated_band(n, m, level)
    inside = np.mean((np.array(coverage) >= lo) & (np.array(coverage) <= hi))
    assert 0.93 <= inside <= 0.99
    assert np.quantile(coverage, 0.025) == pytest.approx(lo, abs=0.021)


# -- on a series whose answer is known ------------------------------------------------------------


def _known_series(path: Path, n: int = 1600, seed: int = 0) -> Path:
    """A learnable sine of period 16 plus i.i.d. Gaussian noise (sd 0.3)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 5 + np.sin(2 * np.pi * t / PERIOD) + NOISE * rng.normal(size=n)
    path.write_text("y\n" + "".join(f"{float(v)!r}\n" for v in y))
    return path


def _config(path: Path, **evaluation):
    return config_from_dict(
        {
            "data": {
                "csv": str(path),
                "target": "y",
                "window_size": WINDOW,
                "split": {"train": 0.4, "validation": 0.3, "test": 0.3},
            },
            "evaluation": {"statistical_models": [], **evaluation},
        }
    )


def _fitted_linear_model(data) -> keras.Model:
    """A Keras model whose weights are the least-squares fit on the training windows: it learns
    the sine, so its residuals are the noise."""
    x, y = data.train.arrays()
    design = np.concatenate([x[:, :, 0], np.ones((len(x), 1))], axis=1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    model = keras.Sequential(
        [keras.Input((WINDOW, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    model.layers[-1].set_weights([coef[:-1].astype(np.float32), coef[-1].astype(np.float32)])
    return model


def test_intervals_cover_iid_noise_within_a_binomial_tolerance(tmp_path):
    config = _config(_known_series(tmp_path / "s.csv"))
    data = load_data(config.data)
    model = _fitted_linear_model(data)
    test = json.loads(json.dumps(evaluate_on_test({"best_trial": model}, data, config)))
    report = test["intervals"]["best_trial"]
    n, m = report["calibration_windows"], test["test_windows"]
    assert (n, m) == (480, 480)
    for name, level in (("80", 0.80), ("95", 0.95)):
        result = report["levels"][name]
        # Tolerance computed here: the calibration quantile's and the test share's binomial
        # spreads, 3.5 standard deviations.
        sd = math.sqrt(level * (1 - level) * (1 / m + 1 / (n + 2)))
        assert abs(result["coverage"] - level) <= 3.5 * sd, (name, result["coverage"])
        # the noise is N(0, 0.3^2): the band's half width is near 0.3 * z
        z = {"80": 1.2816, "95": 1.96}[name]
        assert result["mean_width"] / 2 == pytest.approx(NOISE * z, rel=0.15)
        assert result["calibrated"] is True
    text = interval_verdict(test)
    assert text.startswith("Prediction intervals of the best trial (split conformal on 480")
    assert "outside the" not in text
    bands = test["test_predictions"]["intervals"]
    assert set(bands) == {"lower_80", "upper_80", "lower_95", "upper_95"}


def test_too_narrow_intervals_are_called_so(tmp_path):
    config = _config(_known_series(tmp_path / "s.csv"))
    data = load_data(config.data)
    model = _fitted_linear_model(data)
    x, y = data.validation.arrays()
    # calibrated on residuals a third of the real ones: the test coverage falls short
    shrunk = ConformalIntervals.calibrate(
        model.predict(x, verbose=0) / 3, y / 3, config.evaluation.interval_levels
    )
    scale = data.scaler.scale[0]
    shrunk = ConformalIntervals(
        shrunk.levels,
        {lv: q * scale for lv, q in shrunk.offsets.items()},
        "additive",
        shrunk.calibration_windows,
    )
    test = evaluate_on_test({"best_trial": model}, data, config, {"best_trial": shrunk})
    text = interval_verdict(test)
    assert "The 80% interval covered" in text and "its bands are too narrow" in text
    assert test["intervals"]["best_trial"]["levels"]["80"]["calibrated"] is False


def test_no_test_value_moves_a_calibration_statistic(tmp_path):
    path = _known_series(tmp_path / "s.csv")
    config = _config(path)
    data = load_data(config.data)
    model = _fitted_linear_model(data)
    before = calibrate_intervals({"best_trial": model}, data, config)["best_trial"]
    lines = path.read_text().splitlines()
    _, validation_end = data.boundaries
    lines[1 + validation_end + 5] = repr(float(lines[1 + validation_end + 5]) + 1e6)
    path.write_text("\n".join(lines) + "\n")
    moved = load_data(config.data)
    assert not np.allclose(moved.values, data.values)
    after = calibrate_intervals({"best_trial": model}, moved, config)["best_trial"]
    assert after.to_dict() == before.to_dict()


def test_the_run_warns_and_leaves_out_a_level_its_validation_split_is_too_small_for(
    tmp_path, caplog
):
    config = _config(_known_series(tmp_path / "s.csv", n=300), interval_levels=[80, 99.5])
    data = load_data(config.data)
    model = _fitted_linear_model(data)
    with caplog.at_level("WARNING"):
        test = evaluate_on_test({"best_trial": model}, data, config)
    report = test["intervals"]["best_trial"]
    assert list(report["levels"]) == ["80"]
    assert report["dropped"] == {
        "99.5": "the 99.5% interval needs at least 199 calibration windows, got 90: left out"
    }
    assert "99.5% interval needs at least 199" in caplog.text
    verdict(test)  # the rest of the evaluation goes on


def test_empty_levels_turn_intervals_off(tmp_path):
    config = _config(_known_series(tmp_path / "s.csv", n=300), interval_levels=[])
    data = load_data(config.data)
    test = evaluate_on_test({"best_trial": _fitted_linear_model(data)}, data, config)
    assert test["intervals"] == {} and "intervals" not in test["test_predictions"]
    assert interval_verdict(test) == ""


# -- in the SavedModel ----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", ["additive", "relative"])
def test_export_bands_are_the_prediction_plus_the_offsets(tmp_path, scale):
    rng = np.random.default_rng(3)
    model = keras.Sequential(
        [keras.Input((WINDOW, 2)), keras.layers.LSTM(8), keras.layers.Dense(3)]
    )
    mean, std = np.array([100.0, 5.0]), np.array([20.0, 2.0])
    predicted = rng.normal(100, 20, size=(40, 3))
    ci = ConformalIntervals.calibrate(
        predicted, predicted + rng.normal(0, 7, size=(40, 3)), [80, 97.5], scale
    )
    export_model(
        model,
        tmp_path / "export",
        input_mean=mean,
        input_scale=std,
        target_mean=100.0,
        target_scale=20.0,
        metadata={"horizon": 3},
        intervals=ci,
    )
    windows = (mean + std * rng.normal(size=(11, WINDOW, 2))).astype(np.float32)
    exported = load_export(str(tmp_path / "export"))
    out = exported.predict(windows)
    assert exported.outputs == ["prediction", "lower_80", "upper_80", "lower_97_5", "upper_97_5"]
    keras_prediction = (
        model.predict(((windows - mean) / std).astype(np.float32), verbose=0) * 20.0 + 100.0
    )
    np.testing.assert_allclose(out["prediction"], keras_prediction, rtol=1e-5, atol=1e-5)
    for name, band in ci.bands(keras_prediction).items():
        np.testing.assert_allclose(out[name], band, rtol=1e-5, atol=1e-4)
    meta = exported.metadata
    assert meta["intervals"]["levels"] == [80.0, 97.5]
    assert meta["intervals"]["calibration_windows"] == 40
    assert meta["intervals"]["scale"] == scale
    assert meta["intervals"]["method"].startswith("split conformal per step ahead")
    assert set(meta["signature"]["output"]) == set(exported.outputs)


def test_an_export_without_intervals_still_serves_its_prediction(tmp_path):
    model = keras.Sequential(
        [keras.Input((WINDOW, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)]
    )
    export_model(
        model,
        tmp_path / "old",
        input_mean=[0.0],
        input_scale=[1.0],
        target_mean=0.0,
        target_scale=1.0,
        metadata={"horizon": 1},
    )
    exported = load_export(str(tmp_path / "old"))
    assert exported.intervals is None and exported.outputs == ["prediction"]
    assert exported.predict(np.zeros((2, WINDOW, 1)))["prediction"].shape == (2, 1)
