"""lstm_tuner: KerasTuner-style hyperparameter search for stacked-LSTM regressors, on Optuna.

The names that need TensorFlow (``Tuner``, ``LSTMHyperModel``, ...) are imported lazily, on first use,
so that ``import lstm_tuner`` and config validation stay fast.

The package, in the order the data flows (each subpackage's ``__init__`` says what it holds)::

    cli          flags -> config.load_config -> job.run
    config/      the YAML file as a frozen Config (no TensorFlow)
    job/         what the command does: run, options, selection, retraining, verdict, workers, console
    timeseries/  CSV reading, series, scaler, windows, season, baselines and metrics
    engine/      the KerasTuner search loop on Optuna: hyperparameters, hypermodel, tuner, oracle, ...
    lstm/        the stacked-LSTM hypermodel, its parameter names and default space
    storage/     the Optuna state all workers share: study (storage, sampler, heartbeat), artifacts
    serving/     the SavedModel: export, and forecast (read back)
    reporting/   summary.md and the plots

and the small top-level modules every layer may use: ``errors``, ``files``, ``rules``, ``names`` (the
name lists) and ``version``; with KerasTuner's faces ``tuners``, ``oracles`` and ``applications``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lstm_tuner import errors
from lstm_tuner.engine.hypermodel import HyperModel
from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.objective import Objective
from lstm_tuner.engine.search_space import ParamSpec
from lstm_tuner.errors import ConfigError, DataError, FailedTrialError, FatalError
from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE
from lstm_tuner.version import __version__ as __version__

_LAZY = {
    "BaseTuner": "lstm_tuner.engine.base_tuner",
    "Tuner": "lstm_tuner.engine.tuner",
    "RandomSearch": "lstm_tuner.tuners",
    "BayesianOptimization": "lstm_tuner.tuners",
    "GridSearch": "lstm_tuner.tuners",
    "Hyperband": "lstm_tuner.tuners",
    "LSTMHyperModel": "lstm_tuner.lstm.model",
    "build_lstm_model": "lstm_tuner.lstm.model",
    "get_strategy": "lstm_tuner.engine.strategy",
    "Oracle": "lstm_tuner.engine.oracle",
    "ConformalIntervals": "lstm_tuner.timeseries.intervals",
    "load_export": "lstm_tuner.serving.forecast",
}

if TYPE_CHECKING:
    from lstm_tuner.engine.base_tuner import BaseTuner
    from lstm_tuner.engine.oracle import Oracle
    from lstm_tuner.engine.strategy import get_strategy
    from lstm_tuner.engine.tuner import Tuner
    from lstm_tuner.lstm.model import LSTMHyperModel, build_lstm_model
    from lstm_tuner.serving.forecast import load_export
    from lstm_tuner.timeseries.intervals import ConformalIntervals
    from lstm_tuner.tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch


def __getattr__(name: str) -> Any:
    if name in ("oracles", "tuners", "applications"):  # KerasTuner's submodule names
        return importlib.import_module(f"lstm_tuner.{name}")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lstm_tuner' has no attribute {name!r}")


__all__ = [
    "DEFAULT_SEARCH_SPACE",
    "BaseTuner",
    "BayesianOptimization",
    "ConfigError",
    "ConformalIntervals",
    "DataError",
    "FailedTrialError",
    "FatalError",
    "GridSearch",
    "HyperModel",
    "HyperParameters",
    "Hyperband",
    "LSTMHyperModel",
    "Objective",
    "Oracle",
    "ParamSpec",
    "RandomSearch",
    "Tuner",
    "build_lstm_model",
    "errors",
    "get_strategy",
    "load_export",
]
