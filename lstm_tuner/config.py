"""Typed, frozen configuration: the YAML file as data.

``load_config(path, overrides)`` reads a YAML file with ``yaml.safe_load``, applies ``key.path=value``
overrides, validates every rule and returns a frozen :class:`Config`. Nothing here imports TensorFlow, so
bad input is refused in well under a second, before any training starts.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lstm_tuner.search_space import DEFAULT_SEARCH_SPACE, ParamSpec


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the series comes from and how it is cut into windows.

    Attributes:
        source: ``"builtin"`` (the package's deterministic series) or ``"csv"``.
        csv: Path of the CSV file when ``source == "csv"`` (relative paths: to the current directory).
        target: The column to predict (CSV); ``"value"`` for the built-in series.
        features: Extra input columns besides the target (multivariate input). The model's input
            columns are ``(target, *features)``.
        time_column: Optional column the rows are sorted by before anything else.
        window_size: Length of each input window, in time steps.
        horizon: Number of future steps predicted from each window.
        train_fraction / validation_fraction / test_fraction: Chronological split; they sum to 1.
        missing: ``"error"`` (default), ``"interpolate"`` or ``"drop"``.
        builtin_num_points: Length of the built-in series.
        builtin_seed: Seed of the built-in series' noise.
    """

    source: str = "builtin"
    csv: str | None = None
    target: str = "value"
    features: tuple[str, ...] = ()
    time_column: str | None = None
    window_size: int = 30
    horizon: int = 1
    train_fraction: float = 0.7
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    missing: str = "error"
    builtin_num_points: int = 4000
    builtin_seed: int = 0


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Fixed (not searched) training settings.

    Attributes:
        optimizer: ``"adam"`` (the spec), ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        clipnorm: Gradient clipping by norm (the spec: 1.0).
        loss: ``"mse"`` (the spec), ``"mae"`` or ``"huber"``.
        epochs: Epochs per trial (the spec: 5).
        retrain_epochs: Epochs for retraining the best configuration after the search; 0 skips it.
        early_stopping_patience: Patience (epochs) of early stopping during the retraining.
    """

    optimizer: str = "adam"
    clipnorm: float = 1.0
    loss: str = "mse"
    epochs: int = 5
    retrain_epochs: int = 0
    early_stopping_patience: int = 10


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The Optuna study.

    Attributes:
        sampler: ``"tpe"`` (the spec), ``"random"`` or ``"grid"``.
        pruner: ``"none"``, ``"median"`` or ``"hyperband"``.
        direction: ``"minimize"`` or ``"maximize"``.
        objective: The metric the trial's value is read from (``"val_loss"``).
        n_trials: Number of finished trials the study runs to (the spec: 10).
        seed: Seed of the sampler and of the training.
    """

    sampler: str = "tpe"
    pruner: str = "none"
    direction: str = "minimize"
    objective: str = "val_loss"
    n_trials: int = 10
    seed: int | None = 42


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """SavedModel export of the best trial.

    Attributes:
        enabled: Export ``export/best_trial/`` (and ``export/final/`` after retraining).
    """

    enabled: bool = True


@dataclasses.dataclass(frozen=True)
class Config:
    """The whole configuration."""

    data: DataConfig = DataConfig()
    search_space: tuple[ParamSpec, ...] = DEFAULT_SEARCH_SPACE
    training: TrainingConfig = TrainingConfig()
    study: StudyConfig = StudyConfig()
    export: ExportConfig = ExportConfig()
    path: str | None = None

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)
