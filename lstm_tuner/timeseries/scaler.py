"""Per-column standardization fitted on the training split only (NumPy), optionally of the target's
natural log, and its JSON form, which the export's ``metadata.json`` and the retraining share."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_tuner.errors import DataError


@dataclasses.dataclass(frozen=True, eq=False)
class Scaler:
    """Per-column standardization, fitted on the training split only.

    With ``log_target`` the target (column 0) is standardized on the natural-log scale: the model
    sees and forecasts ``(log y - mean[0]) / scale[0]``, and :meth:`inverse_transform_target` maps
    back with ``exp`` (data.target_scale: log). Every target value must then be > 0.

    ``eq=False``: arrays have no single truth value, so scalers compare by identity.

    Attributes:
        mean: float64 ``[features]``, the training mean of each column (of ``log y`` for the target
            with ``log_target``).
        scale: float64 ``[features]``, the training standard deviation of each column; 1.0 for a
            constant column, so that it maps to 0 instead of dividing by zero.
        log_target: Whether column 0 is standardized on the log scale.
    """

    mean: np.ndarray
    scale: np.ndarray
    log_target: bool = False

    def __post_init__(self) -> None:
        mean = np.array(self.mean, dtype=np.float64, ndmin=1)
        scale = np.array(self.scale, dtype=np.float64, ndmin=1)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise DataError(
                f"Scaler: mean and scale must be 1-D of equal length, got shapes {mean.shape} and "
                f"{scale.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise DataError(
                f"Scaler: mean must be finite and scale finite and > 0, got mean {mean.tolist()} and "
                f"scale {scale.tolist()}"
            )
        mean.setflags(write=False)
        scale.setflags(write=False)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "scale", scale)

    @classmethod
    def fit(cls, values: np.ndarray, log_target: bool = False) -> Scaler:
        """Fits the scaler to the training part of a series.

        Args:
            values: ``[time, features]``, the training split only, so that no statistic of the
                validation or test data leaks into training.
            log_target: Standardize the target's natural log (every target value must be > 0).

        Returns:
            The fitted scaler.

        Raises:
            DataError: ``values`` is not 2-D, empty or not finite.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or len(values) == 0:
            raise DataError(
                f"Scaler.fit: values must have shape [time, features] with time >= 1, got shape "
                f"{values.shape}"
            )
        if not np.isfinite(values).all():
            raise DataError("Scaler.fit: values must be finite, got NaN or infinity")
        if log_target:
            values = _log_target(values, "Scaler.fit")
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        # Exact constancy test: the std of a constant float column can come out as 1e-17, not 0.
        constant = np.ptp(values, axis=0) == 0
        return cls(
            mean=mean, scale=np.where(constant | ~(std > 0), 1.0, std), log_target=log_target
        )

    @property
    def num_features(self) -> int:
        return len(self.mean)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Standardizes ``values``: ``(values - mean) / scale``, column by column.

        Args:
            values: ``[time, features]``.

        Returns:
            float64 ``[time, features]``, a new array.

        Raises:
            DataError: The number of columns differs from the fitted one.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.num_features:
            raise DataError(
                f"Scaler.transform: values must have shape [time, {self.num_features}], got shape "
                f"{values.shape}"
            )
        if self.log_target:
            values = _log_target(values, "Scaler.transform")
        return (values - self.mean) / self.scale

    def inverse_transform_target(self, y: np.ndarray) -> np.ndarray:
        """Maps scaled target values (column 0) back to the original units: ``y * scale[0] + mean[0]``,
        then ``exp`` of that with ``log_target``.

        Args:
            y: Any shape, e.g. predictions ``[batch, horizon]``.

        Returns:
            float64, the shape of ``y``.
        """
        level = np.asarray(y, dtype=np.float64) * self.scale[0] + self.mean[0]
        return np.exp(level) if self.log_target else level

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: ``{"mean": [...], "scale": [...], "log_target": bool}``."""
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "log_target": self.log_target,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scaler:
        """The inverse of :meth:`to_dict` (``log_target`` may be absent: a scaler written before it
        existed is linear).

        Raises:
            DataError: A key is missing or unknown, or the values break a rule of the scaler.
        """
        keys = set(data)
        if not {"mean", "scale"} <= keys <= {"mean", "scale", "log_target"}:
            raise DataError(
                f"Scaler.from_dict: keys must be ['mean', 'scale'] and optionally 'log_target', "
                f"got {sorted(keys)}"
            )
        log_target = data.get("log_target", False)
        if not isinstance(log_target, bool):
            raise DataError(
                f"Scaler.from_dict: log_target must be true or false, got {log_target!r}"
            )
        return cls(
            mean=np.asarray(data["mean"]), scale=np.asarray(data["scale"]), log_target=log_target
        )


#: ``data.target_scale: auto`` takes the log when Guerrero's Box-Cox lambda is below this: nearer 0
#: (the log) than 1 (no transform).
LOG_LAMBDA_BELOW = 0.5
#: ... and when the level moves: the highest mean of a stretch of the training split is at least
#: this many times the lowest. Where the level hardly moves the two scales forecast alike and the
#: lambda is noise (Guerrero's criterion compares spreads of stretches whose means are equal).
LOG_LEVEL_RATIO = 1.5


def level_ratio(train_target: np.ndarray, season_length: int | None) -> float:
    """The highest over the lowest mean of about 10 consecutive stretches of the training split,
    each a whole number of seasons (so that the season does not move the means)."""
    n = len(train_target)
    if season_length and season_length >= 2:
        length = season_length * max(1, (n // 10) // season_length)
    else:
        length = max(2, n // 10)
    count = n // length
    if count < 2:
        return 1.0
    means = train_target[n - count * length :].reshape(count, length).mean(axis=1)
    return float(means.max() / means.min())


def resolve_target_scale(
    setting: str, target: np.ndarray, train_end: int, season_length: int | None
) -> tuple[bool, str]:
    """Whether the model sees the target's log, and why.

    ``"auto"`` takes the log for a positive series whose spread grows with its level and whose
    level moves: Guerrero's method (coreforecast's ``boxcox_lambda``, as R's forecast package)
    picks the Box-Cox lambda that makes the ratio of spread to level most even across the
    training split's seasonal subseries (pairs of points without a season); a lambda below
    :data:`LOG_LAMBDA_BELOW` is nearer the log than no transform; and the level must vary by
    :data:`LOG_LEVEL_RATIO` (:func:`level_ratio`).

    Args:
        setting: ``data.target_scale``: ``"auto"``, ``"linear"`` or ``"log"``.
        target: The whole target, original units (``auto`` needs every value > 0: the windows of
            the later splits are logged too); the level and lambda are read from
            ``target[:train_end]`` only.
        train_end: Where the training split ends.
        season_length: The series' season, or ``None``.

    Returns:
        ``(log_target, reason)``; the reason is a phrase for the summary.
    """
    if setting != "auto":
        return setting == "log", f"data.target_scale: {setting}"
    if not (target > 0).all():
        return False, "auto: the series has values <= 0"
    train_target = np.ascontiguousarray(target[:train_end], dtype=np.float64)
    ratio = level_ratio(train_target, season_length)
    if ratio < LOG_LEVEL_RATIO:
        return (
            False,
            f"auto: the level varies {ratio:.2f}x over the training split (< {LOG_LEVEL_RATIO}x)",
        )
    from coreforecast.scalers import boxcox_lambda

    subseries = season_length if season_length and season_length >= 2 else 2
    lam = boxcox_lambda(train_target, "guerrero", season_length=subseries)
    log = bool(lam < LOG_LAMBDA_BELOW)
    return log, (
        f"auto: the level varies {ratio:.2f}x and Guerrero's Box-Cox lambda is {lam:.2f} "
        f"({'<' if log else '>='} {LOG_LAMBDA_BELOW})"
    )


def _log_target(values: np.ndarray, where: str) -> np.ndarray:
    """``values`` with column 0 replaced by its natural log; every target value must be > 0."""
    target = values[:, 0]
    if not (target > 0).all():
        bad = int(np.flatnonzero(~(target > 0))[0])
        raise DataError(
            f"{where}: a log-scale target must be > 0 everywhere, got {target[bad]:g} at row {bad}"
        )
    logged = values.copy()
    logged[:, 0] = np.log(target)
    return logged
