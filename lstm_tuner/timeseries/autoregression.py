"""A ridge autoregression on the window: the ``linear_ar`` model's anchor. Plain NumPy.

Each target step is a linear function of every value in the window (all its features, so inputs
known in advance count too) plus an intercept, fitted by ridge regression in closed form on the
training windows. It is the linear part of the hybrids that won the M4 competition and of LSTNet's
"autoregressive highway": a long AR (an ARX with features) approximates what AutoARIMA fits, and the
LSTM then only has to learn what the linear forecast misses.

The ridge penalty is chosen in time order, as a forecaster would: fitted on the first 80% of the
training windows, each penalty of :data:`PENALTIES` is scored on the last 20%, and the best one is
refitted on every training window. Leave-one-out or generalized cross-validation would score each
window with its overlapping neighbours in the fit, which favours too little shrinkage.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: The ridge penalties tried, per window (the penalty on the weights is ``penalty * n``, ``n`` the
#: number of windows, on inputs the scaler has standardized).
PENALTIES: tuple[float, ...] = tuple(float(p) for p in 10.0 ** np.arange(-6.0, 3.5, 0.5))
#: The share of the training windows, the latest ones, that chooses the penalty.
HOLDOUT_FRACTION = 0.2
#: Below this many held-out windows the penalty is not chosen but set to :data:`DEFAULT_PENALTY`.
MIN_HOLDOUT = 5
DEFAULT_PENALTY = 1e-2
#: The regression reads at most this many inputs (``window * features``): its cost grows with
#: their cube, and a longer window than this is no autoregression a forecaster would fit.
MAX_INPUTS = 2048
#: It is fitted on at most this many training windows, the latest (a bounded history, as the
#: statistical models' ``evaluation.statistical_history``); memory is this times the inputs.
MAX_WINDOWS = 20_000


@dataclasses.dataclass(frozen=True)
class RidgeAR:
    """``forecast = flat_window @ weights + intercept``; ``flat_window`` is ``[n, window * features]``
    in the window's time order, feature-minor (``window.reshape(n, -1)``)."""

    weights: np.ndarray  # [window * features, horizon]
    intercept: np.ndarray  # [horizon]
    penalty: float

    def forecast(self, windows: np.ndarray) -> np.ndarray:
        return self._slopes(windows) + self.intercept

    def changes(self, windows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """What the weights leave of each target, intercept included, ``[n, horizon]``: the
        changes a ``linear_ar`` model's head forecasts (their mean is the intercept)."""
        return np.asarray(targets, dtype=np.float64).reshape(len(windows), -1) - self._slopes(
            windows
        )

    def _slopes(self, windows: np.ndarray) -> np.ndarray:
        flat = np.asarray(windows, dtype=np.float64).reshape(len(windows), -1)
        return flat @ self.weights


def _ridge_path(x: np.ndarray, y: np.ndarray, penalties: tuple[float, ...]):
    """``(weights, intercept)`` of the ridge regression with a free intercept for each penalty,
    from one SVD of the centered inputs."""
    mean_x, mean_y = x.mean(axis=0), y.mean(axis=0)
    u, s, vt = np.linalg.svd(x - mean_x, full_matrices=False)
    projected = u.T @ (y - mean_y)
    for penalty in penalties:
        weights = vt.T @ ((s / (s**2 + penalty * len(x)))[:, None] * projected)
        yield weights, mean_y - mean_x @ weights


def fit_ridge_ar(windows: np.ndarray, targets: np.ndarray) -> RidgeAR:
    """Fits the ridge autoregression on training windows in time order (the latest
    :data:`MAX_WINDOWS` of them).

    Args:
        windows: ``[n, window, features]`` (or ``[n, window]``), oldest first.
        targets: ``[n, horizon]`` (or ``[n]``).

    Raises:
        ValueError: fewer than 2 windows, a count that differs from the targets', or more than
            :data:`MAX_INPUTS` inputs per window.
    """
    x = np.asarray(windows, dtype=np.float64)
    x = x.reshape(len(x), -1)[-MAX_WINDOWS:]
    y = np.asarray(targets, dtype=np.float64)
    y = y.reshape(len(y), -1)[-MAX_WINDOWS:]
    if len(x) < 2 or len(y) != len(x):
        raise ValueError(
            f"linear_ar: a ridge autoregression needs at least 2 training windows with one "
            f"target row each, got {len(windows)} windows and {len(targets)} targets"
        )
    if x.shape[1] > MAX_INPUTS:
        raise ValueError(
            f"linear_ar: a window of {x.shape[1]} values (window_size x features) is more than "
            f"the {MAX_INPUTS} a ridge autoregression reads"
        )
    held = int(round(len(x) * HOLDOUT_FRACTION))
    penalty = DEFAULT_PENALTY
    if held >= MIN_HOLDOUT and len(x) - held >= 2:
        out_x, out_y = x[-held:], y[-held:]
        errors = [
            float(np.mean((out_x @ weights + intercept - out_y) ** 2))
            for weights, intercept in _ridge_path(x[:-held], y[:-held], PENALTIES)
        ]
        penalty = PENALTIES[int(np.argmin(errors))]
    weights, intercept = next(_ridge_path(x, y, (penalty,)))
    return RidgeAR(weights, intercept, penalty)
