"""Typed, frozen configuration: the YAML file as data.

``load_config(path, overrides)`` reads a YAML file (safe loading, duplicate keys refused), applies
``key.path=value`` overrides, validates every rule and returns a frozen :class:`Config`.
``config_from_dict`` does the same for a mapping built in Python, and ``config_to_dict`` is its inverse.
Nothing here imports TensorFlow, so bad input is refused in well under a second, before any training
starts.

Every error is a :class:`~lstm_tuner.errors.ConfigError` with a one-line message that names the file,
the dotted key, the rule and the value received, e.g.
``configs/x.yaml: training.epochs: must be an integer > 0, got 0``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from lstm_tuner.errors import ConfigError
from lstm_tuner.search_space import (
    DEFAULT_SEARCH_SPACE,
    ParamSpec,
    space_from_dict,
    space_to_dict,
)


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the series comes from and how it is cut into windows.

    Attributes:
        source: ``"builtin"`` (the package's deterministic series) or ``"csv"``.
        csv: Path of the CSV file when ``source == "csv"`` (relative paths: to the current directory).
        target: The column to predict (CSV); ``"value"`` for the built-in series.
        features: Extra input columns besides the target (multivariate input). The model's input
            columns are ``(target, *features)``.
        time_column: Optional column the rows are sorted by before anything else.
        window_size: Length of each input window, in time steps.
        horizon: Number of future steps predicted from each window.
        train_fraction / validation_fraction / test_fraction: Chronological split; they sum to 1.
        missing: ``"error"`` (default), ``"interpolate"`` or ``"drop"``.
        builtin_num_points: Length of the built-in series.
        builtin_seed: Seed of the built-in series' noise.
    """

    source: str = "builtin"
    csv: str | None = None
    target: str = "value"
    features: tuple[str, ...] = ()
    time_column: str | None = None
    window_size: int = 30
    horizon: int = 1
    train_fraction: float = 0.7
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    missing: str = "error"
    builtin_num_points: int = 4000
    builtin_seed: int = 0


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Fixed (not searched) training settings.

    Attributes:
        optimizer: ``"adam"`` (the spec), ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        clipnorm: Gradient clipping by norm (the spec: 1.0); ``None`` disables clipping.
        loss: ``"mse"`` (the spec), ``"mae"`` or ``"huber"``.
        epochs: Epochs per trial (the spec: 5).
        retrain_epochs: Epochs for retraining the best configuration after the search; 0 skips it.
        early_stopping_patience: Patience (epochs) of early stopping during the retraining.
    """

    optimizer: str = "adam"
    clipnorm: float | None = 1.0
    loss: str = "mse"
    epochs: int = 5
    retrain_epochs: int = 0
    early_stopping_patience: int = 10


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The Optuna study.

    Attributes:
        sampler: ``"tpe"`` (the spec), ``"random"`` or ``"grid"``.
        pruner: ``"none"``, ``"median"`` or ``"hyperband"``.
        direction: ``"minimize"`` or ``"maximize"``.
        objective: The metric the trial's value is read from (``"val_loss"``).
        n_trials: Number of finished trials the study runs to (the spec: 10).
        seed: Seed of the sampler and of the training.
        heartbeat_interval_s: How often a running trial writes its heartbeat to an RDB storage.
        grace_period_s: A RUNNING trial without a heartbeat for this long is failed by the next worker.
        max_retries: How many times such a trial (its worker died) is re-run with the same values.
    """

    sampler: str = "tpe"
    pruner: str = "none"
    direction: str = "minimize"
    objective: str = "val_loss"
    n_trials: int = 10
    seed: int | None = 42
    heartbeat_interval_s: int = 30
    grace_period_s: int = 120
    max_retries: int = 2


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """SavedModel export of the best trial.

    Attributes:
        enabled: Export ``export/best_trial/`` (and ``export/final/`` after retraining).
    """

    enabled: bool = True


@dataclasses.dataclass(frozen=True)
class Config:
    """The whole configuration.

    Attributes:
        data: Where the series comes from and how it is windowed.
        search_space: The searched (or fixed) hyperparameters, in the spec's order.
        training: Fixed training settings.
        study: The Optuna study.
        export: SavedModel export.
        path: The config file as given to :func:`load_config`; ``None`` when built otherwise.
    """

    data: DataConfig = DataConfig()
    search_space: tuple[ParamSpec, ...] = DEFAULT_SEARCH_SPACE
    training: TrainingConfig = TrainingConfig()
    study: StudyConfig = StudyConfig()
    export: ExportConfig = ExportConfig()
    path: str | None = None

    def replace(self, **changes: Any) -> Config:
        """Returns a copy with ``changes`` applied (not re-validated; see :func:`config_from_dict`)."""
        return dataclasses.replace(self, **changes)


SOURCES: tuple[str, ...] = ("builtin", "csv")
MISSING_POLICIES: tuple[str, ...] = ("error", "interpolate", "drop")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "rmsprop", "sgd")
LOSSES: tuple[str, ...] = ("mse", "mae", "huber")
SAMPLERS: tuple[str, ...] = ("tpe", "random", "grid")
PRUNERS: tuple[str, ...] = ("none", "median", "hyperband")
DIRECTIONS: tuple[str, ...] = ("minimize", "maximize")

_SECTIONS = ("data", "search_space", "training", "study", "export")
_DATA_KEYS = (
    "source",
    "csv",
    "target",
    "features",
    "time_column",
    "window_size",
    "horizon",
    "split",
    "missing",
    "builtin",
)
_SPLIT_KEYS = ("train", "validation", "test")
_BUILTIN_KEYS = ("num_points", "seed")
_TRAINING_KEYS = tuple(field.name for field in dataclasses.fields(TrainingConfig))
_STUDY_KEYS = tuple(field.name for field in dataclasses.fields(StudyConfig))
_EXPORT_KEYS = tuple(field.name for field in dataclasses.fields(ExportConfig))

_SPLIT_TOLERANCE = 1e-6
# numpy.random.seed / RandomState (used by Keras and Optuna's samplers) only take seeds in this range.
_MAX_SEED = 2**32 - 1
_MAX_REPR = 200
_TEXT_NUMBER_HINT = (
    " (YAML read this number as text: leave numbers unquoted and write exponents with a dot and a"
    " sign, e.g. 1.0e-4, not 1e-4)"
)


def load_config(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Config:
    """Reads, overrides and validates a YAML config file.

    Args:
        path: The YAML file. Every section and key is optional; unknown keys are errors.
        overrides: ``key.path=value`` strings applied in order before validation, e.g.
            ``training.epochs=2`` or ``search_space.hidden_size={type: int, low: 8, high: 16}``.
            The value is YAML, so it is typed and validated like the same value in the file.

    Returns:
        The frozen configuration, with ``path`` set to ``path`` as given (as a string).

    Raises:
        ConfigError: The file cannot be read or parsed, an override is malformed, or a value breaks
            a rule. The message is one line naming the file, the key, the rule and the value.
    """
    _check_overrides_type(overrides)
    where = os.fsdecode(path)
    raw = _read_yaml_file(path, where)
    if raw is None:  # An empty file (or only comments): every default.
        raw = {}
    config = config_from_dict(raw, where, overrides=overrides)
    return dataclasses.replace(config, path=where)


def config_from_dict(
    raw: Mapping[str, Any], where: str = "<config>", *, overrides: Sequence[str] = ()
) -> Config:
    """Validates a config mapping (the parsed YAML, or one built in Python).

    Args:
        raw: A mapping with the optional sections ``data``, ``search_space``, ``training``,
            ``study`` and ``export``. It is not modified.
        where: Names the source in error messages, usually the file path.
        overrides: ``key.path=value`` strings applied to a copy of ``raw`` before validation.

    Returns:
        The frozen configuration (``path`` is ``None``).

    Raises:
        ConfigError: On unknown keys, wrong types, values out of range or a malformed override.
    """
    _check_overrides_type(overrides)
    if not isinstance(raw, Mapping):
        raise _error(
            where, "", f"the top level must be a mapping of sections {list(_SECTIONS)}", raw
        )
    raw = dict(raw)
    for override in overrides:
        _apply_override(raw, override)
    try:
        return _build_config(raw, where)
    except ConfigError as exc:
        note = _override_note(str(exc), where, overrides)
        if not note:
            raise
        raise ConfigError(f"{exc}{note}") from exc


def config_to_dict(config: Config) -> dict[str, Any]:
    """The inverse of :func:`config_from_dict`: plain dicts, lists and scalars (JSON/YAML-friendly).

    ``config_from_dict(config_to_dict(c)) == c.replace(path=None)`` for every valid config; the path
    is not part of the file's schema and is left out.

    Args:
        config: The configuration.

    Returns:
        A mapping with the sections ``data``, ``search_space``, ``training``, ``study``, ``export``.
    """
    data = config.data
    return {
        "data": {
            "source": data.source,
            "csv": data.csv,
            "target": data.target,
            "features": list(data.features),
            "time_column": data.time_column,
            "window_size": data.window_size,
            "horizon": data.horizon,
            "split": {
                "train": data.train_fraction,
                "validation": data.validation_fraction,
                "test": data.test_fraction,
            },
            "missing": data.missing,
            "builtin": {"num_points": data.builtin_num_points, "seed": data.builtin_seed},
        },
        "search_space": space_to_dict(config.search_space),
        "training": dataclasses.asdict(config.training),
        "study": dataclasses.asdict(config.study),
        "export": dataclasses.asdict(config.export),
    }


# --- Reading YAML -------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a repeated mapping key instead of silently keeping the last."""

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


def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass.


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    """One line to follow "invalid YAML": `` at line L, column C: problem (context)``."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    location = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    details = problem + (f" ({context})" if context else "")
    return f"{location}: " + " ".join(details.split())


def _read_yaml_file(path: str | os.PathLike[str], where: str) -> Any:
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: cannot read config file: not UTF-8 text ({exc})") from exc
    except (OSError, ValueError) as exc:  # ValueError: e.g. a NUL byte in the path.
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"{where}: cannot read config file: {reason}") from exc
    try:
        return _parse_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML{_describe_yaml_error(exc)}") from exc


# --- Overrides ----------------------------------------------------------------------------------


def _check_overrides_type(overrides: Sequence[str]) -> None:
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


def _apply_override(raw: dict[str, Any], override: str) -> None:
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
        value = _parse_yaml(override.partition("=")[2])
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML in the value{_describe_yaml_error(exc)}") from exc
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
                f"{_short_repr(child)}"
            )
        node[part] = child
        node = child
    node[parts[-1]] = value


def _override_note(message: str, where: str, overrides: Sequence[str]) -> str:
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


# --- Validation ---------------------------------------------------------------------------------


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _error(where: str, key: str, rule: str, value: Any) -> ConfigError:
    location = f"{where}: {key}" if key else where
    return ConfigError(f"{location}: {rule}, got {_short_repr(value)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_number_text(value: Any) -> bool:
    """True for text such as ``'1e-4'``: YAML 1.1 reads an exponent without a dot as a string."""
    if not isinstance(value, str) or not any(char.isdigit() for char in value):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _hint(value: Any) -> str:
    return _TEXT_NUMBER_HINT if _is_number_text(value) else ""


class _Section:
    """One mapping of the raw config, read with typed getters whose errors name the file and key.

    A ``None`` section (every key commented out) reads as empty; a key that is absent takes the
    default passed to the getter; a key that is present but ``null`` is validated like any value.
    """

    def __init__(self, raw: Any, key: str, where: str, allowed: Sequence[str]) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise _error(where, key, "must be a mapping", raw)
        self._raw = raw
        self._key = key
        self._where = where
        for name in raw:
            if name not in allowed:
                close = difflib.get_close_matches(str(name), allowed, n=1)
                guess = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(
                    f"{where}: {self.key(name)}: unknown key (allowed: {sorted(allowed)}){guess}"
                )

    def key(self, name: Any) -> str:
        return f"{self._key}.{name}" if self._key else str(name)

    def error(self, name: str, rule: str, value: Any) -> ConfigError:
        return _error(self._where, self.key(name), rule, value)

    def section(self, name: str, allowed: Sequence[str]) -> _Section:
        return _Section(self._raw.get(name), self.key(name), self._where, allowed)

    def get(self, name: str, default: Any = None) -> Any:
        return self._raw.get(name, default)

    def integer(
        self,
        name: str,
        default: int | None,
        *,
        minimum: int,
        rule: str,
        maximum: int | None = None,
        nullable: bool = False,
    ) -> int | None:
        value = self._raw.get(name, default)
        if value is None and nullable:
            return None
        if not _is_int(value) or value < minimum or (maximum is not None and value > maximum):
            raise self.error(name, rule + _hint(value), value)
        return int(value)

    def positive_number(
        self, name: str, default: float | None, *, nullable: bool = False
    ) -> float | None:
        value = self._raw.get(name, default)
        if value is None and nullable:
            return None
        if not _is_number(value) or not math.isfinite(value) or value <= 0:
            rule = "must be a number > 0" + (" or null" if nullable else "")
            raise self.error(name, rule + _hint(value), value)
        return float(value)

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        value = self._raw.get(name, default)
        if not isinstance(value, str) or value not in choices:
            raise self.error(name, f"must be one of {list(choices)}", value)
        return value

    def string(self, name: str, default: str | None, *, nullable: bool = False) -> str | None:
        value = self._raw.get(name, default)
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value:
            raise self.error(
                name, "must be a non-empty string" + (" or null" if nullable else ""), value
            )
        return value

    def path(self, name: str, default: str | None) -> str | None:
        value = self._raw.get(name, default)
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if value is not None and (not isinstance(value, str) or not value):
            raise self.error(name, "must be a file path (a non-empty string) or null", value)
        return value

    def string_list(self, name: str, default: Sequence[str]) -> tuple[str, ...]:
        value = self._raw.get(name, default)
        if (
            not isinstance(value, Sequence)
            or isinstance(value, (str, bytes))
            or not all(isinstance(item, str) and item for item in value)
        ):
            raise self.error(name, "must be a list of non-empty strings", value)
        if len(set(value)) != len(value):
            raise self.error(name, "must not repeat a name", list(value))
        return tuple(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, "must be true or false", value)
        return value


def _build_config(raw: Mapping[str, Any], where: str) -> Config:
    top = _Section(raw, "", where, _SECTIONS)
    return Config(
        data=_build_data(top.section("data", _DATA_KEYS)),
        search_space=_build_search_space(top.get("search_space"), where),
        training=_build_training(top.section("training", _TRAINING_KEYS)),
        study=_build_study(top.section("study", _STUDY_KEYS)),
        export=ExportConfig(enabled=top.section("export", _EXPORT_KEYS).boolean("enabled", True)),
    )


def _build_data(section: _Section) -> DataConfig:
    default = DataConfig()
    csv = section.path("csv", default.csv)
    source = section.choice("source", "csv" if csv is not None else default.source, SOURCES)
    if source == "csv" and csv is None:
        raise section.error("csv", "is required when data.source is 'csv'", csv)
    if source == "builtin" and csv is not None:
        raise section.error(
            "csv", "must not be set when data.source is 'builtin' (set data.source to csv)", csv
        )
    target = section.string("target", default.target)
    features = section.string_list("features", default.features)
    if target in features:
        raise section.error(
            "features", f"must not list the target column {target!r} again", list(features)
        )
    time_column = section.string("time_column", default.time_column, nullable=True)
    if time_column is not None and (time_column == target or time_column in features):
        raise section.error(
            "time_column", "must differ from data.target and from every data.features", time_column
        )
    if source == "builtin":
        # The same rules as data.load_data, checked here so they fail before TensorFlow is imported.
        if target != default.target:
            raise section.error(
                "target",
                f"must be {default.target!r} for the built-in series (or set data.csv)",
                target,
            )
        if features:
            raise section.error(
                "features", "must be empty for the built-in (univariate) series", list(features)
            )
        if time_column is not None:
            raise section.error("time_column", "must be null for the built-in series", time_column)

    split = section.section("split", _SPLIT_KEYS)
    train = split.positive_number("train", default.train_fraction)
    validation = split.positive_number("validation", default.validation_fraction)
    test = split.positive_number("test", default.test_fraction)
    total = train + validation + test
    if abs(total - 1.0) > _SPLIT_TOLERANCE:
        raise section.error("split", "train + validation + test must sum to 1", round(total, 10))

    builtin = section.section("builtin", _BUILTIN_KEYS)
    return DataConfig(
        source=source,
        csv=csv,
        target=target,
        features=features,
        time_column=time_column,
        window_size=section.integer(
            "window_size", default.window_size, minimum=1, rule="must be an integer >= 1"
        ),
        horizon=section.integer(
            "horizon", default.horizon, minimum=1, rule="must be an integer >= 1"
        ),
        train_fraction=train,
        validation_fraction=validation,
        test_fraction=test,
        missing=section.choice("missing", default.missing, MISSING_POLICIES),
        builtin_num_points=builtin.integer(
            "num_points", default.builtin_num_points, minimum=100, rule="must be an integer >= 100"
        ),
        builtin_seed=builtin.integer(
            "seed",
            default.builtin_seed,
            minimum=0,
            maximum=_MAX_SEED,
            rule=f"must be an integer in [0, {_MAX_SEED}]",
        ),
    )


def _build_training(section: _Section) -> TrainingConfig:
    default = TrainingConfig()
    return TrainingConfig(
        optimizer=section.choice("optimizer", default.optimizer, OPTIMIZERS),
        clipnorm=section.positive_number("clipnorm", default.clipnorm, nullable=True),
        loss=section.choice("loss", default.loss, LOSSES),
        epochs=section.integer("epochs", default.epochs, minimum=1, rule="must be an integer > 0"),
        retrain_epochs=section.integer(
            "retrain_epochs", default.retrain_epochs, minimum=0, rule="must be an integer >= 0"
        ),
        early_stopping_patience=section.integer(
            "early_stopping_patience",
            default.early_stopping_patience,
            minimum=1,
            rule="must be an integer >= 1",
        ),
    )


def _build_study(section: _Section) -> StudyConfig:
    default = StudyConfig()
    study = StudyConfig(
        sampler=section.choice("sampler", default.sampler, SAMPLERS),
        pruner=section.choice("pruner", default.pruner, PRUNERS),
        direction=section.choice("direction", default.direction, DIRECTIONS),
        objective=section.string("objective", default.objective),
        n_trials=section.integer(
            "n_trials", default.n_trials, minimum=1, rule="must be an integer > 0"
        ),
        seed=section.integer(
            "seed",
            default.seed,
            minimum=0,
            maximum=_MAX_SEED,
            rule=f"must be an integer in [0, {_MAX_SEED}] or null",
            nullable=True,
        ),
        heartbeat_interval_s=section.integer(
            "heartbeat_interval_s",
            default.heartbeat_interval_s,
            minimum=1,
            rule="must be an integer >= 1",
        ),
        grace_period_s=section.integer(
            "grace_period_s", default.grace_period_s, minimum=1, rule="must be an integer >= 1"
        ),
        max_retries=section.integer(
            "max_retries", default.max_retries, minimum=0, rule="must be an integer >= 0"
        ),
    )
    if study.grace_period_s <= study.heartbeat_interval_s:
        raise section.error(
            "grace_period_s",
            f"must be > study.heartbeat_interval_s ({study.heartbeat_interval_s})",
            study.grace_period_s,
        )
    return study


def _build_search_space(raw: Any, where: str) -> tuple[ParamSpec, ...]:
    """Delegates to :func:`space_from_dict` after the checks that are stricter here."""
    if raw is None:  # `search_space:` with every parameter commented out.
        raw = {}
    if isinstance(raw, Mapping):
        _precheck_space(raw, where)
    return space_from_dict(raw, f"{where}: search_space")


def _precheck_space(raw: Mapping[Any, Any], where: str) -> None:
    """Refuses what ``space_from_dict`` would accept but the config schema does not.

    A float bound or step of an int parameter (a float is never an int here), and numbers that YAML
    read as text (``low: 1e-4``), which would otherwise become a string-valued fixed parameter or an
    unhelpful "must be a finite number".
    """
    for name, entry in raw.items():
        key = f"search_space.{name}"
        if not isinstance(entry, Mapping):
            if _is_number_text(entry):
                raise _error(
                    where, key, "a fixed value must be a number" + _TEXT_NUMBER_HINT, entry
                )
            continue
        for field in entry:
            if not isinstance(field, str):
                raise _error(where, f"{key}.{field}", "unknown key", field)
        ptype = entry.get("type")
        if ptype in ("int", "float"):
            for field in ("low", "high", "step"):
                value = entry.get(field)
                if _is_number_text(value):
                    raise _error(
                        where, f"{key}.{field}", "must be a number" + _TEXT_NUMBER_HINT, value
                    )
                if ptype == "int" and isinstance(value, float):
                    raise _error(
                        where, f"{key}.{field}", "must be an integer for an int parameter", value
                    )
        elif ptype == "categorical":
            choices = entry.get("choices")
            if isinstance(choices, list) and any(_is_number_text(choice) for choice in choices):
                raise _error(
                    where,
                    f"{key}.choices",
                    "must hold numbers, not text" + _TEXT_NUMBER_HINT,
                    choices,
                )
        elif ptype == "fixed" and _is_number_text(entry.get("value")):
            raise _error(
                where, f"{key}.value", "must be a number" + _TEXT_NUMBER_HINT, entry.get("value")
            )
