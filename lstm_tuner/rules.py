"""The small value rules that the config, the search space, the data and the pipeline all apply.

Kept in one place (and free of TensorFlow, Optuna and NumPy imports) so that "an integer" or "a finite
number" means the same thing at every boundary. Each check raises the caller's error type.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

#: ``numpy.random.seed`` (used by Keras and Optuna's samplers) takes seeds in [0, 2**32 - 1].
MAX_SEED = 2**32 - 1
_MAX_REPR = 200


def is_int(value: Any) -> bool:
    """An integer that is not a bool (``numpy`` integers included)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A real number that is not a bool (``numpy`` scalars included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    return is_number(value) and math.isfinite(value)


def short_repr(value: Any) -> str:
    """``repr`` cut to a length that fits in a one-line message."""
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def format_value(value: Any) -> str:
    """Short, stable formatting of a hyperparameter or metric value in reports and logs."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def check_positive_int(name: str, value: Any, error: type[Exception] = ValueError) -> int:
    """Returns ``value`` as an int, or raises ``error`` naming ``name``.

    Raises:
        error: ``value`` is not an integer >= 1.
    """
    if not is_int(value) or value < 1:
        raise error(f"{name} must be a positive integer, got {short_repr(value)}")
    return int(value)


def plain(value: Any) -> Any:
    """A JSON- and YAML-friendly copy: mappings become dicts and tuples lists, recursively."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
