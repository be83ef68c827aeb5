"""Reading a time series from a CSV file: columns by name, one-line errors naming file, row and column.

Plain NumPy and the standard library's ``csv``; nothing here imports TensorFlow or Optuna, so bad input
is refused before the slow imports.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime
import io
import itertools
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from lstm_tuner.errors import DataError
from lstm_tuner.names import MISSING_POLICIES
from lstm_tuner.timeseries.time_index import TimeIndex

# Cells read as missing, compared case-insensitively after stripping whitespace.
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null"})
_MAX_ROWS_IN_MESSAGE = 3
#: The delimiters a header is sniffed for (``csv.Sniffer``), when ``data.delimiter`` is not set.
DELIMITERS = ",;\t|"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclasses.dataclass(frozen=True)
class CsvFormat:
    """How a CSV file was read: its encoding, delimiter and number format."""

    encoding: str = "utf-8"
    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None

    def describe(self) -> str:
        """``""`` for plain UTF-8 with commas, else e.g. ``" (delimiter ';', decimal ',')"``."""
        parts = []
        if self.encoding not in ("utf-8", "utf-8-sig"):
            parts.append(self.encoding.upper())
        if self.delimiter != ",":
            parts.append(f"delimiter {self.delimiter!r}")
        if self.decimal != ".":
            parts.append(f"decimal {self.decimal!r}")
        if self.thousands:
            parts.append(f"thousands {self.thousands!r}")
        return f" ({', '.join(parts)})" if parts else ""


def _decode(where: str, raw: bytes) -> tuple[str, str]:
    """The file's text and encoding: UTF-8, or the encoding its byte-order mark names (Excel saves
    UTF-16 and UTF-8 with a BOM).

    Raises:
        DataError: the bytes are not UTF-8 and carry no BOM.
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{where}: cannot read CSV file as {encoding.upper()}: {exc}"
                ) from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{where}: cannot read CSV file: not UTF-8 text and no UTF-8/UTF-16 byte-order mark "
            f"(byte 0x{raw[exc.start]:02X} at offset {exc.start}); save it as UTF-8"
        ) from None


def _sniff_delimiter(text: str) -> str:
    """The header line's delimiter among :data:`DELIMITERS`; a comma if it has none."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _parse_number(cell: str, fmt: CsvFormat) -> float:
    """A cell as a float, with the file's thousands separator and decimal mark."""
    if fmt.thousands:
        cell = cell.replace(fmt.thousands, "")
    if fmt.decimal != ".":
        if "." in cell:
            raise ValueError(cell)
        cell = cell.replace(fmt.decimal, ".")
    return float(cell)


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


def _sort_by_time(
    where: str, name: str, cells: list[str], lines: list[int]
) -> tuple[list[int], list[Any]]:
    """Row order (indices into ``cells``) sorted by the time column, and the parsed timestamps (in
    the file's order); stable; duplicates are errors."""
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
    return order, keys


def _format_rows(lines: np.ndarray) -> str:
    shown = ", ".join(str(int(line)) for line in lines[:_MAX_ROWS_IN_MESSAGE])
    if len(lines) == 1:
        return f"at row {shown}"
    return f"first at rows {shown}"


@dataclasses.dataclass(frozen=True)
class CsvSeries:
    """What :func:`read_series` read: the columns' values, their names, the time cells, the format,
    and the time axis (the time column's timestamps, or row positions)."""

    values: np.ndarray
    columns: list[str]
    times: list[str] | None
    format: CsvFormat
    time_index: TimeIndex


def read_csv(
    path: str | os.PathLike[str],
    target: str,
    features: Sequence[str] = (),
    time_column: str | None = None,
    missing: str = "error",
    **options: Any,
) -> tuple[np.ndarray, list[str]]:
    """``(values, column_names)`` of :func:`read_series`."""
    series = read_series(path, target, features, time_column, missing, **options)
    return series.values, series.columns


def read_series(
    path: str | os.PathLike[str],
    target: str,
    features: Sequence[str] = (),
    time_column: str | None = None,
    missing: str = "error",
    *,
    delimiter: str | None = None,
    decimal: str = ".",
    thousands: str | None = None,
    future_features: Sequence[str] = (),
    target_key: str = "data.target",
) -> CsvSeries:
    """Reads the target and feature columns of a CSV file with a header row.

    The file is UTF-8, or UTF-8/UTF-16/UTF-32 with a byte-order mark; the delimiter is sniffed from the
    header (one of ``, ; tab |``) unless given. Cells are stripped of whitespace; an empty cell or ``nan``, ``NA``, ``N/A``, ``null`` (any case) is a
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

        delimiter: The field delimiter (default: sniffed from the header).
        decimal: The decimal mark of the numbers (``"."`` or ``","``).
        thousands: A thousands separator to remove from numbers (``"1,234.5"``), or ``None``.
        future_features: Input columns known in advance, after the features (named
            ``data.future_features`` in messages).
        target_key: How messages name the first column's role (``forecast --future`` reads a
            file of future features alone, the first of them in that place).

    Returns:
        The values, float64 ``[time, 1 + len(features) + len(future_features)]`` with columns
        ``(target, *features, *future_features)``; those
        column names; the time column's cells in the order of the rows returned (``None`` without a
        time column); the format the file was read with; and the rows' time axis (the parsed
        timestamps with their inferred frequency, or positions without a time column).

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
    columns = [target, *features, *future_features]
    used = [(target, target_key)] + [(name, "data.features") for name in features]
    used += [(name, "data.future_features") for name in future_features]
    if time_column is not None:
        used.append((time_column, "data.time_column"))
    seen: set[str] = set()
    for name, key in used:
        if name in seen:
            raise DataError(
                f"{where}: column {name!r} ({key}): used twice; target, features, future_features "
                "and time_column must be different columns"
            )
        seen.add(name)

    try:
        with open(where, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise DataError(f"{where}: cannot read CSV file: {exc}") from exc
    text, encoding = _decode(where, raw)
    fmt = CsvFormat(encoding, delimiter or _sniff_delimiter(text), decimal, thousands)
    line = 0
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter)
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
                number = _parse_number(cell, fmt)
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
    time_cells = [row[-1] for row in rows] if time_column is not None else None
    stamps: list[Any] | None = None
    if time_column is not None:
        order, keys = _sort_by_time(where, time_column, time_cells, lines)
        values = values[order]
        line_numbers = line_numbers[order]
        time_cells = [time_cells[i] for i in order]
        stamps = [keys[i] for i in order]

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
            kept = ~is_missing.any(axis=1)
            values = values[kept]
            if time_cells is not None:
                time_cells = [cell for cell, keep in zip(time_cells, kept, strict=True) if keep]
                stamps = [stamp for stamp, keep in zip(stamps, kept, strict=True) if keep]
            if len(values) == 0:
                raise DataError(
                    f"{where}: no rows left after dropping the rows with missing values "
                    "(data.missing = 'drop')"
                )
    time_index = (
        TimeIndex.positions(len(values))
        if stamps is None
        else TimeIndex.from_values(time_column, stamps)
    )
    return CsvSeries(values, columns, time_cells, fmt, time_index)
