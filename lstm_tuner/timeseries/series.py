"""Time-series input: the built-in series, chronological split, train-only scaling.

Data flows one way: a ``[time, features]`` float64 array (built-in, or a CSV file read by
:mod:`lstm_tuner.timeseries.csv_file`; target in column 0) -> :func:`split_points` (chronological, no shuffling) ->
:class:`~lstm_tuner.timeseries.scaler.Scaler` fitted on the training part only -> the scaled series and its windows
(:mod:`lstm_tuner.timeseries.windows`). :func:`load_data` does all of it from the config's ``data``
section (:class:`~lstm_tuner.config.schema.DataConfig`), read through :class:`DataSection`, what it
needs of it, so that the series does not depend on the config's layer.

Everything here is NumPy, so bad input is refused before TensorFlow is imported.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from absl import logging

from lstm_tuner.errors import DataError
from lstm_tuner.rules import check_positive_int
from lstm_tuner.timeseries.csv_file import read_series
from lstm_tuner.timeseries.scaler import Scaler, resolve_target_scale
from lstm_tuner.timeseries.season import resolve_season
from lstm_tuner.timeseries.time_index import TimeIndex
from lstm_tuner.timeseries.windows import SplitWindows, Windows, split_windows


class _Split(Protocol):
    train: float
    validation: float
    test: float


class _Builtin(Protocol):
    num_points: int
    seed: int


class DataSection(Protocol):
    """What :func:`load_data` reads of the config's ``data`` section (``DataConfig``)."""

    source: str
    csv: str | None
    target: str
    features: Sequence[str]
    future_features: Sequence[str]
    time_column: str | None
    window_size: int
    horizon: int
    missing: str
    delimiter: str | None
    decimal: str
    thousands: str | None
    season_length: int | None

    @property
    def split(self) -> _Split: ...

    @property
    def builtin(self) -> _Builtin: ...


# The built-in series (see `builtin_series`): hourly steps, daily and weekly cycles.
_BUILTIN_LEVEL = 10.0
_BUILTIN_SLOPE = 0.001
_BUILTIN_DAY = 24
_BUILTIN_WEEK = 168
_BUILTIN_DAY_MODULATION = 1000
_BUILTIN_WEEK_MODULATION = 2800
_BUILTIN_AR = 0.8
_BUILTIN_SHOCK_STD = 0.3


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
    check_positive_int("data.builtin.num_points", num_points, DataError)
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


def check_learnable(
    source: str, train: np.ndarray, column_names: Sequence[str], future: int = 0
) -> None:
    """Refuses what cannot be scaled or learned, naming the source and the column.

    Raises:
        DataError: a column is constant over the training split (the target: nothing to learn; a
            feature: it would be scaled by zero), or so large that its mean or spread overflows.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean = train.mean(axis=0)
        spread = train.std(axis=0)
    for c, name in enumerate(column_names):
        role = (
            "data.target"
            if c == 0
            else "data.future_features"
            if c >= len(column_names) - future
            else "data.features"
        )
        if not (np.isfinite(mean[c]) and np.isfinite(spread[c])):
            raise DataError(
                f"{source}: column {name!r} ({role}): values too large to scale (their mean or "
                f"spread overflows; largest |value| {np.abs(train[:, c]).max():.3g}); rescale them"
            )
        if np.ptp(train[:, c]) == 0:
            why = "there is nothing to learn" if c == 0 else "it would be scaled by zero"
            raise DataError(
                f"{source}: column {name!r} ({role}) is constant ({train[0, c]:g}) over the "
                f"training split ({len(train)} rows): {why}"
            )


@dataclasses.dataclass(frozen=True)
class SeriesData:
    """A loaded, split and scaled series, ready for training.

    Attributes:
        values: The series in original units, float64 ``[time, features]``, target in column 0.
        boundaries: ``(train_end, validation_end)``: the splits are ``[0, train_end)``,
            ``[train_end, validation_end)`` and ``[validation_end, time)``.
        scaler: Fitted on the training split only; ``scaler.inverse_transform_target`` maps
            predictions back to the target's units.
        windows: The windows of each split over the scaled series (one shared copy).
        column_names: The input columns, the target first.
        target_name: The target column.
        source: What was read, e.g. ``"builtin(num_points=4000, seed=0)"`` or the CSV path.
        season_length: The target's season in steps (``data.season_length``, or detected from the
            training split by :func:`lstm_tuner.timeseries.season.detect_season`), ``None`` for none.
        season_source: Where the season length comes from.
        anchor_season: The season a ``seasonal_delta`` model anchors to
            (:func:`~lstm_tuner.timeseries.season.model_season`), ``None`` for none.
        time_index: The rows' timestamps and the frequency they were read at (``data.time_column``),
            ``None`` without a time column (then :attr:`times` is row positions).
        target_scale_source: Why the model sees the target on the scale it does
            (:func:`~lstm_tuner.timeseries.scaler.resolve_target_scale`).
        future_features: The last columns of :attr:`column_names` that are known in advance
            (``data.future_features``): the windows see them led by the horizon
            (:func:`lead_columns`); :attr:`values` holds them as read.
    """

    values: np.ndarray
    boundaries: tuple[int, int]
    scaler: Scaler
    windows: SplitWindows
    column_names: tuple[str, ...]
    target_name: str
    source: str
    season_length: int | None = None
    season_source: str = "detected from the training split"
    anchor_season: int | None = None
    time_index: TimeIndex | None = None
    target_scale_source: str = "data.target_scale: linear"
    future_features: tuple[str, ...] = ()

    @property
    def times(self) -> TimeIndex:
        """The time axis of :attr:`values`: the time column's timestamps, else row positions."""
        return self.time_index or TimeIndex.positions(len(self.values))

    def split_periods(self) -> dict[str, str]:
        """Each split's first and last timestamp: ``{"train": "2000-01-01 to 2009-12-01", ...}``."""
        train_end, validation_end = self.boundaries
        times = self.times
        return {
            "train": times.span(0, train_end),
            "validation": times.span(train_end, validation_end),
            "test": times.span(validation_end, len(self.values)),
        }

    @property
    def train(self) -> Windows:
        return self.windows.train

    @property
    def validation(self) -> Windows:
        return self.windows.validation

    @property
    def test(self) -> Windows:
        return self.windows.test

    @property
    def train_and_validation(self) -> Windows:
        """The training and validation windows as one set, in time order (a refit on both)."""
        train = self.train
        return Windows(
            train.series,
            train.window_size,
            train.horizon,
            first_target=train.first_target,
            end=self.validation.end,  # every split holds at least one window (split_windows)
        )

    @property
    def num_features(self) -> int:
        return len(self.column_names)


def load_data(config: DataSection) -> SeriesData:
    """Loads the series the config names, splits it, scales it with training statistics, windows it.

    Args:
        config: The ``data`` section of the configuration.

    Raises:
        DataError: The source cannot be read or used (see :func:`lstm_tuner.timeseries.csv_file.read_csv`), a
            setting is out of range, or a split is shorter than ``window_size + horizon``.
    """
    if config.source == "builtin":
        builtin = config.builtin
        source = f"builtin(num_points={builtin.num_points}, seed={builtin.seed})"
        if (
            config.target != "value"
            or config.features
            or config.future_features
            or config.time_column is not None
        ):
            raise DataError(
                f"{source}: the built-in series has one column, 'value': data.target must be "
                "'value', data.features empty, data.future_features empty and data.time_column null"
            )
        values = builtin_series(builtin.num_points, builtin.seed)[:, None]
        column_names = [config.target]
        time_index = None
    elif config.source == "csv":
        if not config.csv:
            raise DataError(
                f"data.csv: a file path is required when data.source is 'csv', got {config.csv!r}"
            )
        series = read_series(
            config.csv,
            config.target,
            config.features,
            config.time_column,
            config.missing,
            delimiter=config.delimiter,
            decimal=config.decimal,
            thousands=config.thousands,
            future_features=config.future_features,
        )
        values, column_names = series.values, series.columns
        source = config.csv + series.format.describe()
        time_index = series.time_index if config.time_column is not None else None
    else:
        raise DataError(f"data.source must be 'builtin' or 'csv', got {config.source!r}")

    split = config.split
    train, validation, test = split_series(values, split.train, split.validation, split.test)
    # Training windows need window_size + horizon points of the training split; a later split
    # needs horizon points (its windows' inputs may come from before it).
    for name, part, needed in (
        ("train", train, config.window_size + config.horizon),
        ("validation", validation, config.horizon),
        ("test", test, config.horizon),
    ):
        if len(part) < needed:
            rule = "window_size + horizon" if name == "train" else "horizon"
            raise DataError(
                f"{source}: split {name!r} has {len(part)} points, fewer than {rule} = "
                f"{needed}; use a longer series, a smaller data.window_size or larger split fractions"
            )
    check_learnable(source, train, column_names, len(config.future_features))
    boundaries = (len(train), len(train) + len(validation))
    inputs = lead_columns(values, len(config.future_features), config.horizon)
    season, season_source, anchor_season = resolve_season(
        config.season_length, train[:, 0], config.window_size
    )
    log_target, scale_source = resolve_target_scale(
        config.target_scale, values[:, 0], len(train), season
    )
    if log_target and not (values[:, 0] > 0).all():
        row = int(np.flatnonzero(~(values[:, 0] > 0))[0])
        raise DataError(
            f"{source}: column {column_names[0]!r} (data.target) must be > 0 in every row for "
            f"data.target_scale: log, got {values[row, 0]:g} at row {row} (use linear)"
        )
    # Training statistics of each column as read: a lead moves a column's rows, not its units.
    scaler = Scaler.fit(train, log_target=log_target)
    scaled = scaler.transform(inputs)
    windows = split_windows(scaled, boundaries, config.window_size, config.horizon)
    logging.info(
        "Loaded %s: %d points x %d columns %s (time axis: %s); splits train/validation/test = "
        "%d/%d/%d points",
        source,
        len(values),
        len(column_names),
        column_names,
        time_index.frequency if time_index is not None else "positions",
        len(train),
        len(validation),
        len(test),
    )
    values.setflags(write=False)
    return SeriesData(
        values=values,
        boundaries=boundaries,
        scaler=scaler,
        windows=windows,
        column_names=tuple(column_names),
        target_name=column_names[0],
        source=source,
        season_length=season,
        season_source=season_source,
        anchor_season=anchor_season,
        time_index=time_index,
        target_scale_source=scale_source,
        future_features=tuple(config.future_features),
    )


def lead_columns(values: np.ndarray, count: int, horizon: int) -> np.ndarray:
    """The model's input rows: ``values`` with its last ``count`` columns (the future features)
    led by ``horizon`` steps, so that row ``t`` holds their values at ``t + horizon``.

    A window ending at ``t`` then carries the future features at ``t + 1 .. t + horizon``, the
    steps it forecasts. The last ``horizon`` rows have no value that far ahead; they repeat the last
    one. No window reads them: a window's inputs end ``horizon`` rows before the data ends.

    Args:
        values: ``[time, columns]``, the future features last.
        count: How many columns are future features (0: ``values`` itself is returned).
        horizon: Steps forecast by each window.
    """
    if not count:
        return values
    led = np.array(values, dtype=np.float64)
    future = led[:, -count:]
    future[:-horizon] = values[horizon:, -count:]
    future[-horizon:] = values[-1, -count:]
    return led
