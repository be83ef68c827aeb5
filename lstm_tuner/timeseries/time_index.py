"""The series' own time axis: the time column's dates or numbers, or row positions without one.

Dates keep their calendar: the frequency is inferred with pandas (``pandas.infer_freq``, then a
calendar-month step for series on a fixed day of the month), and a series is continued by that pandas
offset, so a monthly series that ends on 2020-02-01 continues with 2020-03-01, never by a median
timedelta. pandas is imported only when a time column holds dates.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from typing import Any

import numpy as np

#: ``TimeIndex.kind`` values.
DATE, NUMBER, POSITION = "date", "number", "position"
#: The frequency of dates or numbers whose steps differ.
IRREGULAR = "irregular"
#: How a plot labels positions, the time axis of a series without a time column.
POSITION_LABEL = "position in the series (no data.time_column)"

# pandas offset class -> (the word for one step, the unit of several steps).
_OFFSET_WORDS = {
    "YearBegin": ("yearly", "years"),
    "YearEnd": ("yearly", "years"),
    "BYearBegin": ("yearly", "years"),
    "BYearEnd": ("yearly", "years"),
    "QuarterBegin": ("quarterly", "quarters"),
    "QuarterEnd": ("quarterly", "quarters"),
    "BQuarterBegin": ("quarterly", "quarters"),
    "BQuarterEnd": ("quarterly", "quarters"),
    "MonthBegin": ("monthly", "months"),
    "MonthEnd": ("monthly", "months"),
    "BusinessMonthBegin": ("monthly", "months"),
    "BusinessMonthEnd": ("monthly", "months"),
    "Week": ("weekly", "weeks"),
    "BusinessDay": ("business-daily", "business days"),
    "Day": ("daily", "days"),
    "Hour": ("hourly", "hours"),
    "Minute": ("every minute", "minutes"),
    "Second": ("every second", "seconds"),
}
_MINUTE_WORDS = {30: "half-hourly", 15: "quarter-hourly"}
_MONTH_STEP_WORDS = {1: "monthly", 3: "quarterly", 12: "yearly"}


def _frequency_word(offset: Any) -> str:
    """``"monthly"``, ``"half-hourly"``, ``"every 2 months"``... for a pandas offset."""
    name = type(offset).__name__
    if name == "DateOffset":  # the calendar-month step of _month_step
        months = offset.kwds["months"]
        return _MONTH_STEP_WORDS.get(months, f"every {months} months")
    if name == "Minute" and offset.n in _MINUTE_WORDS:
        return _MINUTE_WORDS[offset.n]
    if name not in _OFFSET_WORDS:
        return f"every {offset.freqstr}"
    one, unit = _OFFSET_WORDS[name]
    return one if offset.n == 1 else f"every {offset.n} {unit}"


def _month_step(dates: Any) -> Any:
    """A ``pandas.DateOffset(months=k)`` if the dates fall on one day of the month at one time of
    day, every ``k`` calendar months (e.g. the 15th of each month, which ``infer_freq`` misses)."""
    import pandas as pd

    months = dates.year * 12 + dates.month
    steps = np.diff(np.asarray(months))
    same_day = dates.day.nunique() == 1 and (dates - dates.normalize()).nunique() == 1
    if same_day and len(steps) and steps[0] > 0 and (steps == steps[0]).all():
        return pd.DateOffset(months=int(steps[0]))
    return None


def _infer_offset(values: np.ndarray) -> Any:
    """The pandas offset the dates step by, or ``None`` when their steps differ."""
    import pandas as pd

    dates = pd.DatetimeIndex(values)
    if len(dates) >= 3:
        freq = pd.infer_freq(dates)
        if freq is not None:
            return pd.tseries.frequencies.to_offset(freq)
    elif len(dates) == 2:
        return pd.tseries.frequencies.to_offset(dates[1] - dates[0])
    return _month_step(dates) if len(dates) >= 2 else None


def _format_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


@dataclasses.dataclass(frozen=True)
class TimeIndex:
    """The timestamps of a series' rows, in the order of the rows.

    Attributes:
        values: ``datetime64[us]`` ``[time]`` for dates (in UTC when the file's timestamps carried a
            UTC offset), float64 for numbers, int64 ``0, 1, ...`` for positions.
        kind: ``"date"``, ``"number"`` or ``"position"`` (no time column).
        name: The time column, or ``"position"``.
        frequency: What the data was read at: ``"monthly"``, ``"quarterly"``, ``"yearly"``,
            ``"weekly"``, ``"daily"``, ``"hourly"``, ``"half-hourly"``, ``"every 2 months"``... or
            ``"irregular"`` for dates; ``"step 1"`` or ``"irregular"`` for numbers; ``"position"``.
        utc: The dates were given with a UTC offset and are held in UTC.
    """

    values: np.ndarray
    kind: str
    name: str
    frequency: str
    utc: bool = False

    @classmethod
    def positions(cls, num_points: int) -> TimeIndex:
        """Row positions ``0 .. num_points - 1``, for a series without a time column."""
        return cls(np.arange(num_points), POSITION, POSITION, POSITION)

    @classmethod
    def from_values(cls, name: str, values: Sequence[Any]) -> TimeIndex:
        """The index of a time column's parsed, sorted, unique values: all floats or all
        :class:`datetime.datetime` (all naive or all with a UTC offset)."""
        if values and isinstance(values[0], datetime.datetime):
            utc = values[0].tzinfo is not None
            if utc:
                values = [v.astimezone(datetime.timezone.utc).replace(tzinfo=None) for v in values]
            dates = np.array(values, dtype="datetime64[us]")
            offset = _infer_offset(dates)
            frequency = IRREGULAR if offset is None else _frequency_word(offset)
            return cls(dates, DATE, name, frequency, utc)
        numbers = np.asarray(values, dtype=np.float64)
        steps = np.diff(numbers)
        regular = len(steps) > 0 and np.allclose(steps, steps[0], rtol=1e-9, atol=0.0)
        frequency = f"step {_format_number(steps[0])}" if regular else IRREGULAR
        return cls(numbers, NUMBER, name, frequency)

    def __len__(self) -> int:
        return len(self.values)

    def labels(self, rows: Any) -> list[Any]:
        """The timestamps of ``rows`` (an int array of any shape) as JSON values, in that shape:
        ISO-8601 strings for dates (a date alone when every timestamp is at midnight, a ``Z`` for
        UTC), numbers for numbers, ints for positions."""
        rows = np.asarray(rows, dtype=np.int64)
        picked = self.values[rows]
        if self.kind == DATE:
            unit = "D" if self._whole("D") else "s" if self._whole("s") else "us"
            text = np.datetime_as_string(picked, unit=unit, timezone="UTC" if self.utc else "naive")
            return text.tolist()
        if self.kind == NUMBER:
            return np.vectorize(_format_number, otypes=[object])(picked).tolist()
        return picked.tolist()

    def label(self, row: int) -> Any:
        """The timestamp of one row as a JSON value (see :meth:`labels`)."""
        return self.labels([row])[0]

    def span(self, start: int, end: int) -> str:
        """Rows ``[start, end)`` as ``"2000-01-01 to 2004-12-01"`` (``"positions 0 to 59"``);
        ``"empty"`` when ``start >= end``."""
        if start >= end:
            return "empty"
        first, last = self.label(start), self.label(end - 1)
        return f"positions {first} to {last}" if self.kind == POSITION else f"{first} to {last}"

    def continued(self, count: int) -> list[Any]:
        """The ``count`` timestamps after the last one, as JSON values (see :meth:`labels`).

        Dates step by their pandas offset (calendar months, quarters and years), numbers by their
        step, positions by one; irregular timestamps have no next value: ``None``.
        """
        last = self.values[-1]
        if self.kind == POSITION:
            return [int(last) + k for k in range(1, count + 1)]
        if self.frequency == IRREGULAR:
            return [None] * count
        if self.kind == NUMBER:
            step = self.values[1] - self.values[0]
            return [_format_number(last + step * k) for k in range(1, count + 1)]
        import pandas as pd

        offset = _infer_offset(self.values)
        stamp = pd.Timestamp(last)
        future = np.array(
            [(stamp + offset * k).to_datetime64() for k in range(1, count + 1)],
            dtype="datetime64[us]",
        )
        extended = TimeIndex(np.concatenate([self.values, future]), DATE, self.name, "", self.utc)
        return extended.labels(np.arange(len(self.values), len(extended.values)))

    def continuation_mismatch(self, following: TimeIndex, count: int) -> tuple[Any, Any] | None:
        """Whether ``following`` (another file's time axis) starts with the ``count`` timestamps
        after this one (:meth:`continued`).

        Both are written in this index's format before they are compared (a date alone, seconds),
        so that "2020-01-03 00:00" continues hourly data that ends at 23:00; numbers compare to a
        relative 1e-9; an irregular index expects nothing.

        Returns:
            ``None``, or the first ``(expected, got)`` pair of labels that differ.
        """
        expected = self.continued(count)
        if following.kind != self.kind:
            return expected[0], following.label(0)
        given = following.values[:count]
        joined = dataclasses.replace(self, values=np.concatenate([self.values, given]))
        got = joined.labels(np.arange(len(self), len(joined)))
        for want, label, value in zip(expected, got, given, strict=False):
            if want is None:
                continue
            same = (
                abs(float(value) - float(want)) <= 1e-9 * max(1.0, abs(float(want)))
                if self.kind == NUMBER
                else want == label
            )
            if not same:
                return want, label
        return None

    def axis_label(self) -> str:
        """The x-axis label of a plot against this index."""
        if self.kind == POSITION:
            return POSITION_LABEL
        return f"{self.name} (UTC)" if self.utc else self.name

    def _whole(self, unit: str) -> bool:
        """Whether every timestamp is a whole number of ``unit`` (``"D"``: all at midnight)."""
        return bool((self.values == self.values.astype(f"datetime64[{unit}]")).all())


def parse_labels(labels: Sequence[Any], kind: str) -> np.ndarray:
    """:meth:`TimeIndex.labels` read back: ``datetime64`` for dates, float64 for numbers, int64 for
    positions (e.g. from ``evaluation.json``)."""
    if kind == DATE:
        return np.array([str(v).removesuffix("Z") for v in labels], dtype="datetime64[us]")
    return np.asarray(labels, dtype=np.float64 if kind == NUMBER else np.int64)
