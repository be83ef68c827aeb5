"""Per-column standardization fitted on the training split only (NumPy), and its JSON form, which the
export's ``metadata.json`` and the retraining share."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_tuner.errors import DataError


@dataclasses.dataclass(frozen=True, eq=False)
class Scaler:
    """Per-column standardization, fitted on the training split only.

    ``eq=False``: arrays have no single truth value, so scalers compare by identity.

    Attributes:
        mean: float64 ``[features]``, the training mean of each column.
        scale: float64 ``[features]``, the training standard deviation of each column; 1.0 for a
            constant column, so that it maps to 0 instead of dividing by zero.
    """

    mean: np.ndarray
    scale: np.ndarray

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
    def fit(cls, values: np.ndarray) -> Scaler:
        """Fits the scaler to the training part of a series.

        Args:
            values: ``[time, features]``, the training split only, so that no statistic of the
                validation or test data leaks into training.

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
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        # Exact constancy test: the std of a constant float column can come out as 1e-17, not 0.
        constant = np.ptp(values, axis=0) == 0
        return cls(mean=mean, scale=np.where(constant | ~(std > 0), 1.0, std))

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
        return (values - self.mean) / self.scale

    def inverse_transform_target(self, y: np.ndarray) -> np.ndarray:
        """Maps scaled target values (column 0) back to the original units: ``y * scale[0] + mean[0]``.

        Args:
            y: Any shape, e.g. predictions ``[batch, horizon]``.

        Returns:
            float64, the shape of ``y``.
        """
        return np.asarray(y, dtype=np.float64) * self.scale[0] + self.mean[0]

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-friendly form: ``{"mean": [...], "scale": [...]}``."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scaler:
        """The inverse of :meth:`to_dict`.

        Raises:
            DataError: A key is missing or unknown, or the values break a rule of the scaler.
        """
        keys = set(data)
        if keys != {"mean", "scale"}:
            raise DataError(f"Scaler.from_dict: keys must be ['mean', 'scale'], got {sorted(keys)}")
        return cls(mean=np.asarray(data["mean"]), scale=np.asarray(data["scale"]))
