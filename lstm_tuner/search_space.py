"""The search space as data: the spec's default space and its translation into ``hp`` calls.

A space is a tuple of :class:`ParamSpec`. The YAML config, :class:`~lstm_tuner.model.LSTMHyperModel`
and the reports all read the same objects, so a parameter has one name everywhere.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from lstm_tuner.errors import ConfigError

if TYPE_CHECKING:
    from lstm_tuner.hyperparameters import HyperParameters

ParamType = Literal["int", "float", "categorical", "fixed"]
PARAM_TYPES: tuple[str, ...] = ("int", "float", "categorical", "fixed")

#: The names the stacked-LSTM model understands, in the order the spec lists them.
LSTM_PARAM_NAMES: tuple[str, ...] = ("hidden_size", "num_layers", "dropout", "lr", "batch_size")


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
    """

    name: str
    type: ParamType
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    value: Any = None

    def __post_init__(self) -> None:
        if self.type == "int" and self.step is None:
            object.__setattr__(
                self, "step", 1
            )  # one spelling of "step 1", so equal specs compare equal
        validate_param(self)

    def suggest(self, hp: HyperParameters) -> Any:
        """Declares this parameter on ``hp`` and returns its value for the current trial."""
        if self.type == "int":
            return hp.Int(
                self.name,
                int(self.low),
                int(self.high),
                step=int(self.step or 1),
                sampling="log" if self.log else "linear",
            )
        if self.type == "float":
            return hp.Float(
                self.name,
                float(self.low),
                float(self.high),
                step=self.step,
                sampling="log" if self.log else "linear",
            )
        if self.type == "categorical":
            return hp.Choice(self.name, list(self.choices))
        return hp.Fixed(self.name, self.value)

    def describe(self) -> str:
        """A short human-readable form, e.g. ``int 64..256 step 64``."""
        if self.type in ("int", "float"):
            text = f"{self.type} {self.low:g}..{self.high:g}"
            if self.step is not None and not (self.type == "int" and self.step == 1):
                text += f" step {self.step:g}"
            if self.log:
                text += " log"
            return text
        if self.type == "categorical":
            return f"categorical {list(self.choices)}"
        return f"fixed {self.value!r}"


def _fail(where: str, rule: str, got: Any) -> ConfigError:
    return ConfigError(f"{where}: {rule}, got {got!r}")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def validate_param(spec: ParamSpec, where: str | None = None) -> None:
    """Checks the rules of one parameter; raises ConfigError naming the parameter and the value."""
    where = where or f"search_space.{spec.name}"
    if spec.type not in PARAM_TYPES:
        raise _fail(f"{where}.type", f"must be one of {list(PARAM_TYPES)}", spec.type)
    if spec.type in ("int", "float"):
        for key in ("low", "high"):
            val = getattr(spec, key)
            if not _is_number(val) or not math.isfinite(val):
                raise _fail(f"{where}.{key}", "must be a finite number", val)
            if spec.type == "int" and not isinstance(val, int):
                raise _fail(f"{where}.{key}", "must be an integer for an int parameter", val)
        if spec.low > spec.high:
            raise ConfigError(
                f"{where}: `low <= high` must hold, got (low={spec.low!r}, high={spec.high!r})"
            )
        if spec.step is not None:
            if not _is_number(spec.step):
                raise _fail(f"{where}.step", "must be a number", spec.step)
            if spec.step <= 0:
                raise _fail(f"{where}.step", "must be > 0", spec.step)
            if spec.type == "int" and int(spec.step) != spec.step:
                raise _fail(f"{where}.step", "must be an integer for an int parameter", spec.step)
        if spec.log:
            if spec.low <= 0:
                raise _fail(f"{where}.low", "must be > 0 when log is true", spec.low)
            if spec.step is not None and not (spec.type == "int" and spec.step == 1):
                raise _fail(f"{where}.step", "cannot be combined with log: true", spec.step)
    elif spec.type == "categorical":
        if len(spec.choices) == 0:
            raise _fail(f"{where}.choices", "must be a non-empty list", list(spec.choices))
        for choice in spec.choices:
            if choice is not None and not isinstance(choice, (bool, int, float, str)):
                raise _fail(
                    f"{where}.choices", "must hold only numbers, strings or booleans", choice
                )
        if len({(type(c), c) for c in spec.choices}) != len(spec.choices):
            raise _fail(f"{where}.choices", "must not repeat a value", list(spec.choices))
    elif spec.value is not None and not isinstance(spec.value, (bool, int, float, str)):
        raise _fail(f"{where}.value", "must be a number, string or boolean", spec.value)


def _default_space() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("hidden_size", "int", low=64, high=256, step=64),
        ParamSpec("num_layers", "int", low=1, high=3, step=1),
        ParamSpec("dropout", "float", low=0.0, high=0.4),
        ParamSpec("lr", "float", low=1e-4, high=5e-3, log=True),
        ParamSpec("batch_size", "categorical", choices=(32, 64, 128)),
    )


#: The spec's search space (``hpo_quick_reference.md``).
DEFAULT_SEARCH_SPACE: tuple[ParamSpec, ...] = _default_space()

_KEYS_BY_TYPE: dict[str, frozenset[str]] = {
    "int": frozenset({"type", "low", "high", "step", "log"}),
    "float": frozenset({"type", "low", "high", "step", "log"}),
    "categorical": frozenset({"type", "choices"}),
    "fixed": frozenset({"type", "value"}),
}


def param_from_dict(name: str, raw: Any, where: str) -> ParamSpec:
    """Parses one YAML entry: a mapping with ``type`` or a bare scalar meaning a fixed value.

    Args:
        name: The parameter's name.
        raw: The YAML value.
        where: Prefix for error messages, e.g. ``configs/x.yaml: search_space.lr``.

    Raises:
        ConfigError: on unknown keys, wrong types or broken rules.
    """
    if not isinstance(raw, Mapping):
        if isinstance(raw, (bool, int, float, str)):
            return _build(where, name, "fixed", value=raw)
        raise _fail(where, "must be a mapping with a `type` key or a fixed scalar value", raw)
    ptype = raw.get("type")
    if ptype not in PARAM_TYPES:
        raise _fail(f"{where}.type", f"must be one of {list(PARAM_TYPES)}", ptype)
    unknown = sorted(set(raw) - _KEYS_BY_TYPE[ptype])
    if unknown:
        raise _fail(
            f"{where}.{unknown[0]}",
            f"unknown key for a {ptype} parameter (allowed: {sorted(_KEYS_BY_TYPE[ptype])})",
            unknown[0],
        )
    if ptype in ("int", "float"):
        for key in ("low", "high"):
            if key not in raw:
                raise _fail(f"{where}.{key}", f"is required for a {ptype} parameter", None)
        log = raw.get("log", False)
        if not isinstance(log, bool):
            raise _fail(f"{where}.log", "must be true or false", log)
        step = raw.get("step", 1 if ptype == "int" else None)
        return _build(where, name, ptype, low=raw["low"], high=raw["high"], step=step, log=log)
    elif ptype == "categorical":
        choices = raw.get("choices")
        if not isinstance(choices, Sequence) or isinstance(choices, str):
            raise _fail(f"{where}.choices", "must be a non-empty list", choices)
        return _build(where, name, ptype, choices=tuple(choices))
    else:
        if "value" not in raw:
            raise _fail(f"{where}.value", "is required for a fixed parameter", None)
        return _build(where, name, ptype, value=raw["value"])


def _build(where: str, name: str, ptype: str, **fields: Any) -> ParamSpec:
    """Constructs a ParamSpec; its validation errors are re-prefixed with the caller's ``where``."""
    try:
        return ParamSpec(name, ptype, **fields)  # type: ignore[arg-type]
    except ConfigError as e:
        message, generic = str(e), f"search_space.{name}"
        if message.startswith(generic):
            message = where + message[len(generic) :]
        raise ConfigError(message) from None


def space_from_dict(
    raw: Mapping[str, Any],
    where: str,
    *,
    allowed_names: Sequence[str] | None = LSTM_PARAM_NAMES,
    base: Sequence[ParamSpec] = DEFAULT_SEARCH_SPACE,
) -> tuple[ParamSpec, ...]:
    """Builds a space from a YAML mapping; parameters it does not name keep their ``base`` spec."""
    if not isinstance(raw, Mapping):
        raise _fail(where, "must be a mapping of parameter name to spec", raw)
    if allowed_names is not None:
        for name in raw:
            if name not in allowed_names:
                raise _fail(
                    f"{where}.{name}", f"unknown parameter (allowed: {list(allowed_names)})", name
                )
    by_name = {spec.name: spec for spec in base}
    for name, entry in raw.items():
        by_name[name] = param_from_dict(str(name), entry, f"{where}.{name}")
    return tuple(by_name.values())


def space_to_dict(space: Sequence[ParamSpec]) -> dict[str, dict[str, Any]]:
    """The inverse of :func:`space_from_dict`, JSON/YAML-friendly."""
    out: dict[str, dict[str, Any]] = {}
    for spec in space:
        entry: dict[str, Any] = {"type": spec.type}
        if spec.type in ("int", "float"):
            entry.update(low=spec.low, high=spec.high)
            if spec.step is not None:
                entry["step"] = spec.step
            if spec.log:
                entry["log"] = True
        elif spec.type == "categorical":
            entry["choices"] = list(spec.choices)
        else:
            entry["value"] = spec.value
        out[spec.name] = entry
    return out


def suggest_all(space: Sequence[ParamSpec], hp: HyperParameters) -> dict[str, Any]:
    """Declares every parameter of ``space`` on ``hp``; returns ``{name: value}``."""
    return {spec.name: spec.suggest(hp) for spec in space}
