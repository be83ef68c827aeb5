"""The free baselines and the errors, on series whose answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_tuner.timeseries import baselines
from lstm_tuner.timeseries.season import detect_season


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """Replaces conftest's Keras seeding and clear_session: nothing here touches Keras."""
    yield


def _all(series, origins, horizon, train_end, season):
    return {
        name: baselines.forecast(
            name, series, origins, horizon, train_end=train_end, season_length=season
        )
        for name in baselines.BASELINES
    }


def _targets(series, origins, horizon):
    return series[origins[:, None] + np.arange(horizon)]


def test_linear_trend_drift_is_exact_and_naive_is_off_by_the_slope():
    series = 5.0 + 0.5 * np.arange(200)
    origins = np.arange(150, 197)
    actual = _targets(series, origins, 3)
    forecasts = _all(series, origins, 3, train_end=140, season=None)
    np.testing.assert_allclose(forecasts["drift"], actual, atol=1e-9)
    np.testing.assert_allclose(forecasts["naive_last_value"], actual - 0.5 * np.arange(1, 4))
    assert forecasts["seasonal_naive"] is None  # no season
    np.testing.assert_allclose(forecasts["training_mean"], series[:140].mean())
    assert detect_season(series[:140]) is None


@pytest.mark.parametrize("period", [7, 12, 24])
def test_pure_seasonal_series_seasonal_naive_is_exact_and_its_season_is_found(period):
    t = np.arange(20 * period)
    series = 100 + 10 * np.sin(2 * np.pi * t / period) + 3 * np.cos(4 * np.pi * t / period)
    train_end = int(0.7 * len(series))
    assert detect_season(series[:train_end]) == period
    origins = np.arange(train_end, len(series) - 4)
    actual = _targets(series, origins, 5)
    forecasts = _all(series, origins, 5, train_end=train_end, season=period)
    np.testing.assert_allclose(forecasts["seasonal_naive"], actual, atol=1e-9)
    scale = baselines.mase_scale(series[:train_end], period)
    results = baselines.evaluate_baselines(
        series, origins, actual, train_end=train_end, season_length=period, scale=scale
    )
    assert baselines.best_baseline(results) == "seasonal_naive"
    assert results["seasonal_naive"]["mse"] < 1e-12
    # a trend on top does not fool the detection into a shorter lag
    assert detect_season(series[:train_end] + 0.3 * t[:train_end]) == period


def test_random_walk_naive_is_optimal_and_has_no_season():
    rng = np.random.default_rng(0)
    series = np.cumsum(rng.normal(0.0, 1.0, 6000))
    train_end = 4200
    assert detect_season(series[:train_end]) is None
    origins = np.arange(train_end, len(series))
    actual = _targets(series, origins, 1)
    scale = baselines.mase_scale(series[:train_end], None)
    results = baselines.evaluate_baselines(
        series, origins, actual, train_end=train_end, season_length=None, scale=scale
    )
    # the one-step error of the naive forecast is the walk's step: variance 1
    assert results["naive_last_value"]["mse"] == pytest.approx(1.0, rel=0.1)
    assert results["naive_last_value"]["mse"] <= results["drift"]["mse"] * 1.01
    assert results["naive_last_value"]["mse"] < results["training_mean"]["mse"] / 10
    assert results["naive_last_value"]["mase"] == pytest.approx(1.0, rel=0.1)


def test_errors_per_step_and_mase_by_hand():
    actual = np.array([[1.0, 2.0], [3.0, 4.0]])
    predicted = np.array([[2.0, 2.0], [3.0, 1.0]])
    result = baselines.errors(predicted, actual, scale=2.0)
    assert result["mse"] == pytest.approx((1 + 0 + 0 + 9) / 4)
    assert result["mae"] == pytest.approx((1 + 0 + 0 + 3) / 4)
    assert result["mase"] == pytest.approx(1.0 / 2.0)
    assert result["mse_per_step"] == pytest.approx([0.5, 4.5])
    assert result["mae_per_step"] == pytest.approx([0.5, 1.5])
    # the in-sample seasonal naive MAE: |y[t] - y[t-2]| over 1, 4, 9, 16, 25 = 8, 12, 16 -> 12
    assert baselines.mase_scale(np.array([1.0, 4.0, 9.0, 16.0, 25.0]), 2) == pytest.approx(12.0)
    assert baselines.mase_scale(np.array([1.0, 4.0, 9.0]), None) == pytest.approx(4.0)


def test_seasonal_naive_needs_a_full_season_of_history_and_looks_back_whole_seasons():
    series = np.arange(30.0)
    # origin 10, season 4: steps 0..5 look back to 6, 7, 8, 9, then 6, 7 (two seasons back)
    forecast = baselines.forecast(
        "seasonal_naive", series, np.array([10]), 6, train_end=20, season_length=4
    )
    np.testing.assert_array_equal(forecast, [[6, 7, 8, 9, 6, 7]])
    assert (
        baselines.forecast(
            "seasonal_naive", series, np.array([3]), 1, train_end=20, season_length=4
        )
        is None
    )


def test_the_winners_are_the_baselines_that_beat_the_model():
    results = {
        "naive_last_value": {"mse": 1.0},
        "drift": {"mse": 3.0},
        "training_mean": {"mse": 9.0},
    }
    assert baselines.winners_over({"mse": 2.0}, results, ["mse"]) == ["naive_last_value"]
    assert baselines.winners_over({"mse": 0.5}, results, ["mse"]) == []
    assert baselines.winners_over({"mse": 5.0}, results, ["mse"]) == ["naive_last_value", "drift"]


def test_season_is_the_yearly_cycle_not_its_quarterly_harmonic():
    """Monthly orders: a yearly cycle, quarter-end peaks and a slow business cycle that keeps the
    recent past close. The 3-month lag fits about as well as 12 months, but the differences
    correlate far more at 12: the season is 12 (it was detected as 3)."""
    rng = np.random.default_rng(5)
    t = np.arange(200)
    orders = (
        100
        + 8 * np.sin(2 * np.pi * t / 70)
        + 6 * np.sin(2 * np.pi * t / 12)
        + 4 * (t % 3 == 2)
        + rng.normal(0, 1.0, len(t))
    )
    assert detect_season(orders[:140]) == 12
    # A clean cycle whose multiples fit as well is still its shortest period.
    assert detect_season(50 + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.2, 200)) == 12
