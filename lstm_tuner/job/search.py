"""The search a config describes: its LSTM hypermodel and the tuner around it (sampler, pruner,
storage, artifact store and study), made once before the job runs, by the CLI or by
:func:`lstm_tuner.job.run.run`.
"""

from __future__ import annotations

import os

import optuna

from lstm_tuner.config.schema import Config
from lstm_tuner.engine.objective import Objective
from lstm_tuner.engine.search_space import grid_of
from lstm_tuner.engine.tuner import Tuner
from lstm_tuner.errors import ConfigError
from lstm_tuner.job.options import RunOptions
from lstm_tuner.lstm.model import LSTMHyperModel, resolve_target_transform
from lstm_tuner.storage import artifacts
from lstm_tuner.storage import study as study_lib
from lstm_tuner.timeseries.series import SeriesData


def make_hypermodel(
    config: Config, num_features: int, season_length: int | None = None
) -> LSTMHyperModel:
    """The LSTM hypermodel described by the config, for a series with this (model) season.

    Raises:
        ConfigError: ``data.target_transform`` cannot be used with this series.
    """
    try:
        transform = resolve_target_transform(
            config.data.target_transform, season_length, config.data.window_size, num_features
        )
    except ValueError as e:
        raise ConfigError(f"{config.path}: {e}") from None
    return LSTMHyperModel(
        window_size=config.data.window_size,
        num_features=num_features,
        horizon=config.data.horizon,
        search_space=config.search_space,
        optimizer=config.training.optimizer,
        clipnorm=config.training.clipnorm,
        loss=config.training.loss,
        target_transform=transform,
        season_length=season_length,
        min_steps_per_epoch=config.training.min_steps_per_epoch,
        window_normalization=config.data.window_normalization,
    )


def make_tuner(
    config: Config,
    options: RunOptions,
    data: SeriesData,
    storage: optuna.storages.BaseStorage,
    location: artifacts.ArtifactLocation,
) -> Tuner:
    """The tuner for a config and its data: sampler, pruner, storage, artifact store and study."""
    hypermodel = make_hypermodel(config, data.num_features, data.anchor_season)
    grid = None
    if config.study.sampler == "grid":
        try:
            grid = grid_of(list(config.search_space))
        except ValueError as e:
            raise ConfigError(f"{config.path}: study.sampler: grid: {e}") from None
    output_dir = os.path.abspath(options.output_dir)
    sampler_seed = config.study.seed
    if sampler_seed is not None:
        # Workers with one seed would all sample the same values; each gets its own stream.
        sampler_seed += options.worker_index
    return Tuner(
        hypermodel,
        objective=Objective(config.study.objective, config.study.direction),
        max_trials=config.study.n_trials,
        sampler=study_lib.make_sampler(
            config.study.sampler, sampler_seed, search_space=grid, n_trials=config.study.n_trials
        ),
        pruner=study_lib.make_pruner(config.study.pruner, max_epochs=config.training.epochs),
        storage=storage,
        study_name=options.study_name,
        directory=os.path.dirname(output_dir),
        project_name=os.path.basename(output_dir),
        overwrite=options.overwrite,
        seed=config.study.seed,
        distribution_strategy=options.strategy,
        tensorboard_dir=os.path.join(output_dir, "tensorboard"),
        artifact_store=location,
        progress=options.progress,
    )
