"""Storage URLs as they appear in files and logs: the password never does."""

from __future__ import annotations

import pytest

from lstm_tuner.storage.study import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@db:5432/hpo", "postgresql://u:***@db:5432/hpo"),
        ("postgresql://:secret@db/hpo", "postgresql://:***@db/hpo"),  # no user name
        ("postgresql://u:p@ss:w/rd@db/hpo", "postgresql://u:***@db/hpo"),  # raw '@', ':', '/'
        ("postgresql://u@db/hpo", "postgresql://u@db/hpo"),  # no password
        (
            "postgresql://db/hpo?user=u&password=secret&x=1",
            "postgresql://db/hpo?user=u&password=***&x=1",
        ),
        (
            "mysql+pymysql://root:secret@127.0.0.1/optuna",
            "mysql+pymysql://root:***@127.0.0.1/optuna",
        ),
        ("sqlite:///runs/a/study.db", "sqlite:///runs/a/study.db"),
    ],
)
def test_redact_url_hides_every_password(url, shown):
    assert redact_url(url) == shown
    assert "secret" not in redact_url(url) and "ss:w" not in redact_url(url)


_OPEN_FRESH = """
import pathlib, sys, time
from lstm_tuner.storage.study import open_storage
pathlib.Path(sys.argv[2] + ".ready" + sys.argv[3]).touch()
while not pathlib.Path(sys.argv[2] + ".go").exists():
    time.sleep(0.01)
for i in range(8):  # eight new databases, opened in step with the other processes
    open_storage(f"{sys.argv[1]}{i}.db")
"""


def test_processes_opening_one_fresh_database_together_all_succeed(tmp_path):
    # Two workers started together on a new SQLite file both create Optuna's tables; the loser's
    # CREATE TABLE fails with "already exists" (or its schema version row with a UNIQUE
    # violation) unless opening is retried. Seen in CI as a worker exiting with "cannot be opened:
    # table trial_system_attributes already exists". The processes import first, then open at once.
    import subprocess
    import sys
    import time

    n = 4
    signal = tmp_path / "sig"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _OPEN_FRESH,
                f"sqlite:///{tmp_path / 'race'}",
                str(signal),
                str(i),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("sig.ready*"))) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    (tmp_path / "sig.go").touch()
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * n, "\n".join(e for e in errors if e)[-2000:]


def test_a_connection_error_anywhere_in_the_chain_is_transient_and_a_bad_request_is_not():
    # What a PostgreSQL restart under load raised through Optuna: a failed commit wrapped in
    # StorageInternalError, whose cause is SQLAlchemy's complaint about a session whose connection
    # died (its context, the connection error). The whole chain is read; a bad request is not
    # retried.
    import optuna
    import sqlalchemy.exc

    from lstm_tuner.storage.study import _transient

    def chained(*errors: BaseException) -> BaseException:
        for outer, inner in zip(errors, errors[1:], strict=False):
            outer.__context__ = inner
        return errors[0]

    lost = sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))
    pending = sqlalchemy.exc.PendingRollbackError("Can't reconnect until invalid transaction")
    wrapped = optuna.exceptions.StorageInternalError("An exception is raised during the commit.")
    assert _transient(chained(wrapped, pending, lost))
    alone = sqlalchemy.exc.PendingRollbackError("Can't reconnect until invalid transaction")
    assert _transient(lost) and not _transient(alone)  # without the connection error behind it
    bad = sqlalchemy.exc.DataError("INSERT", {}, Exception("value too long"))
    assert not _transient(
        chained(optuna.exceptions.StorageInternalError("An exception is raised"), bad)
    )
    assert not _transient(ValueError("no"))


# study.ask() warns that heartbeats are meant for optimize(): here the test plays the worker.
@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_study_max_retries_caps_the_reruns_of_a_trial_whose_worker_keeps_dying(tmp_path):
    """``study.max_retries: 1``: a trial whose worker died is re-run once with the same values; when
    the re-run's worker dies too, nothing more is enqueued, and neither spends the budget.

    A worker's death is what the storage sees of it: a RUNNING trial whose heartbeat stopped (the
    worker tests kill real processes for the single death)."""
    import time

    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState

    from lstm_tuner.config import config_from_dict
    from lstm_tuner.job.options import RunOptions, open_backends
    from lstm_tuner.storage import study as study_lib

    config = config_from_dict(
        {"study": {"max_retries": 1, "heartbeat_interval_s": 1, "grace_period_s": 2}}
    )
    options = RunOptions(study_name="s", output_dir=str(tmp_path / "run"))
    storage, _ = open_backends(config.study, options)
    study = optuna.create_study(storage=storage, study_name="s")
    space = {"lr": FloatDistribution(1e-4, 1e-2, log=True)}

    def start_and_die() -> optuna.Trial:
        trial = study.ask(space)
        storage.record_heartbeat(trial._trial_id)  # its worker beat once, then was killed
        # SQLite's clock has whole seconds: a full second more makes the silence surely longer
        time.sleep(config.study.grace_period_s + 1.2)
        study_lib.fail_stale_trials(study)  # what the next worker does first
        return trial

    first = start_and_die()
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert trials[1].params == first.params

    second = start_and_die()  # the next worker takes the retry: the same values, and dies too
    assert second.number == 1 and second.params == first.params
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.FAIL]  # no second retry
    retried = optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number
    assert retried(trials[1]) == 0
    assert study_lib.count_finished(study) == 0  # a dead worker's trial is not spent
