"""Time-series input: the built-in series, CSV reading, chronological split, train-only scaling, windows.

Data flows one way: a ``[time, features]`` float64 array (built-in or CSV, target in column 0) ->
:func:`split_series` (chronological, no shuffling) -> :class:`Scaler` fitted on the training part only ->
one :class:`Windows` per split, which feeds ``tf.data`` by gathering windows from a single copy of the
scaled series. :func:`load_data` does all of it from a :class:`~lstm_tuner.config.DataConfig`.

Everything before :meth:`Windows.to_dataset` is plain NumPy, so bad input is refused before TensorFlow
is imported.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import itertools
import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from absl import logging

from lstm_tuner.errors import DataError

if TYPE_CHECKING:
    import tensorflow as tf

    from lstm_tuner.config import DataConfig

MISSING_POLICIES = ("error", "interpolate", "drop")
# Cells read as missing, compared case-insensitively after stripping whitespace.
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null"})
_MAX_ROWS_IN_MESSAGE = 3

# The built-in series (see `builtin_series`): hourly steps, daily and weekly cycles.
_BUILTIN_LEVEL = 10.0
_BUILTIN_SLOPE = 0.001
_BUILTIN_DAY = 24
_BUILTIN_WEEK = 168
_BUILTIN_DAY_MODULATION = 1000
_BUILTIN_WEEK_MODULATION = 2800
_BUILTIN_AR = 0.8
_BUILTIN_SHOCK_STD = 0.3


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{name} must be a positive integer, got {value!r}")


def _sin_table(period: int, phase: float = 0.0) -> np.ndarray:
    # math.sin on one period instead of np.sin on every point: NumPy's SIMD sin may round differently
    # on different CPUs, the table makes the built-in series bit-identical across machines.
    return np.array([math.sin(2.0 * math.pi * k / period + phase) for k in range(period)])


def builtin_series(num_points: int = 4000, seed: int = 0) -> np.ndarray:
    """The package's built-in univariate series: synthetic hourly data with a trend and two cycles.

    For each hour ``t = 0, 1, ..., num_points - 1``::

        value[t] = 10 + 0.001 * t                                           # slow linear trend
                   + (2.0 + 0.5 * sin(2 pi t / 1000)) * sin(2 pi t / 24)    # daily cycle
                   + (1.0 + 0.5 * cos(2 pi t / 2800)) * sin(2 pi t / 168)   # weekly cycle
                   + noise[t]
        noise[0] = 0.5 * z[0];  noise[t] = 0.8 * noise[t - 1] + 0.3 * z[t]  # stationary AR(1), std 0.5
        z = np.random.default_rng(seed).standard_normal(num_points)

    The amplitudes of both cycles drift slowly, so the series is neither constant nor exactly periodic; a
    window of about one week (168 steps) sees both cycles, a one-day window (24) sees the daily one. The
    output depends only on the arguments (and NumPy's PCG64 normal stream): the cycles come from
    ``math.sin`` lookup tables and the noise recursion runs in plain Python floats, so no SIMD code path
    changes a bit of it.

    Args:
        num_points: Length of the series, in time steps.
        seed: Seed of the noise.

    Returns:
        float64 ``[num_points]``.

    Raises:
        DataError: ``num_points`` is not a positive integer.
    """
    _check_positive_int("data.builtin_num_points", num_points)
    t = np.arange(num_points)
    day = _sin_table(_BUILTIN_DAY)[t % _BUILTIN_DAY]
    week = _sin_table(_BUILTIN_WEEK)[t % _BUILTIN_WEEK]
    day_amplitude = 2.0 + 0.5 * _sin_table(_BUILTIN_DAY_MODULATION)[t % _BUILTIN_DAY_MODULATION]
    week_amplitude = (
        1.0 + 0.5 * _sin_table(_BUILTIN_WEEK_MODULATION, math.pi / 2)[t % _BUILTIN_WEEK_MODULATION]
    )

    z = np.random.default_rng(seed).standard_normal(num_points)
    shocks = (_BUILTIN_SHOCK_STD * z).tolist()
    shocks[0] = _BUILTIN_SHOCK_STD / math.sqrt(1.0 - _BUILTIN_AR**2) * float(z[0])
    noise = np.fromiter(
        itertools.accumulate(shocks, lambda previous, shock: _BUILTIN_AR * previous + shock),
        dtype=np.float64,
        count=num_points,
    )
    trend = _BUILTIN_LEVEL + _BUILTIN_SLOPE * t
    return trend + day_amplitude * day + week_amplitude * week + noise


def _parse_time(text: str) -> float | datetime.datetime | None:
    """A time-column cell as a number, else as an ISO-8601 date/time, else None."""
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
    # Python 3.10's fromisoformat does not accept the "Z" suffix.
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.datetime.fromisoformat(iso)
    except ValueError:
        return None


def _sort_by_time(where: str, name: str, cells: list[str], lines: list[int]) -> list[int]:
    """Row order (indices into ``cells``) sorted by the time column; stable; duplicates are errors."""
    label = f"{where}: column {name!r} (data.time_column)"
    for cell, line in zip(cells, lines, strict=True):
        if cell.lower() in MISSING_TOKENS:
            raise DataError(f"{label}: missing timestamp {cell!r} at row {line}")
    parsed = [_parse_time(cell) for cell in cells]
    numbers = [p if isinstance(p, float) else None for p in parsed]
    dates = [p if isinstance(p, datetime.datetime) else None for p in parsed]
    if all(v is not None for v in numbers):
        keys: list[Any] = numbers
    elif all(v is not None for v in dates):
        keys = dates
    else:
        # Report the value that breaks the kind (number or date) that held for longer.
        first_non_number = next(i for i, v in enumerate(numbers) if v is None)
        first_non_date = next(i for i, v in enumerate(dates) if v is None)
        bad = max(first_non_number, first_non_date)
        raise DataError(
            f"{label}: value {cells[bad]!r} at row {lines[bad]} is neither a number nor an ISO-8601 "
            "date/time (all timestamps must be of one kind)"
        )
    try:
        order = sorted(range(len(keys)), key=keys.__getitem__)
    except TypeError as exc:
        raise DataError(f"{label}: cannot order the timestamps ({exc})") from exc
    for previous, current in itertools.pairwise(order):
        if keys[previous] == keys[current]:
            first, second = sorted((lines[previous], lines[current]))
            raise DataError(
                f"{label}: duplicate timestamp {cells[current]!r} at rows {first} and {second}"
            )
    return order


def _format_rows(lines: np.ndarray) -> str:
    shown = ", ".join(str(int(line)) for line in lines[:_MAX_ROWS_IN_MESSAGE])
    if len(lines) == 1:
        return f"at row {shown}"
    return f"first at rows {shown}"


def read_csv(
    path: str | os.PathLike[str],
    target: str,
    features: Sequence[str] = (),
    time_column: str | None = None,
    missing: str = "error",
) -> tuple[np.ndarray, list[str]]:
    """Reads the target and feature columns of a CSV file with a header row.

    Cells are stripped of whitespace; an empty cell or ``nan``, ``NA``, ``N/A``, ``null`` (any case) is a
    missing value. Row numbers in messages are 1-based line numbers in the file, the header being line 1.
    With ``time_column`` the rows are first sorted by it (stable): numerically if every timestamp is a
    number, else as ISO-8601 date/times (``datetime.fromisoformat``, plus a trailing ``Z``).

    Args:
        path: The CSV file.
        target: The column to predict; column 0 of the result.
        features: Extra input columns, in this order after the target.
        time_column: Optional column the rows are sorted by; it is not part of the result.
        missing: What to do with missing values: ``"error"``; ``"interpolate"`` (linear in row order,
            both edges filled with the nearest valid value); ``"drop"`` (drop each row with a missing value
            in any used column).

    Returns:
        ``(values, column_names)``: float64 ``[time, 1 + len(features)]`` with columns
        ``(target, *features)``, and those column names.

    Raises:
        DataError: The file cannot be read, is empty or malformed; a column is not found or used twice; a
            value is non-numeric or infinite; values are missing under ``missing="error"``; a column is
            all missing; a timestamp is missing, unparsable or duplicated. The one-line message names the
            file, column, rule and the value received.
    """
    where = os.fspath(path)
    if missing not in MISSING_POLICIES:
        raise DataError(
            f"{where}: data.missing must be one of {', '.join(map(repr, MISSING_POLICIES))}, "
            f"got {missing!r}"
        )
    columns = [target, *features]
    used = [(target, "data.target")] + [(name, "data.features") for name in features]
    if time_column is not None:
        used.append((time_column, "data.time_column"))
    seen: set[str] = set()
    for name, key in used:
        if name in seen:
            raise DataError(
                f"{where}: column {name!r} ({key}): used twice; target, features and time_column "
                "must be different columns"
            )
        seen.add(name)

    line = 0
    try:
        with open(where, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            header = next((row for row in reader if any(cell.strip() for cell in row)), None)
            if header is None:
                raise DataError(f"{where}: empty file: no header row")
            header = [cell.strip() for cell in header]
            indices = []
            for name, key in used:
                count = header.count(name)
                if count == 0:
                    raise DataError(
                        f"{where}: column {name!r} ({key}): not found; columns are {header}"
                    )
                if count > 1:
                    raise DataError(
                        f"{where}: column {name!r} ({key}): appears {count} times in the header"
                    )
                indices.append(header.index(name))
            rows: list[list[str]] = []
            lines: list[int] = []
            for row in reader:
                line = reader.line_num
                if not row:  # blank line
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{where}: row {line}: has {len(row)} fields, the header has {len(header)}"
                    )
                rows.append([row[i].strip() for i in indices])
                lines.append(line)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: cannot read CSV file: {exc}") from exc
    except csv.Error as exc:
        raise DataError(f"{where}: row {line + 1}: malformed CSV: {exc}") from exc
    if not rows:
        raise DataError(f"{where}: no data rows after the header")

    num_rows, num_columns = len(rows), len(columns)
    values = np.empty((num_rows, num_columns), dtype=np.float64)
    for r, (row, row_line) in enumerate(zip(rows, lines, strict=True)):
        for c in range(num_columns):
            cell = row[c]
            if cell.lower() in MISSING_TOKENS:
                values[r, c] = np.nan
                continue
            try:
                number = float(cell)
            except ValueError:
                raise DataError(
                    f"{where}: column {columns[c]!r}: non-numeric value {cell!r} at row {row_line}"
                ) from None
            if math.isinf(number):
                raise DataError(
                    f"{where}: column {columns[c]!r}: non-finite value {cell!r} at row {row_line}"
                )
            values[r, c] = number  # a NaN spelled e.g. "-nan" stays NaN: a missing value

    line_numbers = np.asarray(lines)
    if time_column is not None:
        order = _sort_by_time(where, time_column, [row[-1] for row in rows], lines)
        values = values[order]
        line_numbers = line_numbers[order]

    is_missing = np.isnan(values)
    for c, name in enumerate(columns):
        if is_missing[:, c].all():
            raise DataError(f"{where}: column {name!r}: all {num_rows} values are missing")
    if is_missing.any():
        if missing == "error":
            c = int(np.flatnonzero(is_missing.any(axis=0))[0])
            missing_lines = np.sort(line_numbers[is_missing[:, c]])
            count = len(missing_lines)
            raise DataError(
                f"{where}: column {columns[c]!r}: {count} missing value{'s' if count > 1 else ''} "
                f"({_format_rows(missing_lines)}); set data.missing to interpolate or drop"
            )
        if missing == "interpolate":
            positions = np.arange(num_rows)
            for c in np.flatnonzero(is_missing.any(axis=0)):
                valid = ~is_missing[:, c]
                values[~valid, c] = np.interp(positions[~valid], positions[valid], values[valid, c])
        else:
            values = values[~is_missing.any(axis=1)]
            if len(values) == 0:
                raise DataError(
                    f"{where}: no rows left after dropping the rows with missing values "
                    "(data.missing = 'drop')"
                )
    return values, columns


def split_series(
    values: np.ndarray,
    train_fraction: float,
    validation_fraction: float,
    test_fraction: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Splits a series chronologically into train, validation and test parts.

    The parts are consecutive and do not overlap; nothing is shuffled. The boundaries are
    ``round(T * train_fraction)`` and ``round(T * (train_fraction + validation_fraction))``.

    Args:
        values: ``[time, ...]``, usually ``[time, features]``.
        train_fraction: Share of the first part.
        validation_fraction: Share of the middle part.
        test_fraction: Share of the last part; the three sum to 1.

    Returns:
        ``(train, validation, test)``: views of ``values`` along the time axis.

    Raises:
        DataError: A fraction is negative or not finite, or they do not sum to 1.
    """
    fractions = {
        "data.train_fraction": train_fraction,
        "data.validation_fraction": validation_fraction,
        "data.test_fraction": test_fraction,
    }
    for name, fraction in fractions.items():
        if not math.isfinite(fraction) or fraction < 0:
            raise DataError(f"{name} must be a finite number >= 0, got {fraction!r}")
    total = train_fraction + validation_fraction + test_fraction
    if abs(total - 1.0) > 1e-6:
        raise DataError(
            "data.train_fraction + data.validation_fraction + data.test_fraction must equal 1, got "
            f"{train_fraction} + {validation_fraction} + {test_fraction} = {total}"
        )
    num_points = len(values)
    train_end = min(num_points, round(num_points * train_fraction))
    validation_end = min(
        num_points, max(train_end, round(num_points * (train_fraction + validation_fraction)))
    )
    return values[:train_end], values[train_end:validation_end], values[validation_end:]


@dataclasses.dataclass(frozen=True, eq=False)
class Scaler:
    """Per-column standardization, fitted on the training split only.

    ``eq=False``: arrays have no single truth value, so scalers compare by identity.

    Attributes:
        mean: float64 ``[features]``, the training mean of each column.
        scale: float64 ``[features]``, the training standard deviation of each column; 1.0 for a
            constant column, so that it maps to 0 instead of dividing by zero.
    """

    mean: np.ndarray
    scale: np.ndarray

    def __post_init__(self) -> None:
        mean = np.array(self.mean, dtype=np.float64, ndmin=1)
        scale = np.array(self.scale, dtype=np.float64, ndmin=1)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise DataError(
                f"Scaler: mean and scale must be 1-D of equal length, got shapes {mean.shape} and "
                f"{scale.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise DataError(
                f"Scaler: mean must be finite and scale finite and > 0, got mean {mean.tolist()} and "
                f"scale {scale.tolist()}"
            )
        mean.setflags(write=False)
        scale.setflags(write=False)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "scale", scale)

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        """Fits the scaler to the training part of a series.

        Args:
            values: ``[time, features]``, the training split only, so that no statistic of the
                validation or test data leaks into training.

        Returns:
            The fitted scaler.

        Raises:
            DataError: ``values`` is not 2-D, empty or not finite.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or len(values) == 0:
            raise DataError(
                f"Scaler.fit: values must have shape [time, features] with time >= 1, got shape "
                f"{values.shape}"
            )
        if not np.isfinite(values).all():
            raise DataError("Scaler.fit: values must be finite, got NaN or infinity")
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        # Exact constancy test: the std of a constant float column can come out as 1e-17, not 0.
        constant = np.ptp(values, axis=0) == 0
        return cls(mean=mean, scale=np.where(constant | ~(std > 0), 1.0, std))

    @property
    def num_features(self) -> int:
        return len(self.mean)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Standardizes ``values``: ``(values - mean) / scale``, column by column.

        Args:
            values: ``[time, features]``.

        Returns:
            float64 ``[time, features]``, a new array.

        Raises:
            DataError: The number of columns differs from the fitted one.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.num_features:
            raise DataError(
                f"Scaler.transform: values must have shape [time, {self.num_features}], got shape "
                f"{values.shape}"
            )
        return (values - self.mean) / self.scale

    def inverse_transform_target(self, y: np.ndarray) -> np.ndarray:
        """Maps scaled target values (column 0) back to the original units: ``y * scale[0] + mean[0]``.

        Args:
            y: Any shape, e.g. predictions ``[batch, horizon]``.

        Returns:
            float64, the shape of ``y``.
        """
        return np.asarray(y, dtype=np.float64) * self.scale[0] + self.mean[0]

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-friendly form: ``{"mean": [...], "scale": [...]}``."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scaler:
        """The inverse of :meth:`to_dict`.

        Raises:
            DataError: A key is missing or unknown, or the values break a rule of the scaler.
        """
        keys = set(data)
        if keys != {"mean", "scale"}:
            raise DataError(f"Scaler.from_dict: keys must be ['mean', 'scale'], got {sorted(keys)}")
        return cls(mean=np.asarray(data["mean"]), scale=np.asarray(data["scale"]))


def _aligned_float32(array: np.ndarray) -> np.ndarray:
    """A C-contiguous float32 copy whose buffer is 64-byte aligned, as TensorFlow's tensors are."""
    nbytes = array.size * 4
    buffer = np.empty(nbytes + 64, dtype=np.uint8)
    start = -buffer.ctypes.data % 64
    out = buffer[start : start + nbytes].view(np.float32).reshape(array.shape)
    out[...] = array
    return out


class Windows:
    """Sliding windows over one copy of a (scaled) series, fed to ``tf.data`` by index gathering.

    Window ``i`` (``0 <= i < len(self)``, ``len(self) = T - window_size - horizon + 1``) has the input
    ``x = values[i : i + window_size, :]`` ``[window, features]`` and the target
    ``y = values[i + window_size : i + window_size + horizon, 0]`` ``[horizon]``: column 0 is the target.

    The series is held once, as float32. :meth:`to_dataset` moves it into a CPU tensor the first time it is
    called (the NumPy copy is then released) and every dataset of this object, for any batch size and
    epoch, gathers its windows from that tensor; the ``[num_windows, window, features]`` array is never
    built in the pipeline. :meth:`arrays` does build it, for small uses (prediction, baselines, tests).
    """

    def __init__(self, values: np.ndarray, window_size: int, horizon: int = 1) -> None:
        """Holds a float32 copy of ``values``.

        Args:
            values: ``[time, features]``, the target in column 0.
            window_size: Input length, in time steps.
            horizon: Number of future target steps per window.

        Raises:
            DataError: ``values`` is not 2-D or not finite; ``window_size`` or ``horizon`` is not a
                positive integer; the series is shorter than ``window_size + horizon``.
        """
        _check_positive_int("window_size", window_size)
        _check_positive_int("horizon", horizon)
        array = np.asarray(values)
        if array.ndim != 2 or array.shape[1] == 0:
            raise DataError(
                f"Windows: values must have shape [time, features] with features >= 1, got shape "
                f"{array.shape}"
            )
        if len(array) < window_size + horizon:
            raise DataError(
                f"Windows: series has {len(array)} points, fewer than window_size + horizon = "
                f"{window_size + horizon}"
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
        self._num_points = len(copy)
        self._num_features = copy.shape[1]
        self._window_size = int(window_size)
        self._horizon = int(horizon)

    def __len__(self) -> int:
        return self._num_points - self._window_size - self._horizon + 1

    def __repr__(self) -> str:
        return (
            f"Windows(num_windows={len(self)}, window_size={self._window_size}, "
            f"horizon={self._horizon}, num_features={self._num_features})"
        )

    @property
    def num_points(self) -> int:
        """Length ``T`` of the series."""
        return self._num_points

    @property
    def num_features(self) -> int:
        return self._num_features

    @property
    def window_size(self) -> int:
        return self._window_size

    @property
    def horizon(self) -> int:
        return self._horizon

    @property
    def values(self) -> np.ndarray:
        """The series, float32 ``[time, features]``, read-only (a fresh copy once a dataset exists)."""
        if self._values is not None:
            return self._values
        array = self._tensor.numpy()
        array.setflags(write=False)
        return array

    def _series_tensor(self) -> tf.Tensor:
        if self._tensor is None:
            import tensorflow as tf

            # On the host, whatever the default device: the input pipeline runs on the CPU.
            with tf.device("/CPU:0"):
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

    def to_dataset(
        self, batch_size: int, shuffle: bool, seed: int | None = None
    ) -> tf.data.Dataset:
        """A ``tf.data`` pipeline over all windows, each exactly once per epoch.

        Batches of window indices are turned into windows by one ``tf.gather`` per batch from the series
        tensor (captured by reference, never copied per epoch or per dataset). With ``shuffle``, each
        epoch (each new iterator) visits the windows in a new pseudorandom permutation: an epoch seed
        drawn from ``tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`` drives
        ``tf.random.experimental.index_shuffle``, which permutes each batch of positions on the fly, so
        shuffling needs no memory per window. (``Dataset.shuffle(num_windows)`` holds every index as a
        tensor, about 190 bytes per window: 950 MB and 6 s of buffer filling per epoch at 5 million
        windows.) For a fixed ``seed`` (and global seed) the epochs' orders are the same on every run.
        The last batch may be smaller.

        Args:
            batch_size: Windows per batch (the global batch).
            shuffle: Visit the windows in a new random order each epoch; else in time order.
            seed: Seed of the shuffling; None draws a fresh one.

        Returns:
            A dataset of ``(x, y)``: float32 ``[batch, window, features]`` and ``[batch, horizon]``.

        Raises:
            DataError: ``batch_size`` is not a positive integer.
        """
        import tensorflow as tf

        _check_positive_int("batch_size", batch_size)
        series = self._series_tensor()
        num_windows = len(self)
        window_size = self._window_size
        index_dtype = tf.int32 if self._num_points < 2**31 else tf.int64
        offsets = tf.range(window_size + self._horizon, dtype=index_dtype)

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

            indices = (
                tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
                .take(1)
                .flat_map(epoch_batches)
                .apply(tf.data.experimental.assert_cardinality(-(-num_windows // batch_size)))
            )
        else:
            indices = tf.data.Dataset.range(num_windows, output_type=index_dtype).batch(batch_size)

        def gather_windows(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            # [batch, window + horizon, features]
            rows = tf.gather(series, index[:, None] + offsets)
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
        values = self.values
        sliding = np.lib.stride_tricks.sliding_window_view
        x = sliding(values[: self._num_points - self._horizon], self._window_size, axis=0)
        y = sliding(values[self._window_size :, 0], self._horizon)
        # sliding_window_view puts the window axis last: [n, features, window] -> [n, window, features].
        return np.ascontiguousarray(x.transpose(0, 2, 1)), np.array(y)

    def last_values(self) -> np.ndarray:
        """The naive last-value forecast: each window's last target value, repeated ``horizon`` times.

        Returns:
            float32 ``[num_windows, horizon]``, in the units of the values (scaled, if they are).
        """
        last = self.values[self._window_size - 1 : self._window_size - 1 + len(self), 0]
        return np.repeat(last[:, None], self._horizon, axis=1)


@dataclasses.dataclass(frozen=True)
class SeriesData:
    """A loaded, split and scaled series, ready for training.

    Attributes:
        train: Windows of the training split (scaled).
        validation: Windows of the validation split (scaled); no window crosses a split boundary.
        test: Windows of the test split (scaled).
        scaler: Fitted on the training split only; ``scaler.inverse_transform_target`` maps predictions
            back to the target's units.
        column_names: The input columns, the target first.
        target_name: The target column.
        source: What was read, e.g. ``"builtin(num_points=4000, seed=0)"`` or the CSV path.
    """

    train: Windows
    validation: Windows
    test: Windows
    scaler: Scaler
    column_names: tuple[str, ...]
    target_name: str
    source: str

    @property
    def num_features(self) -> int:
        return len(self.column_names)


def load_data(config: DataConfig) -> SeriesData:
    """Loads the series the config names, splits it, scales it with training statistics, windows it.

    Args:
        config: The ``data`` section of the configuration.

    Returns:
        The windows of the three splits, the scaler and a description of the source.

    Raises:
        DataError: The source cannot be read or used (see :func:`read_csv`), a setting is out of range,
            or a split is shorter than ``window_size + horizon``.
    """
    _check_positive_int("data.window_size", config.window_size)
    _check_positive_int("data.horizon", config.horizon)
    if config.source == "builtin":
        source = f"builtin(num_points={config.builtin_num_points}, seed={config.builtin_seed})"
        if config.target != "value":
            raise DataError(
                f"{source}: data.target must be 'value' for the built-in series, got {config.target!r}"
            )
        if config.features:
            raise DataError(
                f"{source}: data.features must be empty for the built-in (univariate) series, got "
                f"{list(config.features)}"
            )
        if config.time_column is not None:
            raise DataError(
                f"{source}: data.time_column must be null for the built-in series, got "
                f"{config.time_column!r}"
            )
        values = builtin_series(config.builtin_num_points, config.builtin_seed)[:, None]
        column_names = [config.target]
    elif config.source == "csv":
        if not config.csv:
            raise DataError(
                f"data.csv: a file path is required when data.source is 'csv', got {config.csv!r}"
            )
        source = config.csv
        values, column_names = read_csv(
            config.csv, config.target, config.features, config.time_column, config.missing
        )
    else:
        raise DataError(f"data.source must be 'builtin' or 'csv', got {config.source!r}")

    splits = split_series(
        values, config.train_fraction, config.validation_fraction, config.test_fraction
    )
    needed = config.window_size + config.horizon
    for name, part in zip(("train", "validation", "test"), splits, strict=True):
        if len(part) < needed:
            raise DataError(
                f"{source}: split {name!r} has {len(part)} points, fewer than window_size + horizon = "
                f"{needed}; use a longer series, a smaller data.window_size or larger split fractions"
            )
    scaler = Scaler.fit(splits[0])
    train, validation, test = (
        Windows(scaler.transform(part), config.window_size, config.horizon) for part in splits
    )
    logging.info(
        "Loaded %s: %d points x %d columns %s; splits train/validation/test = %d/%d/%d points",
        source,
        len(values),
        len(column_names),
        column_names,
        *(len(part) for part in splits),
    )
    return SeriesData(
        train=train,
        validation=validation,
        test=test,
        scaler=scaler,
        column_names=tuple(column_names),
        target_name=column_names[0],
        source=source,
    )
