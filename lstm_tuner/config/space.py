"""The ``search_space:`` section of a config, both ways: YAML mappings to :class:`ParamSpec` tuples
(:func:`space_from_dict`) and back (:func:`space_to_dict`). The rules themselves are
:class:`~lstm_tuner.engine.search_space.ParamSpec`'s; this module adds only what is about the YAML form
(allowed keys per type, required keys, a bare scalar meaning a fixed value) and what the stacked LSTM
needs of its own parameters (numbers, not text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lstm_tuner.engine.search_space import CONFIG_LABELS, PARAM_TYPES, ParamSpec, fail, make_param
from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE, LSTM_PARAM_KINDS, LSTM_PARAM_NAMES
from lstm_tuner.rules import is_finite_number, is_int

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
            return make_param(where, CONFIG_LABELS, name, "fixed", value=raw)
        raise fail(where, "must be a mapping with a `type` key or a fixed scalar value", raw)
    ptype = raw.get("type")
    if ptype not in PARAM_TYPES:
        raise fail(f"{where}.type", f"must be one of {list(PARAM_TYPES)}", ptype)
    unknown = sorted(str(key) for key in set(raw) - _KEYS_BY_TYPE[ptype])
    if unknown:
        raise fail(
            f"{where}.{unknown[0]}",
            f"unknown key for a {ptype} parameter (allowed: {sorted(_KEYS_BY_TYPE[ptype])})",
            unknown[0],
        )
    fields = {key: value for key, value in raw.items() if key != "type"}
    if ptype in ("int", "float"):
        for key in ("low", "high"):
            if key not in raw:
                raise fail(f"{where}.{key}", f"is required for a {ptype} parameter", None)
        if not isinstance(fields.get("log", False), bool):
            raise fail(f"{where}.log", "must be true or false", fields["log"])
    elif ptype == "categorical":
        choices = raw.get("choices")
        if not isinstance(choices, Sequence) or isinstance(choices, str):
            raise fail(f"{where}.choices", "must be a non-empty list", choices)
        fields["choices"] = tuple(choices)
    elif "value" not in raw:
        raise fail(f"{where}.value", "is required for a fixed parameter", None)
    return make_param(where, CONFIG_LABELS, name, ptype, **fields)


def space_from_dict(
    raw: Mapping[str, Any],
    where: str,
    *,
    allowed_names: Sequence[str] | None = LSTM_PARAM_NAMES,
    base: Sequence[ParamSpec] = DEFAULT_SEARCH_SPACE,
) -> tuple[ParamSpec, ...]:
    """Builds a space from a YAML mapping; parameters it does not name keep their ``base`` spec."""
    if not isinstance(raw, Mapping):
        raise fail(where, "must be a mapping of parameter name to spec", raw)
    if allowed_names is not None:
        for name in raw:
            if name not in allowed_names:
                raise fail(
                    f"{where}.{name}", f"unknown parameter (allowed: {list(allowed_names)})", name
                )
    by_name = {spec.name: spec for spec in base}
    for name, entry in raw.items():
        by_name[name] = spec = param_from_dict(str(name), entry, f"{where}.{name}")
        if name in LSTM_PARAM_KINDS:
            _check_numeric(spec, LSTM_PARAM_KINDS[name], f"{where}.{name}")
    return tuple(by_name.values())


def _check_numeric(spec: ParamSpec, kind: type, where: str) -> None:
    """The LSTM's parameters take numbers (integers for sizes): text such as ``'32'`` is refused."""
    what = "integers" if kind is int else "numbers"
    test = is_int if kind is int else is_finite_number
    if spec.type == "categorical" and not all(test(c) for c in spec.choices):
        raise fail(f"{where}.choices", f"must hold {what}, not text", list(spec.choices))
    if spec.type == "fixed" and not test(spec.value):
        raise fail(
            where,
            "a fixed value must be " + ("an integer" if kind is int else "a number"),
            spec.value,
        )
    if spec.type == "float" and kind is int:
        raise fail(f"{where}.type", "must be int, categorical or fixed for this parameter", "float")


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
