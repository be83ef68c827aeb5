"""Several real worker processes on one study, a real PostgreSQL, heartbeats, retries and signals.

The PostgreSQL tests need ``LSTM_TUNER_TEST_POSTGRES_URL`` (``.ci/run`` starts a server on loopback with
``.ci/postgres.sh`` and sets it); without it they are skipped, the SQLite ones still run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from test_cli import SCRIPT, TINY_CONFIG, run_cli, write_series_csv

from lstm_tuner.study import sqlalchemy_url

PG_URL = os.environ.get("LSTM_TUNER_TEST_POSTGRES_URL")

pytestmark = pytest.mark.slow


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    write_series_csv(tmp_path / "series.csv")
    (tmp_path / "tiny.yaml").write_text(TINY_CONFIG)
    return tmp_path


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, workdir: Path) -> tuple[list[str], str, str]:
    """(CLI flags, storage URL, study name) on a fresh study."""
    name = f"s{uuid.uuid4().hex[:10]}"
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip("LSTM_TUNER_TEST_POSTGRES_URL is not set (.ci/run starts a server)")
        return ["--storage", PG_URL], PG_URL, name
    return [], f"sqlite:///{workdir / 'runs' / name / 'study.db'}", name


def _load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=sqlalchemy_url(url))


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


def _wait_for_running_trial(
    url: str, name: str, proc: subprocess.Popen, timeout_s: float = 120
) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        try:
            running = _load(url, name).get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        except Exception:  # noqa: BLE001 - the storage or the study does not exist yet
            running = []
        # a trial counts as started once it has sampled its hyperparameters (it is training then)
        running = [t for t in running if len(t.params) == 5]
        if running:
            return running[0].number
        time.sleep(0.2)
    raise AssertionError("no trial started in time")


def test_workers_share_one_budget(workdir: Path, storage):
    flags, url, name = storage
    n_trials, n_workers = (9, 3) if url.startswith("postgresql") else (4, 2)
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
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = _load(url, name)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(complete) == n_trials
    _assert_numbers_contiguous(study)
    workers = {t.user_attrs["worker"] for t in complete}
    assert len(workers) == n_workers, workers
    assert f"{n_trials} of {n_trials} trials complete" in proc.stdout
    if url.startswith("postgresql"):
        password = url.split(":")[2].split("@")[0]
        run_dir = workdir / "runs" / name
        files = [path for path in run_dir.rglob("*") if path.is_file()]
        assert len(files) > 10  # study outputs, exports, plots, TensorBoard events
        for path in files:
            assert password.encode() not in path.read_bytes(), path
        assert password not in proc.stdout and password not in proc.stderr
        assert "***" in (run_dir / "summary.md").read_text()


def test_killed_worker_trial_is_failed_and_retried(workdir: Path, storage):
    flags, url, name = storage
    args = [
        "--config",
        "tiny.yaml",
        "--study-name",
        name,
        *flags,
        "--no_plots",
        "--n_trials",
        "3",
        "--override",
        "training.epochs=3",
        "--override",
        "study.heartbeat_interval_s=1",
        "--override",
        "study.grace_period_s=3",
    ]
    victim = _start(workdir, *args)
    killed = _wait_for_running_trial(url, name, victim)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    killed_at = time.time()
    assert _load(url, name).trials[killed].state == TrialState.RUNNING  # nobody cleaned up yet

    proc = run_cli(workdir, *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = _load(url, name)
    trials = study.get_trials(deepcopy=False)
    dead = trials[killed]
    assert dead.state == TrialState.FAIL
    # the next worker failed it once the heartbeat had been silent for the grace period
    failed_after_s = dead.datetime_complete.timestamp() - killed_at
    assert failed_after_s < 3 + 60, failed_after_s
    retries = [
        t
        for t in trials
        if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed
    ]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == dead.params
    assert len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) == 3
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
        "--override",
        "training.epochs=3",
    ]
    proc = _start(workdir, *args)
    _wait_for_running_trial(url, name, proc)
    time.sleep(0.5)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-3000:]  # the CLI's exit code for an interrupted run
    assert "rerun the same command to resume" in stderr
    study = _load(url, name)
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert study.trials[0].state == TrialState.FAIL
    rerun = run_cli(workdir, *args)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "2 of 2 trials complete" in rerun.stdout


def test_workers_get_one_gpu_each_round_robin(workdir: Path, monkeypatch: pytest.MonkeyPatch):
    from lstm_tuner import workers

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
