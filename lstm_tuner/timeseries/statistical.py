"""The statistical models a forecaster compares a neural network with: AutoETS, AutoARIMA, AutoTheta
and Comb, their mean (the M3/M4 competitions' benchmark), from statsforecast.

Each model is fitted once per split on the points before the split (a bounded tail of them, see
``history``) and then run forward with its parameters fixed: the forecast from an origin ``t`` is
``model.forward(y[lo:t], h)``, so it sees only the observations before ``t``. That is one call per
origin rather than one pass with ``fitted=True``, because not every model's in-sample path is
causal: AutoTheta's ``forward`` reruns its seasonality test and decomposition on the series it is
given, and AutoARIMA's fitted values move when the observation they forecast moves.

- AutoETS and AutoTheta run forward from the start of their fitting window ``lo``, where their
  fitted initial states (level, trend, seasonal phase) belong.
- AutoARIMA's Kalman filter starts from a diffuse state and its coefficients hold at any phase, so
  it runs forward over the last ``4 * season + 200`` points only (:func:`arima_window`): on the
  built-in series its forecasts equal those from 1,000 points to 3e-10, and one call costs the same
  at every origin.

Seasons: AutoETS supports seasons up to 24 steps (statsforecast's limit), and so does AutoARIMA here
(:data:`MAX_SEASON`): its state grows with the season, and with a 48-step season its forward calls
over the 600 test origins of a half-hourly series took more than 7 minutes. A longer season is
replaced by the strongest one the model supports (hourly data with a weekly season: the day), or
dropped, and the report says so. AutoTheta's decomposition takes any season with two
full cycles of history.

With inputs known in advance (``data.future_features``), AutoARIMA is also fitted with them as
regressors (``auto_arima_x``: a regression on them with ARIMA errors, statsforecast's ``X`` and
``X_future``), so that the LSTM that reads them is compared with a statistical model that does too;
Comb stays the mean of the three univariate models.

A model that fails to fit or to forecast is reported as not fitted, with the reason; the others go
on. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from lstm_tuner.timeseries.baselines import LABELS as BASELINE_LABELS
from lstm_tuner.timeseries.season import detect_season

#: The models, in the order reports list them; ``comb`` is their mean.
MODELS = ("auto_ets", "auto_arima", "auto_theta")
COMB = "comb"
#: AutoARIMA with the future features as regressors, fitted where a run has them.
ARIMA_X = "auto_arima_x"
_ARIMAS = ("auto_arima", ARIMA_X)
MODEL_LABELS = {
    "auto_ets": "AutoETS",
    "auto_arima": "AutoARIMA",
    "auto_theta": "AutoTheta",
    ARIMA_X: "ARIMAX",  # AutoARIMA with the future features as regressors
    COMB: "Comb",
}
#: How reports name every forecast: the LSTM models, the free baselines, the statistical models.
LABELS = {**BASELINE_LABELS, **MODEL_LABELS}
#: The longest season each model is fitted with; ``None``: no limit.
MAX_SEASON = {"auto_ets": 24, "auto_arima": 24, ARIMA_X: 24, "auto_theta": None}
#: Default number of points before a split that a model is fitted on (docs/benchmarks.md).
DEFAULT_HISTORY = 1000


@dataclasses.dataclass(frozen=True)
class StatisticalForecasts:
    """What :func:`forecast_statistical` produced for one split.

    Attributes:
        forecasts: Model name -> ``[windows, horizon]`` forecasts, original units; ``comb`` among
            them when at least one model was fitted.
        models: Model name -> what was fitted, e.g. ``"ETS(A,N,A)"`` or ``"ARIMA(1,1,1)(0,1,1)[24]"``.
        season_lengths: Model name -> the season it was fitted with (``None``: none).
        notes: Model name -> why its season differs from the series' (too long for the model).
        not_fitted: Model name -> the reason it has no forecasts.
        fit_range: ``(lo, end)``: the points ``y[lo:end]`` the models were fitted on.
        intervals: Model name -> level -> ``(lower, upper)``, each ``[windows, horizon]``: the
            model's own prediction intervals (statsforecast's ``level=``), when levels were asked
            for; Comb has none.
    """

    forecasts: dict[str, np.ndarray]
    models: dict[str, str]
    season_lengths: dict[str, int | None]
    notes: dict[str, str]
    not_fitted: dict[str, str]
    fit_range: tuple[int, int]
    intervals: dict[str, dict[float, tuple[np.ndarray, np.ndarray]]] = dataclasses.field(
        default_factory=dict
    )


def _season_for(
    name: str, season_length: int | None, history: int, detect: Callable[[int], int | None]
) -> tuple[int | None, str]:
    """The season a model is fitted with, and a note when it is not the series' own.

    A season longer than the model supports is replaced by ``detect(limit)``, the season detected
    among the lags it supports: in hourly data whose season is the week, the day.
    """
    if not season_length or season_length < 2:
        return None, ""
    limit = MAX_SEASON[name]
    if limit is not None and season_length > limit:
        shorter = detect(limit)
        if shorter and history >= 2 * shorter:
            return shorter, (
                f"season {season_length} is longer than {LABELS[name]} supports ({limit}): "
                f"fitted with the season {shorter}, the strongest one it supports"
            )
        return None, (
            f"season {season_length} is longer than {LABELS[name]} supports ({limit}): "
            "fitted without a season"
        )
    if history < 2 * season_length:
        return None, (
            f"{history} points of history hold fewer than two seasons of {season_length}: "
            "fitted without a season"
        )
    return season_length, ""


def arima_window(season: int | None, history: int) -> int:
    """How many points before an origin AutoARIMA's filter runs over to forecast from it."""
    return min(history, 4 * (season or 1) + 200)


def _make_model(name: str, season: int | None):
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    m = season or 1
    if name == "auto_ets":
        return AutoETS(season_length=m)
    if name in _ARIMAS:
        # approximation=True selects the orders by conditional sums of squares, as R's auto.arima
        # does for long series: the same model on the built-in series in 1.3 s instead of 14 s.
        return AutoARIMA(season_length=m, approximation=True)
    if name == "auto_theta":
        return AutoTheta(season_length=m)
    raise ValueError(f"model must be one of {list(MODELS)}, got {name!r}")


def _describe(name: str, model) -> str:
    fitted = model.model_
    if name == "auto_ets":
        return str(fitted["method"])
    if name in _ARIMAS:
        p, q, sp, sq, m, d, sd = fitted["arma"]
        seasonal = f"({sp},{sd},{sq})[{m}]" if m > 1 and sp + sd + sq else ""
        return f"ARIMA({p},{d},{q}){seasonal}"
    return f"Theta ({fitted['modeltype']})"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text[:200]}"


def forecast_statistical(
    series: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    *,
    fit_end: int,
    season_length: int | None,
    history: int = DEFAULT_HISTORY,
    models: Sequence[str] = MODELS,
    levels: Sequence[float] = (),
    regressors: np.ndarray | None = None,
) -> StatisticalForecasts:
    """Each model's ``horizon``-step forecasts from every origin, with parameters fitted once.

    Args:
        series: The target, ``[time]``, original units.
        origins: Each forecast's first target step; all ``>= fit_end``.
        horizon: Steps forecast from each origin.
        fit_end: The models are fitted on ``series[max(0, fit_end - history):fit_end]``.
        season_length: The series' season (``None`` or 1: none).
        history: How many points before ``fit_end`` the models are fitted on.
        models: Which of :data:`MODELS` to fit.
        levels: The prediction intervals' levels (percent) each model also gives.
        regressors: Inputs known in advance, ``[time, k]`` aligned with ``series`` (row ``t``: their
            values at step ``t``), original units: with ``auto_arima`` among ``models``,
            :data:`ARIMA_X` is fitted with them too, and its forecast from ``t`` reads them at
            ``t .. t + horizon - 1``.

    Returns:
        The forecasts, the fitted models, and the reasons of those that could not be fitted.
    """
    series = np.asarray(series, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    if len(origins) and origins.min() < fit_end:
        raise ValueError(f"every origin must be >= fit_end ({fit_end}), got {origins.min()}")
    lo = max(0, fit_end - history)
    forecasts: dict[str, np.ndarray] = {}
    described: dict[str, str] = {}
    seasons: dict[str, int | None] = {}
    notes: dict[str, str] = {}
    not_fitted: dict[str, str] = {}
    intervals: dict[str, dict[float, tuple[np.ndarray, np.ndarray]]] = {}
    # statsforecast names a bound f"lo-{level}": 80 gives "lo-80", 80.0 "lo-80.0".
    levels = [int(v) if float(v).is_integer() else float(v) for v in levels]
    # The models that share a season limit (ETS and ARIMA) share one detection.
    detect = functools.cache(lambda limit: detect_season(series[lo:fit_end], max_lag=limit))
    if regressors is not None:
        regressors = np.asarray(regressors, dtype=np.float64).reshape(len(series), -1)
    with_x = regressors is not None and regressors.shape[1] > 0 and "auto_arima" in models

    def past(name: str, start: int, end: int) -> dict[str, np.ndarray]:
        """ARIMAX's regressors over the observations ``[start, end)``."""
        return {"X": regressors[start:end]} if name == ARIMA_X else {}

    def ahead(name: str, origin: int) -> dict[str, np.ndarray]:
        """ARIMAX's regressors at the ``horizon`` steps it forecasts from ``origin``."""
        return {"X_future": regressors[origin : origin + horizon]} if name == ARIMA_X else {}

    for name in (*models, *((ARIMA_X,) if with_x else ())):
        season, note = _season_for(name, season_length, fit_end - lo, detect)
        seasons[name] = season
        if note:
            notes[name] = note
        model = _make_model(name, season)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                model.fit(series[lo:fit_end], **past(name, lo, fit_end))
                starts = np.full(len(origins), lo)
                if name in _ARIMAS:
                    starts = np.maximum(lo, origins - arima_window(season, history))
                outputs = [
                    model.forward(
                        series[s:t],
                        horizon,
                        **past(name, s, t),
                        **ahead(name, t),
                        **({"level": levels} if levels else {}),
                    )
                    for s, t in zip(starts, origins, strict=True)
                ]
                predicted = _stack(outputs, "mean", horizon)
                bands = {
                    float(level): (
                        _stack(outputs, f"lo-{level}", horizon),
                        _stack(outputs, f"hi-{level}", horizon),
                    )
                    for level in levels
                }
                description = _describe(name, model)
                if name == ARIMA_X:
                    k = regressors.shape[1]
                    description += f" with {k} regressor{'s' if k > 1 else ''}"
        except Exception as e:  # noqa: BLE001 - any library failure is reported, never a crash
            not_fitted[name] = _one_line(e)
            continue
        if not np.all(np.isfinite(predicted)):
            not_fitted[name] = "its forecasts are not finite"
            continue
        forecasts[name] = predicted
        described[name] = description
        if all(np.all(np.isfinite(band)) for pair in bands.values() for band in pair):
            intervals[name] = bands
    if any(name in forecasts for name in MODELS):
        forecasts[COMB] = np.mean([forecasts[name] for name in MODELS if name in forecasts], axis=0)
        described[COMB] = "mean of " + ", ".join(
            LABELS[name] for name in MODELS if name in described
        )
        seasons[COMB] = None
    return StatisticalForecasts(
        forecasts, described, seasons, notes, not_fitted, (lo, fit_end), intervals
    )


def _stack(outputs: list[dict], key: str, horizon: int) -> np.ndarray:
    """One output of every ``forward`` call, ``[origins, horizon]``."""
    return np.array([np.asarray(out[key]) for out in outputs], dtype=np.float64).reshape(
        len(outputs), horizon
    )
