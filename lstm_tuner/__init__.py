"""lstm_tuner: KerasTuner-style hyperparameter search for stacked-LSTM regressors, on Optuna."""

from __future__ import annotations

__version__ = "0.1.0"
