"""The error taxonomy of lstm_tuner.

``ConfigError`` and ``DataError`` are raised at the boundary (config load, data load) before anything
trains; the CLI turns them into one line on stderr and exit code 2. ``FailedTrialError`` fails one trial
and the search goes on; ``FatalError`` stops the search.
"""

from __future__ import annotations


class LSTMTunerError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(LSTMTunerError, ValueError):
    """A configuration file, flag or argument breaks a rule."""


class DataError(LSTMTunerError, ValueError):
    """Input data (a CSV file or arrays) cannot be used as a time series."""


class FailedTrialError(LSTMTunerError, RuntimeError):
    """Fails the current trial; the search goes on with the next one."""


class FatalError(LSTMTunerError, RuntimeError):
    """Stops the whole search."""


class FatalValueError(FatalError, ValueError):
    """Stops the search: a value is wrong (KerasTuner's name)."""


class FatalTypeError(FatalError, TypeError):
    """Stops the search: a type is wrong (KerasTuner's name)."""


class FatalRuntimeError(FatalError, RuntimeError):
    """Stops the search (KerasTuner's name)."""
