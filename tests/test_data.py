"""Tests of lstm_tuner.data: built-in series, CSV reading, split, scaling, windows and tf.data."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_tuner.config import DataConfig
from lstm_tuner.data import (
    Scaler,
    SeriesData,
    Windows,
    builtin_series,
    load_data,
    read_csv,
    split_series,
)
from lstm_tuner.errors import DataError


def write_csv(tmp_path: Path, text: str, name: str = "x.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def arange_csv(tmp_path: Path, num_points: int, name: str = "x.csv") -> Path:
    """Columns t, y = t, f = 1000 + t: any leak across a split boundary shows in the values."""
    rows = "".join(f"{t},{t},{1000 + t}\n" for t in range(num_points))
    return write_csv(tmp_path, "t,y,f\n" + rows, name)


def naive_windows(values: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for i in range(len(values) - window - horizon + 1):
        xs.append(values[i : i + window, :])
        ys.append(values[i + window : i + window + horizon, 0])
    return np.array(xs), np.array(ys)


def epoch_window_ids(dataset, window: int) -> list[int]:
    """Window index of each element, in dataset order (series = arange, so y[0] = i + window)."""
    return [int(v) - window for _, y in dataset for v in y.numpy()[:, 0]]


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
    with pytest.raises(DataError, match="data.builtin_num_points must be a positive integer"):
        builtin_series(num_points)


def test_data_module_imports_neither_tensorflow_nor_optuna() -> None:
    # The package itself may import optuna; lstm_tuner.data must add neither it nor TensorFlow.
    code = (
        "import sys, lstm_tuner; before = set(sys.modules); import lstm_tuner.data; "
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


# --- read_csv ------------------------------------------------------------------------------------


def test_read_csv_orders_columns_target_first(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a, price ,b\n1,10,100\n2,20,200\n3,30,300\n")
    values, names = read_csv(path, "price", features=("b", "a"))
    assert names == ["price", "b", "a"]
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [[10, 100, 1], [20, 200, 2], [30, 300, 3]])
    values, names = read_csv(path, "price")
    assert names == ["price"] and values.shape == (3, 1)


def test_read_csv_skips_blank_lines_and_handles_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffy\n1\n\n2\n".encode())
    values, names = read_csv(path, "y")
    assert names == ["y"]
    np.testing.assert_array_equal(values[:, 0], [1, 2])


def test_read_csv_sorts_by_numeric_time_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "t,y\n10,1\n2,2\n9.5,3\n-1,4\n")
    values, _ = read_csv(path, "y", time_column="t")
    np.testing.assert_array_equal(values[:, 0], [4, 2, 3, 1])


def test_read_csv_sorts_by_iso_time_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "when,y\n2024-01-02T00:00:00,1\n2024-01-01T12:00:00,2\n2023-12-31,3\n2024-01-01T13:00:00,4\n",
    )
    values, _ = read_csv(path, "y", time_column="when")
    np.testing.assert_array_equal(values[:, 0], [3, 2, 4, 1])


def test_read_csv_interpolates_in_time_order(tmp_path: Path) -> None:
    # In file order the gap sits between 30 and 10; in time order between 10 and 30.
    path = write_csv(tmp_path, "t,y\n3,30\n2,\n1,10\n")
    values, _ = read_csv(path, "y", time_column="t", missing="interpolate")
    np.testing.assert_array_equal(values[:, 0], [10, 20, 30])


def test_read_csv_rejects_duplicate_timestamps(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "t,y\n1,1\n2,2\n1,3\n")
    with pytest.raises(
        DataError,
        match=re.escape("column 't' (data.time_column): duplicate timestamp '1' at rows 2 and 4"),
    ):
        read_csv(path, "y", time_column="t")
    path = write_csv(tmp_path, "t,y\n2024-01-01,1\n2024-01-01T00:00:00,2\n", "iso.csv")
    with pytest.raises(DataError, match="duplicate timestamp"):
        read_csv(path, "y", time_column="t")


def test_read_csv_rejects_bad_timestamps(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "t,y\n2024-01-01,1\n2024-01-02,2\nyesterday,3\n")
    with pytest.raises(
        DataError, match=r"x\.csv: column 't' \(data\.time_column\): value 'yesterday' at row 4"
    ):
        read_csv(path, "y", time_column="t")
    path = write_csv(tmp_path, "t,y\n1,1\n,2\n", "gap.csv")
    with pytest.raises(DataError, match="missing timestamp '' at row 3"):
        read_csv(path, "y", time_column="t")


def test_read_csv_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "x.csv"
    with pytest.raises(DataError) as info:
        read_csv(path, "y")
    message = str(info.value)
    assert message.startswith(f"{path}: cannot read CSV file: [Errno 2]")
    assert "\n" not in message


@pytest.mark.parametrize("text", ["", "\n\n", " , \n"])
def test_read_csv_empty_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(DataError, match=r"x\.csv: empty file: no header row"):
        read_csv(write_csv(tmp_path, text), "y")


def test_read_csv_header_only(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"x\.csv: no data rows after the header"):
        read_csv(write_csv(tmp_path, "y,z\n"), "y")


def test_read_csv_missing_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a,b\n1,2\n")
    with pytest.raises(
        DataError,
        match=re.escape("x.csv: column 'price' (data.target): not found; columns are ['a', 'b']"),
    ):
        read_csv(path, "price")
    with pytest.raises(DataError, match=re.escape("column 'c' (data.features): not found")):
        read_csv(path, "a", features=("b", "c"))
    with pytest.raises(DataError, match=re.escape("column 'when' (data.time_column): not found")):
        read_csv(path, "a", time_column="when")


def test_read_csv_rejects_a_column_used_twice(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "a,b\n1,2\n")
    with pytest.raises(DataError, match=re.escape("column 'a' (data.features): used twice")):
        read_csv(path, "a", features=("a",))


def test_read_csv_non_numeric_value_names_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "price,f\n1,2\n3,4\nabc,5\n")
    with pytest.raises(
        DataError, match=re.escape("x.csv: column 'price': non-numeric value 'abc' at row 4")
    ):
        read_csv(path, "price", features=("f",))
    path = write_csv(tmp_path, "price\n1\ninf\n", "inf.csv")
    with pytest.raises(
        DataError, match=re.escape("column 'price': non-finite value 'inf' at row 3")
    ):
        read_csv(path, "price")


def test_read_csv_ragged_row(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"x\.csv: row 3: has 1 fields, the header has 2"):
        read_csv(write_csv(tmp_path, "a,b\n1,2\n3\n"), "a")


MISSING_TEXT = (
    "price,f\n1,10\n2,20\n3,30\n,40\n5,50\n6,60\n7,70\nNA,80\n9,90\n10,100\nnan,110\n12,\n"
)


def test_read_csv_missing_values_error_policy(tmp_path: Path) -> None:
    path = write_csv(tmp_path, MISSING_TEXT)
    with pytest.raises(DataError) as info:
        read_csv(path, "price", features=("f",))
    assert str(info.value) == (
        f"{path}: column 'price': 3 missing values (first at rows 5, 9, 12); "
        "set data.missing to interpolate or drop"
    )
    with pytest.raises(DataError, match=re.escape("column 'y': 1 missing value (at row 3);")):
        read_csv(write_csv(tmp_path, "y\n1\nN/A\n3\n", "one.csv"), "y")


def test_read_csv_missing_values_interpolate_policy(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "y,f\n,1\n2,\n,3\n6,4\n,\n")
    values, _ = read_csv(path, "y", features=("f",), missing="interpolate")
    # Interior: linear in row order; edges: the nearest valid value.
    np.testing.assert_array_equal(values[:, 0], [2, 2, 4, 6, 6])
    np.testing.assert_array_equal(values[:, 1], [1, 2, 3, 4, 4])


def test_read_csv_missing_values_drop_policy(tmp_path: Path) -> None:
    values, _ = read_csv(
        write_csv(tmp_path, MISSING_TEXT), "price", features=("f",), missing="drop"
    )
    np.testing.assert_array_equal(values[:, 0], [1, 2, 3, 5, 6, 7, 9, 10])
    np.testing.assert_array_equal(values[:, 1], [10, 20, 30, 50, 60, 70, 90, 100])
    # Only used columns count: the missing value of f does not drop its row when f is unused.
    values, _ = read_csv(write_csv(tmp_path, "y,f\n1,\n2,3\n", "d.csv"), "y", missing="drop")
    np.testing.assert_array_equal(values[:, 0], [1, 2])
    with pytest.raises(DataError, match="no rows left after dropping"):
        read_csv(
            write_csv(tmp_path, "y,f\n1,\n,3\n", "e.csv"), "y", features=("f",), missing="drop"
        )


@pytest.mark.parametrize("missing", ["error", "interpolate", "drop"])
def test_read_csv_all_missing_column(tmp_path: Path, missing: str) -> None:
    path = write_csv(tmp_path, "y,f\n1,\n2,NA\n3,nan\n")
    with pytest.raises(DataError, match=re.escape("x.csv: column 'f': all 3 values are missing")):
        read_csv(path, "y", features=("f",), missing=missing)


def test_read_csv_rejects_unknown_missing_policy(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match="data.missing must be one of 'error', 'interpolate', 'drop', got 'zero'"
    ):
        read_csv(write_csv(tmp_path, "y\n1\n"), "y", missing="zero")


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


# --- Windows ---------------------------------------------------------------------------------------


def two_feature_arange(num_points: int) -> np.ndarray:
    return np.stack([np.arange(num_points), 100 + np.arange(num_points)], axis=1).astype(np.float64)


def test_windows_match_naive_loop() -> None:
    values = two_feature_arange(12)
    windows = Windows(values, window_size=4, horizon=2)
    assert len(windows) == 12 - 4 - 2 + 1
    assert (windows.window_size, windows.horizon, windows.num_features) == (4, 2, 2)
    x, y = windows.arrays()
    expected_x, expected_y = naive_windows(values, 4, 2)
    assert x.shape == (7, 4, 2) and y.shape == (7, 2)
    assert x.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y, expected_y)
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(y[0], [4, 5])
    np.testing.assert_array_equal(y[-1], [10, 11])


def test_windows_last_values() -> None:
    windows = Windows(two_feature_arange(12), window_size=4, horizon=2)
    last = windows.last_values()
    assert last.shape == (7, 2)
    np.testing.assert_array_equal(last, [[3 + i, 3 + i] for i in range(7)])
    np.testing.assert_array_equal(last, np.repeat(windows.arrays()[0][:, -1:, 0], 2, axis=1))


def test_windows_own_their_copy() -> None:
    values = two_feature_arange(8)
    windows = Windows(values, window_size=4)
    values[:] = -1
    assert windows.arrays()[1][0, 0] == 4


def test_windows_series_tensor_shares_the_one_copy() -> None:
    # The dataset's series tensor takes over the Windows' own (aligned) buffer instead of copying it:
    # at 5 million points a copy by tf.constant peaks at 3x the series.
    windows = Windows(two_feature_arange(50), window_size=4)
    own = windows.values
    assert own.ctypes.data % 64 == 0 and not own.flags.writeable
    alias = own.view()
    alias.setflags(write=True)  # only to observe the sharing
    tensor = windows._series_tensor()
    alias[3, 1] = -1.0
    assert float(tensor[3, 1]) == -1.0
    assert windows.values[3, 1] == -1.0 and not windows.values.flags.writeable


def test_windows_too_short_and_bad_arguments() -> None:
    with pytest.raises(
        DataError, match="series has 5 points, fewer than window_size \\+ horizon = 6"
    ):
        Windows(np.arange(5.0)[:, None], window_size=4, horizon=2)
    Windows(np.arange(6.0)[:, None], window_size=4, horizon=2)  # exactly one window
    with pytest.raises(DataError, match="values must have shape \\[time, features\\]"):
        Windows(np.arange(10.0), window_size=4)
    with pytest.raises(DataError, match="window_size must be a positive integer, got 0"):
        Windows(np.zeros((10, 1)), window_size=0)
    with pytest.raises(DataError, match="values must be finite"):
        Windows(np.array([[0.0], [np.nan], [1.0]]), window_size=1)


def test_to_dataset_shapes_dtypes_and_order_without_shuffle() -> None:
    tf = pytest.importorskip("tensorflow")
    windows = Windows(two_feature_arange(12), window_size=4, horizon=2)
    dataset = windows.to_dataset(batch_size=3, shuffle=False)
    x_spec, y_spec = dataset.element_spec
    assert x_spec.shape.as_list() == [None, 4, 2] and y_spec.shape.as_list() == [None, 2]
    batches = list(dataset)
    assert [int(x.shape[0]) for x, _ in batches] == [3, 3, 1]
    assert all(x.dtype == tf.float32 and y.dtype == tf.float32 for x, y in batches)
    expected_x, expected_y = naive_windows(two_feature_arange(12), 4, 2)
    np.testing.assert_array_equal(np.concatenate([x.numpy() for x, _ in batches]), expected_x)
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]), expected_y)
    # The series moved into the tensor: the NumPy views still read the same values.
    np.testing.assert_array_equal(windows.arrays()[1], expected_y)
    np.testing.assert_array_equal(windows.last_values()[:, 0], expected_x[:, -1, 0])


def test_to_dataset_shuffle_covers_every_window_once_per_epoch() -> None:
    pytest.importorskip("tensorflow")
    windows = Windows(np.arange(40.0)[:, None], window_size=4, horizon=2)
    dataset = windows.to_dataset(batch_size=4, shuffle=True, seed=7)
    assert int(dataset.cardinality()) == 9  # 35 windows in batches of 4
    first, second = epoch_window_ids(dataset, 4), epoch_window_ids(dataset, 4)
    assert sorted(first) == list(range(35)) and sorted(second) == list(range(35))
    assert first != list(range(35))
    assert first != second  # a new order each epoch
    for x, y in dataset:  # x and y still belong to the same window
        np.testing.assert_array_equal(x.numpy()[:, -1, 0] + 1, y.numpy()[:, 0])


def test_to_dataset_shuffle_is_deterministic_for_a_seed() -> None:
    pytest.importorskip("tensorflow")
    windows = Windows(np.arange(40.0)[:, None], window_size=4, horizon=2)

    def two_epochs(seed: int) -> list[list[int]]:
        dataset = windows.to_dataset(batch_size=5, shuffle=True, seed=seed)
        return [epoch_window_ids(dataset, 4) for _ in range(2)]

    assert two_epochs(3) == two_epochs(3)
    assert two_epochs(3) != two_epochs(4)


# --- load_data ---------------------------------------------------------------------------------------


def test_load_data_builtin() -> None:
    config = DataConfig(builtin_num_points=400, builtin_seed=1, window_size=8, horizon=1)
    data = load_data(config)
    assert isinstance(data, SeriesData)
    assert data.source == "builtin(num_points=400, seed=1)"
    assert (
        data.column_names == ("value",) and data.target_name == "value" and data.num_features == 1
    )
    assert (data.train.num_points, data.validation.num_points, data.test.num_points) == (
        280,
        60,
        60,
    )
    assert len(data.train) == 280 - 8 - 1 + 1
    series = builtin_series(400, seed=1)
    assert data.scaler.mean[0] == pytest.approx(series[:280].mean())
    assert data.scaler.scale[0] == pytest.approx(series[:280].std())
    np.testing.assert_allclose(
        data.scaler.inverse_transform_target(data.test.values[:, 0]), series[340:], rtol=1e-6
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

    # No window crosses a split boundary: in original units, each split's windows stay in its rows.
    for windows, (first, last) in [
        (data.train, (0, 69)),
        (data.validation, (70, 84)),
        (data.test, (85, 99)),
    ]:
        x, y = windows.arrays()
        x_original = data.scaler.inverse_transform_target(x[:, :, 0])
        y_original = data.scaler.inverse_transform_target(y)
        assert round(float(x_original.min())) == first
        assert round(float(y_original.max())) == last


def test_load_data_split_too_short_names_the_split(tmp_path: Path) -> None:
    path = str(arange_csv(tmp_path, 40))
    config = DataConfig(source="csv", csv=path, target="y", window_size=5, horizon=2)
    with pytest.raises(DataError) as info:
        load_data(config)
    assert str(info.value) == (
        f"{path}: split 'validation' has 6 points, fewer than window_size + horizon = 7; "
        "use a longer series, a smaller data.window_size or larger split fractions"
    )
    with pytest.raises(
        DataError, match="^builtin\\(num_points=100, seed=0\\): split 'test' has 15 points"
    ):
        load_data(
            DataConfig(
                builtin_num_points=100,
                window_size=15,
                train_fraction=0.65,
                validation_fraction=0.2,
                test_fraction=0.15,
            )
        )


def test_load_data_rejects_inconsistent_config(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data.csv: a file path is required"):
        load_data(DataConfig(source="csv"))
    with pytest.raises(DataError, match="data.source must be 'builtin' or 'csv', got 'parquet'"):
        load_data(DataConfig(source="parquet"))
    with pytest.raises(DataError, match="data.features must be empty for the built-in"):
        load_data(DataConfig(features=("x",)))
    with pytest.raises(DataError, match="x.csv: cannot read CSV file"):
        load_data(DataConfig(source="csv", csv=str(tmp_path / "x.csv"), target="y"))
