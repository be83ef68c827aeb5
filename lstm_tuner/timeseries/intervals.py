"""Prediction intervals by split conformal prediction, per step ahead.

A point forecaster's intervals are calibrated on windows it was not fitted on (the validation
split): for each step ahead ``k`` the nonconformity score of a window is ``|y_k - yhat_k|``
(``scale="additive"``) or ``|y_k - yhat_k| / |yhat_k|`` (``scale="relative"``, bands that grow with
the forecast, for multiplicative series). The band at level ``L`` is ``yhat_k +- q_k`` (or
``yhat_k +- q_k * |yhat_k|``), where ``q_k`` is the ``ceil((n + 1) L / 100)``-th smallest of the
``n`` scores: the finite-sample quantile of split conformal prediction (Vovk et al. 2005;
Lei et al. 2018, "Distribution-free predictive inference for regression"), which covers at least
``L``% of exchangeable new windows. One band per step ahead is the per-horizon split conformal of
Stankeviciute et al. 2021 (without their Bonferroni step: each step is covered at ``L``%).

A level needs ``n >= 1 / (1 - L/100) - 1`` calibration windows (19 for 95%); with fewer it cannot be
calibrated and is left out, with the reason, rather than given an infinite band.

Time series are not exchangeable; how far coverage holds on data the model never saw is measured,
not assumed: :func:`interval_scores` (coverage, mean width, Winkler score) and
:func:`calibrated_band` (the range of coverage a perfectly calibrated method would show for the
numbers of calibration and test windows) are what the reports use, per level in
:func:`interval_report`; ``docs/benchmarks.md`` gives the figures on public series. Nothing here
imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lstm_tuner.names import INTERVAL_SCALES as SCALES

METHOD = "split conformal per step ahead (finite-sample quantile of validation residuals)"


def level_name(level: float) -> str:
    """How an output names a level: ``80`` -> ``"80"``, ``97.5`` -> ``"97_5"``."""
    text = f"{float(level):g}"
    if "e" in text:
        raise ValueError(f"level must be a plain number between 0 and 100, got {level!r}")
    return text.replace(".", "_")


def band_names(level: float) -> tuple[str, str]:
    """The output names of a level's bounds: ``("lower_80", "upper_80")``."""
    name = level_name(level)
    return f"lower_{name}", f"upper_{name}"


def min_calibration_windows(level: float) -> int:
    """The fewest calibration windows with which split conformal can give a finite band at
    ``level`` percent: ``ceil((n + 1) L / 100) <= n``."""
    n = 1
    while math.ceil((n + 1) * level / 100 - 1e-9) > n:
        n += 1
    return n


@dataclasses.dataclass(frozen=True)
class ConformalIntervals:
    """Calibrated offsets of a point forecaster, per level and step ahead.

    Attributes:
        levels: The levels that could be calibrated, in percent, in the order asked.
        offsets: ``level -> [horizon]`` quantiles of the scores (original units for ``additive``,
            fractions of ``|forecast|`` for ``relative``).
        scale: ``"additive"`` or ``"relative"``.
        calibration_windows: How many windows the offsets come from.
        dropped: ``level -> reason`` for the levels asked for but left out.
    """

    levels: tuple[float, ...]
    offsets: Mapping[float, np.ndarray]
    scale: str
    calibration_windows: int
    dropped: Mapping[float, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def calibrate(
        cls,
        predicted: np.ndarray,
        actual: np.ndarray,
        levels: Sequence[float],
        scale: str = "additive",
    ) -> ConformalIntervals:
        """Offsets from a forecaster's predictions on calibration windows.

        Args:
            predicted / actual: ``[windows, horizon]`` (or ``[windows]``), in the units the bands
                will be in.
            levels: Percentages in (0, 100).
            scale: One of :data:`SCALES`.

        Raises:
            ValueError: a bad level or scale, or shapes that differ.
        """
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {list(SCALES)}, got {scale!r}")
        predicted, actual = _as_2d(predicted), _as_2d(actual)
        if predicted.shape != actual.shape:
            raise ValueError(
                f"predicted and actual must have one shape, got {predicted.shape} and "
                f"{actual.shape}"
            )
        scores = np.abs(actual - predicted)
        if scale == "relative":
            with np.errstate(divide="ignore", invalid="ignore"):
                scores = np.where(np.abs(predicted) > 0, scores / np.abs(predicted), np.inf)
        n = len(scores)
        offsets: dict[float, np.ndarray] = {}
        dropped: dict[float, str] = {}
        for level in levels:
            level = float(level)
            if not 0 < level < 100:
                raise ValueError(f"levels must lie in (0, 100), got {level}")
            needed = min_calibration_windows(level)
            if n < needed:
                dropped[level] = (
                    f"the {level:g}% interval needs at least {needed} calibration windows, "
                    f"got {n}: left out"
                )
                continue
            rank = math.ceil((n + 1) * level / 100 - 1e-9)  # 1-based
            offsets[level] = np.sort(scores, axis=0)[rank - 1].astype(np.float64)
        return cls(tuple(offsets), offsets, scale, n, dropped)

    def bands(self, predicted: np.ndarray) -> dict[str, np.ndarray]:
        """``lower_<level>`` and ``upper_<level>`` around ``predicted`` ``[windows, horizon]``."""
        predicted = np.asarray(predicted, dtype=np.float64)
        out = {}
        for level in self.levels:
            width = self.offsets[level]
            if self.scale == "relative":
                width = width * np.abs(predicted)
            lower, upper = band_names(level)
            out[lower] = predicted - width
            out[upper] = predicted + width
        return out

    def predict(self, model: Any, x: Any, **predict_kwargs: Any) -> dict[str, np.ndarray]:
        """``model.predict(x)`` with its bands: ``prediction``, ``lower_<level>``, ``upper_<level>``."""
        predicted = _as_2d(model.predict(x, verbose=0, **predict_kwargs))
        return {"prediction": predicted, **self.bands(predicted)}

    def to_dict(self) -> dict[str, Any]:
        """As ``metadata.json`` and ``evaluation.json`` record it."""
        return {
            "method": METHOD,
            "scale": self.scale,
            "levels": list(self.levels),
            "calibration_windows": self.calibration_windows,
            "offsets": {level_name(lv): [float(v) for v in self.offsets[lv]] for lv in self.levels},
            **(
                {"dropped": {f"{lv:g}": r for lv, r in self.dropped.items()}}
                if self.dropped
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConformalIntervals:
        levels = tuple(float(v) for v in data["levels"])
        offsets = {lv: np.asarray(data["offsets"][level_name(lv)], np.float64) for lv in levels}
        dropped = {float(k): v for k, v in (data.get("dropped") or {}).items()}
        return cls(levels, offsets, data["scale"], int(data["calibration_windows"]), dropped)


def _as_2d(values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(len(values), -1)


def interval_scores(
    lower: np.ndarray, upper: np.ndarray, actual: np.ndarray, level: float
) -> dict[str, float]:
    """How an interval did: the share of actual values inside it (``coverage``, 0-1), its mean
    width, and the mean interval (Winkler) score: width plus ``2 / alpha`` times the distance by
    which a value falls outside (Gneiting & Raftery 2007); lower is better."""
    lower, upper, actual = (np.asarray(a, dtype=np.float64) for a in (lower, upper, actual))
    alpha = 1 - level / 100
    below = np.maximum(lower - actual, 0)
    above = np.maximum(actual - upper, 0)
    return {
        "coverage": float(np.mean((actual >= lower) & (actual <= upper))),
        "mean_width": float(np.mean(upper - lower)),
        "winkler": float(np.mean(upper - lower + 2 / alpha * (below + above))),
    }


def calibrated_band(
    calibration_windows: int | None, test_windows: int, level: float, mass: float = 0.95
) -> tuple[float, float]:
    """The range (0-1) that holds ``mass`` of the test coverage a perfectly calibrated interval
    shows, for these numbers of exchangeable calibration and test windows.

    A split conformal interval's coverage given its ``n`` calibration windows is
    Beta(k, n + 1 - k) with ``k = ceil((n + 1) L)``; the test share is then beta-binomial over
    ``test_windows``. With 50 windows each, a perfect 80% interval lands between 64% and 94%.
    With ``calibration_windows=None`` (an interval whose coverage is exactly ``L``, as a model's
    own intervals claim) the share is binomial.
    """
    from scipy import stats

    m = int(test_windows)
    if m < 1:
        return 0.0, 1.0
    if calibration_windows is None:
        dist = stats.binom(m, level / 100)
    else:
        n = int(calibration_windows)
        k = math.ceil((n + 1) * level / 100 - 1e-9)
        if k > n:
            return 0.0, 1.0
        dist = stats.betabinom(m, k, n + 1 - k)
    tail = (1 - mass) / 2
    return float(dist.ppf(tail)) / m, float(dist.ppf(1 - tail)) / m


def interval_report(
    bands: dict[float, tuple[np.ndarray, np.ndarray]],
    actual: np.ndarray,
    calibration_windows: int | None,
) -> dict[str, dict[str, Any]]:
    """Per level: coverage, mean width and Winkler score on the test split, per step too, and
    the range of coverage a calibrated interval shows with these numbers of windows (an exact
    interval's when ``calibration_windows`` is ``None``)."""
    out = {}
    for level, (lower, upper) in bands.items():
        report = interval_scores(lower, upper, actual, level)
        report["coverage_per_step"] = [
            interval_scores(lower[:, k], upper[:, k], actual[:, k], level)["coverage"]
            for k in range(actual.shape[1])
        ]
        lo, hi = calibrated_band(calibration_windows, len(actual), level)
        report["calibrated_range"] = [lo, hi]
        report["calibrated"] = bool(lo <= report["coverage"] <= hi)
        out[level_name(level)] = {"level": level, **report}
    return out
