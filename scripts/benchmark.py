"""Performance and search-quality benchmark of lstm_tuner (issue 6).

    python scripts/benchmark.py --quick            # a few minutes on 2 CPU cores
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
- ``pruning``: the pruners' epochs and median best val MSE, relative to no pruning.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

_QUICK = flags.DEFINE_bool("quick", False, "A run of a few minutes on 2 CPU cores.")
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
    lambda methods: _check_methods(methods),  # defined below, with METHODS
    "unknown method (see METHODS in scripts/benchmark.py)",
)
_SECTIONS = flags.DEFINE_list(
    "sections", None, "Run only these sections (overhead, pipeline, search); default all."
)
flags.register_validator(
    "sections",
    lambda names: set(names or ()) <= set(SECTIONS),
    "sections are overhead, pipeline and search",
)
_PIPELINE_CHILD = flags.DEFINE_enum(
    "pipeline_child", None, ["gather", "materialized"], "Internal: measure one pipeline's memory."
)
_PIPELINE_POINTS = flags.DEFINE_integer("pipeline_points", 5_000_000, "Internal: series length.")
_PIPELINE_WINDOW = flags.DEFINE_integer("pipeline_window", 100, "Internal: window size.")

#: What --sections selects; ``search`` also measures the memory across trials and the pruning.
SECTIONS = ("overhead", "pipeline", "search")

#: Mode settings. ``search_points`` is the built-in series' length for the search benchmark.
MODES: dict[str, dict[str, Any]] = {
    "smoke": dict(
        overhead_repeats=1,
        overhead_epochs=2,
        overhead_points=400,
        pipeline_points=200_000,
        pipeline_window=100,
        pipeline_batches=200,
        search_points=400,
        window_size=8,
        n_trials=1,
        epochs=1,
        seeds=1,
        space="tiny",
        methods=["default", "random", "median", "kt_random"],
    ),
    "quick": dict(
        overhead_repeats=3,
        overhead_epochs=3,
        overhead_points=1500,
        pipeline_points=5_000_000,
        pipeline_window=100,
        pipeline_batches=3000,
        search_points=800,
        window_size=30,
        n_trials=10,
        epochs=5,
        seeds=3,
        space="narrow",
        methods=["default", "random", "median", "kt_random"],
    ),
    "full": dict(
        overhead_repeats=5,
        overhead_epochs=5,
        overhead_points=4000,
        pipeline_points=5_000_000,
        pipeline_window=100,
        pipeline_batches=10000,
        search_points=4000,
        window_size=30,
        n_trials=10,
        epochs=5,
        seeds=5,
        space="spec",
        methods=["default", "random", "median", "hyperband", "kt_random", "kt_bayes"],
    ),
}

#: Search methods: ours (``default`` is the config's defaults; ``median``/``hyperband``/``none`` are
#: the default sampler with that pruner), KerasTuner's, and ``tpe_startup<N>`` (TPE whose random start
#: is N trials, for tuning the default).
METHODS: tuple[str, ...] = (
    "default",
    "random",
    "median",
    "hyperband",
    "none",
    "kt_random",
    "kt_bayes",
)
_TPE_STARTUP = re.compile(r"tpe_startup(\d+)")


def sampler_and_pruner(method: str, seed: int, n_trials: int, epochs: int) -> tuple[Any, Any]:
    """The Optuna sampler and pruner of one of our search methods (see ``METHODS``)."""
    import optuna

    from lstm_tuner import study as study_lib
    from lstm_tuner.config import StudyConfig

    defaults = StudyConfig()
    startup = _TPE_STARTUP.fullmatch(method)
    if startup:
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=int(startup.group(1)))
    else:
        name = "random" if method == "random" else defaults.sampler
        sampler = study_lib.make_sampler(name, seed, n_trials=n_trials)
    if method in ("median", "hyperband", "none"):
        pruner_name = method
    elif method == "random":
        pruner_name = "none"
    else:
        pruner_name = defaults.pruner
    return sampler, study_lib.make_pruner(pruner_name, max_epochs=epochs)


def _check_methods(methods: list[str] | None) -> bool:
    return all(m in METHODS or _TPE_STARTUP.fullmatch(m) for m in methods or ())


def rss_mb() -> float:
    """Resident set size of this process, in MB (Linux /proc; 0 elsewhere)."""
    return _proc_status_mb("VmRSS")


def _proc_status_mb(key: str) -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


# -- environment ----------------------------------------------------------------------------------


def describe_environment(mode: str, settings: dict[str, Any]) -> dict[str, Any]:
    import keras
    import optuna
    import tensorflow as tf

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    try:
        import keras_tuner

        kt_version = keras_tuner.__version__
    except ImportError:
        kt_version = None
    return {
        "date": datetime.date.today().isoformat(),
        "measured_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "mode": mode,
        "settings": settings,
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "optuna": optuna.__version__,
        "keras_tuner": kt_version,
    }


# -- data and spaces --------------------------------------------------------------------------------


def make_space(kind: str) -> tuple[Any, ...]:
    from lstm_tuner.search_space import DEFAULT_SEARCH_SPACE, ParamSpec

    if kind == "spec":
        return DEFAULT_SEARCH_SPACE
    if (
        kind == "narrow"
    ):  # the spec's space with hidden sizes / 4: the same shape, 1/16 of the compute
        return tuple(
            ParamSpec("hidden_size", "int", 16, 64, step=16) if spec.name == "hidden_size" else spec
            for spec in DEFAULT_SEARCH_SPACE
        )
    return (
        ParamSpec("hidden_size", "int", 8, 16, step=8),
        ParamSpec("num_layers", "int", 1, 2),
        ParamSpec("dropout", "float", 0.0, 0.2),
        ParamSpec("lr", "float", 1e-3, 1e-2, log=True),
        ParamSpec("batch_size", "categorical", choices=(32, 64)),
    )


def fixed_space(values: dict[str, Any]) -> tuple[Any, ...]:
    from lstm_tuner.search_space import ParamSpec

    return tuple(ParamSpec(name, "fixed", value=value) for name, value in values.items())


def load_series(
    num_points: int, window_size: int, csv: str | None = None, target: str | None = None
):
    from lstm_tuner.config import DataConfig
    from lstm_tuner.data import load_data

    if csv:
        return load_data(
            DataConfig(source="csv", csv=csv, target=target or "value", window_size=window_size)
        )
    return load_data(DataConfig(builtin_num_points=num_points, window_size=window_size))


def make_epoch_timer() -> Any:
    """A Keras callback recording each epoch's duration in ``epoch_s``."""
    import keras

    class _Timer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch_s: list[float] = []
            self._start = 0.0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.epoch_s.append(time.perf_counter() - self._start)

    return _Timer()


# -- overhead -------------------------------------------------------------------------------------


def bench_overhead(settings: dict[str, Any]) -> dict[str, Any]:
    """Bare ``model.fit`` against a one-trial ``Tuner.search`` of the same fixed configuration."""
    import gc

    import keras

    from lstm_tuner.model import LSTMHyperModel, build_lstm_model
    from lstm_tuner.tuner import Tuner

    config = dict(hidden_size=64, num_layers=2, dropout=0.1, lr=1e-3, batch_size=64)
    epochs = settings["overhead_epochs"]
    data = load_series(settings["overhead_points"], 30)
    bare_s, tuner_s, setup_s, build_s, trace_s, epoch_s = [], [], [], [], [], []
    tuner_trace_s: list[float] = []
    for repeat in range(settings["overhead_repeats"]):
        keras.backend.clear_session()
        gc.collect()
        keras.utils.set_random_seed(repeat)
        timer = make_epoch_timer()
        start = time.perf_counter()
        model = build_lstm_model(
            30,
            1,
            hidden_size=config["hidden_size"],
            num_layers=config["num_layers"],
            dropout=config["dropout"],
            lr=config["lr"],
        )
        built = time.perf_counter()
        model.fit(
            data.train.to_dataset(config["batch_size"], shuffle=True, seed=repeat),
            validation_data=data.validation.to_dataset(config["batch_size"], shuffle=False),
            epochs=epochs,
            verbose=0,
            callbacks=[timer],
        )
        bare_s.append(time.perf_counter() - start)
        steady = statistics.median(timer.epoch_s[1:]) if len(timer.epoch_s) > 1 else 0.0
        build_s.append(built - start)
        trace_s.append(max(0.0, timer.epoch_s[0] - steady))
        epoch_s.append(steady)
        setup_s.append(build_s[-1] + trace_s[-1])

        with tempfile.TemporaryDirectory() as tmp:
            tuner = Tuner(
                LSTMHyperModel(30, 1, search_space=fixed_space(config)),
                max_trials=1,
                directory=tmp,
                project_name="overhead",
                seed=repeat,
            )
            start = time.perf_counter()
            trial_timer = make_epoch_timer()  # the tuner's copy of it shares `epoch_s`
            tuner.search(
                data.train,
                validation_data=data.validation,
                epochs=epochs,
                verbose=0,
                callbacks=[trial_timer],
            )
            tuner_s.append(time.perf_counter() - start)
            trial_steady = statistics.median(trial_timer.epoch_s[1:]) if epochs > 1 else 0.0
            tuner_trace_s.append(max(0.0, trial_timer.epoch_s[0] - trial_steady))
            del tuner
    bare, tuned = _median(bare_s), _median(tuner_s)
    return {
        "config": config,
        "epochs": epochs,
        "train_windows": len(data.train),
        "repeats": settings["overhead_repeats"],
        "bare_fit_s": bare,
        "tuner_trial_s": tuned,
        "tuner_over_bare": tuned / bare if bare else None,
        "build_s": _median(build_s),
        "first_epoch_tracing_s": _median(trace_s),
        "steady_epoch_s": _median(epoch_s),
        "setup_share_of_trial": _median(setup_s) / bare if bare else None,
        # The tuner builds the optimizer before the first trace (one trace instead of two).
        "trial_first_epoch_tracing_s": _median(tuner_trace_s),
        "trial_setup_share": _median(tuner_trace_s) / tuned if tuned else None,
        "raw": {"bare_fit_s": bare_s, "tuner_trial_s": tuner_s, "setup_s": setup_s},
    }


# -- pipeline -------------------------------------------------------------------------------------


def pipeline_child(kind: str, num_points: int, window_size: int) -> dict[str, Any]:
    """Builds one pipeline for a long series and reports its peak memory above the raw series."""
    import numpy as np
    import tensorflow as tf

    from lstm_tuner.data import Windows
    from lstm_tuner.model import make_dataset

    series = np.random.default_rng(0).standard_normal((num_points, 1)).astype(np.float32)
    tf.constant(0.0)  # TF initialized before the baseline
    try:  # reset the peak (VmHWM) to the current RSS, so that TF's import peak does not count
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        peak_reset = True
    except OSError:
        peak_reset = False
    base = rss_mb()
    start = time.perf_counter()
    windows = Windows(series, window_size)
    del series  # the caller's copy: Windows keeps its own
    if kind == "gather":
        ds = windows.to_dataset(batch_size=64, shuffle=True, seed=0)
    else:
        x, y = windows.arrays()
        del windows
        # No shuffle buffer here: Dataset.shuffle(num_windows) would add ~190 bytes per window.
        ds = make_dataset(x, y, batch_size=64, training=False)
        del x, y
    for _ in ds.take(10):
        pass
    build_s = time.perf_counter() - start
    raw_mb = num_points * 4 / 1024**2
    peak = _proc_status_mb("VmHWM")
    return {
        "kind": kind,
        "num_points": num_points,
        "window_size": window_size,
        "raw_series_mb": raw_mb,
        "peak_above_baseline_mb": peak - base if peak_reset else None,
        "peak_over_raw": (peak - base) / raw_mb if peak_reset else None,
        "build_s": build_s,
    }


def throughput(ds: Any, max_batches: int) -> float:
    """Windows per second delivered by a dataset (after one warm-up batch)."""
    it = iter(ds)
    next(it)
    count = 0
    start = time.perf_counter()
    for _ in range(max_batches):
        try:
            x, _y = next(it)
        except StopIteration:
            break
        count += int(x.shape[0])
    return count / (time.perf_counter() - start)


def bench_pipeline(settings: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from lstm_tuner.data import Windows
    from lstm_tuner.model import make_dataset

    num_points, window = settings["pipeline_points"], settings["pipeline_window"]
    # Throughput on a series of 200k points (the pipeline's speed does not depend on its length).
    series = np.random.default_rng(0).standard_normal((200_000, 1))
    windows = Windows(series, window)
    rates: dict[str, Any] = {}
    for batch in (64, 256):
        ds = windows.to_dataset(batch_size=batch, shuffle=True, seed=0)
        rates[f"gather_batch{batch}_windows_per_s"] = throughput(ds, settings["pipeline_batches"])
    x, y = windows.arrays()
    for batch in (64, 256):
        ds = make_dataset(x, y, batch_size=batch, training=True, seed=0)
        rates[f"materialized_batch{batch}_windows_per_s"] = throughput(
            ds, settings["pipeline_batches"]
        )
    del x, y, windows
    memory = {}
    for kind in ("gather", "materialized"):
        out = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                f"--pipeline_child={kind}",
                f"--pipeline_points={num_points}",
                f"--pipeline_window={window}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        memory[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "throughput_series_points": 200_000,
        "throughput_window_size": window,
        **rates,
        "memory": memory,
        "note": "materialized: Windows.arrays() + from_tensor_slices + shuffle(buffer=all windows)"
        " for the throughput; no shuffle buffer for the memory (it would add ~190 B per window)",
    }


# -- search ---------------------------------------------------------------------------------------


def _our_search(
    method: str,
    data: Any,
    space: Sequence[Any],
    seed: int,
    n_trials: int,
    epochs: int,
    directory: str,
    rss_after_trial: list[float],
) -> tuple[float | None, int, int]:
    """Runs one search with lstm_tuner; returns (best value, epochs trained, pruned trials)."""
    import optuna

    from lstm_tuner import study as study_lib
    from lstm_tuner.model import LSTMHyperModel
    from lstm_tuner.tuner import Tuner

    class _MeasuredTuner(Tuner):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
            try:
                return super().run_trial(trial, *args, **kwargs)
            finally:
                rss_after_trial.append(rss_mb())

    sampler, pruner = sampler_and_pruner(method, seed, n_trials, epochs)
    tuner = _MeasuredTuner(
        LSTMHyperModel(data.train.window_size, data.num_features, search_space=space),
        max_trials=n_trials,
        sampler=sampler,
        pruner=pruner,
        directory=directory,
        project_name=f"{method}_{seed}",
        seed=seed,
    )
    tuner.search(data.train, validation_data=data.validation, epochs=epochs, verbose=0)
    trials = tuner.study.get_trials(deepcopy=False)
    epochs_run = sum(len(t.intermediate_values) for t in trials)
    pruned = sum(1 for t in trials if t.state == optuna.trial.TrialState.PRUNED)
    best = study_lib.best_trials(tuner.study, 1)
    return (best[0].value if best else None), epochs_run, pruned


def _keras_tuner_search(
    method: str,
    data: Any,
    space: Sequence[Any],
    seed: int,
    n_trials: int,
    epochs: int,
    directory: str,
) -> tuple[float | None, int, int]:
    """The same space, model and data through KerasTuner's RandomSearch / BayesianOptimization."""
    import keras
    import keras_tuner as kt

    from lstm_tuner.model import build_lstm_model

    counter = {"epochs": 0}

    class _Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            counter["epochs"] += 1

    class _KTHyperModel(kt.HyperModel):
        def _values(self, hp: Any) -> dict[str, Any]:
            values = {}
            for spec in space:
                if spec.type == "int":
                    sampling = "log" if spec.log else "linear"
                    values[spec.name] = hp.Int(
                        spec.name, spec.low, spec.high, step=spec.step or 1, sampling=sampling
                    )
                elif spec.type == "float":
                    sampling = "log" if spec.log else "linear"
                    values[spec.name] = hp.Float(spec.name, spec.low, spec.high, sampling=sampling)
                elif spec.type == "categorical":
                    values[spec.name] = hp.Choice(spec.name, list(spec.choices))
                else:
                    values[spec.name] = hp.Fixed(spec.name, spec.value)
            return values

        def build(self, hp: Any) -> Any:
            v = self._values(hp)
            return build_lstm_model(
                data.train.window_size,
                data.num_features,
                hidden_size=int(v["hidden_size"]),
                num_layers=int(v["num_layers"]),
                dropout=float(v["dropout"]),
                lr=float(v["lr"]),
            )

        def fit(self, hp: Any, model: Any, **kwargs: Any) -> Any:
            batch = int(hp.get("batch_size"))
            kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [_Count()]
            return model.fit(
                data.train.to_dataset(batch, shuffle=True, seed=seed),
                validation_data=data.validation.to_dataset(batch, shuffle=False),
                **kwargs,
            )

    keras.utils.set_random_seed(seed)
    common = dict(
        objective="val_loss",
        max_trials=n_trials,
        seed=seed,
        directory=directory,
        project_name=f"{method}_{seed}",
        overwrite=True,
    )
    tuner_cls = kt.RandomSearch if method == "kt_random" else kt.BayesianOptimization
    tuner = tuner_cls(_KTHyperModel(), **common)
    tuner.search(epochs=epochs, verbose=0)
    best = tuner.oracle.get_best_trials(1)
    return (best[0].score if best else None), counter["epochs"], 0


def bench_search(
    settings: dict[str, Any],
    methods: Sequence[str],
    seeds: int,
    csv: str | None,
    target: str | None,
    csv_only: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns the ``search`` and ``memory`` sections."""
    try:
        import keras_tuner  # noqa: F401

        have_kt = True
    except ImportError:
        have_kt = False
    space = make_space(settings["space"])
    datasets = {}
    if not csv_only:
        datasets["builtin"] = load_series(settings["search_points"], settings["window_size"])
    if csv:
        datasets["csv"] = load_series(0, settings["window_size"], csv, target)
    runs: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    memory: dict[str, Any] = {}
    for name, data in datasets.items():
        for method in methods:
            if method.startswith("kt_") and not have_kt:
                skipped[method] = "keras-tuner is not installed (pip install '.[benchmark]')"
                continue
            for seed in range(_FIRST_SEED.value, _FIRST_SEED.value + seeds):
                rss: list[float] = []
                start_rss = rss_mb()
                with tempfile.TemporaryDirectory() as tmp:
                    start = time.perf_counter()
                    args = (
                        method,
                        data,
                        space,
                        seed,
                        settings["n_trials"],
                        settings["epochs"],
                        tmp,
                    )
                    if method.startswith("kt_"):
                        best, epochs_run, pruned = _keras_tuner_search(*args)
                    else:
                        best, epochs_run, pruned = _our_search(*args, rss)
                    wall = time.perf_counter() - start
                run = dict(
                    dataset=name,
                    method=method,
                    seed=seed,
                    best_val_mse=best,
                    epochs_trained=epochs_run,
                    pruned_trials=pruned,
                    wall_s=wall,
                )
                runs.append(run)
                logging.info("search %s", json.dumps(run))
                if not memory and rss:
                    memory = {
                        "search": f"{name}/{method}/seed {seed}",
                        "rss_before_mb": start_rss,
                        "rss_after_trial_mb": rss,
                        "growth_first_to_last_trial_mb": rss[-1] - rss[0],
                        "growth_from_start_mb": rss[-1] - start_rss,
                    }
    summary = []
    for name in datasets:
        for method in methods:
            rows = [r for r in runs if r["dataset"] == name and r["method"] == method]
            if not rows:
                continue
            values = [r["best_val_mse"] for r in rows if r["best_val_mse"] is not None]
            summary.append(
                dict(
                    dataset=name,
                    method=method,
                    seeds=len(rows),
                    median_best_val_mse=_median(values),
                    best_val_mse_per_seed=[r["best_val_mse"] for r in rows],
                    total_epochs=sum(r["epochs_trained"] for r in rows),
                    median_epochs=_median([r["epochs_trained"] for r in rows]),
                    median_wall_s=_median([r["wall_s"] for r in rows]),
                    total_wall_s=sum(r["wall_s"] for r in rows),
                )
            )
    search = {
        "datasets": {
            n: {"train_windows": len(d.train), "source": d.source} for n, d in datasets.items()
        },
        "n_trials": settings["n_trials"],
        "epochs_per_trial": settings["epochs"],
        "seeds": seeds,
        "space": settings["space"],
        "summary": summary,
        "runs": runs,
        "skipped": skipped,
    }
    return search, memory


def pruning_section(search: dict[str, Any]) -> dict[str, Any]:
    """Pruners against the same TPE search without pruning (``default`` when its pruner is none)."""
    from lstm_tuner.config import StudyConfig

    base_method = "none" if StudyConfig().pruner != "none" else "default"
    rows = {(s["dataset"], s["method"]): s for s in search["summary"]}
    out = []
    for (dataset, method), row in rows.items():
        if method not in ("median", "hyperband", "none", "default") or method == base_method:
            continue
        base = rows.get((dataset, base_method))
        if base is None or method == "default":
            continue
        out.append(
            dict(
                dataset=dataset,
                pruner=method,
                baseline=base_method,
                median_epochs=row["median_epochs"],
                baseline_median_epochs=base["median_epochs"],
                epochs_saved=1 - row["total_epochs"] / base["total_epochs"]
                if base["total_epochs"]
                else None,
                median_best_val_mse=row["median_best_val_mse"],
                baseline_median_best_val_mse=base["median_best_val_mse"],
            )
        )
    return {"comparisons": out, "default_pruner": StudyConfig().pruner}


# -- report ---------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    lines = [
        f"Benchmark ({env['mode']} mode), {env['date']}: {env['cpu']}, {env['cpu_count']} cores, "
        f"{env['gpus']} GPUs, {env['memory_gb']} GB; TF {env['tensorflow']}, Keras {env['keras']}, "
        f"Optuna {env['optuna']}, keras-tuner {env['keras_tuner'] or 'not installed'}",
        "",
    ]
    o = results.get("overhead")
    if o:
        lines += [
            "| overhead | value |",
            "|---|---|",
            f"| bare `model.fit`, {o['epochs']} epochs (median of {o['repeats']}) | {_fmt(o['bare_fit_s'])} s |",
            f"| one-trial `Tuner.search`, same | {_fmt(o['tuner_trial_s'])} s |",
            f"| tuner / bare | {_fmt(o['tuner_over_bare'], 3)} |",
            f"| bare fit: build / first-epoch tracing / steady epoch | {_fmt(o['build_s'], 2)} / "
            f"{_fmt(o['first_epoch_tracing_s'], 2)} / {_fmt(o['steady_epoch_s'], 2)} s |",
            f"| bare fit: setup (build + tracing) share | {_fmt(o['setup_share_of_trial'], 2)} |",
            f"| tuner trial: first-epoch tracing / its share of the trial | "
            f"{_fmt(o['trial_first_epoch_tracing_s'], 2)} s / {_fmt(o['trial_setup_share'], 2)} |",
            "",
        ]
    p = results.get("pipeline")
    if p:
        g, m = p["memory"]["gather"], p["memory"]["materialized"]
        lines += [
            f"| input pipeline (window {p['throughput_window_size']}) | gather (ours) | materialized |",
            "|---|---|---|",
            f"| windows/s, batch 64 | {p['gather_batch64_windows_per_s']:,.0f} | "
            f"{p['materialized_batch64_windows_per_s']:,.0f} |",
            f"| windows/s, batch 256 | {p['gather_batch256_windows_per_s']:,.0f} | "
            f"{p['materialized_batch256_windows_per_s']:,.0f} |",
            f"| peak memory, {g['num_points']:,} points, window {g['window_size']} "
            f"(raw series {g['raw_series_mb']:.0f} MB) | {_fmt(g['peak_above_baseline_mb'])} MB "
            f"({_fmt(g['peak_over_raw'], 2)}x) | {_fmt(m['peak_above_baseline_mb'])} MB "
            f"({_fmt(m['peak_over_raw'], 3)}x) |",
            f"| build time | {g['build_s']:.2f} s | {m['build_s']:.2f} s |",
            "",
        ]
    mem = results.get("memory")
    if mem:
        lines += [
            f"Memory ({mem['search']}): RSS after each trial (MB): "
            + ", ".join(f"{v:.0f}" for v in mem["rss_after_trial_mb"])
            + f"; growth first->last trial {mem['growth_first_to_last_trial_mb']:+.0f} MB.",
            "",
        ]
    s = results.get("search")
    if s:
        lines += [
            f"Search: {s['n_trials']} trials x {s['epochs_per_trial']} epochs, {s['seeds']} seeds",
            "",
            "| dataset | method | median best val MSE | per seed | epochs (total) | median wall s |",
            "|---|---|---|---|---|---|",
        ]
        for row in s["summary"]:
            per_seed = ", ".join(_fmt(v, 3) for v in row["best_val_mse_per_seed"])
            lines.append(
                f"| {row['dataset']} | {row['method']} | {_fmt(row['median_best_val_mse'])} | "
                f"{per_seed} | {row['total_epochs']} | {_fmt(row['median_wall_s'], 3)} |"
            )
        for method, reason in s["skipped"].items():
            lines.append(f"| - | {method} | skipped: {reason} | | | |")
        lines.append("")
    pr = results.get("pruning")
    if pr and pr["comparisons"]:
        lines += [
            "| dataset | pruner vs baseline | epochs saved | median best val MSE (pruner / baseline) |",
            "|---|---|---|---|",
        ]
        for c in pr["comparisons"]:
            lines.append(
                f"| {c['dataset']} | {c['pruner']} vs {c['baseline']} | {_fmt(c['epochs_saved'], 2)} | "
                f"{_fmt(c['median_best_val_mse'])} / {_fmt(c['baseline_median_best_val_mse'])} |"
            )
        lines.append("")
    lines.append(f"Total wall time: {results['total_wall_s']:.0f} s")
    return "\n".join(lines)


# -- main -----------------------------------------------------------------------------------------


def main(argv: Sequence[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if _PIPELINE_CHILD.value:
        result = pipeline_child(
            _PIPELINE_CHILD.value, _PIPELINE_POINTS.value, _PIPELINE_WINDOW.value
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
    settings = dict(MODES[mode])
    seeds = _SEEDS.value or settings["seeds"]
    methods = _METHODS.value or settings["methods"]
    settings.update(seeds=seeds, methods=methods)
    sections = set(_SECTIONS.value or SECTIONS)
    logging.set_verbosity(logging.INFO)

    start = time.perf_counter()
    results: dict[str, Any] = {"environment": describe_environment(mode, settings)}
    steps: list[tuple[str, Callable[[], None]]] = []

    def run_overhead() -> None:
        results["overhead"] = bench_overhead(settings)

    def run_pipeline() -> None:
        results["pipeline"] = bench_pipeline(settings)

    def run_search() -> None:
        search, memory = bench_search(
            settings, methods, seeds, _CSV.value, _CSV_TARGET.value, _CSV_ONLY.value
        )
        results["search"], results["memory"] = search, memory
        results["pruning"] = pruning_section(search)

    for name, step in (
        ("overhead", run_overhead),
        ("pipeline", run_pipeline),
        ("search", run_search),
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
    print(markdown(results))


if __name__ == "__main__":
    app.run(main)
