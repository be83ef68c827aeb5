"""The small value rules that the config, the search space, the data and the pipeline all apply.

Kept in one place (and free of TensorFlow, Optuna and NumPy imports) so that "an integer" or "a finite
number" means the same thing at every boundary. Each check raises the caller's error type.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Sequence
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


# -- field rules of the config: each returns the value to keep, or raises RuleBroken(rule) ----


class RuleBroken(Exception):
    """A value breaks a field's rule; the config loader adds the file, the key and the value."""


def integer_rule(
    minimum: int, rule: str, maximum: int | None = None, nullable: bool = False
) -> Callable[[Any], Any]:
    def check(value: Any) -> int | None:
        if value is None and nullable:
            return None
        if not is_int(value) or value < minimum or (maximum is not None and value > maximum):
            raise RuleBroken(rule + (" or null" if nullable else ""))
        return int(value)

    return check


def positive_number_rule(nullable: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> float | None:
        if value is None and nullable:
            return None
        if not is_number(value) or not math.isfinite(value) or value <= 0:
            raise RuleBroken("must be a number > 0" + (" or null" if nullable else ""))
        return float(value)

    return check


def one_of_rule(choices: Sequence[str], nullable: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or value not in choices:
            raise RuleBroken(f"must be one of {list(choices)}" + (" or null" if nullable else ""))
        return value

    return check


def single_character_rule(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) != 1 or value in "\r\n\"'"):
        raise RuleBroken("must be one character (e.g. ',', ';', '\\t', '|') or null")
    return value


def text_rule(nullable: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value:
            raise RuleBroken("must be a non-empty string" + (" or null" if nullable else ""))
        return value

    return check


def choice_or_list_rule(choices: Sequence[str]) -> Callable[[Any], Any]:
    """One of ``choices``, or a list of them (several: searched)."""

    def check(value: Any) -> str | tuple[str, ...]:
        if isinstance(value, str) and value in choices:
            return value
        if (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and value
            and all(isinstance(v, str) and v in choices for v in value)
            and len(set(value)) == len(value)
        ):
            return value[0] if len(value) == 1 else tuple(value)
        raise RuleBroken(f"must be one of {list(choices)} or a list of them (searched)")

    return check


def path_rule(value: Any) -> str | None:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if value is not None and (not isinstance(value, str) or not value):
        raise RuleBroken("must be a file path (a non-empty string) or null")
    return value


def names_rule(value: Any) -> tuple[str, ...]:
    if (
        not isinstance(value, Sequence)
        or isinstance(value, (str, bytes))
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise RuleBroken("must be a list of non-empty strings")
    if len(set(value)) != len(value):
        raise RuleBroken("must not repeat a name")
    return tuple(value)


def flag_rule(value: Any) -> bool:
    if not isinstance(value, bool):
        raise RuleBroken("must be true or false")
    return value


def plain(value: Any) -> Any:
    """A JSON- and YAML-friendly copy: mappings become dicts and tuples lists, recursively."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
