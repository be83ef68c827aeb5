"""lstm_tuner: KerasTuner-style hyperparameter search for stacked-LSTM regressors, on Optuna.

The names that need TensorFlow (``Tuner``, ``LSTMHyperModel``, ...) are imported lazily, on first use,
so that ``import lstm_tuner`` and config validation stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lstm_tuner.errors import ConfigError, DataError, FailedTrialError, FatalError
from lstm_tuner.hypermodel import HyperModel
from lstm_tuner.hyperparameters import HyperParameters
from lstm_tuner.objective import Objective
from lstm_tuner.search_space import DEFAULT_SEARCH_SPACE, ParamSpec

__version__ = "0.1.0"

_LAZY = {
    "Tuner": "lstm_tuner.tuner",
    "RandomSearch": "lstm_tuner.tuner",
    "BayesianOptimization": "lstm_tuner.tuner",
    "GridSearch": "lstm_tuner.tuner",
    "Hyperband": "lstm_tuner.tuner",
    "LSTMHyperModel": "lstm_tuner.model",
    "build_lstm_model": "lstm_tuner.model",
    "get_strategy": "lstm_tuner.distribute",
}

if TYPE_CHECKING:
    from lstm_tuner.distribute import get_strategy
    from lstm_tuner.model import LSTMHyperModel, build_lstm_model
    from lstm_tuner.tuner import BayesianOptimization, GridSearch, Hyperband, RandomSearch, Tuner


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lstm_tuner' has no attribute {name!r}")


__all__ = [
    "DEFAULT_SEARCH_SPACE",
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
    "ParamSpec",
    "RandomSearch",
    "Tuner",
    "build_lstm_model",
    "get_strategy",
]
