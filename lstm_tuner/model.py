"""The stacked-LSTM regressor and ``LSTMHyperModel``, the spec's search space over it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from lstm_tuner.config import LOSSES, OPTIMIZERS
from lstm_tuner.hypermodel import HyperModel
from lstm_tuner.hyperparameters import HyperParameters
from lstm_tuner.input_pipeline import batched
from lstm_tuner.search_space import (
    DEFAULT_SEARCH_SPACE,
    LSTM_PARAM_NAMES,
    ParamSpec,
    suggest_all,
)


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
) -> keras.Sequential:
    """Builds and compiles the stacked-LSTM regressor.

    ``Input [batch, window_size, num_features]`` -> ``num_layers`` x (LSTM(hidden_size) -> Dropout) ->
    ``Dense(horizon)``. All LSTM layers but the last return sequences. The LSTM layers keep Keras's
    defaults that make them cuDNN-eligible on a GPU (tanh/sigmoid, no recurrent dropout, no unroll, bias).

    Returns:
        A compiled model mapping ``[batch, window_size, num_features]`` to ``[batch, horizon]``.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, but got {optimizer!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {list(LOSSES)}, but got {loss!r}")
    layers: list[keras.layers.Layer] = [
        keras.Input(shape=(window_size, num_features), name="window")
    ]
    for i in range(num_layers):
        layers.append(
            keras.layers.LSTM(
                hidden_size,
                return_sequences=i < num_layers - 1,
                activation="tanh",
                recurrent_activation="sigmoid",
                recurrent_dropout=0.0,
                unroll=False,
                use_bias=True,
                name=f"lstm_{i}",
            )
        )
        layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i}"))
    layers.append(keras.layers.Dense(horizon, name="prediction"))
    model = keras.Sequential(layers, name="lstm_regressor")
    opt_config: dict[str, Any] = {"learning_rate": lr}
    if clipnorm is not None:
        opt_config["clipnorm"] = clipnorm
    model.compile(keras.optimizers.get({"class_name": optimizer, "config": opt_config}), loss=loss)
    return model


class LSTMHyperModel(HyperModel):
    """The spec's stacked-LSTM regressor with its search space.

    Args:
        window_size: Input window length (time steps).
        num_features: Input features per time step.
        horizon: Number of future values predicted.
        search_space: A sequence of :class:`~lstm_tuner.search_space.ParamSpec` naming
            ``hidden_size``, ``num_layers``, ``dropout``, ``lr`` and ``batch_size``; default the spec's.
        optimizer: ``"adam"`` (the spec), ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        clipnorm: Gradient clipping by norm (the spec: 1.0).
        loss: ``"mse"`` (the spec), ``"mae"`` or ``"huber"``.
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
        names = {spec.name for spec in self.search_space}
        missing = [n for n in LSTM_PARAM_NAMES if n not in names]
        if missing:
            raise ValueError(f"LSTMHyperModel: search_space must define {missing}")
        self.optimizer = optimizer
        self.clipnorm = clipnorm
        self.loss = loss

    def declare_hyperparameters(self, hp: HyperParameters) -> None:
        suggest_all(self.search_space, hp)

    def build(self, hp: HyperParameters) -> keras.Sequential:
        values = suggest_all(self.search_space, hp)
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
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """Batches unbatched input with the trial's ``batch_size`` and calls ``model.fit``.

        ``x``/``y`` and ``validation_data`` may be arrays, unbatched ``tf.data.Dataset`` objects or
        :class:`~lstm_tuner.input_pipeline.Windows`. Already-batched datasets pass through unchanged.
        """
        default_batch = kwargs.pop("batch_size", None) or 32
        batch_size = int(hp.get("batch_size")) if "batch_size" in hp else int(default_batch)
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
