"""Reading YAML for the config: a strict safe loader, one-line syntax errors, ``key.path=value``
overrides, and the generic reader of a dataclass whose fields carry their rules (:func:`load_section`,
which :mod:`lstm_tuner.config.schema` uses for every section).

The loader is ``yaml.SafeLoader`` with two changes, each worth its lines: a repeated mapping key is an
error (PyYAML silently keeps the last one), and exponent floats without a dot (``1e-4``) are numbers, as
in YAML 1.2 (PyYAML reads YAML 1.1, where they are text).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from lstm_tuner.config.fields import RuleBroken
from lstm_tuner.errors import ConfigError
from lstm_tuner.rules import short_repr

# -- reading YAML -----------------------------------------------------------------------------------

# Floats with an exponent and no dot (1e-4, 5E-3): YAML 1.2 reads them as numbers, PyYAML's YAML 1.1
# resolver as text. The other float forms (1.0e-4, .5, .inf) YAML 1.1 already reads.
_YAML12_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a repeated mapping key instead of silently keeping the last
    (PyYAML accepts duplicates), and reads YAML 1.2 floats."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may be overridden.
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                line = first_line.get(key)
            except TypeError:  # Unhashable; the base class reports it.
                continue
            if line is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"found duplicate key {key!r} (first defined on line {line})",
                    key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", _YAML12_EXPONENT_FLOAT, list("-+0123456789.")
)


def parse_yaml(text: str) -> Any:
    """Parses YAML text with the config's loader (safe, strict keys, YAML 1.2 floats)."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass.


def describe_yaml_error(exc: yaml.YAMLError) -> str:
    """One line to follow "invalid YAML": `` at line L, column C: problem (context)``."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    location = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    details = problem + (f" ({context})" if context else "")
    return f"{location}: " + " ".join(details.split())


def read_yaml_file(path: str | os.PathLike[str], where: str) -> Any:
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: cannot read config file: not UTF-8 text ({exc})") from exc
    except (OSError, ValueError) as exc:  # ValueError: e.g. a NUL byte in the path.
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"{where}: cannot read config file: {reason}") from exc
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML{describe_yaml_error(exc)}") from exc


# -- overrides --------------------------------------------------------------------------------------


def check_overrides_type(overrides: Sequence[str]) -> None:
    if isinstance(overrides, (str, bytes)):
        # Iterating a lone string would apply one "override" per character.
        raise TypeError(
            f"overrides must be a sequence of 'key.path=value' strings, got {overrides!r}"
        )


def _override_key(override: str) -> list[str] | None:
    """The key path of a well-formed override, or ``None``."""
    if not isinstance(override, str):
        return None
    key, sep, _ = override.partition("=")
    parts = [part.strip() for part in key.split(".")]
    if not sep or not all(parts):
        return None
    return parts


def apply_override(raw: dict[str, Any], override: str) -> None:
    """Sets one ``key.path=value`` override into ``raw``, creating missing sections.

    Mappings along the path are copied before they are changed, so neither the caller's mapping nor a
    YAML alias shared with another key is modified.

    Raises:
        ConfigError: The override has no ``=``, an empty key part, a value that is not valid YAML,
            or a path that goes through a value that is not a mapping.
    """
    where = f"--override {override!r}"
    parts = _override_key(override)
    if parts is None:
        raise ConfigError(f"{where}: must have the form key.path=value")
    try:
        value = parse_yaml(override.partition("=")[2])
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML in the value{describe_yaml_error(exc)}") from exc
    node = raw
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = {}
        elif isinstance(child, Mapping):
            child = dict(child)
        else:
            through = ".".join(parts[: depth + 1])
            raise ConfigError(
                f"{where}: cannot set {'.'.join(parts)}: {through} is not a mapping, got "
                f"{short_repr(child)}"
            )
        node[part] = child
        node = child
    node[parts[-1]] = value


def override_note(message: str, where: str, overrides: Sequence[str]) -> str:
    """`` (set by --override '...')`` when the failing key was set or changed by an override."""
    prefix = f"{where}: "
    if not overrides or not message.startswith(prefix):
        return ""
    failing = message[len(prefix) :].split(": ", 1)[0]
    related = []
    for override in overrides:
        key = ".".join(_override_key(override) or ())
        if key and (
            key == failing or key.startswith(failing + ".") or failing.startswith(key + ".")
        ):
            related.append(f"--override {override!r}")
    return f" (set by {', '.join(related)})" if related else ""


# -- checked dataclasses from the parsed mapping ---------------------------------------------------


def rule_field(default: Any, check: Callable[[Any], Any], **metadata: Any) -> Any:
    """A dataclass field whose value :func:`load_section` checks with ``check`` (a rule that raises
    :class:`~lstm_tuner.config.fields.RuleBroken`); other metadata: ``default_from``, ``load``, ``internal``."""
    return dataclasses.field(default=default, metadata={"check": check, **metadata})


def section_field(cls: type) -> Any:
    """A dataclass field holding a nested section, read by :func:`load_section` as a mapping."""
    return dataclasses.field(default_factory=cls, metadata={"section": cls})


def load_section(cls: type, raw: Any, key: str, where: str) -> Any:
    """Reads one dataclass from a mapping, field by field, with each field's rule.

    A ``None`` section (every key commented out) reads as empty; a key that is absent takes its
    default; a key that is present but ``null`` is checked like any value.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise located_error(where, key, "must be a mapping", raw)
    fields = [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]
    allowed = [f.name for f in fields]
    for name in raw:
        if name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1)
            guess = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{where}: {join_key(key, name)}: unknown key (allowed: {sorted(allowed)}){guess}"
            )
    values = {}
    for field in fields:
        sub = join_key(key, field.name)
        meta = field.metadata
        if "section" in meta:
            values[field.name] = load_section(meta["section"], raw.get(field.name), sub, where)
        elif "load" in meta:
            values[field.name] = meta["load"](raw.get(field.name), sub, where)
        else:
            default = meta["default_from"](raw) if "default_from" in meta else field.default
            value = raw.get(field.name, default)
            try:
                values[field.name] = meta["check"](value)
            except RuleBroken as broken:
                raise located_error(where, sub, f"{broken}{_text_hint(value)}", value) from None
    section = cls(**values)
    for name, rule, value in getattr(section, "problems", list)():
        raise located_error(where, join_key(key, name) if name else key, rule, value)
    return section


def join_key(key: str, name: Any) -> str:
    return f"{key}.{name}" if key else str(name)


def located_error(where: str, key: str, rule: str, value: Any) -> ConfigError:
    """``<file>: <dotted key>: <rule>, got <value>``."""
    location = f"{where}: {key}" if key else where
    return ConfigError(f"{location}: {rule}, got {short_repr(value)}")


def _text_hint(value: Any) -> str:
    """A quoted number (``'5'``) is text in YAML: say so next to the rule."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return " (YAML read this number as text: leave numbers unquoted)"
    return ""
