"""The layers of the LSTM's delta head: :class:`DeltaToLevel` turns a forecast change back into a
level from a reference read off the window (the last value, the seasonal naive one, or a ridge
autoregression: :func:`ridge_anchor`), and :class:`SubtractLastValue` shows the LSTM each window
relative to where it ends. Both are registered Keras layers, saved with the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from lstm_tuner.timeseries.autoregression import fit_ridge_ar
from lstm_tuner.timeseries.season import anchor_matrix


def ridge_anchor(windows: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A ``linear_ar`` anchor fitted on training windows in time order: the ridge's weights
    ``[window * features, horizon]`` and the training changes it leaves ``[windows, horizon]``."""
    ridge = fit_ridge_ar(windows, targets)
    return ridge.weights, ridge.changes(windows, targets)


@keras.saving.register_keras_serializable(package="lstm_tuner")
class DeltaToLevel(keras.layers.Layer):
    """``reference + change * scale + offset``: a forecast of the change, back to a level.

    The reference of target step ``k`` is the window's last target value (``delta``), or with a
    ``season_length`` the target value one season before step ``k`` (``seasonal_delta``: the seasonal
    naive forecast), plus with ``growth`` the growth over the last season (``seasonal_growth``: the
    seasonal random walk with drift), taken from the window (see
    :func:`lstm_tuner.timeseries.season.anchor_matrix`). With ``fitted`` (``linear_ar``) the
    reference is a ridge autoregression on the whole window (every feature), whose weights
    (``anchor``, ``[window * features, horizon]``, not trained by gradient) :meth:`fit_anchor` sets
    from the training windows.
    ``scale`` and ``offset`` (``[horizon]``, not trained) are the standard deviation and mean of the
    training split's changes from those references (:meth:`adapt`); they are saved with the weights.
    Feature 0 of the window must be the target, in the units of the forecast.
    """

    def __init__(
        self,
        horizon: int,
        season_length: int | None = None,
        growth: bool = False,
        fitted: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.horizon = int(horizon)
        self.season_length = None if season_length is None else int(season_length)
        self.growth = bool(growth)
        self.fitted = bool(fitted)
        if self.fitted and (self.season_length or self.growth):
            raise ValueError("DeltaToLevel: a fitted (linear_ar) reference takes no season")

    def build(self, input_shape: Any) -> None:
        window_size, num_features = int(input_shape[0][1]), int(input_shape[0][2])
        if self.fitted:
            self.span = window_size
            self.inputs_per_window = window_size * num_features
            self.anchor = self.add_weight(
                shape=(self.inputs_per_window, self.horizon),
                initializer="zeros",
                trainable=False,
                name="anchor",
            )
        else:
            # [span, horizon], row l - 1 weighting y[t - l]; reversed to meet the window's order.
            matrix = anchor_matrix(self.horizon, self.season_length, self.growth)
            if len(matrix) > window_size:
                name = "seasonal_growth" if self.growth else "seasonal_delta"
                raise ValueError(
                    f"{name}: the window ({window_size} steps) must cover the {len(matrix)} steps "
                    f"its reference reads (season {self.season_length})"
                )
            self.span = len(matrix)
            self.anchor = matrix[::-1].astype("float32")
        self.scale = self.add_weight(
            shape=(self.horizon,), initializer="ones", trainable=False, name="scale"
        )
        self.offset = self.add_weight(
            shape=(self.horizon,), initializer="zeros", trainable=False, name="offset"
        )

    def call(self, inputs: Sequence[Any]) -> Any:
        window, change = inputs
        if self.fitted:
            # The ridge autoregression: one matmul of the flattened window with its weights.
            flat = keras.ops.reshape(window, (-1, self.inputs_per_window))
            reference = keras.ops.matmul(flat, self.anchor)
        else:
            # One matmul with a constant: the last value, the seasonal one, or that plus growth.
            tail = window[:, -self.span :, 0]
            reference = keras.ops.matmul(tail, keras.ops.convert_to_tensor(self.anchor))
        return reference + change * self.scale + self.offset

    def reference(self, windows: np.ndarray) -> np.ndarray:
        """The reference of each window's target steps in NumPy, ``[n, horizon]`` (float64)."""
        windows = np.asarray(windows, dtype=np.float64)
        if self.fitted:
            weights = np.asarray(self.anchor.numpy(), dtype=np.float64)
            return windows.reshape(len(windows), -1) @ weights
        return windows[:, -self.span :, 0] @ self.anchor.astype(np.float64)

    def fit_anchor(self, windows: np.ndarray, targets: np.ndarray) -> None:
        """Fits a ``linear_ar`` reference on the training windows (in time order) and their
        targets (:meth:`set_anchor`)."""
        self.set_anchor(*ridge_anchor(windows, targets))

    def set_anchor(self, weights: np.ndarray, changes: np.ndarray) -> None:
        """Sets a ``linear_ar`` reference's weights ``[window * features, horizon]``, and
        ``scale`` and ``offset`` from the training changes it leaves (:meth:`adapt`)."""
        self.anchor.assign(np.asarray(weights, dtype="float32"))
        self.adapt(changes)

    def adapt(self, changes: np.ndarray) -> None:
        """Sets ``scale`` and ``offset`` from the training changes ``[windows, horizon]``."""
        changes = np.asarray(changes, dtype=np.float64)
        std = changes.std(axis=0)
        self.scale.assign(np.where(std > 0, std, 1.0).astype("float32"))
        self.offset.assign(changes.mean(axis=0).astype("float32"))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "horizon": self.horizon,
            "season_length": self.season_length,
            "growth": self.growth,
            "fitted": self.fitted,
        }


@keras.saving.register_keras_serializable(package="lstm_tuner")
class SubtractLastValue(keras.layers.Layer):
    """The window's target (feature 0) minus its last value; the other features pass unchanged.

    The local normalization of Hewamalage, Bergmeir and Bandara (IJF 2021): the LSTM sees the
    window's shape relative to where it ends, not its level, so a test window at a level the
    training split never reached (a trend) looks like the training windows. With
    ``data.target_scale: log`` it is the window divided by its last value. Only in front of a delta
    model, whose :class:`DeltaToLevel` adds the level back from the raw window.
    """

    def call(self, window: Any) -> Any:
        target = window[..., :1] - window[:, -1:, :1]
        return keras.ops.concatenate([target, window[..., 1:]], axis=-1)


__all__ = ["DeltaToLevel", "SubtractLastValue", "ridge_anchor"]
