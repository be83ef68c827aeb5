"""Faults the search must survive, with real processes on real servers on loopback.

A PostgreSQL restart (``pg_ctl restart -m fast``, what a failover or a minor upgrade does) while two
workers search one study: the pooled connections die, and each storage call the trials make must
reconnect and go on. The server here is the test's own, so that restarting it does not break the
other tests that share .ci/run's server.
"""

from __future__ import annotations

import errno
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from test_workers import _start, is_surplus

from lstm_tuner.storage.study import sqlalchemy_url

pytestmark = pytest.mark.slow


def _bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return found[-1] if found else None


def _tracebacks(stderr: str) -> str:
    """What a failed worker printed: each traceback whole (the log lines after it would push it
    out of a plain tail), else the last 3,000 characters."""
    found = stderr.split("Traceback (most recent call last):")[1:]
    return "\n".join(part[:4000] for part in found) if found else stderr[-3000:]


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


class Postgres:
    """A throwaway PostgreSQL server of one test."""

    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None or (os.geteuid() == 0 and not shutil.which("runuser")):
            pytest.skip("PostgreSQL's server binaries are not installed (.ci/run installs them)")
        # Not under pytest's tmp_path: the postgres user cannot reach root's private directories.
        self.bin, self.data = Path(bindir), Path(tempfile.mkdtemp(prefix="lstm_tuner_faults_pg_"))
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")
            os.chmod(self.data, 0o700)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-locale",
            "-E",
            "UTF8",
        )
        self._pg_ctl("start")
        self._psql("CREATE DATABASE faults")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/faults"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            _as_postgres(str(self.bin / tool), *args), check=True, capture_output=True, cwd="/"
        )

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data}"
        log = str(self.data / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, *extra, action)

    def _psql(self, sql: str) -> None:
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qc", sql)

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def down(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def up(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"),
            capture_output=True,
            cwd="/",
        )
        shutil.rmtree(self.data, ignore_errors=True)


@pytest.fixture
def postgres():
    server = Postgres()
    yield server
    server.stop()


def _trials(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    try:
        study = optuna.load_study(study_name=name, storage=sqlalchemy_url(url))
    except Exception:  # noqa: BLE001 - the study is not created yet, or the server restarts
        return []
    return study.get_trials(deepcopy=False)


def test_a_database_restart_loses_no_trial(workdir: Path, postgres: Postgres):
    name, n_trials = f"r{uuid.uuid4().hex[:8]}", 4
    proc = _start(
        workdir,
        "--config",
        "tiny.yaml",
        "--study-name",
        name,
        "--storage",
        postgres.url,
        "--no_plots",
        "--workers",
        "2",
        "--n_trials",
        str(n_trials),
        "--override",
        "training.epochs=3",
        # Heartbeats every second, but a grace period well beyond the restart: a trial whose
        # heartbeat the outage delays is alive, and with a 3 s grace (FAST_HEARTBEATS) the other
        # worker failed it as stale when the restart took longer on a loaded machine (CI, beside
        # the quick start). The trial was retried and the budget met, but it is not what this
        # test asserts: a restart shorter than the grace period fails no trial.
        "--override",
        "study.heartbeat_interval_s=1",
        "--override",
        "study.grace_period_s=60",
    )
    deadline = time.monotonic() + 300
    while sum(t.state == TrialState.COMPLETE for t in _trials(postgres.url, name)) < 2:
        assert proc.poll() is None, _tracebacks(proc.communicate()[1])
        assert time.monotonic() < deadline, "two trials did not complete in time"
        time.sleep(0.2)
    running = [t.number for t in _trials(postgres.url, name) if t.state == TrialState.RUNNING]
    postgres.restart()
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, _tracebacks(stderr)
    trials = _trials(postgres.url, name)
    states = [t.state for t in trials]
    assert states.count(TrialState.COMPLETE) == n_trials, (states, _tracebacks(stderr))
    # No trial failed, except (by design) a worker's that raced the other for the budget's last
    # place and was failed at once as "surplus", untrained and not counted (as in test_workers).
    failed = [t.user_attrs.get("fail_reason") for t in trials if t.state == TrialState.FAIL]
    assert [t.state for t in trials if not is_surplus(t)] == [TrialState.COMPLETE] * n_trials, (
        failed
    )
    assert len(failed) <= 1, failed  # two workers race for the last place once
    assert running, "the restart was meant to hit running trials"
    assert f"{n_trials} of {n_trials} trials complete; run directory" in stdout


def _dense_search_parts(on_second_fit):
    """Data and test_tuner's small Dense hypermodel for an in-process search that hits a fault
    mid-trial: ``on_second_fit()`` runs after the second trial's training (before its results are
    written). Also returns the list of each trial's ``units``, in the order trained."""
    import numpy as np
    from test_tuner import _TinyDense

    x = np.random.default_rng(0).normal(size=(64, 8, 1)).astype("float32")
    y = x.sum(axis=1)
    fits: list[int] = []

    class Model(_TinyDense):
        def fit(self, hp, model, *args, **kwargs):
            history = model.fit(*args, **kwargs)
            if len(fits) == 1:
                on_second_fit()
            fits.append(hp.values["units"])
            return history

    return x, y, Model(), fits


# The heartbeat thread lives through the outage: an error that killed it would fail this test.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_storage_outage_longer_than_the_retries_ends_the_trial_unspent_and_a_rerun_retries_it(
    tmp_path: Path, postgres: Postgres
):
    """The server stays down through every retry of a storage call: the search stops with the
    reason, the running trial is not spent (it stays RUNNING, its heartbeat stops), and a rerun once
    the server is back fails it as stale and runs it again with the same values. The retry waits are
    cut to 0.4 + 0.8 s (the product waits 31.5 s): longer than the 1 s heartbeat interval, so the
    heartbeat thread surely calls the storage during the outage. The storage is the product's,
    re-wrapped."""
    import lstm_tuner as lt
    from lstm_tuner.errors import FatalError
    from lstm_tuner.storage import study as study_lib

    outage = True
    grace_s = 2
    # the second trial: the server goes down for long
    x, y, model, fits = _dense_search_parts(lambda: outage and postgres.down())

    def tuner():
        storage = study_lib.open_storage(
            postgres.url, heartbeat_interval_s=1, grace_period_s=grace_s
        )
        return lt.RandomSearch(
            model,
            objective="val_loss",
            max_trials=3,
            seed=0,
            directory=tmp_path,
            project_name="p",
            storage=study_lib.RetryingStorage(storage.inner, waits=(0.4, 0.8)),
        )

    first = tuner()
    with pytest.raises(
        FatalError, match=r"storage unavailable: .* not spent .* rerun to finish"
    ) as e:
        first.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    assert "Connection refused" in str(e.value)  # the cause, not Optuna's wrapper around it
    assert "\n" not in str(e.value)
    postgres.up()
    name = first.study.study_name
    trials = _trials(postgres.url, name)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.RUNNING]
    assert study_lib.count_finished(first.study) == 1

    outage = False
    time.sleep(grace_s + 1)  # the dead trial's last heartbeat is now older than the grace period
    again = tuner()
    again.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    trials = _trials(postgres.url, name)
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.COMPLETE,
        TrialState.COMPLETE,
    ]
    assert trials[2].params == trials[1].params
    assert optuna.storages.RetryFailedTrialCallback.retried_trial_number(trials[2]) == 1
    assert study_lib.count_finished(again.study) == 3
    assert len(fits) == 4 and fits[2] == fits[1]  # the interrupted trial trained again, as it was


class _DirectoryReplacedByFile:
    """The store's directory is replaced by a file: unusable for root too, where a read-only
    directory is not."""

    reason = r"NotADirectoryError"

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path, self.away = tmp_path / "store", tmp_path / "store.away"
        self.url = str(self.path)

    def break_(self) -> None:
        self.path.rename(self.away)
        self.path.write_text("not a directory")

    def restore(self) -> None:
        self.path.unlink()
        self.away.rename(self.path)

    def close(self) -> None:
        pass


class _FullDisk:
    """The store is a 2 MB tmpfs, filled to the last byte mid-trial: a real ENOSPC, which holds
    for root (a quota or a read-only mode does not). Mounting needs root; .ci/run runs as root."""

    reason = r"No space left on device"

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = tmp_path / "store"
        self.path.mkdir()
        mount = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(self.path)],
            capture_output=True,
            text=True,
        )
        if mount.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {mount.stderr.strip()}")
        self.url, self.filler = str(self.path), self.path / "filler"

    def break_(self) -> None:
        with open(self.filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as e:
                assert e.errno == errno.ENOSPC, e

    def restore(self) -> None:
        self.filler.unlink()

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


class _S3EndpointStopped:
    """moto's S3 server on loopback, stopped mid-trial and started again on the same port. It
    runs in a thread of this process (``ThreadedMotoServer``), so its buckets outlive the stop as a
    real S3 outage's do (a moto process keeps them in its memory). The client is the product's:
    boto3, pointed at the server by its usual environment variables."""

    reason = r"EndpointConnectionError: Could not connect to the endpoint"

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        pytest.importorskip("moto")
        boto3 = pytest.importorskip("boto3")
        from moto.server import ThreadedMotoServer

        self._server_class = ThreadedMotoServer
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = self._start()
        endpoint = f"http://127.0.0.1:{self.port}"
        for key, value in {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(key, value)
        boto3.client("s3").create_bucket(Bucket="lstm-tuner-faults")
        self.url = "s3://lstm-tuner-faults/p"

    def _start(self):
        server = self._server_class(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        return server

    def break_(self) -> None:
        self.server.stop()

    def restore(self) -> None:
        self.server = self._start()

    def close(self) -> None:
        self.server.stop()


@pytest.mark.parametrize(
    "fault",
    [_DirectoryReplacedByFile, _FullDisk, _S3EndpointStopped],
    ids=["directory_gone", "disk_full", "s3_endpoint_stopped"],
)
def test_an_artifact_store_that_fails_mid_trial_fails_the_trial_which_is_retried_once_it_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault
):
    """The store fails after the first trial: the second trial fails with the store's name and
    the reason, is not spent, and runs again with the same values once the store is back."""
    import lstm_tuner as lt
    from lstm_tuner.errors import FatalError
    from lstm_tuner.storage import artifacts
    from lstm_tuner.storage.study import count_finished

    store = fault(tmp_path, monkeypatch)
    breaking = True
    # the second trial: the store fails mid-trial
    x, y, model, fits = _dense_search_parts(lambda: breaking and store.break_())

    def tuner():
        return lt.RandomSearch(
            model,
            objective="val_loss",
            max_trials=3,
            seed=0,
            max_consecutive_failed_trials=1,
            directory=tmp_path,
            project_name="p",
            artifact_store=store.url,
        )

    try:
        first = tuner()
        with pytest.raises(FatalError, match=r"artifact store .*unavailable.*rerun when") as e:
            first.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
        trials = first.study.get_trials(deepcopy=False)
        assert [t.state for t in trials] == [
            TrialState.COMPLETE,
            TrialState.FAIL,
            TrialState.WAITING,
        ]
        reason = trials[1].user_attrs["fail_reason"]
        assert re.search(rf"artifact store {re.escape(first.artifacts.url)} unavailable", reason)
        assert re.search(store.reason, reason), reason
        assert re.search(store.reason, str(e.value)), e.value
        assert "counted" not in trials[1].user_attrs and count_finished(first.study) == 1
        # nothing half-written is on record as the failed trial's weights
        assert not artifacts.find(trials[1], artifacts.WEIGHTS_FILENAME, first.study._storage)

        store.restore()
        breaking = False
        again = tuner()
        again.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
        trials = again.study.get_trials(deepcopy=False)
        states = [t.state for t in trials]
        assert states == [
            TrialState.COMPLETE,
            TrialState.FAIL,
            TrialState.COMPLETE,
            TrialState.COMPLETE,
        ]
        assert trials[2].params == trials[1].params and trials[2].user_attrs["retry_of"] == 1
        assert count_finished(again.study) == 3
        assert len(again.get_best_models(3)) == 3  # every COMPLETE trial's weights are whole
    finally:
        store.close()
