"""Tests of lstm_tuner.timeseries.series: built-in series, split, train-only scaling, load_data."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_csv_file import arange_csv, write_csv

from lstm_tuner.config.schema import BuiltinConfig, DataConfig, SplitConfig
from lstm_tuner.errors import DataError
from lstm_tuner.timeseries.series import Scaler, SeriesData, builtin_series, load_data, split_series

# --- built-in series ---------------------------------------------------------------------------


def test_builtin_series_is_deterministic_and_pinned() -> None:
    series = builtin_series()
    assert series.shape == (4000,) and series.dtype == np.float64
    np.testing.assert_array_equal(series, builtin_series(4000, 0))
    # Pinned values: a change here changes the README's default series.
    np.testing.assert_allclose(
        series[:3], [10.062865110546698, 10.586198562659265, 11.317891572739748], rtol=1e-13
    )
    np.testing.assert_allclose(
        builtin_series(5, seed=1),
        [
            10.172792096032394,
            10.96025705308556,
            11.524142692802817,
            11.526400903278482,
            12.18976198778402,
        ],
        rtol=1e-13,
    )


def test_builtin_series_is_non_trivial() -> None:
    series = builtin_series(2000, seed=0)
    assert np.isfinite(series).all()
    assert series.std() > 1.0
    assert not np.array_equal(series, builtin_series(2000, seed=1))
    # Daily cycle: the lag-24 autocorrelation beats the lag-12 one by far.
    centered = series - series.mean()

    def autocorrelation(lag: int) -> float:
        return float(np.corrcoef(centered[:-lag], centered[lag:])[0, 1])

    assert autocorrelation(24) > 0.5 > autocorrelation(12)


@pytest.mark.parametrize("num_points", [0, -3, 2.5, True])
def test_builtin_series_rejects_bad_length(num_points) -> None:
    with pytest.raises(DataError, match="data.builtin.num_points must be a positive integer"):
        builtin_series(num_points)


def test_data_module_imports_neither_tensorflow_nor_optuna() -> None:
    # The package itself may import optuna; lstm_tuner.timeseries.series must add neither it nor TensorFlow.
    code = (
        "import sys, lstm_tuner; before = set(sys.modules); import lstm_tuner.timeseries.series; "
        "added = set(sys.modules) - before; "
        "print(sorted(m for m in added if m.split('.')[0] in ('tensorflow', 'keras', 'optuna')), "
        "'tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.stdout.strip() == "[] False"


# --- split_series and Scaler ------------------------------------------------------------------------


def test_split_series_is_chronological_without_overlap() -> None:
    values = np.arange(100.0)[:, None]
    train, validation, test = split_series(values, 0.7, 0.15, 0.15)
    assert (len(train), len(validation), len(test)) == (70, 15, 15)
    np.testing.assert_array_equal(np.concatenate([train, validation, test]), values)
    assert train.max() < validation.min() and validation.max() < test.min()
    assert [len(p) for p in split_series(np.arange(10.0), 0.6, 0.2, 0.2)] == [6, 2, 2]


@pytest.mark.parametrize(
    ("fractions", "message"),
    [((0.7, 0.2, 0.2), "must equal 1"), ((1.2, -0.1, -0.1), "data.validation_fraction must be")],
)
def test_split_series_rejects_bad_fractions(fractions, message) -> None:
    with pytest.raises(DataError, match=message):
        split_series(np.arange(10.0), *fractions)


def test_scaler_standardizes_and_inverts() -> None:
    train = np.array([[1.0, 5.0], [3.0, 5.0]])
    scaler = Scaler.fit(train)
    np.testing.assert_array_equal(scaler.mean, [2.0, 5.0])
    np.testing.assert_array_equal(scaler.scale, [1.0, 1.0])  # column 1 is constant: scale 1.0
    np.testing.assert_array_equal(scaler.transform(np.array([[5.0, 7.0]])), [[3.0, 2.0]])
    np.testing.assert_array_equal(scaler.inverse_transform_target(np.array([[3.0]])), [[5.0]])
    scaler = Scaler.fit(np.array([[0.0], [4.0]]))
    np.testing.assert_array_equal(scaler.scale, [2.0])
    np.testing.assert_array_equal(
        scaler.inverse_transform_target(scaler.transform(train[:, :1])), train[:, :1]
    )


def test_scaler_constant_float_column_gets_unit_scale() -> None:
    scaler = Scaler.fit(np.full((1000, 1), 0.1))
    assert scaler.scale[0] == 1.0
    assert np.isfinite(scaler.transform(np.full((3, 1), 0.1))).all()


def test_scaler_dict_round_trip_through_json() -> None:
    scaler = Scaler.fit(np.array([[1.0, 2.0], [3.0, 7.0], [4.0, 8.0]]))
    restored = Scaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(restored.mean, scaler.mean)
    np.testing.assert_array_equal(restored.scale, scaler.scale)
    with pytest.raises(DataError, match="keys must be"):
        Scaler.from_dict({"mean": [0.0]})
    with pytest.raises(DataError, match="scale finite and > 0"):
        Scaler.from_dict({"mean": [0.0], "scale": [0.0]})


def test_log_target_scaler_standardizes_the_log_and_inverts_with_exp() -> None:
    train = np.array([[1.0, 5.0], [np.e**2, 7.0]])
    scaler = Scaler.fit(train, log_target=True)
    np.testing.assert_allclose(scaler.mean, [1.0, 6.0])  # mean of log y: (0 + 2) / 2
    np.testing.assert_allclose(scaler.scale, [1.0, 1.0])
    np.testing.assert_allclose(scaler.transform(np.array([[np.e**3, 8.0]])), [[2.0, 2.0]])
    np.testing.assert_allclose(scaler.inverse_transform_target(np.array([[2.0]])), [[np.e**3]])
    values = np.array([[3.0, 1.0], [40.0, 2.0], [0.5, 3.0]])
    np.testing.assert_allclose(
        scaler.inverse_transform_target(scaler.transform(values)[:, 0]), values[:, 0]
    )
    restored = Scaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert restored.log_target and not Scaler.fit(train).log_target
    assert not Scaler.from_dict({"mean": [0.0], "scale": [1.0]}).log_target  # written before it
    with pytest.raises(DataError, match="must be > 0 everywhere, got -1 at row 1"):
        scaler.transform(np.array([[1.0, 0.0], [-1.0, 0.0]]))


def test_auto_target_scale_takes_the_log_where_the_swing_grows_with_the_level() -> None:
    from lstm_tuner.timeseries.scaler import resolve_target_scale

    t = np.arange(240)
    season = 1 + 0.3 * np.sin(2 * np.pi * t / 12)
    level = 100 * np.exp(0.01 * t)  # grows 11x over the series
    multiplicative = level * season  # the swing is 30% of the level
    additive = level + 30 * np.sin(2 * np.pi * t / 12)  # the same swing in units at any level
    log, why = resolve_target_scale("auto", multiplicative, 240, 12)
    # an exactly multiplicative series: Guerrero's lambda is the log's, 0
    assert log and why.startswith("auto: the level varies 8.67x") and "lambda is 0.00" in why, why
    log, why = resolve_target_scale("auto", additive, 240, 12)
    assert not log and ">= 0.5" in why, why
    # a level that hardly moves: the two scales forecast alike, and the lambda would be noise
    flat = 100 * season + np.random.default_rng(0).normal(0, 1, 240)
    assert resolve_target_scale("auto", flat, 240, 12) == (
        False,
        "auto: the level varies 1.01x over the training split (< 1.5x)",
    )
    # a value <= 0 anywhere, the test split included, keeps it linear (its windows are logged too)
    late_zero = np.concatenate([multiplicative, [0.0]])
    assert resolve_target_scale("auto", late_zero, 240, 12) == (
        False,
        "auto: the series has values <= 0",
    )
    assert resolve_target_scale("log", additive, 240, 12) == (True, "data.target_scale: log")
    assert resolve_target_scale("linear", multiplicative, 240, 12)[0] is False


def test_load_data_log_scale_needs_a_positive_target(tmp_path: Path) -> None:
    rows = "".join(f"{t},{(t % 7) + 1 if t != 93 else 0}\n" for t in range(100))
    path = str(write_csv(tmp_path, "t,y\n" + rows, "zero.csv"))
    config = DataConfig(source="csv", csv=path, target="y", window_size=8, target_scale="log")
    with pytest.raises(DataError) as info:
        load_data(config)
    assert str(info.value) == (
        f"{path}: column 'y' (data.target) must be > 0 in every row for data.target_scale: log, "
        "got 0 at row 93 (use linear)"
    )
    data = load_data(dataclasses.replace(config, target_scale="linear"))
    assert not data.scaler.log_target


# --- load_data ---------------------------------------------------------------------------------------


def test_load_data_builtin() -> None:
    config = DataConfig(builtin=BuiltinConfig(num_points=400, seed=1), window_size=8, horizon=1)
    data = load_data(config)
    assert isinstance(data, SeriesData)
    assert data.source == "builtin(num_points=400, seed=1)"
    assert (
        data.column_names == ("value",) and data.target_name == "value" and data.num_features == 1
    )
    assert data.boundaries == (280, 340) and data.values.shape == (400, 1)
    assert len(data.train) == 280 - 8 - 1 + 1
    series = builtin_series(400, seed=1)
    assert data.scaler.mean[0] == pytest.approx(series[:280].mean())
    assert data.scaler.scale[0] == pytest.approx(series[:280].std())
    np.testing.assert_allclose(
        data.scaler.inverse_transform_target(data.test.series.values[340:, 0]),
        series[340:],
        rtol=1e-6,
    )


def test_load_data_csv_scales_with_train_only_and_keeps_splits_apart(tmp_path: Path) -> None:
    config = DataConfig(
        source="csv", target="y", features=("f",), time_column="t", window_size=4, horizon=2
    )
    data = load_data(dataclasses.replace(config, csv=str(arange_csv(tmp_path, 100))))
    assert data.column_names == ("y", "f") and data.num_features == 2
    assert data.source.endswith("x.csv")
    np.testing.assert_allclose(data.scaler.mean, [34.5, 1034.5])  # mean of rows 0..69
    np.testing.assert_allclose(data.scaler.scale, np.arange(70.0).std())

    # Test values 10x larger do not move the scaler.
    rows = "".join(f"{t},{t * (10 if t >= 85 else 1)},{1000 + t}\n" for t in range(100))
    other = write_csv(tmp_path, "t,y,f\n" + rows, "big.csv")
    big = load_data(dataclasses.replace(config, csv=str(other)))
    np.testing.assert_array_equal(big.scaler.mean, data.scaler.mean)
    np.testing.assert_array_equal(big.scaler.scale, data.scaler.scale)

    # Each split keeps every target it holds; a window's inputs may come from before its split, but
    # no target ever appears in an earlier split's windows (series = arange: value = row).
    rows_seen_before = set()
    for windows, (first, last) in [
        (data.train, (0, 69)),
        (data.validation, (70, 84)),
        (data.test, (85, 99)),
    ]:
        x, y = windows.arrays()
        x_rows = np.rint(data.scaler.inverse_transform_target(x[:, :, 0])).astype(int)
        y_rows = np.rint(data.scaler.inverse_transform_target(y)).astype(int)
        assert set(y_rows.ravel()) == set(range(first if first else 4, last + 1))
        assert rows_seen_before.isdisjoint(y_rows.ravel())
        assert x_rows.max() < last  # inputs are the past of the targets, never beyond the split
        np.testing.assert_array_equal(x_rows[:, -1] + 1, y_rows[:, 0])
        rows_seen_before |= set(x_rows.ravel()) | set(y_rows.ravel())
    assert len(data.validation) == 15 - 2 + 1 and len(data.test) == 15 - 2 + 1


def test_load_data_split_too_short_names_the_split(tmp_path: Path) -> None:
    path = str(arange_csv(tmp_path, 40))
    config = DataConfig(source="csv", csv=path, target="y", window_size=27, horizon=2)
    with pytest.raises(DataError) as info:
        load_data(config)
    assert str(info.value) == (
        f"{path}: split 'train' has 28 points, fewer than window_size + horizon = 29; "
        "use a longer series, a smaller data.window_size or larger split fractions"
    )
    with pytest.raises(
        DataError,
        match="^builtin\\(num_points=100, seed=0\\): split 'test' has 1 points, fewer than horizon = 2",
    ):
        load_data(
            DataConfig(
                builtin=BuiltinConfig(num_points=100),
                window_size=15,
                horizon=2,
                split=SplitConfig(train=0.79, validation=0.2, test=0.01),
            )
        )


def test_load_data_rejects_inconsistent_config(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data.csv: a file path is required"):
        load_data(DataConfig(source="csv"))
    with pytest.raises(DataError, match="data.source must be 'builtin' or 'csv', got 'parquet'"):
        load_data(DataConfig(source="parquet"))
    with pytest.raises(DataError, match="data.features empty"):
        load_data(DataConfig(features=("x",)))
    with pytest.raises(DataError, match="x.csv: cannot read CSV file"):
        load_data(DataConfig(source="csv", csv=str(tmp_path / "x.csv"), target="y"))
