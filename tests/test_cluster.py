"""Workers on several "hosts" sharing nothing but a PostgreSQL URL and an artifact store.

Each worker runs in its own working directory with its own HOME, as a pod or a Slurm task would; one
is killed with SIGKILL mid-trial; then every worker directory is deleted, and a fresh one finishes the
run (export, retraining, report) from the storage and the store alone. The store is a shared
directory (NFS in a cluster) or S3: no real S3 can be reached here, so an S3-protocol server runs on
loopback (moto's server mode, the test extra); the code path is boto3's, as against real S3, with the
endpoint and credentials from boto3's environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...).
PostgreSQL is started by .ci/run (``LSTM_TUNER_TEST_POSTGRES_URL``); without it these tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from test_cli import SCRIPT, SPEC_NAMES, TINY_CONFIG, write_series_csv
from test_workers import FAST_HEARTBEATS

from lstm_tuner.storage.artifacts import WEIGHTS_FILENAME
from lstm_tuner.storage.study import sqlalchemy_url

PG_URL = os.environ.get("LSTM_TUNER_TEST_POSTGRES_URL")
N_TRIALS = 4
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="LSTM_TUNER_TEST_POSTGRES_URL is not set (.ci/run)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture
def s3_server(tmp_path: Path):
    """moto's S3 server on loopback, and boto3's environment pointing at it."""
    pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/")
        env = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        client = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing-secret",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket="hpo-artifacts")
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)


def _host(root: Path, name: str) -> Path:
    """A fresh "host": its own working directory and HOME, with the config and the data."""
    home = root / name
    (home / "home").mkdir(parents=True)
    write_series_csv(home / "series.csv")
    (home / "tiny.yaml").write_text(TINY_CONFIG)
    return home


def _command(study: str, store: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(SCRIPT),
        "--config",
        "tiny.yaml",
        "--study-name",
        study,
        "--storage",
        PG_URL,
        "--artifact_store",
        store,
        "--n_trials",
        str(N_TRIALS),
        "--override",
        "training.epochs=3",
        *FAST_HEARTBEATS,
        *extra,
    ]


def _env(host: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **extra,
        "HOME": str(host / "home"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",
    }


def _study(name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=sqlalchemy_url(PG_URL))


def _wait_for_trial_of(study: str, worker: subprocess.Popen, timeout_s: float = 180) -> None:
    """Until ``worker`` (by pid) trains a trial whose hyperparameters are sampled."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker ended before it was killed"
        try:
            running = _study(study).get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        except KeyError:
            running = []
        if any(
            t.user_attrs.get("worker", "").endswith(f":{worker.pid}")
            and SPEC_NAMES <= t.params.keys()
            for t in running
        ):
            return
        time.sleep(0.2)
    raise AssertionError("the worker started no trial in time")


def _assert_no_password(root: Path) -> int:
    """No file under ``root`` holds the storage URL's password; returns how many were read."""
    import urllib.parse

    password = urllib.parse.urlsplit(PG_URL).password
    # a URL without a password would make this search for something else and prove nothing
    assert password, "LSTM_TUNER_TEST_POSTGRES_URL must carry a password (.ci/postgres.sh's does)"
    password = password.encode()
    files = [path for path in root.rglob("*") if path.is_file()]
    for path in files:
        assert password not in path.read_bytes(), path
    return len(files)


def _run_cluster(
    tmp_path: Path, store: str, env: dict[str, str], kill: bool = True
) -> tuple[str, Path]:
    """Three workers (one SIGKILLed mid-trial), their directories deleted, a fourth host finishing.

    Without ``kill``: one worker runs the budget, then the fourth host finishes (the store's path
    through workers and hosts, without the kill-and-retry scenario, which the directory store's
    test proves once).
    """
    study = f"c{uuid.uuid4().hex[:8]}"
    indexes = (1, 2, 3) if kill else (1,)
    hosts = [_host(tmp_path, f"worker{k}") for k in indexes]
    workers = [
        subprocess.Popen(
            _command(study, store, f"--worker_index={k}", "--no_plots"),
            cwd=host,
            env=_env(host, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k, host in zip(indexes, hosts, strict=True)
    ]
    if kill:
        _wait_for_trial_of(study, workers[1])
        workers[1].send_signal(signal.SIGKILL)
    for k, worker in enumerate(workers, start=1):
        _, err = worker.communicate(timeout=600)
        if k != 2 or not kill:
            assert worker.returncode == 0, err[-3000:]
    for host in hosts:
        _assert_no_password(host)  # what the workers wrote, before their machines are gone
        shutil.rmtree(host)  # nothing of the workers' machines is left

    final = _host(tmp_path, "final")
    proc = subprocess.run(
        _command(study, store, "--retrain_epochs", "2", "--no_plots"),
        cwd=final,
        env=_env(final, env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{N_TRIALS} of {N_TRIALS} trials complete" in proc.stdout
    return study, final


def _check_results(
    study_name: str, final: Path, store: str, env: dict[str, str], killed: bool = True
) -> None:
    study = _study(study_name)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(complete) == N_TRIALS
    if killed:
        assert any(t.state == TrialState.FAIL for t in study.trials)  # the killed worker's trial
        assert len({t.user_attrs["worker"].split(":")[1] for t in complete}) >= 2
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in complete:  # each COMPLETE trial has exactly one weights artifact
        metas = optuna.artifacts.get_all_artifact_meta(trial, storage=study._storage)
        assert [m.filename for m in metas].count(WEIGHTS_FILENAME) == 1, (trial.number, metas)
    assert study.user_attrs["artifact_store"] == store.rstrip("/")
    results = study.user_attrs["results"]
    assert {"summary.md", "best_params.json", "evaluation.json", "export_best_trial.tar.gz"} <= set(
        results
    )
    run_dir = final / "runs" / study_name
    # the final export's forecasts are checked against evaluation.json in the process below
    assert json.loads((run_dir / "export" / "final" / "metadata.json").read_text())["source"] == (
        "retrained"
    )
    # the storage's password is in no file the run wrote (summary, exports, metadata, logs) nor in
    # the shared store (a local directory here; the S3 bucket's files are moto's)
    assert _assert_no_password(final.parent) > 10
    assert "***" in (run_dir / "summary.md").read_text()

    # The export serves what the best trial's weights, fetched from the store, predict, in a
    # process of its own on the final host.
    code = f"""
import json, sys, numpy as np, tensorflow as tf
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_cli import read_series_in_time_order
import lstm_tuner as lt
from lstm_tuner.config import load_config
from lstm_tuner.timeseries.series import load_data
from lstm_tuner.job.search import make_hypermodel
config = load_config("tiny.yaml")
data = load_data(config.data)
tuner = lt.Tuner(make_hypermodel(config, 2, data.anchor_season), max_trials={N_TRIALS},
                 storage={PG_URL!r}, study_name={study_name!r}, artifact_store={store!r})
best = json.load(open({str(run_dir / "best_params.json")!r}))["trial_number"]
model = tuner.load_model(best)
assert json.load(open({str(run_dir / "best_params.json")!r}))["selected_by"] == "best trial"
# the same trial's weights, not only the same architecture
for a, b in zip(tuner.get_best_models(1)[0].get_weights(), model.get_weights(), strict=True):
    np.testing.assert_array_equal(a, b)
raw = read_series_in_time_order(__import__("pathlib").Path("series.csv"))
windows = np.stack([raw[i : i + 8] for i in range(0, 60, 7)]).astype(np.float32)
scaled = ((windows - data.scaler.mean) / data.scaler.scale).astype(np.float32)
expected = model.predict(scaled, verbose=0) * data.scaler.scale[0] + data.scaler.mean[0]
serve = tf.saved_model.load({str(run_dir / "export" / "best_trial")!r}).signatures["serving_default"]
served = serve(window=tf.constant(windows))["prediction"].numpy()
np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-5)
# the final (retrained) export serves the test forecasts that evaluation.json scored
evaluation = json.load(open({str(run_dir / "evaluation.json")!r}))
test_windows = np.stack([raw[t - 8 : t] for t in range(data.boundaries[1], len(raw))])
final_serve = tf.saved_model.load({str(run_dir / "export" / "final")!r}).signatures["serving_default"]
np.testing.assert_allclose(
    np.ravel(final_serve(window=tf.constant(test_windows.astype(np.float32)))["prediction"]),
    np.ravel(evaluation["test"]["test_predictions"]["retrained"]),
    rtol=1e-5,
)
print("served-ok")
"""
    check = subprocess.run(
        [sys.executable, "-c", code],
        cwd=final,
        env=_env(final, env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0 and "served-ok" in check.stdout, check.stderr[-3000:]


def test_workers_on_three_hosts_with_a_shared_directory_store(tmp_path: Path):
    store = str(tmp_path / "nfs" / "artifacts")  # a directory every host mounts
    study, final = _run_cluster(tmp_path, store, {})
    _check_results(study, final, f"file://{store}", {})
    check_dashboard(study, store)


def test_workers_on_three_hosts_with_an_s3_store(tmp_path: Path, s3_server: dict[str, str]):
    # One worker and the finishing host prove the S3 path; the kill and retry are the same code
    # on any store (the directory store's test above).
    store = "s3://hpo-artifacts/runs/cluster"
    study, final = _run_cluster(tmp_path, store, s3_server, kill=False)
    _check_results(study, final, store, s3_server, killed=False)


def check_dashboard(study_name: str, store: str) -> None:
    """optuna-dashboard on loopback lists the study, its trials and their artifacts."""
    pytest.importorskip("optuna_dashboard")
    port = _free_port()
    dashboard = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "optuna-dashboard"),
            sqlalchemy_url(PG_URL),
            "--artifact-dir",
            store,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/studies")
        with urllib.request.urlopen(f"{base}/api/studies", timeout=30) as r:
            studies = json.loads(r.read())["study_summaries"]
        (summary,) = [s for s in studies if s["study_name"] == study_name]
        with urllib.request.urlopen(f"{base}/api/studies/{summary['study_id']}", timeout=30) as r:
            detail = json.loads(r.read())
        complete = [t for t in detail["trials"] if t["state"] == "Complete"]
        assert len(complete) == N_TRIALS
        for trial in complete:
            (artifact,) = [a for a in trial["artifacts"] if a["filename"] == WEIGHTS_FILENAME]
            url = f"{base}/artifacts/{summary['study_id']}/{trial['trial_id']}/{artifact['artifact_id']}"
            with urllib.request.urlopen(url, timeout=30) as r:
                assert r.read()[:8] == b"\x89HDF\r\n\x1a\n"  # the Keras weights file
        assert {"summary.md", "export_best_trial.tar.gz"} <= {
            a["filename"] for a in detail["artifacts"]
        }
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=30)


def test_bad_artifact_stores_exit_2_with_one_line(tmp_path: Path):
    from test_cli import _assert_bad_input

    host = _host(tmp_path, "bad")
    shadow = tmp_path / "no_boto3" / "boto3"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named boto3')\n")
    (host / "a_file").write_text("not a directory")
    cases = [
        ("a_file/artifacts", {}, "cannot be created"),
        ("ftp://host/dir", {}, "must be a directory or s3://bucket/prefix"),
        ("s3://", {}, "needs a bucket name"),
        ("s3://bucket/x", {"PYTHONPATH": str(tmp_path / "no_boto3")}, "boto3 is not installed"),
        (
            "s3://bucket/x",
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}",
                "AWS_ACCESS_KEY_ID": "x",
                "AWS_SECRET_ACCESS_KEY": "y",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_MAX_ATTEMPTS": "1",
            },
            "cannot write to it",
        ),
    ]
    for store, extra, match in cases:
        before = set(os.listdir(host))
        proc = subprocess.run(
            _command(f"b{uuid.uuid4().hex[:6]}", store),
            cwd=host,
            env=_env(host, extra),
            capture_output=True,
            text=True,
            timeout=120,
        )
        _assert_bad_input(proc, host, before, match)
        assert "--artifact_store" in proc.stderr


def test_a_worker_with_another_store_is_refused(tmp_path: Path):
    from test_cli import _assert_bad_input

    host = _host(tmp_path, "h")
    study = f"s{uuid.uuid4().hex[:8]}"
    first = subprocess.run(
        _command(study, str(tmp_path / "store_a"), "--n_trials", "1", "--no_plots"),
        cwd=host,
        env=_env(host, {}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr[-2000:]
    before = set(os.listdir(host))
    other = subprocess.run(
        _command(study, str(tmp_path / "store_b")),
        cwd=host,
        env=_env(host, {}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    _assert_bad_input(other, host, before, f"keeps its artifacts in file://{tmp_path / 'store_a'}")
    assert f"not in file://{tmp_path / 'store_b'}" in other.stderr
