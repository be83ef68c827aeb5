"""The forecasts a user gets for free, and the errors every forecast is judged by.

Each baseline forecasts, from a window's origin ``t`` (its first target step), the next ``horizon``
values of the target in original units, using only the series before ``t``:

- naive: the last value, ``y[t-1]``;
- seasonal naive: the value one season before each target, ``y[t+k-m*(k//m+1)]``;
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

#: The baselines, in the order reports list them.
BASELINES = ("naive_last_value", "seasonal_naive", "drift", "training_mean")
#: How reports name each forecast: the models, then the baselines.
LABELS = {
    "retrained": "retrained best configuration",
    "best_trial": "best trial",
    "naive_last_value": "naive (last value)",
    "seasonal_naive": "seasonal naive",
    "drift": "drift",
    "training_mean": "training mean",
}
#: An autocorrelation peak below this is no season worth a seasonal-naive forecast.
MIN_SEASON_ACF = 0.3


def anchor_lags(horizon: int, season_length: int | None = None) -> np.ndarray:
    """How far back from a window's origin ``t`` each target step's reference value lies: 1 (the last
    value) for every step, or with a season ``m``, ``m * (k // m + 1) - k`` for step ``k`` (the
    value one season before the target, as the seasonal naive forecast takes it).

    Returns:
        int64 ``[horizon]``, each >= 1: step ``k``'s reference is ``y[t - lags[k]]``.
    """
    steps = np.arange(horizon)
    if not season_length or season_length < 2:
        return np.ones(horizon, dtype=np.int64)
    return season_length * (steps // season_length + 1) - steps


def detect_season(train: np.ndarray, max_lag: int | None = None) -> int | None:
    """The season length of a series, from its training split; ``None`` when it has none.

    Candidates are the lags (up to ``max_lag``, default a third of the series and at most 2,000),
    after the autocorrelation of the first differences has first fallen to zero, at which it comes
    back to :data:`MIN_SEASON_ACF` and above the 95% band of white noise (``2 / sqrt(n)``).
    Differencing removes trends, stochastic ones included, which would otherwise make every lag
    look correlated; waiting for the fall sets aside the few steps over which a smooth series'
    differences stay alike. Of those, the season is the one whose
    seasonal naive forecast fits the detrended split best (or the shortest of its divisors within 15% of its fit): in
    half-hourly demand, say, the weekly season beats the daily one, whose autocorrelation is higher.

    Args:
        train: The target's training split, original units, ``[time]``.
        max_lag: The longest season considered.
    """
    train = np.asarray(train, dtype=np.float64)
    diffs = np.diff(train)
    n = len(diffs)
    max_lag = min(min(n // 3, 2000) if max_lag is None else max_lag, n - 2)
    if max_lag < 3 or not np.std(diffs) > 0:
        return None
    centered = diffs - diffs.mean()
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centered, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 2]
    acf = acf / acf[0]
    # A season is a return of the correlation after it has died out: the lags before the first
    # one at which it is <= 0 (a smooth series' differences stay alike over a few steps) are none.
    nonpositive = np.flatnonzero(acf[1 : max_lag + 1] <= 0)
    first = int(nonpositive[0]) + 2 if len(nonpositive) else max_lag + 1
    lags = np.arange(max(2, first), max_lag + 1)
    peaks = lags[acf[lags] >= max(MIN_SEASON_ACF, 2 / np.sqrt(n))]
    if not len(peaks):
        return None
    # Judged without the linear trend (which would favour short lags), all on the same steps.
    steps = np.arange(len(train))
    level = train - np.polyval(np.polyfit(steps, train, 1), steps)
    start = int(peaks.max())
    fit = np.array([np.mean(np.abs(level[start:] - level[start - m : -m])) for m in peaks])
    # Multiples of the season fit as well, up to sampling noise: of the best lag and its divisors,
    # the shortest within 15% of the best fit is the season.
    best = int(peaks[np.argmin(fit)])
    tolerance = 0.15 * fit.min() + 1e-9 * np.std(level)
    close = (fit <= fit.min() + tolerance) & (best % peaks == 0)
    return int(peaks[close].min())


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
    out = {}
    for name in BASELINES:
        predicted = forecast(
            name,
            series,
            origins,
            actual.shape[1],
            train_end=train_end,
            season_length=season_length,
        )
        if predicted is not None:
            out[name] = errors(predicted, actual, scale)
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
