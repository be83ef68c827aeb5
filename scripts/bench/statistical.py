"""The statistical models on public series, without training anything: accuracy and cost of
AutoETS, AutoARIMA, AutoTheta and Comb against the free baselines, per bound on the fitting history
(``evaluation.statistical_history``), and the detected season against each series' known one.

Every series is split and windowed as the product does it (``lstm_tuner.timeseries.series.load_data``), and the
models are scored on the test split's one-step forecasts in original units, fitted on the points
before it, exactly as :func:`lstm_tuner.job.verdict.evaluate_on_test` scores them.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from absl import logging

from bench import public_series
from bench.forecast import WINDOWS

#: Fitting-history bounds measured; ``None``: every point before the split.
HISTORIES: tuple[int | None, ...] = (250, 500, 1000, 2000, None)


def _series_data(name: str, path: str | None) -> Any:
    from lstm_tuner.config.schema import DataConfig, config_from_dict
    from lstm_tuner.timeseries.series import load_data

    if path is None:  # the built-in series
        return load_data(DataConfig())
    window = WINDOWS.get(name, 16)
    raw = {"csv": path, "target": "value", "time_column": "time", "window_size": window}
    return load_data(config_from_dict({"data": raw}).data)


def measure_series(data: Any, histories: Sequence[int | None]) -> dict[str, Any]:
    """One series: the baselines, then each model per history bound (test MSE and seconds)."""
    from lstm_tuner.timeseries import baselines, statistical

    series = data.values[:, 0]
    train_end, validation_end = data.boundaries
    origins = data.test.origins
    actual = series[origins][:, None]
    scale = baselines.mase_scale(series[:train_end], data.season_length)
    base = baselines.evaluate_baselines(
        series,
        origins,
        actual,
        train_end=train_end,
        season_length=data.season_length,
        scale=scale,
    )
    out: dict[str, Any] = {
        "points": len(series),
        "test_windows": len(origins),
        "season_detected": data.season_length,
        "baselines": {name: r["mse"] for name, r in base.items()},
        "by_history": {},
    }
    for history in histories:
        begin = time.perf_counter()
        result = statistical.forecast_statistical(
            series,
            origins,
            1,
            fit_end=validation_end,
            season_length=data.season_length,
            history=validation_end if history is None else history,
        )
        seconds = time.perf_counter() - begin
        out["by_history"][str(history or "all")] = {
            "seconds": seconds,
            "mse": {n: float(np.mean((f - actual) ** 2)) for n, f in result.forecasts.items()},
            "models": result.models,
            "not_fitted": result.not_fitted,
            "notes": result.notes,
        }
        if history is not None and history >= validation_end:
            break  # longer bounds fit the same points
    return out


def bench_statistical(
    names: Sequence[str] | None = None,
    histories: Sequence[int | None] = HISTORIES,
    include_builtin: bool = True,
    csv: str | None = None,
) -> dict[str, Any]:
    """Every available public series (or ``names``), the built-in one, and ``csv`` (a file with
    columns ``time,value``, as the series ``csv``); see the module docstring."""
    available = public_series.available()
    names = [n for n in (available if names is None else names) if n in available]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in [*(["builtin"] if include_builtin else []), *names, *(["csv"] if csv else [])]:
            path = None
            if name == "csv":
                path = csv
            elif name != "builtin":
                path = public_series.write_csv(name, os.path.join(tmp, f"{name}.csv"))
            row = measure_series(_series_data(name, path), histories)
            if name == "csv":
                row.update(kind="given", frequency="-", season_known=None)
            elif name != "builtin":
                entry = public_series.get(name)
                row.update(kind=entry.kind, frequency=entry.frequency)
                row["season_known"] = entry.season_length
            else:
                row.update(kind="built-in", frequency="hourly", season_known=24)
            results[name] = row
            logging.info(
                "statistical %s: %s",
                name,
                {
                    h: round(r["mse"].get("comb", float("nan")), 4)
                    for h, r in row["by_history"].items()
                },
            )
    return {"series": results, "summary": summarize(results)}


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per history bound: the geometric mean over series of Comb's test MSE relative to its MSE
    with every point, the total seconds, and the series where Comb beats the best baseline."""
    out = []
    for history in [str(h or "all") for h in HISTORIES]:
        ratios, seconds, wins, count = [], 0.0, 0, 0
        for row in results.values():
            # A series shorter than the bound fits the same points as with every point.
            measured = row["by_history"].get(history) or list(row["by_history"].values())[-1]
            everything = list(row["by_history"].values())[-1]
            comb, comb_all = measured["mse"].get("comb"), everything["mse"].get("comb")
            if comb is None or comb_all is None:
                continue
            count += 1
            ratios.append(comb / comb_all if comb_all > 0 else 1.0)
            seconds += measured["seconds"]
            wins += comb < min(row["baselines"].values())
        out.append(
            {
                "history": history,
                "series": count,
                "geomean_comb_mse_vs_all": math.exp(sum(map(math.log, ratios)) / len(ratios))
                if ratios
                else None,
                "seconds": seconds,
                "comb_beats_best_baseline": wins,
            }
        )
    return out
