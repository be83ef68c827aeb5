"""Tests of lstm_tuner.config: YAML loading, validation messages, overrides and round trips."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest
import yaml

from lstm_tuner.config.schema import (
    Config,
    DataConfig,
    ExportConfig,
    SplitConfig,
    StudyConfig,
    TrainingConfig,
    config_from_dict,
    config_to_dict,
    load_config,
)
from lstm_tuner.engine.search_space import ParamSpec
from lstm_tuner.errors import ConfigError
from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE

REPO = pathlib.Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "lstm_baseline.yaml"


@pytest.fixture(autouse=True)
def _seed_and_clear():
    """Replaces conftest's Keras seeding and clear_session: nothing here touches Keras."""
    yield


def write(tmp_path: pathlib.Path, text: str, name: str = "x.yaml") -> pathlib.Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(path: pathlib.Path, overrides: tuple[str, ...] = ()) -> str:
    """Loads ``path`` expecting a ConfigError; returns its message after checking it is one line."""
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    message = str(info.value)
    assert "\n" not in message
    return message


def prefix(path: pathlib.Path, key: str) -> str:
    """Regex for the start of a message about ``key`` in ``path``."""
    return "^" + re.escape(f"{path}: {key}: ")


# --- The baseline file and defaults ---------------------------------------------------------------


def test_baseline_is_the_spec() -> None:
    config = load_config(BASELINE)

    assert config.path == str(BASELINE)
    assert config.search_space == DEFAULT_SEARCH_SPACE
    assert [spec.describe() for spec in config.search_space] == [
        "int 64..256 step 64",
        "int 1..3",
        "float 0..0.4",
        "float 0.0001..0.005 log",
        "categorical [32, 64, 128]",
    ]
    assert config.training == TrainingConfig(
        optimizer="adam", clipnorm=1.0, loss="mse", epochs=5, retrain_epochs=0
    )
    assert config.study == StudyConfig(
        sampler="tpe", pruner="none", direction="minimize", n_trials=10, seed=42
    )
    assert config.data == DataConfig(
        source="builtin",
        window_size=30,
        horizon=1,
        split=SplitConfig(train=0.7, validation=0.15, test=0.15),
    )
    assert config.export.enabled is True
    # The file writes out every default, so it loads to exactly the defaults.
    assert config == Config(path=str(BASELINE))


def test_baseline_with_csv_override_switches_source() -> None:
    config = load_config(BASELINE, ["data.csv=/nonexistent/series.csv", "data.target=load"])
    assert config.data.source == "csv"
    assert config.data.csv == "/nonexistent/series.csv"  # Existence is checked by data.py.
    assert config.data.target == "load"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "data:\ntraining:\nsearch_space:\n"])
def test_empty_file_and_sections_take_defaults(tmp_path: pathlib.Path, text: str) -> None:
    path = write(tmp_path, text)
    assert load_config(path) == Config(path=str(path))


def test_config_from_dict_empty_is_default() -> None:
    assert config_from_dict({}) == Config()


def test_path_is_kept_as_given(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "study: {n_trials: 3}\n", name="rel.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_config("rel.yaml").path == "rel.yaml"
    assert load_config(pathlib.Path("rel.yaml")).path == "rel.yaml"


def test_partial_section_keeps_other_defaults(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training:\n  epochs: 2\n  clipnorm: 3\n")
    training = load_config(path).training
    assert training.epochs == 2
    assert training.clipnorm == 3.0 and isinstance(
        training.clipnorm, float
    )  # int accepted as float
    assert training.optimizer == "adam" and training.loss == "mse"


def test_nulls_where_allowed(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training: {clipnorm: null}\nstudy: {seed: null}\n")
    config = load_config(path)
    assert config.training.clipnorm is None
    assert config.study.seed is None


# --- Reading the file ------------------------------------------------------------------------------


def test_missing_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "missing.yaml"
    message = load_error(path)
    assert re.match(re.escape(f"{path}: cannot read config file: ") + "No such file", message)


def test_directory_is_unreadable(tmp_path: pathlib.Path) -> None:
    message = load_error(tmp_path)
    assert message.startswith(f"{tmp_path}: cannot read config file: ")


def test_non_utf8_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"training: {epochs: \xff}\n")
    assert load_error(path).startswith(f"{path}: cannot read config file: not UTF-8")


def test_yaml_syntax_error_names_line(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training:\n  epochs: 5\n  loss: [mse\n")
    message = load_error(path)
    assert re.match(re.escape(f"{path}: invalid YAML at line ") + r"\d+, column \d+: ", message)


def test_yaml_error_line_number_is_the_offending_line(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training:\n  epochs: 5\n  loss: mse: mae\n")
    assert f"{path}: invalid YAML at line 3, column" in load_error(path)


def test_duplicate_key_is_refused(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training:\n  epochs: 5\n  loss: mse\n  epochs: 2\n")
    message = load_error(path)
    assert message == (
        f"{path}: invalid YAML at line 4, column 3: found duplicate key 'epochs' "
        "(first defined on line 2)"
    )


def test_yaml_merge_key_may_be_overridden(tmp_path: pathlib.Path) -> None:
    path = write(
        tmp_path,
        """\
        base: &base {epochs: 5, loss: mae}
        """,
    )
    # An anchor in an unknown section is still an unknown key ...
    assert re.match(prefix(path, "base"), load_error(path))
    path = write(tmp_path, "training: {<<: {epochs: 5, loss: mae}, epochs: 2}\n")
    # ... but overriding a merged key is what merge keys are for, not a duplicate.
    assert load_config(path).training == TrainingConfig(epochs=2, loss="mae")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "3\n"])
def test_top_level_must_be_a_mapping(tmp_path: pathlib.Path, text: str) -> None:
    path = write(tmp_path, text)
    assert re.match(
        re.escape(f"{path}: the top level must be a mapping of sections"), load_error(path)
    )


# --- Unknown keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("trainng: {epochs: 2}\n", "trainng"),
        ("training: {epochz: 2}\n", "training.epochz"),
        ("data: {split: {train: 0.7, valid: 0.15, test: 0.15}}\n", "data.split.valid"),
        ("data: {builtin: {points: 500}}\n", "data.builtin.points"),
        ("study: {trials: 3}\n", "study.trials"),
        ("export: {enable: false}\n", "export.enable"),
        ("data: {1: x}\n", "data.1"),
    ],
)
def test_unknown_key(tmp_path: pathlib.Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    assert re.match(prefix(path, key) + r"unknown key \(allowed: \[", load_error(path))


def test_unknown_key_suggests_the_close_one(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training: {epochz: 2}\n")
    assert load_error(path) == (
        f"{path}: training.epochz: unknown key (allowed: ['clipnorm', 'early_stopping_patience', "
        "'epochs', 'loss', 'min_steps_per_epoch', 'optimizer', 'retrain_epochs', 'retrain_on', "
        "'retrain_seeds']); "
        "did you mean 'epochs'?"
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("search_space: {hidden: {type: int, low: 1, high: 2}}\n", "search_space.hidden"),
        (
            "search_space: {dropout: {type: float, low: 0.0, high: 0.4, lgo: true}}\n",
            "search_space.dropout.lgo",
        ),
        (
            "search_space: {dropout: {type: float, low: 0.0, high: 0.4, 3: 1}}\n",
            "search_space.dropout.3",
        ),
    ],
)
def test_unknown_search_space_key(tmp_path: pathlib.Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    assert re.match(prefix(path, key) + "unknown", load_error(path))


# --- Types and ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "rule", "got"),
    [
        ("training: {epochs: 0}", "training.epochs", "must be an integer > 0", "0"),
        (
            "training: {min_steps_per_epoch: -1}",
            "training.min_steps_per_epoch",
            "must be an integer >= 0",
            "-1",
        ),
        (
            "evaluation: {statistical_models: [auto_ets, prophet]}",
            "evaluation.statistical_models",
            "must name models among ['auto_ets', 'auto_arima', 'auto_theta']",
            "['auto_ets', 'prophet']",
        ),
        (
            "evaluation: {statistical_models: [auto_ets, auto_ets]}",
            "evaluation.statistical_models",
            "must not repeat a name",
            "['auto_ets', 'auto_ets']",
        ),
        (
            "evaluation: {statistical_history: 10}",
            "evaluation.statistical_history",
            "must be an integer >= 30",
            "10",
        ),
        ("training: {epochs: -3}", "training.epochs", "must be an integer > 0", "-3"),
        ("training: {epochs: 2.0}", "training.epochs", "must be an integer > 0", "2.0"),
        ("training: {epochs: true}", "training.epochs", "must be an integer > 0", "True"),
        ("training: {epochs: '5'}", "training.epochs", "must be an integer > 0 (YAML read", "'5'"),
        ("training: {epochs: null}", "training.epochs", "must be an integer > 0", "None"),
        (
            "training: {retrain_epochs: -1}",
            "training.retrain_epochs",
            "must be an integer >= 0",
            "-1",
        ),
        (
            "training: {early_stopping_patience: 0}",
            "training.early_stopping_patience",
            "must be an integer >= 1",
            "0",
        ),
        ("training: {clipnorm: 0}", "training.clipnorm", "must be a number > 0 or null", "0"),
        ("training: {clipnorm: .inf}", "training.clipnorm", "must be a number > 0 or null", "inf"),
        ("training: {clipnorm: yes}", "training.clipnorm", "must be a number > 0 or null", "True"),
        (
            "training: {clipnorm: '1e-4'}",
            "training.clipnorm",
            "must be a number > 0 or null (YAML read this number as text",
            "'1e-4'",
        ),
        (
            "training: {optimizer: Adam}",
            "training.optimizer",
            "must be one of ['adam', 'adamw', 'rmsprop', 'sgd']",
            "'Adam'",
        ),
        (
            "training: {loss: rmse}",
            "training.loss",
            "must be one of ['mse', 'mae', 'huber']",
            "'rmse'",
        ),
        ("study: {n_trials: 0}", "study.n_trials", "must be an integer > 0", "0"),
        ("study: {n_trials: 1.5}", "study.n_trials", "must be an integer > 0", "1.5"),
        (
            "study: {sampler: cmaes}",
            "study.sampler",
            "must be one of ['tpe', 'random', 'grid']",
            "'cmaes'",
        ),
        (
            "study: {pruner: null}",
            "study.pruner",
            "must be one of ['none', 'median', 'hyperband']",
            "None",
        ),
        (
            "study: {direction: max}",
            "study.direction",
            "must be one of ['minimize', 'maximize']",
            "'max'",
        ),
        ("study: {objective: ''}", "study.objective", "must be a non-empty string", "''"),
        ("study: {seed: -1}", "study.seed", "must be an integer in [0, 4294967295] or null", "-1"),
        (
            "study: {seed: 4294967296}",
            "study.seed",
            "must be an integer in [0, 4294967295] or null",
            "4294967296",
        ),
        (
            "study: {seed: 4.0}",
            "study.seed",
            "must be an integer in [0, 4294967295] or null",
            "4.0",
        ),
        ("export: {enabled: 1}", "export.enabled", "must be true or false", "1"),
        ("export: {enabled: 'false'}", "export.enabled", "must be true or false", "'false'"),
        ("export: [enabled]", "export", "must be a mapping", "['enabled']"),
        ("training: 5", "training", "must be a mapping", "5"),
        ("data: {window_size: 0}", "data.window_size", "must be an integer >= 1", "0"),
        ("data: {horizon: 1.0}", "data.horizon", "must be an integer >= 1", "1.0"),
        (
            "data: {source: parquet}",
            "data.source",
            "must be one of ['builtin', 'csv']",
            "'parquet'",
        ),
        (
            "data: {missing: ffill}",
            "data.missing",
            "must be one of ['error', 'interpolate', 'drop']",
            "'ffill'",
        ),
        ("data: {target: 3}", "data.target", "must be a non-empty string", "3"),
        (
            "data: {csv: a.csv, features: a}",
            "data.features",
            "must be a list of non-empty strings",
            "'a'",
        ),
        (
            "data: {csv: a.csv, features: [a, 2]}",
            "data.features",
            "must be a list of non-empty strings",
            "['a', 2]",
        ),
        (
            "data: {csv: a.csv, features: [a, a]}",
            "data.features",
            "must not repeat a name",
            "['a', 'a']",
        ),
        (
            "data: {csv: a.csv, time_column: 0}",
            "data.time_column",
            "must be a non-empty string or null",
            "0",
        ),
        ("data: {csv: 3}", "data.csv", "must be a file path (a non-empty string) or null", "3"),
        (
            "data: {builtin: {num_points: 99}}",
            "data.builtin.num_points",
            "must be an integer >= 100",
            "99",
        ),
        (
            "data: {builtin: {seed: -2}}",
            "data.builtin.seed",
            "must be an integer in [0, 4294967295]",
            "-2",
        ),
        ("data: {split: 0.7}", "data.split", "must be a mapping", "0.7"),
    ],
)
def test_wrong_type_or_range(
    tmp_path: pathlib.Path, text: str, key: str, rule: str, got: str
) -> None:
    path = write(tmp_path, text + "\n")
    message = load_error(path)
    assert message.startswith(f"{path}: {key}: {rule}")
    assert message.endswith(f", got {got}")


def test_error_message_is_exact(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training: {epochs: 0}\n")
    assert load_error(path) == f"{path}: training.epochs: must be an integer > 0, got 0"


# --- data: split, source, columns ------------------------------------------------------------------


def test_split_must_sum_to_one(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {split: {train: 0.7, validation: 0.15, test: 0.05}}\n")
    assert load_error(path) == (
        f"{path}: data.split: train + validation + test must sum to 1, got 0.9"
    )


def test_split_sum_tolerance(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {split: {train: 0.6, validation: 0.2, test: 0.2000000001}}\n")
    assert load_config(path).data.split.test == pytest.approx(0.2)


@pytest.mark.parametrize("value", ["0", "-0.1", "0.0"])
def test_split_fraction_must_be_positive(tmp_path: pathlib.Path, value: str) -> None:
    path = write(tmp_path, f"data: {{split: {{train: 0.85, validation: 0.15, test: {value}}}}}\n")
    assert re.match(prefix(path, "data.split.test") + "must be a number > 0, got", load_error(path))


def test_split_partial_keeps_other_defaults(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {split: {train: 0.8, validation: 0.05}}\n")
    data = load_config(path).data
    assert (data.split.train, data.split.validation, data.split.test) == (0.8, 0.05, 0.15)


def test_csv_implies_source_and_is_not_checked_for_existence(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {csv: no/such/file.csv, target: y, features: [a, b]}\n")
    data = load_config(path).data
    assert data.source == "csv"
    assert data.csv == "no/such/file.csv"
    assert data.features == ("a", "b")


def test_csv_source_requires_csv(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {source: csv}\n")
    assert load_error(path) == f"{path}: data.csv: is required when data.source is 'csv', got None"


def test_builtin_source_with_csv_is_refused(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {source: builtin, csv: a.csv}\n")
    assert re.match(
        prefix(path, "data.csv") + "must not be set when data.source is 'builtin'", load_error(path)
    )


def test_target_must_not_be_a_feature(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {csv: a.csv, target: y, features: [a, y]}\n")
    assert load_error(path) == (
        f"{path}: data.features: must not list the target column 'y' again, got ['a', 'y']"
    )


@pytest.mark.parametrize(
    ("entry", "key", "rule"),
    [
        ("target: y", "data.target", "must be 'value' for the built-in series"),
        ("features: [a]", "data.features", "must be empty for the built-in (univariate) series"),
        ("time_column: t", "data.time_column", "must be null for the built-in series"),
    ],
)
def test_builtin_series_has_one_column(
    tmp_path: pathlib.Path, entry: str, key: str, rule: str
) -> None:
    path = write(tmp_path, f"data: {{{entry}}}\n")
    assert re.match(prefix(path, key) + re.escape(rule), load_error(path))


def test_time_column_must_not_be_an_input(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {csv: a.csv, target: y, time_column: y}\n")
    assert re.match(prefix(path, "data.time_column") + "must differ", load_error(path))


# --- search_space --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "key", "rule"),
    [
        (
            "batch_size: {type: categorical, choices: []}",
            "search_space.batch_size.choices",
            "must be a non-empty list",
        ),
        (
            "hidden_size: {type: int, low: 256, high: 64}",
            "search_space.hidden_size",
            "`low <= high` must hold",
        ),
        (
            "hidden_size: {type: int, low: 64, high: 256, step: 0}",
            "search_space.hidden_size.step",
            "must be > 0",
        ),
        (
            "dropout: {type: float, low: 0.1, high: 0.4, step: -0.1}",
            "search_space.dropout.step",
            "must be > 0",
        ),
        (
            "lr: {type: float, low: 0.0, high: 0.1, log: true}",
            "search_space.lr.low",
            "must be > 0 when log is true",
        ),
        (
            "lr: {type: float, low: -1.0, high: 0.1, log: true}",
            "search_space.lr.low",
            "must be > 0 when log is true",
        ),
        (
            "lr: {type: float, low: '1e-4', high: 0.1, log: true}",
            "search_space.lr.low",
            "must be a finite number",
        ),
        (
            "lr: {type: float, low: 0.001, high: 0.1, log: yes please}",
            "search_space.lr.log",
            "must be true or false",
        ),
        ("lr: '1e-3'", "search_space.lr", "a fixed value must be a number"),
        (
            "hidden_size: {type: int, low: 64.0, high: 256}",
            "search_space.hidden_size.low",
            "must be an integer",
        ),
        (
            "hidden_size: {type: int, low: 64, high: 256, step: 64.5}",
            "search_space.hidden_size.step",
            "must be an integer",
        ),
        (
            "hidden_size: {type: integer, low: 64, high: 256}",
            "search_space.hidden_size.type",
            "must be one of",
        ),
        ("hidden_size: {type: int, high: 256}", "search_space.hidden_size.low", "is required"),
        (
            "batch_size: {type: categorical, choices: ['32', '64']}",
            "search_space.batch_size.choices",
            "must hold integers, not text",
        ),
        ("hidden_size: [64, 128]", "search_space.hidden_size", "must be a mapping"),
    ],
)
def test_search_space_errors_name_file_and_key(
    tmp_path: pathlib.Path, entry: str, key: str, rule: str
) -> None:
    path = write(tmp_path, f"search_space:\n  {entry}\n")
    message = load_error(path)
    assert message.startswith(f"{path}: {key}: {rule}"), message


def test_search_space_must_be_a_mapping(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "search_space: [hidden_size]\n")
    assert re.match(prefix(path, "search_space"), load_error(path))


def test_fixed_parameter_via_scalar(tmp_path: pathlib.Path) -> None:
    path = write(
        tmp_path, "search_space:\n  hidden_size: 128\n  lr: {type: fixed, value: 1.0e-3}\n"
    )
    space = {spec.name: spec for spec in load_config(path).search_space}
    assert space["hidden_size"] == ParamSpec("hidden_size", "fixed", value=128)
    assert space["lr"] == ParamSpec("lr", "fixed", value=0.001)
    # Parameters not named keep the default spec, in the spec's order.
    assert [spec.name for spec in load_config(path).search_space] == [
        s.name for s in DEFAULT_SEARCH_SPACE
    ]
    assert space["dropout"] == DEFAULT_SEARCH_SPACE[2]


def test_search_space_replaces_one_parameter(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "search_space:\n  hidden_size: {type: int, low: 8, high: 16, step: 8}\n")
    space = load_config(path).search_space
    assert space[0] == ParamSpec("hidden_size", "int", low=8, high=16, step=8)
    assert space[1:] == DEFAULT_SEARCH_SPACE[1:]


# --- Overrides -----------------------------------------------------------------------------------


def test_overrides_are_typed(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training: {epochs: 5}\n")
    config = load_config(
        path,
        [
            "training.epochs=2",
            "study.n_trials=3",
            "study.seed=null",
            "training.clipnorm=0.5",
            "export.enabled=false",
            "data.csv=/tmp/x.csv",
            "data.features=[a,b]",
            "search_space.hidden_size={type: int, low: 8, high: 16, step: 8}",
            "search_space.batch_size=16",
        ],
    )
    assert config.training.epochs == 2
    assert config.study.n_trials == 3 and config.study.seed is None
    assert config.training.clipnorm == 0.5
    assert config.export.enabled is False
    assert (config.data.source, config.data.csv) == ("csv", "/tmp/x.csv")
    assert config.data.features == ("a", "b")
    assert config.search_space[0] == ParamSpec("hidden_size", "int", low=8, high=16, step=8)
    assert config.search_space[4] == ParamSpec("batch_size", "fixed", value=16)
    assert config.path == str(path)


def test_nested_overrides(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "data: {window_size: 30}\n")
    config = load_config(
        path, ["data.split.train=0.8", "data.split.validation=0.1", "data.split.test=0.1"]
    )
    assert (config.data.split.train, config.data.split.validation) == (0.8, 0.1)
    # Inside a parameter the file already spells out, one field can be changed ...
    assert load_config(BASELINE, ["search_space.lr.low=0.001"]).search_space[3] == ParamSpec(
        "lr", "float", low=0.001, high=5e-3, log=True
    )
    # ... but a parameter entry is replaced as a whole, never merged with the default.
    message = load_error(path, ("search_space.lr.low=0.001",))
    assert message.startswith(f"{path}: search_space.lr.type: must be one of")


def test_later_override_wins_and_whitespace_is_ignored(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "")
    config = load_config(path, ["training.epochs=2", " training . epochs = 7 "])
    assert config.training.epochs == 7


def test_override_creates_missing_and_null_sections(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training:\n")
    config = load_config(path, ["training.epochs=1", "data.builtin.num_points=200"])
    assert config.training.epochs == 1
    assert config.data.builtin.num_points == 200


def test_override_does_not_touch_yaml_aliases(tmp_path: pathlib.Path) -> None:
    # Both split values are the same dict object after yaml.safe_load; only one must change.
    text = "data: {split: &s {train: 0.7, validation: 0.15, test: 0.15}}\nsearch_space: {}\n"
    path = write(tmp_path, text)
    assert (
        load_config(path, ["data.split.train=0.8", "data.split.test=0.05"]).data.split.train == 0.8
    )


def test_override_value_is_validated_like_the_file(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "training: {epochs: 5}\n")
    message = load_error(path, ("training.epochs=two",))
    assert message == (
        f"{path}: training.epochs: must be an integer > 0, got 'two' "
        "(set by --override 'training.epochs=two')"
    )
    message = load_error(path, ("training.epochs=2.5",))
    assert message.startswith(f"{path}: training.epochs: must be an integer > 0, got 2.5")


def test_override_of_unknown_key(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "")
    message = load_error(path, ("training.epochz=2",))
    assert re.match(prefix(path, "training.epochz") + r"unknown key \(allowed:", message)
    assert message.endswith("(set by --override 'training.epochz=2')")
    message = load_error(path, ("search_space.hidden=2",))
    assert re.match(prefix(path, "search_space.hidden") + "unknown parameter", message)


def test_override_note_names_only_related_overrides(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "")
    message = load_error(path, ("study.n_trials=3", "data.split.train=0.8"))
    assert message == (
        f"{path}: data.split: train + validation + test must sum to 1, got 1.1 "
        "(set by --override 'data.split.train=0.8')"
    )
    # An error in the file itself gets no note.
    path = write(tmp_path, "training: {epochs: 0}\n")
    assert load_error(path, ("study.n_trials=3",)).endswith(", got 0")


@pytest.mark.parametrize(
    ("override", "rule"),
    [
        ("trainingepochs2", "must have the form key.path=value"),
        ("=2", "must have the form key.path=value"),
        ("  =2", "must have the form key.path=value"),
        ("training..epochs=2", "must have the form key.path=value"),
        ("training.epochs.=2", "must have the form key.path=value"),
        (
            "search_space.hidden_size={type: int, low: 8",
            "invalid YAML in the value at line 1, column",
        ),
        ("training.epochs=[1, 1", "invalid YAML in the value at line 1, column"),
        (
            "data.window_size.x=1",
            "cannot set data.window_size.x: data.window_size is not a mapping, got 30",
        ),
        (
            "data.features.0=a",
            "cannot set data.features.0: data.features is not a mapping, got ['x']",
        ),
    ],
)
def test_malformed_override(tmp_path: pathlib.Path, override: str, rule: str) -> None:
    path = write(tmp_path, "data: {csv: a.csv, features: [x], window_size: 30}\n")
    message = load_error(path, (override,))
    assert message.startswith(f"--override {override!r}: {rule}")


def test_malformed_override_example_message(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "")
    assert load_error(path, ("trainingepochs2",)) == (
        "--override 'trainingepochs2': must have the form key.path=value"
    )


def test_override_value_may_contain_equals_and_be_empty(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "")
    assert load_config(path, ["data.csv=a=b.csv"]).data.csv == "a=b.csv"
    assert (
        load_config(path, ["training.clipnorm="]).training.clipnorm is None
    )  # Empty YAML is null.


def test_overrides_as_a_lone_string_is_a_type_error(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(TypeError, match="sequence of 'key.path=value' strings"):
        load_config(path, "training.epochs=2")  # type: ignore[arg-type]


def test_config_from_dict_with_overrides_does_not_modify_input() -> None:
    raw = {
        "training": {"epochs": 5},
        "data": {"split": {"train": 0.7, "validation": 0.15, "test": 0.15}},
    }
    before = json.dumps(raw, sort_keys=True)
    config = config_from_dict(
        raw, overrides=["training.epochs=1", "data.split.train=0.6", "data.split.test=0.25"]
    )
    assert config.training.epochs == 1
    assert config.data.split.test == 0.25
    assert json.dumps(raw, sort_keys=True) == before


# --- config_from_dict for Python users ----------------------------------------------------------


def test_config_from_dict_default_where() -> None:
    with pytest.raises(
        ConfigError, match=re.escape("<config>: study.n_trials: must be an integer > 0, got 0")
    ):
        config_from_dict({"study": {"n_trials": 0}})


def test_config_from_dict_names_where() -> None:
    with pytest.raises(
        ConfigError, match=r"^run\.json: search_space\.hidden_size\.step: must be > 0"
    ):
        config_from_dict(
            {"search_space": {"hidden_size": {"type": "int", "low": 1, "high": 4, "step": 0}}},
            "run.json",
        )


def test_config_from_dict_top_level_must_be_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^<config>: the top level must be a mapping"):
        config_from_dict(None)  # type: ignore[arg-type]


def test_config_from_dict_accepts_python_sequences_and_paths() -> None:
    config = config_from_dict(
        {"data": {"csv": pathlib.Path("a.csv"), "target": "y", "features": ("a", "b")}}
    )
    assert config.data.csv == "a.csv"
    assert config.data.features == ("a", "b")


# --- Round trip ---------------------------------------------------------------------------------


def non_default_config() -> Config:
    return config_from_dict(
        {
            "data": {
                "csv": "series.csv",
                "target": "y",
                "features": ["a", "b"],
                "time_column": "t",
                "window_size": 12,
                "horizon": 3,
                "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
                "missing": "interpolate",
            },
            "search_space": {
                "hidden_size": 16,
                "num_layers": {"type": "int", "low": 1, "high": 2},
                "dropout": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
                "lr": {"type": "float", "low": 1.0e-3, "high": 1.0e-2, "log": True},
                "batch_size": {"type": "categorical", "choices": [8, 16]},
            },
            "training": {
                "optimizer": "sgd",
                "clipnorm": None,
                "loss": "huber",
                "epochs": 1,
                "retrain_epochs": 2,
            },
            "study": {
                "sampler": "random",
                "pruner": "median",
                "direction": "maximize",
                "n_trials": 2,
                "seed": None,
            },
            "export": {"enabled": False},
        }
    )


@pytest.mark.parametrize("make", [Config, non_default_config, lambda: load_config(BASELINE)])
def test_round_trip(make: Callable[[], Config]) -> None:
    config = make()
    as_dict = config_to_dict(config)
    assert config_from_dict(as_dict) == config.replace(path=None)
    # JSON- and YAML-friendly: survives both serialisations unchanged.
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert config_from_dict(yaml.safe_load(yaml.safe_dump(as_dict))) == config.replace(path=None)


def test_round_trip_of_non_default_values() -> None:
    config = non_default_config()
    assert config.data.source == "csv"
    assert config.training.clipnorm is None
    assert config.search_space[0] == ParamSpec("hidden_size", "fixed", value=16)
    assert config_to_dict(config)["search_space"]["hidden_size"] == {"type": "fixed", "value": 16}
    assert "path" not in config_to_dict(load_config(BASELINE))


# --- Frozen and light -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (Config(), "path"),
        (DataConfig(), "window_size"),
        (TrainingConfig(), "epochs"),
        (StudyConfig(), "n_trials"),
        (ExportConfig(), "enabled"),
    ],
)
def test_frozen(obj: object, field: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, field, 1)


def test_replace_returns_a_new_config() -> None:
    config = Config()
    changed = config.replace(training=TrainingConfig(epochs=1))
    assert changed.training.epochs == 1
    assert config.training.epochs == 5


def test_import_does_not_load_tensorflow() -> None:
    code = (
        "import lstm_tuner.config, sys; "
        "assert 'tensorflow' not in sys.modules, 'tensorflow'; "
        "assert 'keras' not in sys.modules, 'keras'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-4", 1e-4), ("5E-3", 5e-3), (".5", 0.5), ("1.0e-4", 1e-4), ("2e+1", 20.0), ("1E5", 1e5)],
)
def test_floats_are_read_as_yaml_1_2_reads_them(tmp_path: pathlib.Path, text: str, value: float):
    # PyYAML reads YAML 1.1, where 1e-4 is the text "1e-4"; people write it as a number.
    path = write(
        tmp_path,
        f"training: {{clipnorm: {text}}}\nsearch_space:\n  lr: {{type: float, low: {text}, high: 1.0e+6, log: true}}\n",
    )
    config = load_config(path)
    assert config.training.clipnorm == value and isinstance(config.training.clipnorm, float)
    assert config.search_space[3].low == value
    # what stays text is refused where a number belongs
    assert "must be a number > 0" in load_error(write(tmp_path, "training: {clipnorm: 1e}\n"))
