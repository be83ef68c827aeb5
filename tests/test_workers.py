"""Several real worker processes on one machine's study (--workers, SQLite), heartbeats, retries and
signals. Workers on several hosts with PostgreSQL and a shared artifact store: tests/test_cluster.py.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from test_cli import SCRIPT, SPEC_NAMES, run_cli

from lstm_tuner.storage.study import sqlalchemy_url

pytestmark = pytest.mark.slow


@pytest.fixture
def storage(workdir: Path) -> tuple[list[str], str, str]:
    """(CLI flags, storage URL, study name) on a fresh study in the run directory's SQLite file."""
    name = f"s{uuid.uuid4().hex[:10]}"
    return [], f"sqlite:///{workdir / 'runs' / name / 'study.db'}", name


def _load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=sqlalchemy_url(url))


def is_surplus(trial: optuna.trial.FrozenTrial) -> bool:
    """A trial created by a worker racing another for the budget's last place, failed at once."""
    reason = str(trial.user_attrs.get("fail_reason", ""))
    return trial.state == TrialState.FAIL and reason.startswith("surplus:")


def _assert_numbers_contiguous(study: optuna.Study) -> None:
    numbers = [t.number for t in study.get_trials(deepcopy=False)]
    assert sorted(numbers) == list(range(len(numbers))), numbers


def _start(cwd: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell without job control starts background jobs with SIGINT ignored, and the child would
        # inherit that (as `nohup` intends); the interrupt tests need Python's default handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


#: These tests are about trials, workers and signals, not the verdict: no statistical models fitted
#: and no export written after the search (test_statistical.py, test_cli.py and test_export.py
#: cover them).
SEARCH_ONLY = (
    "--override",
    "evaluation.statistical_models=[]",
    "--override",
    "export.enabled=false",
)

#: Heartbeats fast enough for a test: a killed worker's trial is stale after 3 s.
FAST_HEARTBEATS = (
    "--override",
    "study.heartbeat_interval_s=1",
    "--override",
    "study.grace_period_s=3",
)


def _wait_for_running_trial(
    url: str, name: str, proc: subprocess.Popen, *, epochs_done: int = 0, timeout_s: float = 120
) -> int:
    """The number of a running trial that has sampled its hyperparameters (it is building or
    training then) and reported at least ``epochs_done`` epochs (1: it is inside ``fit``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        try:
            running = _load(url, name).get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        except Exception:  # noqa: BLE001 - the storage or the study does not exist yet
            running = []
        running = [
            t
            for t in running
            if SPEC_NAMES <= t.params.keys() and len(t.intermediate_values) >= epochs_done
        ]
        if running:
            return running[0].number
        time.sleep(0.05)
    raise AssertionError("no trial started in time")


def test_workers_share_one_budget(workdir: Path, storage):
    flags, url, name = storage
    n_trials, n_workers = 4, 2
    proc = run_cli(
        workdir,
        "--config",
        "tiny.yaml",
        "--study-name",
        name,
        *flags,
        "--no_plots",
        "--workers",
        str(n_workers),
        "--n_trials",
        str(n_trials),
        "--override",
        "training.epochs=2",
        *SEARCH_ONLY,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = _load(url, name)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(complete) == n_trials
    _assert_numbers_contiguous(study)
    # every trial was run by one of the worker processes the CLI started (host:pid, the pids from
    # its log line); which worker ran how many is up to the scheduler (one worker may finish them
    # all while the other is still tracing its first model)
    log = proc.stderr + proc.stdout
    started = re.search(rf"Started {n_workers} workers \(pids \[([0-9, ]+)\]\)", log)
    assert started, proc.stderr[-3000:]
    pids = {int(pid) for pid in started.group(1).split(",")}
    assert len(pids) == n_workers
    workers = {t.user_attrs["worker"] for t in complete}
    assert workers <= {f"{socket.gethostname()}:{pid}" for pid in pids}, (workers, pids)
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert f"{n_trials} of {n_trials} trials complete" in proc.stdout
    run_dir = workdir / "runs" / name
    assert (run_dir / "summary.md").exists() and not (run_dir / "plots").exists()  # --no_plots


@pytest.mark.parametrize("n_trials", [1, 2])
def test_killed_worker_trial_is_failed_and_retried(workdir: Path, storage, n_trials: int):
    # n_trials=1: the dead trial holds the whole budget, so the next worker waits for it and fails it
    # itself (study.fail_stale_trials); 2: Optuna fails it when the next trial starts.
    flags, url, name = storage
    args = [
        "--config",
        "tiny.yaml",
        "--study-name",
        name,
        *flags,
        "--no_plots",
        "--n_trials",
        str(n_trials),
        "--override",
        "training.epochs=3",
        *FAST_HEARTBEATS,
        *SEARCH_ONLY,
    ]
    victim = _start(workdir, *args)
    killed = _wait_for_running_trial(url, name, victim)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    killed_at = time.time()
    assert _load(url, name).trials[killed].state == TrialState.RUNNING  # nobody cleaned up yet

    proc = run_cli(workdir, *args, timeout=240)  # a worker that never fails the dead trial waits
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = _load(url, name)
    trials = study.get_trials(deepcopy=False)
    dead = trials[killed]
    assert dead.state == TrialState.FAIL
    # the next worker failed it once the heartbeat had been silent for the grace period
    # (its last heartbeat came at most heartbeat_interval_s = 1 s before the kill), not earlier
    failed_after_s = dead.datetime_complete.timestamp() - killed_at
    assert 3 - 1 - 0.5 <= failed_after_s < 3 + 60, failed_after_s
    retries = [
        t
        for t in trials
        if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed
    ]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == dead.params
    assert len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) == n_trials
    _assert_numbers_contiguous(study)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_no_running_trial_and_rerun_finishes(workdir: Path, signum: int):
    name = f"i{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{workdir / 'runs' / name / 'study.db'}"
    args = [
        "--config",
        "tiny.yaml",
        "--study-name",
        name,
        "--no_plots",
        "--n_trials",
        "2",
        *SEARCH_ONLY,
        "--override",
        "training.epochs=20",
    ]
    proc = _start(workdir, *args)
    _wait_for_running_trial(url, name, proc, epochs_done=1)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-3000:]  # the CLI's exit code for an interrupted run
    assert "rerun the same command to resume" in stderr
    study = _load(url, name)
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert study.trials[0].state == TrialState.FAIL
    assert 1 <= len(study.trials[0].intermediate_values) < 20  # stopped inside fit
    if signum != signal.SIGINT:
        return  # the study is left as after SIGINT (asserted above): one rerun proves the resume
    # The rerun only has to finish the study: short trials (the epochs are not part of the study).
    rerun = run_cli(workdir, *args[:-1], "training.epochs=2")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "2 of 2 trials complete" in rerun.stdout


def test_workers_get_one_gpu_each_round_robin(workdir: Path, monkeypatch: pytest.MonkeyPatch):
    from lstm_tuner.job import workers

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    probe = (
        "import os, sys; open(f'gpu_{sys.argv[1]}', 'w').write(os.environ['CUDA_VISIBLE_DEVICES'])"
    )
    gpus = workers.visible_gpus()
    assert gpus == ["3", "5"]
    failed = workers.run_workers(
        lambda k: [sys.executable, "-c", probe, str(k)], 3, gpus, cwd=str(workdir)
    )
    assert failed == []
    seen = {p.name: p.read_text() for p in workdir.glob("gpu_*")}
    assert seen == {"gpu_1": "3", "gpu_2": "5", "gpu_3": "3"}
    # a failing worker's exit code is reported
    assert workers.run_workers(lambda k: [sys.executable, "-c", f"raise SystemExit({k})"], 2) == [
        1,
        2,
    ]


def test_overwrite_with_workers_restarts_the_study_once(workdir: Path, storage):
    flags, url, name = storage
    base = ["--config", "tiny.yaml", "--study-name", name, *flags, "--no_plots"]
    base += ["--override", "training.epochs=1", *SEARCH_ONLY]
    first = run_cli(workdir, *base, "--n_trials", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    first_end = max(t.datetime_complete for t in _load(url, name).trials)

    # The parent deletes the study once, before its workers start (the same path as without
    # workers, where the process is its own parent); a worker that deleted it again would throw
    # away the trials of the others. The Tuner's own overwrite: test_tuner.py.
    shared = run_cli(workdir, *base, "--n_trials", "3", "--overwrite", "--workers", "2")
    assert shared.returncode == 0, shared.stderr[-3000:]
    study = _load(url, name)
    # trained again, not the old trial kept
    assert all(t.datetime_start > first_end for t in study.trials), first_end
    # Two workers that ask for the last trial of the budget at the same moment both get one; the
    # later one ends at once as FAIL "surplus" (not counted, not trained). Nothing else may fail.
    states = [(t.number, t.state.name, t.user_attrs.get("fail_reason")) for t in study.trials]
    assert [t.state for t in study.trials if not is_surplus(t)] == [TrialState.COMPLETE] * 3, states
    _assert_numbers_contiguous(study)
    assert "3 of 3 trials complete" in shared.stdout
    rows = (workdir / "runs" / name / "trials.csv").read_text().splitlines()
    assert len(rows) == 1 + len(study.trials)
