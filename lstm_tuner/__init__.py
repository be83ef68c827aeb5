"""lstm_tuner: KerasTuner-style hyperparameter search for stacked-LSTM regressors, on Optuna.

The names that need TensorFlow (``Tuner``, ``LSTMHyperModel``, ...) are imported lazily, on first use,
so that ``import lstm_tuner`` and config validation stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lstm_tuner import errors
from lstm_tuner.errors import ConfigError, DataError, FailedTrialError, FatalError
from lstm_tuner.hypermodel import HyperModel
from lstm_tuner.hyperparameters import HyperParameters
from lstm_tuner.objective import Objective
from lstm_tuner.search_space import DEFAULT_SEARCH_SPACE, ParamSpec

__version__ = "0.1.0"

_LAZY = {
    "BaseTuner": "lstm_tuner.base_tuner",
    "Tuner": "lstm_tuner.tuner",
    "RandomSearch": "lstm_tuner.tuners",
    "BayesianOptimization": "lstm_tuner.tuners",
    "GridSearch": "lstm_tuner.tuners",
    "Hyperband": "lstm_tuner.tuners",
    "LSTMHyperModel": "lstm_tuner.model",
    "build_lstm_model": "lstm_tuner.model",
    "get_strategy": "lstm_tuner.distribute",
    "Oracle": "lstm_tuner.oracle",
}

if TYPE_CHECKING:
    from lstm_tuner.base_tuner import BaseTuner
    from lstm_tuner.distribute import get_strategy
    from lstm_tuner.model import LSTMHyperModel, build_lstm_model
    from lstm_tuner.oracle import Oracle
    from lstm_tuner.tuner import Tuner
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
]
