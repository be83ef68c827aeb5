"""Tests of lstm_tuner.timeseries.windows: windows over a shared series, tf.data pipelines, batching."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_tuner.errors import DataError
from lstm_tuner.timeseries.windows import Windows, make_dataset


def naive_windows(values: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for i in range(len(values) - window - horizon + 1):
        xs.append(values[i : i + window, :])
        ys.append(values[i + window : i + window + horizon, 0])
    return np.array(xs), np.array(ys)


def epoch_window_ids(dataset, window: int) -> list[int]:
    """Window index of each element, in dataset order (series = arange, so y[0] = i + window)."""
    return [int(v) - window for _, y in dataset for v in y.numpy()[:, 0]]


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
    own = windows.series.values
    assert own.ctypes.data % 64 == 0 and not own.flags.writeable
    alias = own.view()
    alias.setflags(write=True)  # only to observe the sharing
    tensor = windows.series.tensor()
    alias[3, 1] = -1.0
    assert float(tensor[3, 1]) == -1.0
    assert windows.series.values[3, 1] == -1.0 and not windows.series.values.flags.writeable


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


def test_to_dataset_passes_visit_every_window_that_many_times_per_epoch() -> None:
    pytest.importorskip("tensorflow")
    windows = Windows(np.arange(40.0)[:, None], window_size=4, horizon=2)
    dataset = windows.to_dataset(batch_size=4, shuffle=True, seed=7, passes=3)
    assert int(dataset.cardinality()) == 27  # 3 passes of 9 batches
    ids = epoch_window_ids(dataset, 4)
    assert sorted(ids) == sorted(list(range(35)) * 3)
    # Each pass is a whole permutation of its own: the batches of pass k cover every window once.
    passes = [ids[k * 35 : (k + 1) * 35] for k in range(3)]
    assert all(sorted(p) == list(range(35)) for p in passes)
    assert len({tuple(p) for p in passes}) == 3
    # and the same seed gives the same epoch again
    again = windows.to_dataset(batch_size=4, shuffle=True, seed=7, passes=3)
    assert epoch_window_ids(again, 4) == ids
    with pytest.raises(DataError, match="passes"):
        windows.to_dataset(batch_size=4, shuffle=True, passes=0)


def test_to_dataset_shuffle_is_deterministic_for_a_seed() -> None:
    pytest.importorskip("tensorflow")
    windows = Windows(np.arange(40.0)[:, None], window_size=4, horizon=2)

    def two_epochs(seed: int) -> list[list[int]]:
        dataset = windows.to_dataset(batch_size=5, shuffle=True, seed=seed)
        return [epoch_window_ids(dataset, 4) for _ in range(2)]

    assert two_epochs(3) == two_epochs(3)
    assert two_epochs(3) != two_epochs(4)


def test_make_dataset_batches_and_shuffles_only_for_training():
    x = np.arange(20, dtype="float32").reshape(10, 2, 1)
    y = np.arange(10, dtype="float32")
    val = list(make_dataset(x, y, batch_size=4, training=False))
    assert [b[0].shape[0] for b in val] == [4, 4, 2]
    assert np.concatenate([b[1].numpy().ravel() for b in val]).tolist() == list(range(10))
    train = np.concatenate(
        [b[1].numpy().ravel() for b in make_dataset(x, y, batch_size=4, training=True, seed=1)]
    )
    assert sorted(train.tolist()) == list(range(10)) and train.tolist() != list(range(10))
