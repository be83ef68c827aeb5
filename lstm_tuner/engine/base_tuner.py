"""``BaseTuner``: KerasTuner's search loop, run by an Optuna study; what a trial does is ``run_trial``.

Per trial: a KerasTuner-style :class:`~lstm_tuner.engine.oracle.Trial` over the Optuna trial, whose
``hyperparameters`` suggest values to the sampler -> ``run_trial(trial, *search_args)`` -> its result (a
float, a dict of metrics, a ``History``, or a list of those, one per execution) -> the trial's value in
the study. The study's storage is the source of truth: a new tuner on the same storage resumes it, and
several processes (workers) may search the same study: the budget is counted in the storage.

Subclass it and override :meth:`run_trial` to tune anything (KerasTuner's "tune anything" guide);
:class:`~lstm_tuner.engine.tuner.Tuner` is the subclass that builds and trains Keras models.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from absl import logging
from optuna.trial import TrialState

from lstm_tuner.engine import results
from lstm_tuner.engine.hyperparameters import RECORDED_ATTR, HyperParameters
from lstm_tuner.engine.objective import (
    DEFAULT_OBJECTIVE,
    Objective,
    get_objective,
    value_from_result,
)
from lstm_tuner.engine.oracle import Oracle, Trial
from lstm_tuner.engine.progress import SearchProgress
from lstm_tuner.engine.session import frozen_heap, released_custom_gradients
from lstm_tuner.errors import FailedTrialError, FatalError, FatalRuntimeError
from lstm_tuner.files import refuse_kerastuner_project
from lstm_tuner.names import GRACE_PERIOD_S, HEARTBEAT_INTERVAL_S, MAX_RETRIES
from lstm_tuner.rules import is_int
from lstm_tuner.storage import artifacts
from lstm_tuner.storage import study as study_lib

_WAIT_FOR_OTHER_WORKERS_S = 2.0
#: The study user attribute holding a tuner subclass's own state (``get_state``).
TUNER_STATE_ATTR = "tuner_state"


class BaseTuner:
    """A hyperparameter search whose trials run :meth:`run_trial`, on an Optuna study.

    Args:
        objective: A metric name (``"val_loss"``; direction inferred) or :class:`~lstm_tuner.Objective`.
        max_trials: Finished trials (COMPLETE or PRUNED, counted in the storage) the study runs to.
        sampler: Any Optuna sampler; default :func:`lstm_tuner.storage.study.make_sampler` (TPE with ``seed``).
        pruner: Any Optuna pruner; default none.
        storage: An Optuna storage URL or instance; default an SQLite file
            ``<directory>/<project_name>/study.db``.
        study_name: Default ``project_name``.
        directory: Where the project lives (default the current directory).
        project_name: Default ``"untitled_project"``.
        overwrite: Delete the study and start afresh.
        seed: Seeds the default sampler (and, in :class:`~lstm_tuner.Tuner`, each trial's training).
        hyperparameters: A ``HyperParameters`` whose declarations override those of the search (a
            ``Fixed`` value, another range), as in KerasTuner.
        tune_new_entries: Search hyperparameters that ``hyperparameters`` does not declare; when
            false they take their defaults.
        allow_new_entries: Allow such hyperparameters at all.
        max_retries_per_trial: Run a failed trial again with the same values up to this many times.
        max_consecutive_failed_trials: Stop the search after this many failures in a row.
        heartbeat_interval_s / grace_period_s / max_retries: For a storage given by URL: heartbeats of
            running trials, the silence after which a trial counts as dead (its worker was killed or
            its machine lost), and how often such a trial is re-run with the same hyperparameters.
        oracle: KerasTuner's way to give the search's settings (see :mod:`lstm_tuner.oracles`):
            when given, its objective, budget, seed, hyperparameters and failure settings are used,
            and its sampler and pruner unless ``sampler``/``pruner`` are given.
        tuner_id / logger: KerasTuner's arguments; ``tuner_id`` names this process in logs, and a
            logger is refused (KerasTuner deprecated it).
        artifact_store: Where trial weights and run results are kept (see :mod:`lstm_tuner.storage.artifacts`):
            a directory, ``s3://bucket/prefix`` or an ``ArtifactLocation``; default
            ``<directory>/<project_name>/artifacts``. Every process working on the study must use
            the same one.
    """

    def __init__(
        self,
        objective: str | Objective | None = "val_loss",
        max_trials: int | None = 10,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
        storage: str | optuna.storages.BaseStorage | None = None,
        study_name: str | None = None,
        directory: str | os.PathLike | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        heartbeat_interval_s: int = HEARTBEAT_INTERVAL_S,
        grace_period_s: int = GRACE_PERIOD_S,
        max_retries: int = MAX_RETRIES,
        artifact_store: str | os.PathLike | artifacts.ArtifactLocation | None = None,
        oracle: Oracle | None = None,
        tuner_id: str | None = None,
        logger: Any = None,
    ) -> None:
        if logger is not None:
            raise ValueError(
                "Tuner(logger=...): KerasTuner deprecated its logger and lstm_tuner has none; the "
                "study's storage records every trial (tuner.study, optuna-dashboard)"
            )
        if oracle is None:
            oracle = Oracle(
                objective,
                max_trials,
                hyperparameters,
                allow_new_entries,
                tune_new_entries,
                seed,
                max_retries_per_trial,
                max_consecutive_failed_trials,
            )
        space = self._declared_space(oracle)
        if oracle.max_trials is None and hasattr(oracle, "grid_size"):
            oracle.max_trials = oracle.grid_size(space)
        for label, val, low in (
            ("max_trials", oracle.max_trials, 1),
            ("max_consecutive_failed_trials", oracle.max_consecutive_failed_trials, 1),
            ("max_retries_per_trial", oracle.max_retries_per_trial, 0),
        ):
            if not is_int(val) or val < low:
                raise ValueError(f"Tuner: `{label}` must be an int >= {low}, but got {val!r}")
        self.objective = (
            DEFAULT_OBJECTIVE if oracle.objective is None else get_objective(oracle.objective)
        )
        self.max_trials = oracle.max_trials
        self.seed = oracle.seed
        self.hyperparameters = oracle.hyperparameters
        self.tune_new_entries = oracle.tune_new_entries
        self.allow_new_entries = oracle.allow_new_entries
        self.max_retries_per_trial = oracle.max_retries_per_trial
        self.max_consecutive_failed_trials = oracle.max_consecutive_failed_trials
        self.tuner_id = tuner_id or os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
        self.directory = os.fspath(directory) if directory is not None else "."
        self.project_name = project_name or "untitled_project"
        self.project_dir = os.path.join(self.directory, self.project_name)
        self.study_name = study_name or self.project_name
        refuse_kerastuner_project(self.project_dir, storage)
        os.makedirs(self.project_dir, exist_ok=True)
        if storage is None:
            storage = "sqlite:///" + os.path.abspath(os.path.join(self.project_dir, "study.db"))
        self._storage = study_lib.open_storage(
            storage,
            heartbeat_interval_s=heartbeat_interval_s,
            grace_period_s=grace_period_s,
            max_retries=max_retries,
        )
        self.artifacts = (
            artifact_store
            if isinstance(artifact_store, artifacts.ArtifactLocation)
            else artifacts.open_store(artifact_store, os.path.join(self.project_dir, "artifacts"))
        )
        if overwrite:
            self._delete_previous_run()
        self.study = optuna.create_study(
            storage=self._storage,
            sampler=sampler or oracle.make_sampler(self.max_trials, space),
            pruner=pruner or oracle.make_pruner() or optuna.pruners.NopPruner(),
            study_name=self.study_name,
            direction=self.objective.optuna_direction,
            load_if_exists=True,
        )
        if self.study.direction.name.lower() != self.objective.optuna_direction:
            raise ValueError(
                f"study {self.study_name!r} already exists with direction "
                f"{self.study.direction.name.lower()}, but the objective {self.objective.name!r} "
                f"asks for {self.objective.optuna_direction}; use overwrite=True or another study name"
            )
        artifacts.bind_store(self.study, self.artifacts)
        oracle.bind(self.study, self.objective, self.max_trials)
        self.oracle = oracle
        self._consecutive_failures = 0
        self._progress: SearchProgress | None = None
        self._running: Trial | None = None
        self._saved_state: dict[str, Any] = {}  # the state in the study, as this process knows it
        if TUNER_STATE_ATTR in self.study.user_attrs:  # as KerasTuner reloads an existing project
            self.reload()

    # -- the search -------------------------------------------------------------------------------

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Runs trials until ``max_trials`` of them are finished in the storage.

        Everything is passed to ``run_trial(trial, *fit_args, **fit_kwargs)``. Completed trials of an
        earlier run are not run again.

        Raises:
            FatalError: when ``max_consecutive_failed_trials`` trials failed in a row, or the objective
                is not logged by ``fit``.
            KeyboardInterrupt: re-raised after the running trial is recorded as FAIL; the next
                ``search`` resumes the study.
        """
        self.on_search_begin()
        finished = study_lib.count_finished(self.study)
        if finished >= self.max_trials:
            logging.info("%d of %d trials complete; nothing to run", finished, self.max_trials)
            self.on_search_end()
            return
        logging.info(
            "Search: %d of %d trials complete, running up to %d more",
            finished,
            self.max_trials,
            self.max_trials - finished,
        )
        with frozen_heap():
            self._consecutive_failures = 0
            self._progress = SearchProgress(self.study, self.max_trials, self.objective.name)
            try:
                while True:
                    finished = study_lib.count_finished(self.study)
                    if finished >= self.max_trials:
                        break
                    running = len(
                        self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                    )
                    if finished + running >= self.max_trials:
                        # Other workers hold the last trials of the budget: wait for them. If one of them
                        # dies, its heartbeat stops and the trial is failed here and re-run.
                        time.sleep(_WAIT_FOR_OTHER_WORKERS_S)
                        study_lib.fail_stale_trials(self.study)
                        continue
                    self.pre_create_trial()
                    self.study.optimize(
                        lambda trial: self._objective(trial, fit_args, fit_kwargs),
                        n_trials=1,
                        catch=(FailedTrialError,),
                        callbacks=[self._progress.trial_finished, self._trial_ended],
                    )
            except KeyboardInterrupt:
                logging.warning(
                    "Search interrupted: %d of %d trials complete; run the search again to resume.",
                    study_lib.count_finished(self.study),
                    self.max_trials,
                )
                raise
            except Exception as e:
                # Optuna may raise its own error while handling the outage (see unavailable_in).
                outage = study_lib.unavailable_in(e)
                if outage is None:
                    raise
                raise FatalError(
                    f"{outage}; the running trial is not spent and will be retried: rerun to finish"
                ) from None
        self.on_search_end()

    def _trial_ended(self, study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> None:
        """Calls ``on_trial_end`` with the trial ``on_trial_begin`` saw, now finished."""
        trial, self._running = self._running, None
        if trial is not None and trial.number == frozen.number:
            trial._load(frozen)
            self.on_trial_end(trial)

    def _declared_space(self, oracle: Oracle) -> list[Any]:
        """The search space known before the search (what ``GridSearch`` enumerates)."""
        return list(oracle.hyperparameters.space) if oracle.hyperparameters is not None else []

    def trial_hyperparameters(self, trial: optuna.trial.BaseTrial) -> HyperParameters:
        """The live ``HyperParameters`` of a running trial (the tuner's own declarations first)."""
        return HyperParameters(
            trial,
            declared=self.hyperparameters.space if self.hyperparameters is not None else (),
            tune_new_entries=self.tune_new_entries,
            allow_new_entries=self.allow_new_entries,
        )

    def _objective(
        self, trial: optuna.Trial, fit_args: Sequence[Any], fit_kwargs: dict[str, Any]
    ) -> float:
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        ahead = study_lib.trials_ahead(self.study, trial.number)
        if ahead >= self.max_trials:
            # Another worker asked for a trial at the same moment and the budget is taken.
            reason = f"surplus: {ahead} earlier trials already fill max_trials={self.max_trials}"
            trial.set_user_attr("fail_reason", reason)
            raise FailedTrialError(reason)
        hp = self.trial_hyperparameters(trial)
        kt_trial = Trial(trial, self.objective, self.max_trials, hyperparameters=hp)
        self._running = kt_trial
        self.on_trial_begin(kt_trial)
        attempt = 0
        while True:
            try:
                with released_custom_gradients():
                    result = self.run_trial(kt_trial, *fit_args, **fit_kwargs)
                value, best_step = value_from_result(result, self.objective)
                if not np.isfinite(value):
                    raise FailedTrialError(f"non-finite value of {self.objective.name}: {value}")
                break
            except optuna.TrialPruned:
                self._consecutive_failures = 0
                trial.set_user_attr(RECORDED_ATTR, hp.values)
                raise
            except study_lib.StorageUnavailableError:
                raise  # nothing can be recorded: the trial stays RUNNING until its heartbeat stops
            except (FatalError, KeyboardInterrupt) as e:
                reason = str(e) if isinstance(e, FatalError) else "interrupted (KeyboardInterrupt)"
                trial.set_user_attr("fail_reason", reason)
                raise
            except artifacts.StoreUnavailableError as e:
                self._store_failed(trial, hp, e)
            except FailedTrialError as e:  # fails the trial, no retry (KerasTuner)
                self._trial_failed(trial, hp, e)
            except Exception as e:  # any other failure of user code or TF: retried, then failed
                if attempt < self.max_retries_per_trial:
                    attempt += 1
                    logging.warning(
                        "Trial %d raised %s: %s; retrying it (%d of %d)",
                        trial.number,
                        type(e).__name__,
                        str(e).splitlines()[0] if str(e) else "",
                        attempt,
                        self.max_retries_per_trial,
                    )
                    continue
                self._trial_failed(trial, hp, e)
        if attempt:
            trial.set_user_attr("retries", attempt)
        if best_step is not None and "best_epoch" not in trial.user_attrs:
            trial.set_user_attr("best_epoch", best_step + 1)
        if isinstance(result, dict) and "history" not in trial.user_attrs:
            trial.set_user_attr("history", [{k: float(v) for k, v in result.items()}])
        trial.set_user_attr(RECORDED_ATTR, hp.values)
        self._consecutive_failures = 0
        return value

    def _store_failed(
        self, trial: optuna.Trial, hp: HyperParameters, error: artifacts.StoreUnavailableError
    ) -> None:
        """A trial whose weights the artifact store did not take: failed with the reason, not
        spent, and queued again with the same values, to run once the store is back; the search
        stops after ``max_consecutive_failed_trials`` such failures in a row. Always raises."""
        reason = str(error)
        trial.set_user_attr("fail_reason", reason)
        trial.set_user_attr(RECORDED_ATTR, hp.values)
        self.study.enqueue_trial(dict(trial.params), user_attrs={"retry_of": trial.number})
        self._consecutive_failures += 1
        if self._consecutive_failures >= self.max_consecutive_failed_trials:
            raise FatalRuntimeError(
                f"{reason} (trial {trial.number}; {self._consecutive_failures} in a row): the "
                "trial is queued again and not spent; rerun when the store is back"
            ) from error
        raise FailedTrialError(reason) from error

    def _trial_failed(self, trial: optuna.Trial, hp: HyperParameters, error: Exception) -> None:
        """Records why a trial failed and stops the search after too many in a row; always raises.

        A failed trial spends budget, as in KerasTuner (user attribute ``counted``); trials failed by
        their worker (killed, interrupted) do not.
        """
        import tensorflow as tf

        if isinstance(error, tf.errors.ResourceExhaustedError):
            reason = f"out of memory: {str(error).splitlines()[0]}"
        elif isinstance(error, FailedTrialError):
            reason = str(error).splitlines()[0] if str(error) else "FailedTrialError"
        else:
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
        trial.set_user_attr("fail_reason", reason)
        trial.set_user_attr(RECORDED_ATTR, hp.values)
        trial.set_user_attr("counted", True)
        self._consecutive_failures += 1
        if self._consecutive_failures >= self.max_consecutive_failed_trials:
            raise FatalRuntimeError(
                f"{self._consecutive_failures} consecutive trials failed "
                f"(max_consecutive_failed_trials={self.max_consecutive_failed_trials}); "
                f"last failure, trial {trial.number}: {reason}"
            ) from error
        raise FailedTrialError(reason) from error

    # KerasTuner's hooks, called in its order: on_search_begin; per trial on_trial_begin, (in
    # lt.Tuner's training, per epoch and batch) on_epoch_begin, on_batch_begin, on_batch_end,
    # on_epoch_end, then on_trial_end once the storage holds the trial's end; on_search_end.
    # Subclasses override them; the per-batch ones cost a Python call per batch only when
    # overridden.
    def on_search_begin(self) -> None:
        """Called at the start of :meth:`search`."""

    def pre_create_trial(self) -> None:
        """Called before each trial is created, before ``on_trial_begin``."""

    def on_search_end(self) -> None:
        """Called when :meth:`search` has run its trials (not after an error)."""

    def on_trial_begin(self, trial: Trial) -> None:
        """Called before ``run_trial``. The trial's values are drawn as the model is built, so
        ``trial.hyperparameters`` holds those of the tuner's ``hyperparameters`` only."""

    def on_trial_end(self, trial: Trial) -> None:
        """Called after the trial ended in the storage (``trial.status`` and ``trial.score`` are
        final); saves the tuner's state (:meth:`save`), as KerasTuner does."""
        self.save()

    def on_epoch_begin(self, trial: Trial, model: Any, epoch: int, logs: Any = None) -> None:
        """Called at the start of each epoch of a trial's training."""

    def on_batch_begin(self, trial: Trial, model: Any, batch: int, logs: Any = None) -> None:
        """Called before each training batch of a trial."""

    def on_batch_end(self, trial: Trial, model: Any, batch: int, logs: Any = None) -> None:
        """Called after each training batch of a trial."""

    def on_epoch_end(self, trial: Trial, model: Any, epoch: int, logs: Any = None) -> None:
        """Called at the end of each epoch of a trial's training."""

    # -- state: the storage holds every trial; a subclass's own state travels with the study ------

    def get_state(self) -> dict[str, Any]:
        """A subclass's own state to keep with the study (JSON-serializable); ``{}`` here."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restores what :meth:`get_state` returned; nothing here."""

    def save(self) -> None:
        """Keeps :meth:`get_state` in the study (user attribute ``tuner_state``). Trials need no
        saving: the storage records each one as it ends."""
        state = self.get_state()
        # Compared with what this process last wrote or read: no storage read per trial.
        if state != self._saved_state:
            self.study.set_user_attr(TUNER_STATE_ATTR, state)
            self._saved_state = state

    def reload(self) -> None:
        """Restores the state :meth:`save` kept, as KerasTuner's ``reload()`` on a finished
        project. The trials are read from the storage whenever they are asked for, so the best
        models and hyperparameters are there without it."""
        self._saved_state = dict(self.study.user_attrs.get(TUNER_STATE_ATTR) or {})
        self.set_state(dict(self._saved_state))

    def get_trial_dir(self, trial_id: str | int) -> str:
        """``<project_dir>/trial_<trial_id>``, created if missing: a local directory user code can
        write a trial's files into, as in KerasTuner (the trial's weights live in the artifact
        store)."""
        path = os.path.join(self.project_dir, f"trial_{trial_id}")
        os.makedirs(path, exist_ok=True)
        return path

    @property
    def remaining_trials(self) -> int:
        """Trials of the budget still to run (KerasTuner's name)."""
        return max(0, self.max_trials - study_lib.count_finished(self.study))

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        """Runs one trial; override it to tune anything.

        Read the values from ``trial.hyperparameters`` (``hp.Float(...)`` asks the sampler) and return
        the objective's value: a float, a dict of metrics holding the objective, a ``History``, or a
        list of those (one per execution, averaged). Raise ``FailedTrialError`` to fail the trial.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.run_trial(trial, *args, **kwargs) must be overridden (or use "
            "lt.Tuner with a hypermodel)"
        )

    # -- results ----------------------------------------------------------------------------------

    def load_model(self, trial: Any) -> Any:
        """A trial's model; a tuner without models (a ``run_trial`` that tunes anything) has none.

        Raises:
            NotImplementedError: here; :class:`~lstm_tuner.Tuner` rebuilds Keras models.
        """
        raise NotImplementedError(
            f"{type(self).__name__} keeps no models: use lt.Tuner (Keras models), or override "
            "load_model"
        )

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """Saves a trial's model; here there is nothing to save it to.

        Raises:
            NotImplementedError: here; :class:`~lstm_tuner.Tuner` uploads the weights.
        """
        raise NotImplementedError(
            f"{type(self).__name__} keeps no models: use lt.Tuner (Keras models), or override "
            "save_model"
        )

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best COMPLETE trials' models, best first (via :meth:`load_model`)."""
        return [self.load_model(t) for t in study_lib.best_trials(self.study, num_models)]

    def search_space_summary(self) -> None:
        """Prints the hyperparameters seen so far (KerasTuner format)."""
        print(results.format_search_space(self.oracle.get_space().space))

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """Frozen ``HyperParameters`` of the best COMPLETE trials, best first."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def results_summary(self, num_trials: int = 10) -> None:
        """Prints the results: counts per state, the best configuration and the best trials."""
        print(self.results_summary_text(num_trials))

    def results_summary_text(self, num_trials: int = 10) -> str:
        """What :meth:`results_summary` prints."""
        return results.format_results(
            self.study,
            objective_name=self.objective.name,
            num_trials=num_trials,
            location=self.project_dir,
        )

    def _delete_previous_run(self) -> None:
        """Deletes the study and every artifact it uploaded to this tuner's store."""
        try:
            old = optuna.load_study(study_name=self.study_name, storage=self._storage)
        except KeyError:
            return
        artifacts.remove_all(self.artifacts, old, self._storage)
        optuna.delete_study(study_name=self.study_name, storage=self._storage)
        logging.info("overwrite=True: deleted study %r", self.study_name)
