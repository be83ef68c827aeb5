"""The forecasts a user gets for free, and the errors every forecast is judged by.

Each baseline forecasts, from a window's origin ``t`` (its first target step), the next ``horizon``
values of the target in original units, using only the series before ``t``:

- naive: the last value, ``y[t-1]``;
- seasonal naive: the value one season before each target, ``y[t+k-m*(k//m+1)]``;
- seasonal naive + growth: that value plus the last season's growth, ``q (y[t-1] - y[t-1-m])`` for
  ``q = k//m + 1`` seasons ahead (the seasonal random walk with drift, and the anchor of the
  ``seasonal_growth`` model: reported so that the LSTM earns credit only beyond its own anchor,
  as it must beat naive for ``delta`` and seasonal naive for ``seasonal_delta``);
- drift: the last value plus the average change so far, ``y[t-1] + (k+1)*(y[t-1]-y[0])/(t-1)``;
- training mean: the mean of the training split.

Metrics are MSE, MAE and MASE, the MAE scaled by the in-sample (training split) MAE of the seasonal
naive forecast, one step ahead (Hyndman & Koehler, 2006), so that MASE < 1 beats that baseline on
average. The season length is ``data.season_length`` or detected from the training split (the
strongest peak of the autocorrelation of its first differences). Plain NumPy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from lstm_tuner.timeseries.season import anchor_lags, anchor_matrix

#: The baselines, in the order reports list them.
BASELINES = ("naive_last_value", "seasonal_naive", "seasonal_growth", "drift", "training_mean")
#: How reports name each forecast: the models, then the baselines.
LABELS = {
    "retrained": "retrained best configuration",
    "best_trial": "best trial",
    "naive_last_value": "naive (last value)",
    "seasonal_naive": "seasonal naive",
    "seasonal_growth": "seasonal naive + last season's growth",
    "drift": "drift",
    "training_mean": "training mean",
    "model_anchor": "model's own anchor (no LSTM)",
}


def forecast(
    name: str,
    series: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    *,
    train_end: int,
    season_length: int | None,
) -> np.ndarray | None:
    """One baseline's forecasts ``[windows, horizon]`` in the units of ``series``.

    Args:
        name: One of :data:`BASELINES`.
        series: The target, ``[time]``, original units.
        origins: Each window's first target step.
        horizon: Steps forecast from each origin.
        train_end: The end of the training split (for the training mean).
        season_length: For the seasonal naive forecast; ``None`` or 1 means it is not computed.

    Returns:
        The forecasts, or ``None`` for a seasonal naive forecast without a season (or one longer
        than the history of some origin).
    """
    series = np.asarray(series, dtype=np.float64)
    origins = np.asarray(origins)
    steps = np.arange(horizon)
    last = series[origins - 1][:, None]
    if name == "naive_last_value":
        return np.repeat(last, horizon, axis=1)
    if name == "seasonal_naive":
        if not season_length or season_length < 2:
            return None
        back = origins[:, None] - anchor_lags(horizon, season_length)
        return series[back] if back.min() >= 0 else None
    if name == "seasonal_growth":
        if not season_length or season_length < 2:
            return None
        matrix = anchor_matrix(horizon, season_length, growth=True)
        back = origins[:, None] - np.arange(1, len(matrix) + 1)
        return series[back] @ matrix if back.min() >= 0 else None
    if name == "drift":
        span = np.maximum(origins - 1, 1)[:, None]
        slope = (last - series[0]) / span
        return last + (steps + 1) * slope
    if name == "training_mean":
        return np.full((len(origins), horizon), series[:train_end].mean())
    raise ValueError(f"baseline must be one of {list(BASELINES)}, got {name!r}")


def mase_scale(train: np.ndarray, season_length: int | None) -> float:
    """The in-sample MAE of the one-step seasonal naive forecast (naive when there is no season)."""
    train = np.asarray(train, dtype=np.float64)
    m = season_length if season_length and season_length < len(train) else 1
    scale = float(np.mean(np.abs(train[m:] - train[:-m])))
    return scale if scale > 0 else float("nan")


def errors(
    predicted: np.ndarray, actual: np.ndarray, scale: float
) -> dict[str, float | list[float]]:
    """MSE, MAE and MASE over all windows and steps, and each per step ahead (1..h)."""
    err = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return {
        "mse": float(np.mean(err**2)),
        "mae": float(np.mean(np.abs(err))),
        "mase": float(np.mean(np.abs(err)) / scale),
        "mse_per_step": np.mean(err**2, axis=0).tolist(),
        "mae_per_step": np.mean(np.abs(err), axis=0).tolist(),
    }


def evaluate_baselines(
    series: np.ndarray,
    origins: np.ndarray,
    actual: np.ndarray,
    *,
    train_end: int,
    season_length: int | None,
    scale: float,
) -> dict[str, dict[str, float | list[float]]]:
    """Every baseline that can be computed, with its errors on the windows at ``origins``."""
    predicted = forecast_all(
        series, origins, actual.shape[1], train_end=train_end, season_length=season_length
    )
    return {name: errors(p, actual, scale) for name, p in predicted.items()}


def forecast_all(
    series: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    *,
    train_end: int,
    season_length: int | None,
) -> dict[str, np.ndarray]:
    """Every baseline that can be computed: name -> ``[windows, horizon]`` forecasts."""
    out = {}
    for name in BASELINES:
        predicted = forecast(
            name, series, origins, horizon, train_end=train_end, season_length=season_length
        )
        if predicted is not None:
            out[name] = predicted
    return out


def best_baseline(results: Mapping[str, Mapping[str, float]], metric: str = "mse") -> str:
    """The name of the baseline with the lowest ``metric``."""
    return min(results, key=lambda name: results[name][metric])


def winners_over(
    model: Mapping[str, float], baselines: Mapping[str, Mapping[str, float]], metrics: Sequence[str]
) -> list[str]:
    """The baselines that beat the model on any of ``metrics``, best first."""
    beating = [
        name for name, result in baselines.items() if any(result[m] < model[m] for m in metrics)
    ]
    return sorted(beating, key=lambda name: baselines[name][metrics[0]])
