"""Typed, frozen configuration: the YAML file as data.

``load_config(path, overrides)`` reads a YAML file (safe loading, duplicate keys refused, floats read as
YAML 1.2 reads them), applies ``key.path=value`` overrides, validates every rule and returns a frozen
:class:`Config`. The dataclasses nest as the YAML nests, and each field carries its rule
(``metadata["check"]``), so one generic loader reads every section and :func:`config_to_dict` is
``dataclasses.asdict`` (the search space aside). The choices it accepts are :mod:`lstm_tuner.names`.
Nothing here imports TensorFlow, so bad input is refused in well under a second.

Every error is a :class:`~lstm_tuner.errors.ConfigError` with a one-line message that names the file,
the dotted key, the rule and the value received, e.g.
``configs/x.yaml: training.epochs: must be an integer > 0, got 0``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

from lstm_tuner.config.fields import (
    choice_or_list_rule,
    flag_rule,
    integer_rule,
    levels_rule,
    names_rule,
    one_of_rule,
    path_rule,
    positive_number_rule,
    single_character_rule,
    text_rule,
)
from lstm_tuner.config.space import space_from_dict, space_to_dict
from lstm_tuner.config.yaml_loader import (
    apply_override,
    check_overrides_type,
    load_section,
    located_error,
    override_note,
    read_yaml_file,
    rule_field,
    section_field,
)
from lstm_tuner.engine.search_space import ParamSpec
from lstm_tuner.errors import ConfigError
from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE
from lstm_tuner.names import (
    DECIMAL_MARKS,
    DIRECTIONS,
    GRACE_PERIOD_S,
    HEARTBEAT_INTERVAL_S,
    INTERVAL_SCALES,
    LOSSES,
    MAX_RETRIES,
    MISSING_POLICIES,
    OPTIMIZERS,
    PRUNERS,
    RETRAIN_DATA,
    SAMPLERS,
    SOURCES,
    STATISTICAL_MODELS,
    TARGET_SCALES,
    TARGET_TRANSFORMS,
    THOUSANDS_SEPARATORS,
    WINDOW_NORMALIZATIONS,
)
from lstm_tuner.rules import MAX_SEED, plain

_SEED = integer_rule(0, f"must be an integer in [0, {MAX_SEED}]", maximum=MAX_SEED)

# -- the sections -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SplitConfig:
    """The chronological split of the series; the three fractions sum to 1."""

    train: float = rule_field(0.7, positive_number_rule())
    validation: float = rule_field(0.15, positive_number_rule())
    test: float = rule_field(0.15, positive_number_rule())

    def problems(self) -> list[tuple[str, str, Any]]:
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            return [("", "train + validation + test must sum to 1", round(total, 10))]
        return []


@dataclasses.dataclass(frozen=True)
class BuiltinConfig:
    """The built-in series (:func:`lstm_tuner.timeseries.series.builtin_series`): its length and noise seed."""

    num_points: int = rule_field(4000, integer_rule(100, "must be an integer >= 100"))
    seed: int = rule_field(0, _SEED)


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the series comes from and how it is cut into windows.

    Attributes:
        source: ``"builtin"`` (the package's deterministic series) or ``"csv"``; by default ``csv``
            when ``csv`` is set.
        csv: Path of the CSV file (relative paths: to the current directory).
        target: The column to predict (CSV); ``"value"`` for the built-in series.
        features: Extra input columns besides the target; the model's inputs are
            ``(target, *features, *future_features)``.
        future_features: Input columns known in advance (a calendar, planned events, a weather
            forecast), NeuralForecast's ``futr_exog``: the model sees each one's values at the
            steps it forecasts. In the window, such a column is led by ``horizon`` steps (row
            ``t`` holds the value at ``t + horizon``), so a window ending at ``t`` carries the
            values at ``t + 1 .. t + horizon``; ``lstm-tuner forecast`` reads them for the
            forecast steps from ``--future``.
        time_column: Optional column the rows are sorted by before anything else.
        window_size: Length of each input window, in time steps.
        horizon: Number of future steps predicted from each window.
        split: The chronological split.
        missing: ``"error"`` (default), ``"interpolate"`` or ``"drop"``.
        builtin: The built-in series' settings.
        target_transform: What the model forecasts: ``"level"`` (the value itself), ``"delta"``
            (the change from the window's last value), ``"seasonal_delta"`` (the change from the
            value one season before, i.e. from the seasonal naive forecast),
            ``"seasonal_growth"`` (the change from that value plus the last season's growth, the
            seasonal random walk with drift; needs a window of season + 1), ``"linear_ar"``
            (the change from a ridge autoregression on the whole window, every feature included,
            fitted in closed form on the training windows:
            :mod:`lstm_tuner.timeseries.autoregression`), ``"auto"`` (the
            default, chosen by the forecast benchmark in docs/benchmarks.md: seasonal_delta and
            delta when the series has a season that fits in the window, else delta and level,
            searched as the hyperparameter ``target_transform``), or a list of them, searched
            likewise.
        target_scale: ``"auto"`` (the default), ``"linear"``, or ``"log"``: the model sees and forecasts the
            natural log of the target (every value must be > 0), and its forecasts are mapped
            back with ``exp``, inside the export's graph too; for positive series whose seasonal
            swing grows with their level (multiplicative seasonality); composed with every
            ``target_transform`` (``seasonal_delta`` then forecasts the seasonal ratio).
            ``"auto"`` takes the log where the training split's level varies at least 1.5x and
            Guerrero's Box-Cox lambda is < 0.5, else linear
            (:func:`lstm_tuner.timeseries.scaler.resolve_target_scale`; docs/benchmarks.md).
        window_normalization: ``"none"`` (the default) or ``"last_value"``: a delta model's LSTM
            sees each window minus its last target value (on the log scale: divided by it), the
            local normalization of Hewamalage et al. (IJF 2021); a level model sees levels.
        season_length: The season of the seasonal-naive baseline and of MASE, in steps; ``null``
            detects it from the training split; 1 means no season.
        delimiter: The CSV file's field delimiter; ``null`` sniffs it from the header
            (``, ; tab |``).
        decimal: The numbers' decimal mark, ``"."`` or ``","``.
        thousands: A thousands separator in the numbers (``"1,234.5"``), or ``null``.
    """

    source: str = rule_field(
        "builtin",
        one_of_rule(SOURCES),
        default_from=lambda raw: "csv" if raw.get("csv") is not None else "builtin",
    )
    csv: str | None = rule_field(None, path_rule)
    target: str = rule_field("value", text_rule())
    features: tuple[str, ...] = rule_field((), names_rule())
    future_features: tuple[str, ...] = rule_field((), names_rule())
    time_column: str | None = rule_field(None, text_rule(nullable=True))
    window_size: int = rule_field(30, integer_rule(1, "must be an integer >= 1"))
    horizon: int = rule_field(1, integer_rule(1, "must be an integer >= 1"))
    split: SplitConfig = section_field(SplitConfig)
    missing: str = rule_field("error", one_of_rule(MISSING_POLICIES))
    builtin: BuiltinConfig = section_field(BuiltinConfig)
    target_transform: str | tuple[str, ...] = rule_field(
        "auto", choice_or_list_rule(("auto", *TARGET_TRANSFORMS))
    )
    target_scale: str = rule_field("auto", one_of_rule(TARGET_SCALES))
    window_normalization: str = rule_field("none", one_of_rule(WINDOW_NORMALIZATIONS))
    season_length: int | None = rule_field(
        None, integer_rule(1, "must be an integer >= 1", nullable=True)
    )
    delimiter: str | None = rule_field(None, single_character_rule)
    decimal: str = rule_field(".", one_of_rule(DECIMAL_MARKS))
    thousands: str | None = rule_field(None, one_of_rule(THOUSANDS_SEPARATORS, nullable=True))

    def problems(self) -> list[tuple[str, str, Any]]:
        found = []
        if self.source == "csv" and self.csv is None:
            found.append(("csv", "is required when data.source is 'csv'", None))
        if self.source == "builtin" and self.csv is not None:
            rule = "must not be set when data.source is 'builtin' (set data.source to csv)"
            found.append(("csv", rule, self.csv))
        if self.target in self.features:
            rule = f"must not list the target column {self.target!r} again"
            found.append(("features", rule, list(self.features)))
        both = [n for n in self.future_features if n == self.target or n in self.features]
        if both:
            rule = "must not repeat data.target or a data.features column"
            found.append(("future_features", rule, both))
        inputs = (self.target, *self.features, *self.future_features)
        if self.time_column is not None and self.time_column in inputs:
            rule = "must differ from data.target, data.features and data.future_features"
            found.append(("time_column", rule, self.time_column))
        if self.thousands is not None and self.thousands == self.decimal:
            found.append(
                ("thousands", f"must differ from data.decimal ({self.decimal!r})", self.thousands)
            )
        if self.delimiter is not None and self.delimiter in (self.decimal, self.thousands):
            rule = "must differ from data.decimal and data.thousands"
            found.append(("delimiter", rule, self.delimiter))
        if self.source == "builtin":
            if self.target != "value":
                rule = "must be 'value' for the built-in series (or set data.csv)"
                found.append(("target", rule, self.target))
            for key in ("features", "future_features"):
                if getattr(self, key):
                    rule = "must be empty for the built-in (univariate) series"
                    found.append((key, rule, list(getattr(self, key))))
            if self.time_column is not None:
                rule = "must be null for the built-in series"
                found.append(("time_column", rule, self.time_column))
        return found


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
        retrain_seeds: The retrained model is the mean of this many trainings of the best
            configuration from different initializations (the first is the trial's own), exported
            as one SavedModel; 1: a single model.
        min_steps_per_epoch: At least this many optimizer steps per epoch: on a short series the
            training windows are visited several times per epoch (0: once per epoch).
        retrain_on: ``"train_validation"`` (the default): the retrained model is first trained
            on the training split with early stopping on validation; that model gives its best
            epoch count and its validation residuals (the prediction intervals), and a model of
            the same initialization is trained on train + validation for as many epochs: the
            exported one, fitted on every point before the test split, as the statistical
            models' test fit is (they keep the last ``evaluation.statistical_history``).
            ``"train"``: the model trained on the training split is the one exported.
    """

    optimizer: str = rule_field("adam", one_of_rule(OPTIMIZERS))
    clipnorm: float | None = rule_field(1.0, positive_number_rule(nullable=True))
    loss: str = rule_field("mse", one_of_rule(LOSSES))
    epochs: int = rule_field(5, integer_rule(1, "must be an integer > 0"))
    retrain_epochs: int = rule_field(0, integer_rule(0, "must be an integer >= 0"))
    early_stopping_patience: int = rule_field(10, integer_rule(1, "must be an integer >= 1"))
    retrain_seeds: int = rule_field(1, integer_rule(1, "must be an integer >= 1"))
    min_steps_per_epoch: int = rule_field(0, integer_rule(0, "must be an integer >= 0"))
    retrain_on: str = rule_field("train_validation", one_of_rule(RETRAIN_DATA))


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
        reevaluate_top_k: After the search, train the best K configurations ``reevaluate_seeds``
            times each and keep the one with the best mean (1: keep the best trial as it is).
        reevaluate_seeds: Runs per re-evaluated configuration, the trial's own included.
        artifact_store: Where trial weights and run results go: a directory (shared by every
            worker's host, e.g. NFS) or ``s3://bucket/prefix``; default the run directory's
            ``artifacts/``.
    """

    sampler: str = rule_field("tpe", one_of_rule(SAMPLERS))
    pruner: str = rule_field("none", one_of_rule(PRUNERS))
    direction: str = rule_field("minimize", one_of_rule(DIRECTIONS))
    objective: str = rule_field("val_loss", text_rule())
    n_trials: int = rule_field(10, integer_rule(1, "must be an integer > 0"))
    seed: int | None = rule_field(
        42,
        integer_rule(0, f"must be an integer in [0, {MAX_SEED}]", maximum=MAX_SEED, nullable=True),
    )
    heartbeat_interval_s: int = rule_field(
        HEARTBEAT_INTERVAL_S, integer_rule(1, "must be an integer >= 1")
    )
    grace_period_s: int = rule_field(GRACE_PERIOD_S, integer_rule(1, "must be an integer >= 1"))
    max_retries: int = rule_field(MAX_RETRIES, integer_rule(0, "must be an integer >= 0"))
    reevaluate_top_k: int = rule_field(1, integer_rule(1, "must be an integer >= 1"))
    reevaluate_seeds: int = rule_field(3, integer_rule(2, "must be an integer >= 2"))
    artifact_store: str | None = rule_field(None, text_rule(nullable=True))

    def problems(self) -> list[tuple[str, str, Any]]:
        if self.grace_period_s <= self.heartbeat_interval_s:
            rule = f"must be > study.heartbeat_interval_s ({self.heartbeat_interval_s})"
            return [("grace_period_s", rule, self.grace_period_s)]
        return []


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """SavedModel export: ``export/best_trial/`` (and ``export/final/`` after retraining)."""

    enabled: bool = rule_field(True, flag_rule)


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """How the final model is judged on the test split, besides the free baselines.

    Attributes:
        statistical_models: Which of AutoETS, AutoARIMA and AutoTheta (and so Comb, their mean) the
            model is compared with; an empty list compares it with the free baselines only.
        statistical_history: How many points before a split the statistical models are fitted on
            (the tail of the history; docs/benchmarks.md measures the bound).
        interval_levels: The prediction intervals' levels, in percent (empty: no intervals),
            calibrated on the validation split by split conformal prediction
            (:mod:`lstm_tuner.timeseries.intervals`).
        interval_scale: ``additive`` bands (``forecast +- q``) or ``relative`` ones
            (``forecast +- q * |forecast|``, for multiplicative series).
    """

    statistical_models: tuple[str, ...] = rule_field(
        STATISTICAL_MODELS, names_rule(STATISTICAL_MODELS, "models")
    )
    statistical_history: int = rule_field(1000, integer_rule(30, "must be an integer >= 30"))
    interval_levels: tuple[float, ...] = rule_field((80.0, 95.0), levels_rule)
    interval_scale: str = rule_field("additive", one_of_rule(INTERVAL_SCALES))


def _load_search_space(raw: Any, key: str, where: str) -> tuple[ParamSpec, ...]:
    return space_from_dict({} if raw is None else raw, f"{where}: {key}")


@dataclasses.dataclass(frozen=True)
class Config:
    """The whole configuration.

    Attributes:
        data: Where the series comes from and how it is windowed.
        search_space: The searched (or fixed) hyperparameters, in the spec's order.
        training: Fixed training settings.
        study: The Optuna study.
        export: SavedModel export.
        evaluation: How the final model is judged on the test split.
        path: The config file as given to :func:`load_config`; ``None`` when built otherwise.
    """

    data: DataConfig = section_field(DataConfig)
    search_space: tuple[ParamSpec, ...] = dataclasses.field(
        default=DEFAULT_SEARCH_SPACE, metadata={"load": _load_search_space}
    )
    training: TrainingConfig = section_field(TrainingConfig)
    study: StudyConfig = section_field(StudyConfig)
    export: ExportConfig = section_field(ExportConfig)
    evaluation: EvaluationConfig = section_field(EvaluationConfig)
    path: str | None = dataclasses.field(default=None, metadata={"internal": True})

    def replace(self, **changes: Any) -> Config:
        """Returns a copy with ``changes`` applied (not re-validated; see :func:`config_from_dict`)."""
        return dataclasses.replace(self, **changes)


# -- loading ----------------------------------------------------------------------------------------


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
    check_overrides_type(overrides)
    where = os.fsdecode(path)
    raw = read_yaml_file(path, where)
    config = config_from_dict({} if raw is None else raw, where, overrides=overrides)
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

    Raises:
        ConfigError: On unknown keys, wrong types, values out of range or a malformed override.
    """
    check_overrides_type(overrides)
    if not isinstance(raw, Mapping):
        sections = [f.name for f in dataclasses.fields(Config) if not f.metadata.get("internal")]
        raise located_error(
            where, "", f"the top level must be a mapping of sections {sections}", raw
        )
    raw = dict(raw)
    for override in overrides:
        apply_override(raw, override)
    try:
        return load_section(Config, raw, "", where)
    except ConfigError as exc:
        note = override_note(str(exc), where, overrides)
        if not note:
            raise
        raise ConfigError(f"{exc}{note}") from exc


def config_to_dict(config: Config) -> dict[str, Any]:
    """The inverse of :func:`config_from_dict`: plain dicts, lists and scalars (JSON/YAML-friendly).

    ``config_from_dict(config_to_dict(c)) == c.replace(path=None)`` for every valid config.
    """
    out = {}
    for field in dataclasses.fields(Config):
        if field.metadata.get("internal"):
            continue
        value = getattr(config, field.name)
        out[field.name] = (
            space_to_dict(value) if field.name == "search_space" else dataclasses.asdict(value)
        )
    return plain(out)
