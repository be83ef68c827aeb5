"""Windows over a series and the ``tf.data`` pipelines that feed them to Keras.

A :class:`Series` holds one float32 copy of a (scaled) ``[time, features]`` series, target in column 0.
A :class:`Windows` is a view of it: the windows whose targets start in a range of time steps, so the
three splits of a run share one copy. Batches are gathered from that copy by index (``tf.gather``), so
the ``[num_windows, window, features]`` array is never built in the pipeline; ``docs/benchmarks.md``
measures this against materialized windows (1.4x the raw series in memory instead of 310x).

What ``fit`` accepts from users (arrays, datasets, Windows) is turned into these pipelines in
:mod:`lstm_tuner.lstm.fit_inputs`. TensorFlow is imported only when a dataset is built, so windowing
errors are found before the slow import.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_tuner.errors import DataError
from lstm_tuner.rules import check_positive_int
from lstm_tuner.timeseries.season import anchor_matrix

if TYPE_CHECKING:
    import tensorflow as tf

_SHUFFLE_BUFFER_UNKNOWN_SIZE = 10_000


def _aligned_float32(array: np.ndarray) -> np.ndarray:
    """A C-contiguous float32 copy whose buffer is 64-byte aligned, as TensorFlow's tensors are."""
    nbytes = array.size * 4
    buffer = np.empty(nbytes + 64, dtype=np.uint8)
    start = -buffer.ctypes.data % 64
    out = buffer[start : start + nbytes].view(np.float32).reshape(array.shape)
    out[...] = array
    return out


class Series:
    """One float32 copy of a series ``[time, features]`` (target in column 0), shared by its windows.

    The first dataset moves the copy into a CPU tensor without copying it (DLPack); the NumPy copy is
    then released and :attr:`values` reads the tensor back.
    """

    def __init__(self, values: np.ndarray) -> None:
        """Holds a float32 copy of ``values``.

        Raises:
            DataError: ``values`` is not 2-D with at least one column, or not finite.
        """
        array = np.asarray(values)
        if array.ndim != 2 or array.shape[1] == 0:
            raise DataError(
                f"Windows: values must have shape [time, features] with features >= 1, got shape "
                f"{array.shape}"
            )
        copy = _aligned_float32(array)  # always a copy: this object owns it
        if not np.isfinite(copy).all():
            row = int(np.flatnonzero(~np.isfinite(copy).all(axis=1))[0])
            raise DataError(
                f"Windows: values must be finite, got {copy[row].tolist()} at index {row}"
            )
        copy.setflags(write=False)
        self._values: np.ndarray | None = copy
        self._tensor: tf.Tensor | None = None
        self.num_points, self.num_features = copy.shape

    def __len__(self) -> int:
        return self.num_points

    @property
    def values(self) -> np.ndarray:
        """The series, float32 ``[time, features]``, read-only (a fresh copy once a dataset exists)."""
        if self._values is not None:
            return self._values
        array = self._tensor.numpy()
        array.setflags(write=False)
        return array

    def tensor(self) -> tf.Tensor:
        """The series as a CPU tensor that shares this object's buffer."""
        if self._tensor is None:
            import tensorflow as tf

            with tf.device("/CPU:0"):  # the input pipeline runs on the host
                try:
                    # Zero-copy: the tensor takes over this object's 64-byte aligned buffer (DLPack
                    # cannot export a read-only array, hence a writable view of it, kept private).
                    # tf.constant would copy it, transiently twice: 3x the series at the peak.
                    view = self._values.view()
                    view.setflags(write=True)
                    self._tensor = tf.experimental.dlpack.from_dlpack(view.__dlpack__())
                except Exception:  # an older NumPy or TensorFlow: copy
                    self._tensor = tf.constant(self._values)
            self._values = None  # the tensor holds the one copy
        return self._tensor


class Windows:
    """The windows of a series whose targets start at ``first_target, first_target + 1, ...``.

    Window ``i`` (``0 <= i < len(self)``) forecasts from the origin ``t = first_target + i``: its input is
    ``values[t - window_size : t, :]`` ``[window, features]`` and its target
    ``values[t : t + horizon, 0]`` ``[horizon]``. Targets never reach ``end``; inputs may lie before
    ``first_target`` (they are past observations at forecast time).
    """

    def __init__(
        self,
        values: np.ndarray | Series,
        window_size: int,
        horizon: int = 1,
        *,
        first_target: int | None = None,
        end: int | None = None,
    ) -> None:
        """Windows of ``values`` (an array is copied into a new :class:`Series`).

        Args:
            values: ``[time, features]``, the target in column 0, or a shared :class:`Series`.
            window_size: Input length, in time steps.
            horizon: Number of future target steps per window.
            first_target: The first window's first target step (default ``window_size``: every
                window of the series).
            end: Targets lie before this step (default the series' length).

        Raises:
            DataError: bad values or arguments, or not one window fits.
        """
        check_positive_int("window_size", window_size, DataError)
        check_positive_int("horizon", horizon, DataError)
        self.series = values if isinstance(values, Series) else Series(values)
        self.window_size, self.horizon = int(window_size), int(horizon)
        self.first_target = self.window_size if first_target is None else int(first_target)
        self.end = self.series.num_points if end is None else int(end)
        if not self.window_size <= self.first_target <= self.end <= self.series.num_points:
            raise DataError(
                f"Windows: `window_size <= first_target <= end <= points` must hold, got "
                f"({self.window_size}, {self.first_target}, {self.end}, {self.series.num_points})"
            )
        if len(self) < 1:
            raise DataError(
                f"Windows: series has {self.end - self.first_target + self.window_size} points, "
                f"fewer than window_size + horizon = {self.window_size + self.horizon}"
            )

    def __len__(self) -> int:
        return max(0, self.end - self.horizon - self.first_target + 1)

    def __repr__(self) -> str:
        return (
            f"Windows(num_windows={len(self)}, window_size={self.window_size}, "
            f"horizon={self.horizon}, num_features={self.num_features})"
        )

    @property
    def num_features(self) -> int:
        return self.series.num_features

    @property
    def origins(self) -> np.ndarray:
        """Each window's first target step ``t`` (int64 ``[num_windows]``)."""
        return np.arange(self.first_target, self.first_target + len(self))

    def to_dataset(
        self, batch_size: int, shuffle: bool, seed: int | None = None, passes: int = 1
    ) -> tf.data.Dataset:
        """A ``tf.data`` pipeline over all windows, each exactly ``passes`` times per epoch.

        Batches of window indices are turned into windows by one ``tf.gather`` per batch from the series
        tensor (captured by reference, never copied per epoch or per dataset). With ``shuffle``, each
        epoch (each new iterator) visits the windows in a new pseudorandom permutation: an epoch seed
        drawn from ``tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`` drives
        ``tf.random.experimental.index_shuffle``, which permutes each batch of positions on the fly, so
        shuffling needs no memory per window (``Dataset.shuffle(num_windows)`` holds every index as a
        tensor, about 190 bytes per window). For a fixed ``seed`` (and global seed) the epochs' orders
        are the same on every run. The last batch may be smaller.

        Args:
            batch_size: Windows per batch (the global batch).
            shuffle: Visit the windows in a new random order each epoch; else in time order.
            seed: Seed of the shuffling; None draws a fresh one.
            passes: With ``shuffle``, how many passes over the windows make one epoch, each in its
                own order (enough optimizer steps per epoch on a short series).

        Returns:
            A dataset of ``(x, y)``: float32 ``[batch, window, features]`` and ``[batch, horizon]``.
        """
        import tensorflow as tf

        check_positive_int("batch_size", batch_size, DataError)
        series = self.series.tensor()
        num_windows, window_size = len(self), self.window_size
        index_dtype = tf.int32 if self.series.num_points < 2**31 else tf.int64
        # Window i's rows are first_input + i + [0, window + horizon).
        offsets = tf.range(window_size + self.horizon, dtype=index_dtype) + (
            self.first_target - window_size
        )

        if shuffle:

            def epoch_batches(epoch_seed: tf.Tensor) -> tf.data.Dataset:
                # index_shuffle maps each position to its place in a pseudorandom permutation of
                # [0, num_windows) without materializing the permutation.
                seed_pair = tf.stack([epoch_seed, tf.constant(0, tf.int64)])
                return (
                    tf.data.Dataset.range(num_windows, output_type=index_dtype)
                    .batch(batch_size)
                    .map(
                        lambda positions: tf.random.experimental.index_shuffle(
                            positions, seed_pair, num_windows - 1
                        )
                    )
                )

            passes = check_positive_int("passes", passes, DataError)
            indices = (
                tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
                .take(passes)
                .flat_map(epoch_batches)
                .apply(
                    tf.data.experimental.assert_cardinality(passes * -(-num_windows // batch_size))
                )
            )
        else:
            indices = tf.data.Dataset.range(num_windows, output_type=index_dtype).batch(batch_size)

        def gather_windows(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            rows = tf.gather(
                series, index[:, None] + offsets
            )  # [batch, window + horizon, features]
            return rows[:, :window_size, :], rows[:, window_size:, 0]

        return indices.map(
            gather_windows, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        ).prefetch(tf.data.AUTOTUNE)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All windows as arrays (memory ``window_size`` times the series': for small uses).

        Returns:
            ``(x, y)``: float32 ``[num_windows, window, features]`` and ``[num_windows, horizon]``, in
            window order, new arrays.
        """
        values = self.series.values[self.first_target - self.window_size : self.end]
        sliding = np.lib.stride_tricks.sliding_window_view
        x = sliding(values[: len(values) - self.horizon], self.window_size, axis=0)
        y = sliding(values[self.window_size :, 0], self.horizon)
        # sliding_window_view puts the window axis last: [n, features, window] -> [n, window, features].
        return np.ascontiguousarray(x.transpose(0, 2, 1)), np.array(y)

    def changes(self, season_length: int | None = None, growth: bool = False) -> np.ndarray:
        """Each window's targets minus their reference values (the last input target value, or with
        a season the value one season before each target, plus with ``growth`` the last season's
        growth: :func:`~lstm_tuner.timeseries.season.anchor_matrix`), ``[num_windows, horizon]``."""
        values = self.series.values[:, 0].astype(np.float64)
        origins = self.origins[:, None]
        matrix = anchor_matrix(self.horizon, season_length, growth)
        before = values[origins - np.arange(1, len(matrix) + 1)]  # [windows, span]: y[t-1], ...
        return values[origins + np.arange(self.horizon)] - before @ matrix

    def last_values(self) -> np.ndarray:
        """The naive last-value forecast: each window's last target value, repeated ``horizon`` times.

        Returns:
            float32 ``[num_windows, horizon]``, in the units of the values (scaled, if they are).
        """
        last = self.series.values[self.origins - 1, 0]
        return np.repeat(last[:, None], self.horizon, axis=1)


@dataclasses.dataclass(frozen=True)
class SplitWindows:
    """The windows of the three splits of one series, sharing its one copy."""

    train: Windows
    validation: Windows
    test: Windows


def split_windows(
    values: np.ndarray, boundaries: Sequence[int], window_size: int, horizon: int
) -> SplitWindows:
    """The train, validation and test windows of a series split at ``boundaries``.

    A window belongs to the split its targets lie in. Its inputs may reach back into the split
    before (they are past observations at forecast time), so the validation and test splits keep
    every target they hold: a 300-point series split 70/15/15 with window 30 has 45 validation
    windows, not 15. Only the training split starts ``window_size`` steps in.

    Args:
        values: The (scaled) series ``[time, features]``.
        boundaries: ``(train_end, validation_end)``: the splits are ``[0, train_end)``,
            ``[train_end, validation_end)`` and ``[validation_end, time)``.
        window_size: Input length.
        horizon: Target length.

    Returns:
        Each split's windows: all ``horizon`` targets of a window lie inside its split.
    """
    series = Series(values)
    starts = (window_size, *(max(b, window_size) for b in boundaries))
    ends = (*boundaries, series.num_points)
    parts = [
        Windows(series, window_size, horizon, first_target=start, end=end)
        for start, end in zip(starts, ends, strict=True)
    ]
    return SplitWindows(*parts)


def make_dataset(
    x: Any,
    y: Any = None,
    *,
    batch_size: int,
    training: bool,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Turns unbatched arrays or an unbatched ``tf.data.Dataset`` into a batched pipeline.

    Args:
        x: Windows ``[n, window, features]`` as a numpy array (with ``y``), or an unbatched
            ``tf.data.Dataset`` of ``(x, y)`` pairs.
        y: Targets ``[n, horizon]`` when ``x`` is an array.
        batch_size: The global batch size.
        training: Shuffle (each epoch) when true; keep the order otherwise.
        seed: Shuffle seed.

    Returns:
        ``(x [batch, window, features], y [batch, horizon])`` batches, prefetched.
    """
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        ds = x.cache()
        size = int(ds.cardinality())
    else:
        if y is None:
            raise ValueError("make_dataset: `y` is required when `x` is an array")
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 1:
            y = y[:, None]
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length, but got {len(x)} and {len(y)}")
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        size = len(x)
    if training:
        buffer = size if size > 0 else _SHUFFLE_BUFFER_UNKNOWN_SIZE
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
