"""The search space as data: :class:`ParamSpec`, the one place where a hyperparameter's rules live.

A space is a tuple of :class:`ParamSpec`. The YAML config, ``hp.Int/Float/Choice/Boolean/Fixed`` (which
build a ``ParamSpec`` for each call), :class:`~lstm_tuner.lstm.model.LSTMHyperModel` and the reports all read
the same objects, so a parameter has one name and one set of rules everywhere. Messages use the caller's
vocabulary: ``low``/``high``/``log: true`` for the config, ``min_value``/``max_value``/``sampling='log'``
for ``hp`` calls (:data:`CONFIG_LABELS`, :data:`KERAS_LABELS`). The YAML form of a space (the
``search_space:`` section) is read and written in :mod:`lstm_tuner.config.space`.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from lstm_tuner.errors import ConfigError
from lstm_tuner.rules import is_finite_number, is_int, is_number, short_repr

if TYPE_CHECKING:
    import optuna


ParamType = Literal["int", "float", "categorical", "fixed"]
PARAM_TYPES: tuple[str, ...] = ("int", "float", "categorical", "fixed")

#: How each field is called in messages, by the config file and by ``hp`` calls.
CONFIG_LABELS = {"low": "low", "high": "high", "log": "log is true", "choices": "choices"}
KERAS_LABELS = {
    "low": "min_value",
    "high": "max_value",
    "log": "sampling='log'",
    "choices": "values",
}


@dataclasses.dataclass(frozen=True)
class Condition:
    """A hyperparameter is active only when ``parent``'s value is one of ``values``."""

    parent: str
    values: tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One searched (or fixed) hyperparameter.

    Attributes:
        name: The hyperparameter's name, used as Optuna parameter name and everywhere else.
        type: ``"int"``, ``"float"``, ``"categorical"`` or ``"fixed"``.
        low: Lower bound (int/float).
        high: Upper bound, inclusive (int/float).
        step: Grid step (int: default 1; float: ``None`` for continuous).
        log: Sample uniformly in log space.
        choices: The values of a categorical parameter.
        value: The value of a fixed parameter.
        default: The value a recording ``HyperParameters`` returns; ``None`` means ``low`` (int,
            float) or the first choice (categorical).
        ordered: Whether a categorical parameter's choices are ordered; ``None`` means "when they
            are all numbers", as in KerasTuner.
        conditions: Active only when every condition holds (``hp.conditional_scope``).
    """

    name: str
    type: ParamType
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    value: Any = None
    default: Any = None
    ordered: bool | None = None
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        for key, value in _normalized(self).items():
            object.__setattr__(self, key, value)
        validate_param(self)

    @property
    def initial(self) -> Any:
        """The value used when nothing chooses one: ``default``, else ``low``, the first choice or
        the fixed value."""
        if self.type == "fixed":
            return self.value
        if self.default is not None:
            return self.default
        return self.choices[0] if self.type == "categorical" else self.low

    @property
    def is_ordered(self) -> bool:
        if self.type in ("int", "float"):
            return True
        if self.ordered is not None:
            return self.ordered
        return self.type == "categorical" and all(is_number(c) for c in self.choices)

    @property
    def keras_kind(self) -> str:
        """The KerasTuner class this spec stands for: Int, Float, Choice, Boolean or Fixed."""
        if self.type == "categorical" and self.choices == (False, True):
            return "Boolean"
        return {"int": "Int", "float": "Float", "categorical": "Choice", "fixed": "Fixed"}[
            self.type
        ]

    @property
    def geometric(self) -> bool:
        """A log-sampled range with a ``step``: KerasTuner's ``low * step**k`` values (Optuna has
        no such distribution; they are searched as a categorical)."""
        return self.log and self.step is not None and self.step > 1

    def geometric_values(self) -> list[Any]:
        cast = int if self.type == "int" else float
        values, value = [], self.low
        while value <= self.high * (1 + 1e-9):
            values.append(cast(round(value) if self.type == "int" else value))
            value *= self.step
        return values

    def distribution(self) -> optuna.distributions.BaseDistribution | None:
        """The Optuna distribution; ``None`` for a fixed value (it is not sent to Optuna)."""
        import optuna  # not at import time: the config is validated before the heavy imports

        if self.geometric:
            return optuna.distributions.CategoricalDistribution(self.geometric_values())
        if self.type == "int":
            return optuna.distributions.IntDistribution(
                int(self.low), int(self.high), log=self.log, step=int(self.step)
            )
        if self.type == "float":
            return optuna.distributions.FloatDistribution(
                float(self.low), float(self.high), log=self.log, step=self.step
            )
        if self.type == "categorical":
            return optuna.distributions.CategoricalDistribution(list(self.choices))
        return None

    def grid(self) -> list[Any]:
        """Every value of a discrete spec, for Optuna's ``GridSampler``.

        Raises:
            ValueError: for a continuous float (no ``step``).
        """
        if self.geometric:
            return self.geometric_values()
        if self.type == "int":
            return list(range(int(self.low), int(self.high) + 1, int(self.step)))
        if self.type == "float":
            if self.step is None:
                raise ValueError(
                    f"GridSearch: Float {self.name!r} is continuous; give it a `step` to make it a "
                    "grid"
                )
            count = int((self.high - self.low) / self.step + 1e-9) + 1
            return [self.low + i * self.step for i in range(count)]
        if self.type == "categorical":
            return list(self.choices)
        return [self.value]

    def describe(self) -> str:
        """A short human-readable form, e.g. ``int 64..256 step 64``."""
        if self.type in ("int", "float"):
            text = f"{self.type} {self.low:g}..{self.high:g}"
            if self.step is not None and not (self.type == "int" and self.step == 1):
                text += f" step {'x' if self.geometric else ''}{self.step:g}"
            if self.log:
                text += " log"
            return text
        if self.type == "categorical":
            return f"categorical {list(self.choices)}"
        return f"fixed {self.value!r}"

    def keras_config(self) -> dict[str, Any]:
        """The KerasTuner-style ``get_config`` of ``search_space_summary``."""
        out: dict[str, Any] = {
            "default": self.initial,
            "conditions": [f"{c.parent} in {list(c.values)}" for c in self.conditions],
        }
        if self.type in ("int", "float"):
            out.update(
                min_value=self.low,
                max_value=self.high,
                step=self.step,
                sampling="log" if self.log else "linear",
            )
        elif self.keras_kind == "Choice":
            out.update(values=list(self.choices), ordered=self.is_ordered)
        elif self.type == "fixed":
            out["value"] = self.value
        return out


def fail(where: str, rule: str, got: Any) -> ConfigError:
    """The one-line error of a broken rule: where, the rule, the value received."""
    return ConfigError(f"{where}: {rule}, got {short_repr(got)}")


def validate_param(
    spec: ParamSpec, where: str | None = None, labels: Mapping[str, str] = CONFIG_LABELS
) -> None:
    """Checks the rules of one parameter.

    Args:
        spec: The parameter.
        where: Names it in messages (default ``search_space.<name>``).
        labels: The caller's names of ``low``, ``high``, ``log`` and ``choices``.

    Raises:
        ConfigError: naming the parameter, the field, the rule and the value received.
    """
    where = where or f"search_space.{spec.name}"
    low_key, high_key = labels["low"], labels["high"]
    if spec.type not in PARAM_TYPES:
        raise fail(f"{where}.type", f"must be one of {list(PARAM_TYPES)}", spec.type)
    if spec.type in ("int", "float"):
        for key, val in ((low_key, spec.low), (high_key, spec.high)):
            if not is_finite_number(val):
                raise fail(f"{where}.{key}", "must be a finite number", val)
            if spec.type == "int" and not is_int(val):
                raise fail(f"{where}.{key}", "must be an integer for an int parameter", val)
        if spec.low > spec.high:
            raise ConfigError(
                f"{where}: `{low_key} <= {high_key}` must hold, got "
                f"({low_key}={spec.low!r}, {high_key}={spec.high!r})"
            )
        if spec.step is not None:
            if not is_number(spec.step) or spec.step <= 0:
                raise fail(f"{where}.step", "must be > 0", spec.step)
            if spec.type == "int" and not is_int(spec.step):
                raise fail(f"{where}.step", "must be an integer for an int parameter", spec.step)
        if spec.log:
            if spec.low <= 0:
                raise fail(f"{where}.{low_key}", f"must be > 0 when {labels['log']}", spec.low)
            if spec.step is not None and spec.step != 1 and spec.step <= 1:
                raise fail(
                    f"{where}.step", f"must be > 1 with {labels['log']} (a factor)", spec.step
                )
        if spec.default is not None and not (
            is_number(spec.default) and spec.low <= spec.default <= spec.high
        ):
            raise fail(f"{where}.default", f"must lie in [{spec.low}, {spec.high}]", spec.default)
    elif spec.type == "categorical":
        key = f"{where}.{labels['choices']}"
        if not spec.choices:
            raise fail(key, "must be a non-empty list", list(spec.choices))
        kinds = {
            bool if isinstance(c, bool) else float if is_number(c) else type(c)
            for c in spec.choices
        }
        if not kinds <= {bool, float, str} or len(kinds) > 1:
            raise fail(
                key,
                "must all be numbers, all strings or all booleans (one type)",
                list(spec.choices),
            )
        if len(set(spec.choices)) != len(spec.choices):
            raise fail(key, "must be unique", list(spec.choices))
        if spec.default is not None and spec.default not in spec.choices:
            raise fail(f"{where}.default", f"must be one of {list(spec.choices)}", spec.default)
    elif spec.value is not None and not isinstance(spec.value, (bool, int, float, str)):
        raise fail(f"{where}.value", "must be a number, string or boolean", spec.value)


def _normalized(spec: Any) -> dict[str, Any]:
    """One spelling of equal specs: int ``step`` 1 when not given, ``choices`` as a tuple."""
    step = 1 if spec.type == "int" and spec.step is None else spec.step
    return {"step": step, "choices": tuple(spec.choices)}


def make_param(
    where: str, labels: Mapping[str, str], name: str, type: str, **fields: Any
) -> ParamSpec:
    """A ``ParamSpec``, its rules checked with the caller's ``where`` and ``labels`` in messages.

    Raises:
        ConfigError: a rule is broken.
    """
    draft = types.SimpleNamespace(
        **{**{f.name: f.default for f in dataclasses.fields(ParamSpec)}, **fields}
    )
    draft.name, draft.type = name, type
    draft.__dict__.update(_normalized(draft))
    validate_param(draft, where, labels)  # type: ignore[arg-type]
    return ParamSpec(name, type, **fields)  # type: ignore[arg-type]


def grid_of(space: Sequence[ParamSpec]) -> dict[str, list[Any]]:
    """The grid of a discrete space: ``{name: values}`` of every searched hyperparameter, the
    points Optuna's ``GridSampler`` visits (``GridSearch`` and ``study.sampler: grid``).

    Raises:
        ValueError: for a continuous float (no ``step``).
    """
    return {spec.name: spec.grid() for spec in space if spec.type != "fixed"}
