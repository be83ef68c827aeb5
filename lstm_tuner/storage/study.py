"""Optuna plumbing in one place: storages, the default sampler, pruners, and reading trials back.

The sampler and pruner settings live here so that the performance work can measure and change them
without touching the tuner.
"""

from __future__ import annotations

import itertools
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import optuna
from absl import logging
from optuna.storages import BaseStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.trial import FrozenTrial, TrialState

from lstm_tuner.names import GRACE_PERIOD_S, HEARTBEAT_INTERVAL_S, MAX_RETRIES, PRUNERS, SAMPLERS

#: Trials that count toward ``max_trials``: a pruned trial is a finished, legitimate outcome.
FINISHED_STATES: tuple[TrialState, ...] = (TrialState.COMPLETE, TrialState.PRUNED)
SQLITE_BUSY_TIMEOUT_S = 60


def redact_url(url: str) -> str:
    """Hides the password of a storage URL: ``postgresql://u:***@host/db``.

    The user information ends at the last ``@`` (a password written with a raw ``@`` stays hidden
    whole), the user may be empty (``postgresql://:***@host``), and a ``password=`` query parameter
    (libpq's other spelling) is hidden too.
    """
    scheme, sep, rest = url.partition("://")
    if sep:
        at = rest.rfind("@")
        user, colon, _ = rest[: max(at, 0)].partition(":")
        if at >= 0 and colon:
            rest = f"{user}:***{rest[at:]}"
    return re.sub(r"([?&]password=)[^&]*", r"\1***", f"{scheme}{sep}{rest}")


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy URL of a storage URL: ``postgresql://`` names the psycopg 3 driver.

    The ``postgres`` extra installs psycopg 3; SQLAlchemy < 2.1 would pick psycopg2 for a bare
    ``postgresql://``.
    """
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


#: How long a storage call keeps retrying a lost database connection: waits of 0.5, 1, 2, 4, 8,
#: 8, 8 s (about 30 s), enough for a managed database's restart or failover.
STORAGE_RETRY_WAITS_S = (0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)

#: How many times opening a new database is tried when another process is creating its tables.
SCHEMA_RACE_ATTEMPTS = 5


class StorageUnavailableError(optuna.exceptions.StorageInternalError):
    """The storage stayed unreachable through every retry of a call."""


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """``error`` and the errors behind it, outermost first (each one's cause, else its context),
    at most 16: what Optuna and SQLAlchemy raise wraps the connection error that started it."""
    for _ in range(16):
        if error is None:
            return
        yield error
        error = error.__cause__ or error.__context__


def unavailable_in(error: BaseException | None) -> StorageUnavailableError | None:
    """The :class:`StorageUnavailableError` behind ``error``, if any.

    Optuna may raise another error while it handles ours: when a trial's last storage call fails,
    ``optimize`` asks the storage again for the trial's state and then fails on its own unset
    variable (``UnboundLocalError``), with the outage as its context.
    """
    return next((e for e in _chain(error) if isinstance(e, StorageUnavailableError)), None)


def _root_reason(error: BaseException) -> str:
    """The first line of the innermost error behind ``error`` ("connection refused", not Optuna's
    "An exception is raised during the commit" that wraps it)."""
    *_, root = _chain(error)
    text = str(root).splitlines()[0] if str(root) else ""
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def _transient(error: BaseException | None) -> bool:
    """A lost or refused database connection (worth retrying), not a bad request.

    The whole chain of causes is read: Optuna wraps a failed commit in ``StorageInternalError``,
    and SQLAlchemy raises ``PendingRollbackError`` (and the like) for a session whose connection
    died under it, with the connection error as its cause or context.
    """
    import sqlalchemy.exc

    return any(
        isinstance(e, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError))
        or (isinstance(e, sqlalchemy.exc.DBAPIError) and e.connection_invalidated)
        for e in _chain(error)
    )


class _RetryingStorageBase(BaseStorage, BaseHeartbeat):
    """An Optuna storage whose every call is retried, with backoff, when the database connection
    is lost or refused (a server restart, a failover); other errors pass through at once.

    Connections are also checked before use (SQLAlchemy's ``pool_pre_ping``, set by
    :func:`open_storage`), so pooled connections that died in a restart are replaced instead of
    failing the next commit. A call that still fails after :data:`STORAGE_RETRY_WAITS_S` raises
    :class:`StorageUnavailableError`: the running trial ends without being recorded as spent, and
    its heartbeat stops, so it is retried once the storage is back (as a killed worker's trial).
    """

    def __init__(self, inner: BaseStorage, waits: Sequence[float] = STORAGE_RETRY_WAITS_S):
        self._inner = inner
        self._waits = tuple(waits)

    @property
    def inner(self) -> BaseStorage:
        return self._inner

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        for attempt, wait in enumerate((*self._waits, None)):
            try:
                return getattr(self._inner, name)(*args, **kwargs)
            except Exception as e:
                if not _transient(e):
                    raise
                if wait is None:
                    raise StorageUnavailableError(
                        f"storage unavailable: {name} failed {attempt + 1} times over "
                        f"{sum(self._waits):.0f} s: {_root_reason(e)}"
                    ) from e
                logging.warning(
                    "Storage call %s lost its connection (%s); retrying in %.1f s",
                    name,
                    type(e).__name__,
                    wait,
                )
                time.sleep(wait)
        raise AssertionError("unreachable")

    def __getattr__(self, name: str) -> Any:  # the inner storage's other attributes (url, ...)
        if name.startswith("__") or name in ("_inner", "_waits"):
            raise AttributeError(name)
        return getattr(self._inner, name)


def _retrying(name: str) -> Any:
    def call(self: _RetryingStorageBase, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    call.__name__ = name
    return call


#: Every storage method Optuna calls, each retried (abstract ones included, so the class is whole).
_STORAGE_METHODS = sorted(
    set(BaseStorage.__abstractmethods__)
    | set(BaseHeartbeat.__abstractmethods__)
    | {
        name
        for name in dir(BaseStorage)
        if not name.startswith("_") and callable(getattr(BaseStorage, name))
    }
)


def _record_heartbeat(self: _RetryingStorageBase, trial_id: int) -> None:
    """A heartbeat the storage did not take through every retry is skipped with a warning, not
    raised: Optuna's heartbeat thread would die of the error, and a trial still training through a
    long outage would then be failed as stale by another worker once the storage is back. The
    thread records the next heartbeat as usual; it stops when the trial ends."""
    try:
        self._call("record_heartbeat", trial_id)
    except StorageUnavailableError as e:
        logging.warning("Heartbeat of trial id %d not recorded: %s", trial_id, e)


RetryingStorage = type(
    "RetryingStorage",
    (_RetryingStorageBase,),
    {
        **{name: _retrying(name) for name in _STORAGE_METHODS},
        "record_heartbeat": _record_heartbeat,
    },
)


def _create_rdb_storage(url: str, **kwargs: Any) -> optuna.storages.RDBStorage:
    """``RDBStorage(url, ...)``, tolerating another process that creates the same new database's
    tables at the same moment (two workers started together on a fresh file or schema): the loser's
    ``CREATE TABLE`` fails with "already exists", and opening again finds the finished schema."""
    for attempt in range(SCHEMA_RACE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, **kwargs)
        except Exception as e:
            if attempt + 1 == SCHEMA_RACE_ATTEMPTS or not _schema_race(e):
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _schema_race(error: BaseException) -> bool:
    """The errors a concurrent schema creation gives: a table, index or type that already exists,
    or the schema version row (alembic_version) that the other process inserted first."""
    text = str(error).lower()
    return any(
        sign in text
        for sign in ("already exists", "unique constraint", "duplicate key", "duplicate entry")
    )


def open_storage(
    storage: str | optuna.storages.BaseStorage,
    *,
    heartbeat_interval_s: int = HEARTBEAT_INTERVAL_S,
    grace_period_s: int = GRACE_PERIOD_S,
    max_retries: int = MAX_RETRIES,
) -> optuna.storages.BaseStorage:
    """Opens an Optuna storage from a URL (or passes a storage instance through).

    SQLite gets a busy timeout so that several processes can share one file. A database server's
    storage retries each call through a lost connection (:class:`RetryingStorage`). RDB storages (SQLite,
    PostgreSQL, MySQL) get heartbeats: a trial whose process died (no heartbeat for ``grace_period_s``)
    is marked FAIL by the next worker and re-run with the same hyperparameters, at most ``max_retries``
    times (Optuna's ``RetryHeartbeatStaleTrialCallback``).

    Raises:
        ValueError: when the storage cannot be opened (the message hides any password).
    """
    if not isinstance(storage, str):
        return storage
    storage = sqlalchemy_url(storage)
    # Each pooled connection is tested before use: one that died in a server restart is replaced.
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if storage.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            rdb = _create_rdb_storage(
                storage,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval_s,
                grace_period=grace_period_s,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=max_retries
                ),
            )
            if storage.startswith("sqlite"):
                return rdb  # a local file: no connection to lose
            from optuna.storages._cached_storage import _CachedStorage

            # Optuna wraps an RDBStorage in its cache itself; wrapped here, the cache is kept.
            return RetryingStorage(_CachedStorage(rdb))
    except Exception as e:  # SQLAlchemy raises many types; all mean "cannot open"
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(
            f"storage {redact_url(storage)!r}: cannot be opened: {redact_url(reason)}"
        ) from None


def tpe_startup_trials(n_trials: int | None) -> int:
    """TPE's random trials before it models the results: half the budget, between 5 and 10.

    Optuna's default is 10, which makes a 10-trial search (the spec's) pure random search. With 5,
    the last 5 trials are proposed by TPE: on the benchmark (docs/benchmarks.md) that beat random
    search's median best val MSE over 10 seeds. From 20 trials on it is Optuna's default of 10.
    """
    if n_trials is None:
        return 10
    return min(10, max(5, n_trials // 2))


def make_sampler(
    name: str = "tpe",
    seed: int | None = None,
    *,
    search_space: dict[str, Sequence[Any]] | None = None,
    n_trials: int | None = None,
) -> optuna.samplers.BaseSampler:
    """The sampler for a name; ``"tpe"`` is the default search of lstm_tuner.

    Args:
        name: ``"tpe"``, ``"random"`` or ``"grid"``.
        seed: Makes the sequence of sampled hyperparameters reproducible.
        search_space: ``{name: values}`` for ``"grid"``.
        n_trials: The search's budget; sizes TPE's random start (:func:`tpe_startup_trials`).
    """
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=tpe_startup_trials(n_trials))
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        if not search_space:
            raise ValueError("the grid sampler needs a search space of discrete values")
        return OrderedGridSampler(dict(search_space), seed=seed)
    raise ValueError(f"sampler must be one of {list(SAMPLERS)}, but got {name!r}")


class OrderedGridSampler(optuna.samplers.GridSampler):
    """Optuna's ``GridSampler``, visiting the grid in nested-loop order over the parameters sorted by
    name (KerasTuner's order: the last parameter changes first), not shuffled.

    Optuna shuffles so that workers picking grid points at random collide less; it gives trial
    ``k`` grid point ``k`` for the first pass anyway, and trial numbers come from the storage, so
    workers get distinct points in order too.
    """

    def __init__(self, search_space: dict[str, Any], seed: int | None = None) -> None:
        super().__init__(search_space, seed=seed)
        self._all_grids = list(itertools.product(*self._search_space.values()))


def make_pruner(name: str = "none", *, max_epochs: int | None = None) -> optuna.pruners.BasePruner:
    """The pruner for a name: ``"none"``, ``"median"`` or ``"hyperband"``."""
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs or "auto")
    raise ValueError(f"pruner must be one of {list(PRUNERS)}, but got {name!r}")


def _spent(trial: FrozenTrial) -> bool:
    """Whether a trial spent budget: it finished, or it failed by itself (not by its worker)."""
    if trial.state in FINISHED_STATES:
        return True
    return trial.state == TrialState.FAIL and bool(trial.user_attrs.get("counted"))


def budget_line(study: optuna.Study, n_trials: int) -> str:
    """How the budget stands, counting COMPLETE (and PRUNED) trials and naming the others:
    ``"6 of 8 trials complete, 2 failed (out of memory: 2), rerun to finish"``. A failed trial
    spends budget as in KerasTuner; "rerun to finish" is said while the budget is not spent."""
    trials = study.get_trials(deepcopy=False)
    complete = sum(t.state in FINISHED_STATES for t in trials)
    failed: dict[str, int] = {}
    for t in trials:
        if t.state == TrialState.FAIL and t.user_attrs.get("counted"):
            reason = str(t.user_attrs.get("fail_reason") or "no reason recorded")
            failed[reason] = failed.get(reason, 0) + 1
    line = f"{complete} of {n_trials} trials complete"
    if failed:
        reasons = "; ".join(f"{r}: {n}" if n > 1 else r for r, n in failed.items())
        line += f", {sum(failed.values())} failed ({reasons})"
    if complete + sum(failed.values()) < n_trials:
        line += ", rerun to finish"
    return line


def count_finished(study: optuna.Study) -> int:
    """Trials of ``study`` that count toward its budget, read from the storage: COMPLETE, PRUNED,
    and FAIL when the trial itself failed (as in KerasTuner); not a trial whose worker was killed or
    interrupted (it is re-run)."""
    return sum(_spent(t) for t in study.get_trials(deepcopy=False))


def trials_ahead(study: optuna.Study, number: int) -> int:
    """Trials numbered before ``number`` that spent budget or are running: they hold budget first."""
    return sum(
        1
        for t in study.get_trials(deepcopy=False)
        if t.number < number and (t.state == TrialState.RUNNING or _spent(t))
    )


def fail_stale_trials(study: optuna.Study) -> None:
    """Marks RUNNING trials whose heartbeat stopped as FAIL (and enqueues their retries)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a no-op without heartbeats


def snapshot(study: optuna.Study) -> optuna.Study:
    """The study as it stands, read once from its storage into memory.

    A run's selection and reports (tables, summary, plots, importance) read this copy, however many
    times they ask, instead of the shared storage (a database another host may be writing to): they
    see one state of the study, and cost one read.
    """
    copy = optuna.create_study(
        storage=optuna.storages.InMemoryStorage(),
        study_name=study.study_name,
        directions=study.directions,
    )
    for key, value in study.user_attrs.items():
        copy.set_user_attr(key, value)
    copy.add_trials(study.get_trials(deepcopy=False))
    return copy


def best_trials(study: optuna.Study, num_trials: int) -> list[FrozenTrial]:
    """The ``num_trials`` best COMPLETE trials, best first."""
    trials = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None
    ]
    reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
    trials.sort(key=lambda t: (t.value, t.number) if not reverse else (-t.value, t.number))
    return trials[:num_trials]
