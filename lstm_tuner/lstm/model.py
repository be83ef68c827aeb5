"""The stacked-LSTM regressor and ``LSTMHyperModel``, the spec's search space over it.

Five target transforms (``data.target_transform``):

- ``level``: the network's ``Dense`` head forecasts the (scaled) target itself;
- ``delta``: the head forecasts the change from the window's last target value, scaled by the training
  split's changes, and :class:`DeltaToLevel` adds the last value back inside the model. Its head starts
  at zero, so an untrained model forecasts "last value plus the average change", and training only has
  to learn what differs from it. On a smooth trending series the level model must learn to repeat its
  input's last value exactly, which it does poorly; the delta model gets it for free;
- ``seasonal_delta``: the same, from the value one season before each target (the seasonal naive
  forecast) instead of the last one;
- ``seasonal_growth``: from that value plus the last season's growth (the seasonal random walk with
  drift);
- ``linear_ar``: from a ridge autoregression on the whole window, fitted in closed form on the
  training windows (:mod:`lstm_tuner.timeseries.autoregression`): the linear part of a hybrid, so
  that the LSTM learns only what a long AR (an ARX, with features) misses.

Either way the model maps windows to the target's level, so the loss, the validation loss and the
export mean the same thing for both, and a search over both compares like with like.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from lstm_tuner.engine.hypermodel import HyperModel
from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.search_space import ParamSpec
from lstm_tuner.lstm.fit_inputs import RidgeAnchors, prepare
from lstm_tuner.lstm.layers import DeltaToLevel, SubtractLastValue
from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE, LSTM_PARAM_NAMES, TARGET_TRANSFORM
from lstm_tuner.names import LOSSES, OPTIMIZERS, TARGET_TRANSFORMS, WINDOW_NORMALIZATIONS
from lstm_tuner.timeseries.autoregression import MAX_INPUTS


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
    season_length: int | None = None,
    window_normalization: str = "none",
) -> keras.Model:
    """Builds and compiles the stacked-LSTM regressor.

    ``Input [batch, window_size, num_features]`` -> ``num_layers`` x (LSTM(hidden_size) -> Dropout) ->
    ``Dense(horizon)`` (-> :class:`DeltaToLevel` for ``delta``). All LSTM layers but the last return
    sequences. The LSTM layers keep Keras's defaults that make them cuDNN-eligible on a GPU
    (tanh/sigmoid, no recurrent dropout, no unroll, bias). With ``window_normalization``
    ``"last_value"`` a delta model's LSTM sees the window minus its last target value
    (:class:`SubtractLastValue`); a level model always sees the levels it forecasts.

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
    if window_normalization not in WINDOW_NORMALIZATIONS:
        raise ValueError(
            f"window_normalization must be one of {list(WINDOW_NORMALIZATIONS)}, but got "
            f"{window_normalization!r}"
        )
    window = keras.Input(shape=(window_size, num_features), name="window")
    hidden = window
    if window_normalization == "last_value" and target_transform != "level":
        hidden = SubtractLastValue(name="window_normalization")(window)
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
    if target_transform != "level":
        seasonal = target_transform in ("seasonal_delta", "seasonal_growth")
        if seasonal and not season_length:
            raise ValueError(f"target_transform {target_transform!r} needs a season_length")
        season = season_length if seasonal else None
        growth = target_transform == "seasonal_growth"
        fitted = target_transform == "linear_ar"
        change = keras.layers.Dense(horizon, kernel_initializer="zeros", name="change")(hidden)
        output = DeltaToLevel(horizon, season, growth, fitted, name="prediction")([window, change])
    else:
        output = keras.layers.Dense(horizon, name="prediction")(hidden)
    model = keras.Model(window, output, name=f"lstm_regressor_{target_transform}")
    opt_config: dict[str, Any] = {"learning_rate": lr}
    if clipnorm is not None:
        opt_config["clipnorm"] = clipnorm
    model.compile(keras.optimizers.get({"class_name": optimizer, "config": opt_config}), loss=loss)
    return model


def resolve_target_transform(
    setting: str | Sequence[str],
    season_length: int | None,
    window_size: int,
    num_features: int = 1,
) -> str | tuple[str, ...]:
    """``data.target_transform`` for a series. ``"auto"`` searches two transforms as the
    hyperparameter ``target_transform`` (every model outputs levels, so their validation losses
    compare like with like): ``linear_ar`` (the ridge autoregression on the window as the anchor)
    and the naive anchor that suits the series, ``seasonal_delta`` when it has a season that fits
    in the window, else ``delta``. On the public series of docs/benchmarks.md ("A ridge
    autoregression as the anchor") the ridge anchor lowered the retrained test MSE on most series
    and the naive anchor won the search where the training windows were too few for the ridge.
    Where the window holds more than
    :data:`~lstm_tuner.timeseries.autoregression.MAX_INPUTS` values, ``auto`` is the two naive
    anchors that suit the series (``seasonal_delta`` and ``delta``, or ``delta`` and ``level``).
    ``seasonal_growth`` and ``level`` are not in it: the growth term lowered the test MSE on 5 of
    8 seasonal series but left the built-in series' random startup trials without a delta trial;
    level lost on every seasonal series, and the ridge's intercept covers a series that reverts to
    its mean.

    Raises:
        ValueError: ``seasonal_delta`` or ``seasonal_growth`` is asked for and the season does
            not fit in the window; ``linear_ar`` for a window of too many values.
    """
    fits = bool(season_length) and 2 <= season_length <= window_size
    linear = window_size * num_features <= MAX_INPUTS
    # Without the ridge, the two naive anchors that suit the series (the default before it).
    naive = ("seasonal_delta", "delta") if fits else ("delta", "level")
    auto = ("linear_ar", naive[0]) if linear else naive
    names = (setting,) if isinstance(setting, str) else tuple(setting)
    names = tuple(expanded for n in names for expanded in (auto if n == "auto" else (n,)))
    if "seasonal_delta" in names and not fits:
        raise ValueError(
            f"data.target_transform: seasonal_delta needs a season of 2 to data.window_size = "
            f"{window_size} steps, got {season_length!r} (set data.season_length)"
        )
    if "seasonal_growth" in names and not (fits and season_length < window_size):
        raise ValueError(
            f"data.target_transform: seasonal_growth needs a season of 2 to data.window_size - 1 "
            f"= {window_size - 1} steps, got {season_length!r} (set data.season_length)"
        )
    if "linear_ar" in names and not linear:
        raise ValueError(
            f"data.target_transform: linear_ar reads data.window_size x features = "
            f"{window_size} x {num_features} values, more than its {MAX_INPUTS}"
        )
    names = tuple(dict.fromkeys(names))
    return names[0] if len(names) == 1 else names


@keras.saving.register_keras_serializable(package="lstm_tuner")
class SeedEnsemble(keras.Model):
    """The mean forecast of several trainings of one configuration (training.retrain_seeds).

    Each member maps the same scaled windows to the same scaled target, so their mean is a forecast
    of that target too; it is one model, so the export serves it as one SavedModel with the
    members' weights inside. The mean of a few seeds' forecasts removes part of the variance that
    one initialization's forecast carries (the seed ensembles of Hewamalage et al., IJF 2021, and
    of Smyl's ES-RNN).
    """

    def __init__(self, members: Sequence[keras.Model], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if len(members) < 2:
            raise ValueError(f"SeedEnsemble needs at least 2 members, got {len(members)}")
        self.members = list(members)
        self.build(self.members[0].input_shape)

    def build(self, input_shape: Any) -> None:
        # The members are built models; the ensemble adds no weights of its own.
        self.built = True

    def call(self, window: Any, training: bool = False) -> Any:
        forecasts = [member(window, training=training) for member in self.members]
        return keras.ops.mean(keras.ops.stack(forecasts, axis=0), axis=0)

    @property
    def input_shape(self) -> tuple[Any, ...]:
        return self.members[0].input_shape

    @property
    def output_shape(self) -> tuple[Any, ...]:
        return self.members[0].output_shape


def _first_member(model: keras.Model) -> keras.Model:
    return model.members[0] if isinstance(model, SeedEnsemble) else model


def anchor_forecast(model: keras.Model, windows: np.ndarray) -> np.ndarray | None:
    """What a delta model forecasts without its LSTM: the reference (last value, seasonal value,
    or that plus the last season's growth) plus the training split's mean change, i.e. the
    model's output with a zero change head; ``None`` for a level model, which has no anchor.

    The members of a :class:`SeedEnsemble` share this anchor (their scale and offset come from
    the same training changes). Computed in NumPy from the layer's own matrix and offset, in the
    units the model sees (scaled, and on the log scale with ``data.target_scale: log``).
    """
    layer = next(
        (layer for layer in _first_member(model).layers if isinstance(layer, DeltaToLevel)), None
    )
    if layer is None:
        return None
    return layer.reference(windows) + layer.offset.numpy().astype(np.float64)


def season_of_model(model: keras.Model) -> int | None:
    """The season a ``seasonal_delta`` model anchors to (``None`` for the others)."""
    for layer in _first_member(model).layers:
        if isinstance(layer, DeltaToLevel):
            return layer.season_length
    return None


def target_transform_of(model: keras.Model) -> str:
    """``"delta"``, ``"seasonal_delta"``, ``"seasonal_growth"`` or ``"linear_ar"`` when the model
    forecasts changes, else ``"level"``."""
    for layer in _first_member(model).layers:
        if isinstance(layer, DeltaToLevel):
            if layer.fitted:
                return "linear_ar"
            if layer.growth:
                return "seasonal_growth"
            return "seasonal_delta" if layer.season_length else "delta"
    return "level"


class LSTMHyperModel(HyperModel):
    """The spec's stacked-LSTM regressor with its search space.

    Args:
        window_size: Input window length (time steps).
        num_features: Input features per time step (the target first).
        horizon: Number of future values predicted.
        search_space: A sequence of :class:`~lstm_tuner.engine.search_space.ParamSpec` naming
            ``hidden_size``, ``num_layers``, ``dropout``, ``lr`` and ``batch_size``; default the spec's.
        optimizer: ``"adam"`` (the spec), ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        clipnorm: Gradient clipping by norm (the spec: 1.0).
        loss: ``"mse"`` (the spec), ``"mae"`` or ``"huber"``.
        target_transform: ``"level"``, ``"delta"``, ``"seasonal_delta"``, ``"seasonal_growth"``,
            ``"linear_ar"``, or several of them (searched as the categorical hyperparameter
            ``target_transform``).
        season_length: The season of ``seasonal_delta`` (at most ``window_size``) and
            ``seasonal_growth`` (less than ``window_size``).
        min_steps_per_epoch: Training windows given as Windows or arrays are visited as many
            whole times per epoch as make at least this many optimizer steps (0: once), so that
            trials on a short series train enough to be ranked.
        window_normalization: ``"none"`` or ``"last_value"``: a delta model's LSTM sees each
            window minus its last target value (:class:`SubtractLastValue`).
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
        target_transform: str | Sequence[str] = "delta",
        season_length: int | None = None,
        min_steps_per_epoch: int = 0,
        window_normalization: str = "none",
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
        if "seasonal_delta" in transforms and not (
            season_length and 2 <= season_length <= window_size
        ):
            raise ValueError(
                "LSTMHyperModel: target_transform 'seasonal_delta' needs a season_length in "
                f"[2, window_size={window_size}], but got {season_length!r}"
            )
        if "seasonal_growth" in transforms and not (
            season_length and 2 <= season_length < window_size
        ):
            raise ValueError(
                "LSTMHyperModel: target_transform 'seasonal_growth' needs a season_length in "
                f"[2, window_size - 1={window_size - 1}], but got {season_length!r}"
            )
        self.target_transform = transforms
        if (
            isinstance(min_steps_per_epoch, bool)
            or not isinstance(min_steps_per_epoch, (int, np.integer))
            or min_steps_per_epoch < 0
        ):
            raise ValueError(
                "LSTMHyperModel: `min_steps_per_epoch` must be an int >= 0, but got "
                f"{min_steps_per_epoch!r}"
            )
        self.min_steps_per_epoch = int(min_steps_per_epoch)
        if window_normalization not in WINDOW_NORMALIZATIONS:
            raise ValueError(
                f"LSTMHyperModel: `window_normalization` must be one of "
                f"{list(WINDOW_NORMALIZATIONS)}, but got {window_normalization!r}"
            )
        self.window_normalization = window_normalization
        #: The linear_ar anchors fitted on training Windows, once per Windows for all the run's fits.
        self._anchors = RidgeAnchors()
        self.season_length = season_length
        self.optimizer = optimizer
        self.clipnorm = clipnorm
        self.loss = loss

    def _declare(self, hp: HyperParameters) -> dict[str, Any]:
        values = {spec.name: hp.declare(spec) for spec in self.search_space}
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
            season_length=self.season_length,
            window_normalization=self.window_normalization,
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
        :class:`~lstm_tuner.timeseries.windows.Windows`; already-batched datasets pass through unchanged.
        ``validation_split`` takes the last fraction of the arrays, in order, as Keras does (this is
        a time series: nothing is shuffled). A delta model's :class:`DeltaToLevel` is fitted to the
        training inputs first: its ridge anchor (``linear_ar``, fitted once per training Windows)
        or its scale and offset (:func:`~lstm_tuner.lstm.fit_inputs.prepare`).
        """
        default_batch = kwargs.pop("batch_size", None) or 32
        batch_size = int(hp.get("batch_size")) if "batch_size" in hp else int(default_batch)
        train, val = prepare(
            model,
            x,
            y,
            validation_data,
            validation_split=validation_split,
            batch_size=batch_size,
            num_features=self.num_features,
            seed=shuffle_seed,
            min_steps=self.min_steps_per_epoch,
            anchors=self._anchors,
        )
        kwargs["shuffle"] = False  # the pipeline already shuffles the training windows
        return model.fit(train, validation_data=val, **kwargs)


__all__ = [
    "DeltaToLevel",
    "LSTMHyperModel",
    "build_lstm_model",
    "target_transform_of",
]
