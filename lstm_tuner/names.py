"""The name lists: every choice a config field, a flag or a function accepts, in one copy.

Plain tuples and numbers: no TensorFlow, no YAML, so any layer may read them (the CLI's flags, the
config's rules, the storage's defaults, the model's optimizers) without loading another.
"""

from __future__ import annotations

SOURCES: tuple[str, ...] = ("builtin", "csv")
MISSING_POLICIES: tuple[str, ...] = ("error", "interpolate", "drop")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "rmsprop", "sgd")
LOSSES: tuple[str, ...] = ("mse", "mae", "huber")
SAMPLERS: tuple[str, ...] = ("tpe", "random", "grid")
PRUNERS: tuple[str, ...] = ("none", "median", "hyperband")
DIRECTIONS: tuple[str, ...] = ("minimize", "maximize")
STRATEGIES: tuple[str, ...] = ("auto", "default", "mirrored", "one_device")
TARGET_TRANSFORMS: tuple[str, ...] = (
    "level",
    "delta",
    "seasonal_delta",
    "seasonal_growth",
    "linear_ar",
)
#: The scale the model sees the target on (lstm_tuner.timeseries.scaler.Scaler.log_target).
TARGET_SCALES: tuple[str, ...] = ("auto", "linear", "log")
#: What the LSTM sees of the target in a window (lstm_tuner.lstm.layers.SubtractLastValue).
WINDOW_NORMALIZATIONS: tuple[str, ...] = ("none", "last_value")
#: What the retrained model is fitted on (lstm_tuner.job.retraining.retrain).
RETRAIN_DATA: tuple[str, ...] = ("train", "train_validation")
DECIMAL_MARKS: tuple[str, ...] = (".", ",")
THOUSANDS_SEPARATORS: tuple[str, ...] = (",", ".", " ", "'", "_")
#: The statistical models of :mod:`lstm_tuner.timeseries.statistical` (statsforecast), in report order.
STATISTICAL_MODELS: tuple[str, ...] = ("auto_ets", "auto_arima", "auto_theta")
#: How prediction intervals follow the forecast (lstm_tuner.timeseries.intervals.SCALES).
INTERVAL_SCALES: tuple[str, ...] = ("additive", "relative")

#: How often a running trial writes its heartbeat, and after how long without one it counts as dead.
HEARTBEAT_INTERVAL_S = 30
GRACE_PERIOD_S = 120
MAX_RETRIES = 2
