"""AutoETS, AutoARIMA, AutoTheta and Comb as the verdict sees them: the library's own forecasts,
origin by origin, never from an observation at or after the origin."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lstm_tuner.job.verdict import verdict
from lstm_tuner.timeseries import statistical


def _ses_series(n: int = 260, alpha: float = 0.3, seed: int = 1) -> np.ndarray:
    """A simple exponential smoothing process, ETS(A,N,N): y_t = l_{t-1} + e_t, l_t = l_{t-1} +
    alpha e_t."""
    rng = np.random.default_rng(seed)
    level, y = 10.0, np.empty(n)
    for t in range(n):
        e = rng.normal()
        y[t] = level + e
        level += alpha * e
    return y


def _ar1_series(n: int = 260, phi: float = 0.7, mean: float = 5.0, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.empty(n)
    y[0] = mean
    for t in range(1, n):
        y[t] = mean + phi * (y[t - 1] - mean) + rng.normal()
    return y


def test_ets_one_step_forecasts_are_the_fitted_recursion():
    y = _ses_series()
    origins = np.arange(200, 260)
    result = statistical.forecast_statistical(
        y, origins, 1, fit_end=200, season_length=None, models=("auto_ets",)
    )
    assert result.models["auto_ets"] in ("ETS(A,N,N)", "ETS(A,A,N)", "ETS(A,Ad,N)")
    # Computed here, not by the library: the fitted smoothing weights and initial states, run
    # through the additive-error recursion from the first fitted point (Hyndman et al. 2008):
    # forecast l + phi b; l <- l + phi b + alpha e; b <- phi b + beta e.
    from statsforecast.models import AutoETS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoETS(season_length=1).fit(y[:200])
    alpha, beta, _, phi, level, *rest = model.model_["par"]
    trend = rest[0] if rest and not np.isnan(beta) else 0.0
    beta = 0.0 if np.isnan(beta) else beta
    phi = 1.0 if np.isnan(phi) else phi
    expected = []
    for t in range(260):
        forecast = level + phi * trend
        if t in set(origins):
            expected.append(forecast)
        error = y[t] - forecast
        level, trend = forecast + alpha * error, phi * trend + beta * error
    np.testing.assert_allclose(result.forecasts["auto_ets"][:, 0], expected, rtol=1e-6, atol=1e-6)
    # Comb of one model is that model.
    np.testing.assert_allclose(result.forecasts["comb"], result.forecasts["auto_ets"])


def test_arima_forecasts_match_the_library_called_directly():
    from statsforecast.models import AutoARIMA

    y = _ar1_series()
    origins = np.arange(200, 257)
    result = statistical.forecast_statistical(
        y, origins, 3, fit_end=200, season_length=None, models=("auto_arima",)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoARIMA(approximation=True).fit(y[:200])
        window = 204  # no season: the filter runs over the last 4 * 1 + 200 points
        expected = np.stack([model.forward(y[max(0, t - window) : t], 3)["mean"] for t in origins])
    np.testing.assert_allclose(result.forecasts["auto_arima"], expected, rtol=1e-6)
    # The AR(1) process's own forecast, mean + phi^k (y - mean), is close to what was fitted:
    # the model is not a degenerate one.
    k = np.arange(1, 4)
    true = 5.0 + 0.7**k * (y[origins - 1, None] - 5.0)
    assert np.mean((result.forecasts["auto_arima"] - true) ** 2) < 0.1


def test_arima_with_regressors_reads_them_at_the_forecast_steps_only():
    from statsforecast.models import AutoARIMA

    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (260, 1))
    y = _ar1_series() + 3.0 * x[:, 0]
    origins = np.arange(200, 258)
    result = statistical.forecast_statistical(
        y, origins, 2, fit_end=200, season_length=None, models=("auto_arima",), regressors=x
    )
    assert set(result.forecasts) == {"auto_arima", "auto_arima_x", "comb"}
    assert result.models["auto_arima_x"].endswith(" with 1 regressor")
    # Comb stays the mean of the univariate models.
    np.testing.assert_allclose(result.forecasts["comb"], result.forecasts["auto_arima"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoARIMA(approximation=True).fit(y[:200], X=x[:200])
        expected = np.stack(
            [
                model.forward(
                    y[max(0, t - 204) : t], 2, X=x[max(0, t - 204) : t], X_future=x[t : t + 2]
                )["mean"]
                for t in origins
            ]
        )
    np.testing.assert_allclose(result.forecasts["auto_arima_x"], expected, rtol=1e-6)
    # It reads x: far better than the univariate AutoARIMA here.
    actual = np.stack([y[t : t + 2] for t in origins])
    assert np.mean((result.forecasts["auto_arima_x"] - actual) ** 2) < 0.3 * np.mean(
        (result.forecasts["auto_arima"] - actual) ** 2
    )
    # A regressor beyond the forecast steps moves nothing.
    moved = x.copy()
    moved[230] += 1e6
    after = statistical.forecast_statistical(
        y, origins, 2, fit_end=200, season_length=None, models=("auto_arima",), regressors=moved
    )
    earlier = origins + 2 <= 230
    np.testing.assert_array_equal(
        result.forecasts["auto_arima_x"][earlier], after.forecasts["auto_arima_x"][earlier]
    )


@pytest.mark.parametrize("horizon", [1, 3])
def test_no_forecast_uses_an_observation_at_or_after_its_origin(horizon: int):
    t = np.arange(400)
    y = 50 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 12)
    y += np.random.default_rng(3).normal(0, 0.5, len(t))
    origins = np.arange(300, 400 - horizon + 1)
    kwargs = dict(fit_end=300, season_length=12, history=200)
    before = statistical.forecast_statistical(y, origins, horizon, **kwargs)
    assert set(before.forecasts) == {*statistical.MODELS, statistical.COMB}, before.not_fitted
    shifted = y.copy()
    moved = 340
    shifted[moved] += 1e6
    after = statistical.forecast_statistical(shifted, origins, horizon, **kwargs)
    for name, forecast in before.forecasts.items():
        earlier = origins <= moved
        np.testing.assert_array_equal(forecast[earlier], after.forecasts[name][earlier], name)
        assert not np.allclose(forecast[~earlier], after.forecasts[name][~earlier]), name


def test_season_longer_than_a_model_supports_falls_back_and_says_so():
    t = np.arange(900)
    y = 10 * np.sin(2 * np.pi * t / 12) + 3 * np.sin(2 * np.pi * t / 60)
    y += np.random.default_rng(4).normal(0, 0.3, len(t))
    result = statistical.forecast_statistical(
        y, np.arange(800, 810), 1, fit_end=800, season_length=60, history=800
    )
    # AutoETS supports 24 at most: it gets the 12-step cycle, detected below its limit.
    assert result.season_lengths["auto_ets"] == 12
    assert "longer than AutoETS supports (24)" in result.notes["auto_ets"]
    # AutoARIMA supports 24 at most: the same.
    assert result.season_lengths["auto_arima"] == 12
    assert "longer than AutoARIMA supports (24)" in result.notes["auto_arima"]
    assert result.season_lengths["auto_theta"] == 60
    # Fewer than two seasons of history: no season, said.
    short = statistical.forecast_statistical(
        y, np.arange(800, 810), 1, fit_end=800, season_length=60, history=100
    )
    assert short.season_lengths["auto_theta"] is None
    assert "fewer than two seasons" in short.notes["auto_theta"]


def test_a_model_that_cannot_fit_is_reported_and_the_others_go_on():
    y = np.arange(8.0)
    result = statistical.forecast_statistical(y, np.array([5, 6]), 1, fit_end=5, season_length=None)
    assert result.not_fitted["auto_ets"] == "NotImplementedError: tiny datasets"
    assert set(result.forecasts) == {"auto_arima", "auto_theta", "comb"}
    assert result.models["comb"] == "mean of AutoARIMA, AutoTheta"
    np.testing.assert_allclose(
        result.forecasts["comb"],
        (result.forecasts["auto_arima"] + result.forecasts["auto_theta"]) / 2,
    )
    with pytest.raises(ValueError, match="every origin must be >= fit_end"):
        statistical.forecast_statistical(y, np.array([4]), 1, fit_end=5, season_length=None)


def _errors(mse: float, horizon: int = 1, per_step: list[float] | None = None) -> dict:
    per_step = per_step or [mse] * horizon
    return {"mse": mse, "mae": mse, "mase": mse, "mse_per_step": per_step, "mae_per_step": per_step}


def _test_result(model_mse: float, comb_mse: float, validation: dict, horizon: int = 1) -> dict:
    baselines = {"naive_last_value": _errors(9.0, horizon)}
    stats = {"auto_ets": _errors(5.0, horizon), "comb": _errors(comb_mse, horizon)}
    others = {**baselines, **stats}
    best_other = min(others, key=lambda n: others[n]["mse"])
    return {
        "final_model": "retrained",
        "models": {"retrained": _errors(model_mse, horizon)},
        "baselines": baselines,
        "statistical": stats,
        "best_baseline": "naive_last_value",
        "best_other": best_other,
        "beaten_by": sorted(
            (n for n in others if others[n]["mse"] < model_mse), key=lambda n: others[n]["mse"]
        ),
        "validation": validation,
        "horizon": horizon,
    }


def test_verdict_names_the_statistical_model_that_beats_the_lstm():
    test = _test_result(2.0, 1.0, {"model": 1.5, "comb": 1.2, "auto_ets": 3.0})
    assert verdict(test) == (
        "The Comb forecast beats the model: its test MSE is 1 against 2 for the retrained best "
        "configuration (50% lower). It was better on validation too (1.2 against 1.5), before "
        "the test split was looked at. Beaten by: Comb. Do not deploy this model as it is: use "
        "the Comb forecast, or try data.target_transform, another window_size, more trials or "
        "--retrain_epochs."
    )
    test = _test_result(2.0, 1.0, {"model": 1.1, "comb": 1.2})
    assert "On validation the retrained best configuration was better (1.1 against 1.2)." in (
        verdict(test)
    )


def test_verdict_beats_every_baseline_only_when_it_beats_the_statistical_models_too():
    test = _test_result(0.5, 1.0, {"model": 0.4, "comb": 1.2})
    assert verdict(test) == (
        "The retrained best configuration beats every baseline and statistical model on the "
        "test set: MSE 0.5 against 1 for the best of them (Comb); MASE 0.5."
    )
    test["statistical"] = {}
    test["best_other"] = "naive_last_value"
    assert verdict(test).startswith(
        "The retrained best configuration beats every free baseline on the test set (no "
        "statistical model was evaluated"
    )
    test["not_fitted"] = {"auto_ets": "NotImplementedError: tiny datasets"}
    assert "(no statistical model could be fitted: see the summary)" in verdict(test)


def test_verdict_per_step_for_longer_horizons():
    test = _test_result(1.0, 1.2, {}, horizon=2)
    test["models"]["retrained"]["mse_per_step"] = [0.5, 1.5]
    test["statistical"]["comb"]["mse_per_step"] = [1.0, 1.4]
    assert verdict(test).endswith(
        "Per step ahead, the retrained best configuration has the lowest test MSE at steps 1 of 2."
    )
