"""Search quality and cost: the spec's search per method and seed, and pruning against none."""

from __future__ import annotations

import datetime
import json
import math
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from absl import logging

from bench.common import load_series, make_space, rss_mb
from bench.common import median as _median

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

    from lstm_tuner.config.schema import StudyConfig
    from lstm_tuner.storage import study as study_lib

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


def check_methods(methods: list[str] | None) -> bool:
    return all(m in METHODS or _TPE_STARTUP.fullmatch(m) for m in methods or ())


def _our_search(
    method: str,
    data: Any,
    space: Sequence[Any],
    seed: int,
    n_trials: int,
    epochs: int,
    directory: str,
    rss_after_trial: list[float],
    trace: list[tuple[float, float]] | None = None,
) -> tuple[float | None, int, int]:
    """Runs one search with lstm_tuner; returns (best value, epochs trained, pruned trials).

    ``trace`` receives, for each finished trial in order, the seconds since this call (the start of
    the caller's wall time, the tuner's creation included) and the best value so far (of COMPLETE
    trials), from the storage's timestamps.
    """
    started = datetime.datetime.now()
    import optuna

    from lstm_tuner.engine.tuner import Tuner
    from lstm_tuner.lstm.model import LSTMHyperModel
    from lstm_tuner.storage import study as study_lib

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
    if trace is not None:
        best_so_far = math.inf
        for t in sorted(
            (t for t in trials if t.datetime_complete), key=lambda t: t.datetime_complete
        ):
            if t.state == optuna.trial.TrialState.COMPLETE:
                best_so_far = min(best_so_far, t.value)
            trace.append(((t.datetime_complete - started).total_seconds(), best_so_far))
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

    from lstm_tuner.lstm.model import build_lstm_model

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
    first_seed: int = 0,
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
            for seed in range(first_seed, first_seed + seeds):
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
                    trace: list[tuple[float, float]] = []
                    if method.startswith("kt_"):
                        best, epochs_run, pruned = _keras_tuner_search(*args)
                    else:
                        best, epochs_run, pruned = _our_search(*args, rss, trace)
                    wall = time.perf_counter() - start
                run = dict(
                    dataset=name,
                    method=method,
                    seed=seed,
                    best_val_mse=best,
                    epochs_trained=epochs_run,
                    pruned_trials=pruned,
                    wall_s=wall,
                    trace=trace,
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
        "time_to_quality": time_to_quality(runs),
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


def time_to_quality(runs: Sequence[dict[str, Any]], reference: str = "default") -> list[dict]:
    """How soon each method's search reaches the reference's median best value (issue 21).

    Per dataset, the target is the ``reference`` method's median best validation MSE over its
    seeds (plain 10-trial TPE while the default pruner is none). Each search's time to target is
    the time at which its best-so-far first reached the target (from its trace); a search that
    never did counts as infinitely slow. Reported: the median time to target over seeds, divided by
    the reference's median wall time per search, and how many seeds reached the target.
    """
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in runs):
        ref = [r for r in runs if r["dataset"] == dataset and r["method"] == reference]
        values = [r["best_val_mse"] for r in ref if r["best_val_mse"] is not None]
        if not values:
            continue
        target, ref_wall = _median(values), _median([r["wall_s"] for r in ref])
        for method in dict.fromkeys(r["method"] for r in runs if r["dataset"] == dataset):
            rows = [r for r in runs if r["dataset"] == dataset and r["method"] == method]
            if not all(r.get("trace") for r in rows):
                continue  # KerasTuner's searches keep no trace
            times = [next((s for s, best in r["trace"] if best <= target), math.inf) for r in rows]
            median_time = statistics.median(times)
            out.append(
                dict(
                    dataset=dataset,
                    method=method,
                    target_val_mse=target,
                    reached=sum(t < math.inf for t in times),
                    seeds=len(rows),
                    median_time_to_target_s=None if median_time == math.inf else median_time,
                    reference_median_wall_s=ref_wall,
                    ratio=None if median_time == math.inf else median_time / ref_wall,
                )
            )
    return out


def pruning_section(search: dict[str, Any]) -> dict[str, Any]:
    """Pruners against the same TPE search without pruning (``default`` when its pruner is none)."""
    from lstm_tuner.config.schema import StudyConfig

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
