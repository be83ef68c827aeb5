"""Storage: what N workers ask of one PostgreSQL instance (connections, and the latency of the calls
a search makes), with simulated trials so that the database, not training, is measured.

Each simulated worker is a process doing what ``lstm_tuner.engine.base_tuner.BaseTuner.search`` does
against the storage: count the budget and the running trials (``get_trials``), then one
``study.optimize(n_trials=1)`` (ask, heartbeat thread, the spec's 5 suggestions, one report per
"epoch" where a short sleep stands for the training, tell). ``trial_overhead`` is that call's wall
time less the sleeps and the reports.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any


def storage_child(url: str, study_name: str, seconds: float, epoch_s: float) -> dict[str, Any]:
    """One simulated worker; returns its call latencies (ms) and trial count."""
    import optuna
    from optuna.trial import TrialState

    from lstm_tuner.storage import study as study_lib

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = study_lib.open_storage(url, heartbeat_interval_s=1, grace_period_s=5)
    study = optuna.create_study(study_name=study_name, storage=storage, load_if_exists=True)
    latencies: dict[str, list[float]] = {"count_budget": [], "trial_overhead": [], "report": []}
    print("ready", flush=True)  # the parent starts every worker's clock at once
    sys.stdin.readline()

    def objective(trial: optuna.Trial) -> float:
        trial.suggest_int("hidden_size", 64, 256, step=64)
        trial.suggest_int("num_layers", 1, 3)
        trial.suggest_float("dropout", 0.0, 0.4)
        trial.suggest_float("lr", 1e-4, 5e-3, log=True)
        trial.suggest_categorical("batch_size", [32, 64, 128])
        for epoch in range(5):
            time.sleep(epoch_s)  # stands for an epoch of training
            t0 = time.perf_counter()
            trial.report(1.0 / (epoch + 1), epoch)
            latencies["report"].append((time.perf_counter() - t0) * 1000)
        return 0.5

    deadline, trials = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        study_lib.count_finished(study)  # what BaseTuner.search asks before each trial
        study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        latencies["count_budget"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        study.optimize(objective, n_trials=1)  # ask, heartbeat thread, suggest, tell
        wall = (time.perf_counter() - t0) * 1000
        reports = sum(latencies["report"][-5:])
        latencies["trial_overhead"].append(wall - 5 * epoch_s * 1000 - reports)
        trials += 1
    return {"trials": trials, "latency_ms": latencies}


def _connections(url: str) -> int:
    import sqlalchemy

    from lstm_tuner.storage.study import sqlalchemy_url

    engine = sqlalchemy.create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        count = conn.execute(
            sqlalchemy.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
        ).scalar()
    engine.dispose()
    return int(count) - 1  # this query's own connection


def bench_storage(settings: dict[str, Any], url: str | None) -> dict[str, Any]:
    """Connections per worker and call latencies at each worker count of the mode."""
    if not url or not url.startswith("postgresql"):
        return {"skipped": "give --storage_url postgresql://... (a server you may load)"}
    script = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmark.py"
    )
    levels = []
    for workers in settings["storage_workers"]:
        study = f"bench_storage_{uuid.uuid4().hex[:8]}"
        base = _connections(url)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    script,
                    f"--storage_child={study}",
                    f"--storage_url={url}",
                    f"--storage_seconds={settings['storage_seconds']}",
                    f"--storage_epoch_s={settings['storage_epoch_s']}",
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a storage child failed to start (exit code {p.wait()})")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        time.sleep(settings["storage_seconds"] / 2)
        during = _connections(url)
        results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        calls: dict[str, list[float]] = {}
        for r in results:
            for name, values in r["latency_ms"].items():
                calls.setdefault(name, []).extend(values)
        levels.append(
            {
                "workers": workers,
                "connections_per_worker": (during - base) / workers,
                "trials": sum(r["trials"] for r in results),
                "latency_ms": {
                    name: {
                        "median": statistics.median(v),
                        "p95": sorted(v)[int(0.95 * (len(v) - 1))],
                    }
                    for name, v in calls.items()
                    if v
                },
            }
        )
    return {"levels": levels, "seconds": settings["storage_seconds"]}
