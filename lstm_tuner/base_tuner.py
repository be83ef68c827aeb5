"""``BaseTuner``: KerasTuner's search loop, run by an Optuna study; what a trial does is ``run_trial``.

Per trial: a KerasTuner-style :class:`~lstm_tuner.oracle.Trial` over the Optuna trial, whose
``hyperparameters`` suggest values to the sampler -> ``run_trial(trial, *search_args)`` -> its result (a
float, a dict of metrics, a ``History``, or a list of those, one per execution) -> the trial's value in
the study. The study's storage is the source of truth: a new tuner on the same storage resumes it, and
several processes (workers) may search the same study: the budget is counted in the storage.

Subclass it and override :meth:`run_trial` to tune anything (KerasTuner's "tune anything" guide);
:class:`~lstm_tuner.tuner.Tuner` is the subclass that builds and trains Keras models.
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

from lstm_tuner import artifacts, report
from lstm_tuner import study as study_lib
from lstm_tuner.config import GRACE_PERIOD_S, HEARTBEAT_INTERVAL_S, MAX_RETRIES
from lstm_tuner.errors import FailedTrialError, FatalError
from lstm_tuner.hyperparameters import HyperParameters
from lstm_tuner.objective import Objective, get_objective
from lstm_tuner.oracle import Oracle, Trial
from lstm_tuner.progress import SearchProgress
from lstm_tuner.rules import is_int
from lstm_tuner.session import released_custom_gradients

_WAIT_FOR_OTHER_WORKERS_S = 2.0


def value_from_result(result: Any, objective: Objective) -> float | None:
    """The objective's value in what ``run_trial`` or ``HyperModel.fit`` returned, as KerasTuner reads it.

    A number is the value; a dict holds it under the objective's name; a ``History`` gives the best
    epoch's value; a list (one result per execution) gives the mean of the values.
    """
    if isinstance(result, (list, tuple)) and result:
        values = [value_from_result(r, objective) for r in result]
        return None if any(v is None for v in values) else float(np.mean(values))
    if isinstance(result, (int, float, np.floating, np.integer)) and not isinstance(result, bool):
        return float(result)
    if isinstance(result, dict):
        value = result.get(objective.name)
        return None if value is None else float(value)
    history = getattr(result, "history", None)
    if isinstance(history, dict) and history.get(objective.name):
        values = [float(v) for v in history[objective.name]]
        return min(values) if objective.direction == "min" else max(values)
    return None


class BaseTuner:
    """A hyperparameter search whose trials run :meth:`run_trial`, on an Optuna study.

    Args:
        objective: A metric name (``"val_loss"``; direction inferred) or :class:`~lstm_tuner.Objective`.
        max_trials: Finished trials (COMPLETE or PRUNED, counted in the storage) the study runs to.
        sampler: Any Optuna sampler; default :func:`lstm_tuner.study.make_sampler` (TPE with ``seed``).
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
        artifact_store: Where trial weights and run results are kept (see :mod:`lstm_tuner.artifacts`):
            a directory, ``s3://bucket/prefix`` or an ``ArtifactLocation``; default
            ``<directory>/<project_name>/artifacts``. Every process working on the study must use
            the same one.
    """

    def __init__(
        self,
        objective: str | Objective | None = "val_loss",
        max_trials: int = 10,
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
    ) -> None:
        for label, val, low in (
            ("max_trials", max_trials, 1),
            ("max_consecutive_failed_trials", max_consecutive_failed_trials, 1),
            ("max_retries_per_trial", max_retries_per_trial, 0),
        ):
            if not is_int(val) or val < low:
                raise ValueError(f"Tuner: `{label}` must be an int >= {low}, but got {val!r}")
        self.objective = get_objective("val_loss" if objective is None else objective)
        self.max_trials = max_trials
        self.seed = seed
        self.hyperparameters = hyperparameters
        self.tune_new_entries = tune_new_entries
        self.allow_new_entries = allow_new_entries
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.directory = os.fspath(directory) if directory is not None else "."
        self.project_name = project_name or "untitled_project"
        self.project_dir = os.path.join(self.directory, self.project_name)
        self.study_name = study_name or self.project_name
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
        if sampler is None:
            sampler = study_lib.make_sampler("tpe", seed, n_trials=max_trials)
        self.study = optuna.create_study(
            storage=self._storage,
            sampler=sampler,
            pruner=pruner if pruner is not None else optuna.pruners.NopPruner(),
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
        self.oracle = Oracle(self.study, self.objective, max_trials)
        self._consecutive_failures = 0
        self._progress: SearchProgress | None = None

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
        finished = study_lib.count_finished(self.study)
        if finished >= self.max_trials:
            logging.info("%d of %d trials complete; nothing to run", finished, self.max_trials)
            return
        logging.info(
            "Search: %d of %d trials complete, running up to %d more",
            finished,
            self.max_trials,
            self.max_trials - finished,
        )
        self._consecutive_failures = 0
        self._progress = SearchProgress(self.study, self.max_trials, self.objective.name)
        try:
            while True:
                finished = study_lib.count_finished(self.study)
                if finished >= self.max_trials:
                    break
                running = len(self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
                if finished + running >= self.max_trials:
                    # Other workers hold the last trials of the budget: wait for them. If one of them
                    # dies, its heartbeat stops and the trial is failed here and re-run.
                    time.sleep(_WAIT_FOR_OTHER_WORKERS_S)
                    study_lib.fail_stale_trials(self.study)
                    continue
                self.study.optimize(
                    lambda trial: self._objective(trial, fit_args, fit_kwargs),
                    n_trials=1,
                    catch=(FailedTrialError,),
                    callbacks=[self._progress.trial_finished],
                )
        except KeyboardInterrupt:
            logging.warning(
                "Search interrupted: %d of %d trials complete; run the search again to resume.",
                study_lib.count_finished(self.study),
                self.max_trials,
            )
            raise

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
        try:
            with released_custom_gradients():
                result = self.run_trial(kt_trial, *fit_args, **fit_kwargs)
            value = value_from_result(result, self.objective)
            if value is None or not np.isfinite(value):
                raise FailedTrialError(
                    f"no finite value of objective {self.objective.name!r} in what run_trial "
                    f"returned ({type(result).__name__}: {str(result)[:100]})"
                )
        except optuna.TrialPruned:
            self._consecutive_failures = 0
            trial.set_user_attr("hyperparameters", hp.values)
            raise
        except (FatalError, KeyboardInterrupt) as e:
            reason = str(e) if isinstance(e, FatalError) else "interrupted (KeyboardInterrupt)"
            trial.set_user_attr("fail_reason", reason)
            raise
        except Exception as e:  # any failure of user code, TF or the data fails this trial only
            self._trial_failed(trial, hp, e)
        trial.set_user_attr("hyperparameters", hp.values)
        self._consecutive_failures = 0
        return value

    def _trial_failed(self, trial: optuna.Trial, hp: HyperParameters, error: Exception) -> None:
        """Records why a trial failed, retries it or stops the search; always raises."""
        import tensorflow as tf

        if isinstance(error, tf.errors.ResourceExhaustedError):
            reason = f"out of memory: {str(error).splitlines()[0]}"
        else:
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
        trial.set_user_attr("fail_reason", reason)
        trial.set_user_attr("hyperparameters", hp.values)
        retry = int(trial.user_attrs.get("retry", 0))
        if retry < self.max_retries_per_trial:
            root = int(trial.user_attrs.get("retry_of", trial.number))
            self.study.enqueue_trial(
                trial.params, user_attrs={"retry_of": root, "retry": retry + 1}
            )
            logging.warning("Trial %d failed (%s); retrying it", trial.number, reason)
            raise FailedTrialError(reason) from error
        self._consecutive_failures += 1
        if self._consecutive_failures >= self.max_consecutive_failed_trials:
            raise FatalError(
                f"{self._consecutive_failures} consecutive trials failed "
                f"(max_consecutive_failed_trials={self.max_consecutive_failed_trials}); "
                f"last failure, trial {trial.number}: {reason}"
            ) from error
        raise FailedTrialError(reason) from error

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

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """Frozen ``HyperParameters`` of the best COMPLETE trials, best first."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def results_summary(self, num_trials: int = 10) -> None:
        """Prints the results: counts per state, the best configuration and the best trials."""
        print(self.results_summary_text(num_trials))

    def results_summary_text(self, num_trials: int = 10) -> str:
        """What :meth:`results_summary` prints."""
        return report.format_results(
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
