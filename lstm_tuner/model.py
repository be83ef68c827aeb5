"""The stacked-LSTM regressor and ``LSTMHyperModel``, the spec's search space over it.

Two target transforms (``data.target_transform``):

- ``level``: the network's ``Dense`` head forecasts the (scaled) target itself;
- ``delta``: the head forecasts the change from the window's last target value, scaled by the training
  split's changes, and :class:`DeltaToLevel` adds the last value back inside the model. Its head starts
  at zero, so an untrained model forecasts "last value plus the average change", and training only has
  to learn what differs from it. On a smooth trending series the level model must learn to repeat its
  input's last value exactly, which it does poorly; the delta model gets it for free.

Either way the model maps windows to the target's level, so the loss, the validation loss and the
export mean the same thing for both, and a search over both compares like with like.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from lstm_tuner.config import LOSSES, OPTIMIZERS, TARGET_TRANSFORMS, DataConfig
from lstm_tuner.hypermodel import HyperModel
from lstm_tuner.hyperparameters import HyperParameters
from lstm_tuner.input_pipeline import batched, chronological_split, target_changes
from lstm_tuner.search_space import (
    DEFAULT_SEARCH_SPACE,
    LSTM_PARAM_NAMES,
    TARGET_TRANSFORM,
    ParamSpec,
    suggest_all,
)

#: The default transform, chosen from the forecast benchmark (docs/benchmarks.md).
DEFAULT_TARGET_TRANSFORM = DataConfig().target_transform


@keras.saving.register_keras_serializable(package="lstm_tuner")
class DeltaToLevel(keras.layers.Layer):
    """``window[:, -1, 0] + change * scale + offset``: a forecast of the change, back to a level.

    ``scale`` and ``offset`` (``[horizon]``, not trained) are the standard deviation and mean of the
    training split's changes ``y[t+k] - y[t-1]`` (:meth:`adapt`); they are saved with the weights.
    Feature 0 of the window must be the target, in the units of the forecast.
    """

    def __init__(self, horizon: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.horizon = int(horizon)

    def build(self, input_shape: Any) -> None:
        self.scale = self.add_weight(
            shape=(self.horizon,), initializer="ones", trainable=False, name="scale"
        )
        self.offset = self.add_weight(
            shape=(self.horizon,), initializer="zeros", trainable=False, name="offset"
        )

    def call(self, inputs: Sequence[Any]) -> Any:
        window, change = inputs
        return window[:, -1:, 0] + change * self.scale + self.offset

    def adapt(self, changes: np.ndarray) -> None:
        """Sets ``scale`` and ``offset`` from the training changes ``[windows, horizon]``."""
        changes = np.asarray(changes, dtype=np.float64)
        std = changes.std(axis=0)
        self.scale.assign(np.where(std > 0, std, 1.0).astype("float32"))
        self.offset.assign(changes.mean(axis=0).astype("float32"))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "horizon": self.horizon}


def build_lstm_model(
    window_size: int,
    num_features: int,
    *,
    horizon: int = 1,
    hidden_size: int = 128,
    num_layers: int = 2,
    dropout: float = 0.2,
    lr: float = 1e-3,
    optimizer: str = "adam",
    clipnorm: float | None = 1.0,
    loss: str = "mse",
    target_transform: str = "level",
) -> keras.Model:
    """Builds and compiles the stacked-LSTM regressor.

    ``Input [batch, window_size, num_features]`` -> ``num_layers`` x (LSTM(hidden_size) -> Dropout) ->
    ``Dense(horizon)`` (-> :class:`DeltaToLevel` for ``delta``). All LSTM layers but the last return
    sequences. The LSTM layers keep Keras's defaults that make them cuDNN-eligible on a GPU
    (tanh/sigmoid, no recurrent dropout, no unroll, bias).

    Returns:
        A compiled model mapping ``[batch, window_size, num_features]`` to ``[batch, horizon]``.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, but got {optimizer!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {list(LOSSES)}, but got {loss!r}")
    if target_transform not in TARGET_TRANSFORMS:
        raise ValueError(
            f"target_transform must be one of {list(TARGET_TRANSFORMS)}, but got "
            f"{target_transform!r}"
        )
    window = keras.Input(shape=(window_size, num_features), name="window")
    hidden = window
    for i in range(num_layers):
        hidden = keras.layers.LSTM(
            hidden_size,
            return_sequences=i < num_layers - 1,
            activation="tanh",
            recurrent_activation="sigmoid",
            recurrent_dropout=0.0,
            unroll=False,
            use_bias=True,
            name=f"lstm_{i}",
        )(hidden)
        hidden = keras.layers.Dropout(dropout, name=f"dropout_{i}")(hidden)
    if target_transform == "delta":
        change = keras.layers.Dense(horizon, kernel_initializer="zeros", name="change")(hidden)
        output = DeltaToLevel(horizon, name="prediction")([window, change])
    else:
        output = keras.layers.Dense(horizon, name="prediction")(hidden)
    model = keras.Model(window, output, name=f"lstm_regressor_{target_transform}")
    opt_config: dict[str, Any] = {"learning_rate": lr}
    if clipnorm is not None:
        opt_config["clipnorm"] = clipnorm
    model.compile(keras.optimizers.get({"class_name": optimizer, "config": opt_config}), loss=loss)
    return model


def target_transform_of(model: keras.Model) -> str:
    """``"delta"`` when the model adds its forecast to the last value, else ``"level"``."""
    return "delta" if any(isinstance(layer, DeltaToLevel) for layer in model.layers) else "level"


class LSTMHyperModel(HyperModel):
    """The spec's stacked-LSTM regressor with its search space.

    Args:
        window_size: Input window length (time steps).
        num_features: Input features per time step (the target first).
        horizon: Number of future values predicted.
        search_space: A sequence of :class:`~lstm_tuner.search_space.ParamSpec` naming
            ``hidden_size``, ``num_layers``, ``dropout``, ``lr`` and ``batch_size``; default the spec's.
        optimizer: ``"adam"`` (the spec), ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        clipnorm: Gradient clipping by norm (the spec: 1.0).
        loss: ``"mse"`` (the spec), ``"mae"`` or ``"huber"``.
        target_transform: ``"level"``, ``"delta"``, or both (searched as the categorical
            hyperparameter ``target_transform``).
    """

    def __init__(
        self,
        window_size: int,
        num_features: int,
        horizon: int = 1,
        search_space: Sequence[ParamSpec] | None = None,
        *,
        optimizer: str = "adam",
        clipnorm: float | None = 1.0,
        loss: str = "mse",
        target_transform: str | Sequence[str] = DEFAULT_TARGET_TRANSFORM,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name or "LSTMHyperModel")
        for label, val in (
            ("window_size", window_size),
            ("num_features", num_features),
            ("horizon", horizon),
        ):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"LSTMHyperModel: `{label}` must be an int >= 1, but got {val!r}")
        self.window_size = int(window_size)
        self.num_features = int(num_features)
        self.horizon = int(horizon)
        self.search_space: tuple[ParamSpec, ...] = tuple(search_space or DEFAULT_SEARCH_SPACE)
        missing = [n for n in LSTM_PARAM_NAMES if n not in {s.name for s in self.search_space}]
        if missing:
            raise ValueError(f"LSTMHyperModel: search_space must define {missing}")
        transforms = (target_transform,) if isinstance(target_transform, str) else target_transform
        transforms = tuple(dict.fromkeys(transforms))
        if not transforms or not set(transforms) <= set(TARGET_TRANSFORMS):
            raise ValueError(
                f"LSTMHyperModel: `target_transform` must be one of {list(TARGET_TRANSFORMS)} or "
                f"a list of them, but got {target_transform!r}"
            )
        self.target_transform = transforms
        self.optimizer = optimizer
        self.clipnorm = clipnorm
        self.loss = loss

    def _declare(self, hp: HyperParameters) -> dict[str, Any]:
        values = suggest_all(self.search_space, hp)
        if len(self.target_transform) > 1:
            values[TARGET_TRANSFORM] = hp.Choice(TARGET_TRANSFORM, list(self.target_transform))
        else:
            values[TARGET_TRANSFORM] = self.target_transform[0]
        return values

    def declare_hyperparameters(self, hp: HyperParameters) -> None:
        self._declare(hp)

    def build(self, hp: HyperParameters) -> keras.Model:
        values = self._declare(hp)
        return build_lstm_model(
            self.window_size,
            self.num_features,
            horizon=self.horizon,
            hidden_size=int(values["hidden_size"]),
            num_layers=int(values["num_layers"]),
            dropout=float(values["dropout"]),
            lr=float(values["lr"]),
            optimizer=self.optimizer,
            clipnorm=self.clipnorm,
            loss=self.loss,
            target_transform=values[TARGET_TRANSFORM],
        )

    def fit(
        self,
        hp: HyperParameters,
        model: keras.Model,
        x: Any = None,
        y: Any = None,
        validation_data: Any = None,
        *,
        shuffle_seed: int | None = None,
        validation_split: float | None = None,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """Batches unbatched input with the trial's ``batch_size`` and calls ``model.fit``.

        ``x``/``y`` and ``validation_data`` may be arrays, unbatched ``tf.data.Dataset`` objects or
        :class:`~lstm_tuner.input_pipeline.Windows`; already-batched datasets pass through unchanged.
        ``validation_split`` takes the last fraction of the arrays, in order, as Keras does (this is
        a time series: nothing is shuffled). A ``delta`` model's :class:`DeltaToLevel` is adapted to
        the training data's changes first.
        """
        if validation_split:
            if validation_data is not None:
                raise ValueError("pass either validation_data or validation_split, not both")
            (x, y), validation_data = chronological_split(x, y, validation_split)
        default_batch = kwargs.pop("batch_size", None) or 32
        batch_size = int(hp.get("batch_size")) if "batch_size" in hp else int(default_batch)
        for layer in model.layers:
            if isinstance(layer, DeltaToLevel):
                layer.adapt(target_changes(x, y))
        batch = dict(batch_size=batch_size, num_features=self.num_features)
        train = batched(x, y, training=True, seed=shuffle_seed, **batch)
        val = None
        if validation_data is not None:
            val_x, val_y = (
                validation_data[:2]
                if isinstance(validation_data, tuple)
                else (validation_data, None)
            )
            val = batched(val_x, val_y, training=False, **batch)
        kwargs["shuffle"] = False  # the pipeline already shuffles the training windows
        return model.fit(train, validation_data=val, **kwargs)


__all__ = [
    "DEFAULT_TARGET_TRANSFORM",
    "DeltaToLevel",
    "LSTMHyperModel",
    "build_lstm_model",
    "target_transform_of",
]
