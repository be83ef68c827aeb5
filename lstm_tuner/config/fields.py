"""The rules of the config's fields: each returns the value to keep, or raises :class:`RuleBroken`.

:func:`~lstm_tuner.config.yaml_loader.rule_field` attaches one to a dataclass field; the loader adds the
file, the dotted key and the value received to the rule's text.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from lstm_tuner.rules import is_int, is_number


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


def names_rule(
    choices: Sequence[str] | None = None, noun: str = "names"
) -> Callable[[Any], tuple[str, ...]]:
    """A list of distinct non-empty names (``noun`` among ``choices``, when given)."""

    def check(value: Any) -> tuple[str, ...]:
        if (
            not isinstance(value, Sequence)
            or isinstance(value, (str, bytes))
            or not all(isinstance(item, str) and item for item in value)
        ):
            raise RuleBroken("must be a list of non-empty strings")
        if choices is not None and any(item not in choices for item in value):
            raise RuleBroken(f"must name {noun} among {list(choices)}")
        if len(set(value)) != len(value):
            raise RuleBroken("must not repeat a name")
        return tuple(value)

    return check


def levels_rule(value: Any) -> tuple[float, ...]:
    """A list of distinct percentages strictly between 0 and 100 (empty: none)."""
    if (
        not isinstance(value, Sequence)
        or isinstance(value, (str, bytes))
        or not all(is_number(v) and math.isfinite(v) and 0 < v < 100 for v in value)
    ):
        raise RuleBroken("must be a list of levels in percent, each > 0 and < 100")
    if len({float(v) for v in value}) != len(value):
        raise RuleBroken("must not repeat a level")
    return tuple(float(v) for v in value)


def flag_rule(value: Any) -> bool:
    if not isinstance(value, bool):
        raise RuleBroken("must be true or false")
    return value
