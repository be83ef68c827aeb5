"""``Tuner``: KerasTuner's search loop, run by an Optuna study.

Per trial: ``HyperParameters(trial)`` -> ``hypermodel.build(hp)`` under the distribution strategy's scope
-> ``hypermodel.fit(hp, model, ...)`` with a callback that reads the objective each epoch, reports it to
the pruner, keeps the best epoch's weights and refuses non-finite losses -> the best epoch's value goes to
the study. The study's storage is the source of truth: a new ``Tuner`` on the same storage resumes it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import gc
import hashlib
import json
import math
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
import numpy as np
import optuna
import tensorflow as tf
from absl import logging
from optuna.trial import TrialState
from tensorflow.python.framework import ops as tf_ops

from lstm_tuner import report
from lstm_tuner import study as study_lib
from lstm_tuner import tensorboard as tensorboard_lib
from lstm_tuner.distribute import check_strategy, get_strategy
from lstm_tuner.errors import FailedTrialError, FatalError
from lstm_tuner.hypermodel import HyperModel, get_hypermodel
from lstm_tuner.hyperparameters import HyperParameter, HyperParameters
from lstm_tuner.objective import Objective, get_objective

WEIGHTS_FILENAME = "best.weights.h5"
_WAIT_FOR_OTHER_WORKERS_S = 2.0


@contextlib.contextmanager
def _released_custom_gradients() -> Iterator[None]:
    """Unregisters the graph-mode custom gradients that a trial registered, when the trial ends.

    Tracing a Keras train step under any ``tf.distribute`` replica context (the default one too)
    calls ``ReplicaContext.all_reduce``, a ``tf.custom_gradient``; in graph mode that registers a
    ``CustomGradient-<uid>`` entry in TensorFlow's global gradient registry which is never removed
    and holds the whole traced ``FuncGraph`` (tensorflow/tensorflow#97697, keras-team/keras#17458):
    about 20 MB per trained model, whatever ``clear_session()`` does. The entries are only needed
    while the trial's own functions are traced and differentiated, and the trial's model is gone
    when it ends, so the entries it added are dropped. Entries from before the trial are kept. The
    registry is TensorFlow-private: if it is not where it is expected, nothing is done.
    """
    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", None)
    before = set(registry) if isinstance(registry, dict) else None
    try:
        yield
    finally:
        if before is not None:
            for name in [k for k in registry if k not in before]:
                if name.startswith("CustomGradient-"):
                    del registry[name]


def training_seed(seed: int, values: dict[str, Any], execution: int = 0) -> int:
    """The seed a trial trains with: a stable hash of the search seed and the hyperparameter values.

    Stable across processes and machines (SHA-256 of canonical JSON, not Python's salted ``hash``),
    so a resumed or retried trial, or another worker drawing the same values, trains the same model.
    """
    text = json.dumps([seed, execution, values], sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


class _EpochTracker(keras.callbacks.Callback):
    """Reads the objective after each epoch: best value and weights, pruning, non-finite losses."""

    def __init__(
        self, objective: Objective, trial: optuna.trial.BaseTrial | None, report_to_pruner: bool
    ):
        super().__init__()
        self.objective = objective
        self.trial = trial
        self.report_to_pruner = report_to_pruner
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.epochs_run = 0
        self.history: list[dict[str, float]] = []
        self.non_finite: str | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        self.epochs_run = epoch + 1
        self.history.append(logs)
        if self.objective.name not in logs:
            raise FatalError(
                f"objective {self.objective.name!r} is not among the metrics that fit logs "
                f"{sorted(logs)}; pass validation data for 'val_*' objectives or choose one of those"
            )
        value = logs[self.objective.name]
        bad = [k for k in ("loss", self.objective.name) if k in logs and not math.isfinite(logs[k])]
        if bad:
            self.non_finite = f"non-finite {bad[0]} ({logs[bad[0]]}) at epoch {epoch + 1}"
            self.model.stop_training = True
            return
        if self.best_value is None or self.objective.is_better(value, self.best_value):
            self.best_value, self.best_epoch = value, epoch + 1
            self.best_weights = self.model.get_weights()
        if self.report_to_pruner and self.trial is not None:
            self.trial.report(value, epoch)
            if self.trial.should_prune():
                raise optuna.TrialPruned(
                    f"pruned at epoch {epoch + 1} with {self.objective.name}={value:.6g}"
                )


def _value_from_fit_result(result: Any, objective: Objective) -> float | None:
    """The objective from what ``HyperModel.fit`` returned (float, dict or History), as KerasTuner."""
    if isinstance(result, (int, float, np.floating)) and not isinstance(result, bool):
        return float(result)
    if isinstance(result, dict) and objective.name in result:
        return float(result[objective.name])
    history = getattr(result, "history", None)
    if isinstance(history, dict) and history.get(objective.name):
        values = [float(v) for v in history[objective.name]]
        return min(values) if objective.direction == "min" else max(values)
    return None


class Tuner:
    """Hyperparameter search over a ``HyperModel`` (or ``build_model(hp)``), run by an Optuna study.

    Args:
        hypermodel: A :class:`~lstm_tuner.HyperModel` or a callable ``build_model(hp)``.
        objective: A metric name (``"val_loss"``; direction inferred) or :class:`~lstm_tuner.Objective`.
        max_trials: Finished trials (COMPLETE or PRUNED, counted in the storage) the study runs to.
        sampler: Any Optuna sampler; default :func:`lstm_tuner.study.make_sampler` (TPE with ``seed``).
        pruner: Any Optuna pruner; default none.
        storage: An Optuna storage URL or instance; default an SQLite file
            ``<directory>/<project_name>/study.db``.
        study_name: Default ``project_name``.
        directory: Where the project lives (default the current directory).
        project_name: Default ``"untitled_project"``.
        overwrite: Delete the study and its saved weights and start afresh.
        seed: Seeds the default sampler and each trial's training. A trial's training seed is derived
            from ``seed`` and the trial's hyperparameter values (see :func:`training_seed`), not from
            its number: the same hyperparameters train from the same initialization in any trial, so
            trials differ by their hyperparameters, not by the luck of the draw, and a retried trial
            repeats the original.
        distribution_strategy: A ``tf.distribute.Strategy`` or a name (see
            :func:`lstm_tuner.distribute.get_strategy`); default chosen from the devices.
        executions_per_trial: Models trained per trial; the trial's value is their mean.
        max_consecutive_failed_trials: Stop the search after this many failures in a row.
        heartbeat_interval_s / grace_period_s / max_retries: For a storage given by URL: heartbeats of
            running trials, the silence after which a trial counts as dead (its worker was killed or
            its machine lost), and how often such a trial is re-run with the same hyperparameters.
        tensorboard_dir: Write TensorBoard logs here: per trial ``trial_NNNN/`` with Keras's scalars
            and the HParams plugin's summaries (see :mod:`lstm_tuner.tensorboard`). Skipped with one
            warning when the ``tensorboard`` package is not installed.

    Several processes (workers) may run ``search`` on the same storage and study name at once: the
    budget ``max_trials`` is counted in the storage, across all of them.
    """

    def __init__(
        self,
        hypermodel: HyperModel | Callable[[HyperParameters], Any],
        objective: str | Objective = "val_loss",
        max_trials: int = 10,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
        storage: str | optuna.storages.BaseStorage | None = None,
        study_name: str | None = None,
        directory: str | os.PathLike | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        seed: int | None = None,
        distribution_strategy: str | tf.distribute.Strategy | None = None,
        executions_per_trial: int = 1,
        max_consecutive_failed_trials: int = 3,
        heartbeat_interval_s: int = study_lib.HEARTBEAT_INTERVAL_S,
        grace_period_s: int = study_lib.GRACE_PERIOD_S,
        max_retries: int = 2,
        tensorboard_dir: str | None = None,
    ) -> None:
        for label, val in (
            ("max_trials", max_trials),
            ("executions_per_trial", executions_per_trial),
            ("max_consecutive_failed_trials", max_consecutive_failed_trials),
        ):
            if isinstance(val, bool) or not isinstance(val, int) or val < 1:
                raise ValueError(f"Tuner: `{label}` must be an int >= 1, but got {val!r}")
        self.hypermodel = get_hypermodel(hypermodel)
        self.objective = get_objective(objective)
        self.max_trials = max_trials
        self.seed = seed
        self.executions_per_trial = executions_per_trial
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
        if overwrite:
            self._delete_previous_run()
        self.study = optuna.create_study(
            storage=self._storage,
            sampler=sampler
            if sampler is not None
            else study_lib.make_sampler("tpe", seed, n_trials=max_trials),
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
        self._strategy_setting = check_strategy(distribution_strategy)
        # None (after one warning) when the tensorboard package is missing: the search goes on.
        self.tensorboard_dir = tensorboard_lib.check_log_dir(tensorboard_dir)
        self._consecutive_failures = 0
        self._search_start: float | None = None

    # -- search -----------------------------------------------------------------------------------

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Runs trials until ``max_trials`` of them are finished in the storage.

        Everything is passed to ``hypermodel.fit(hp, model, *fit_args, **fit_kwargs)``. A trial's value
        is its best epoch's objective. Completed trials of an earlier run are not run again.

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
        self._search_start = time.monotonic()
        self._trials_at_start = finished
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
                    callbacks=[self._log_progress],
                )
        except KeyboardInterrupt:
            logging.warning(
                "Search interrupted: %d of %d trials complete; run the search again to resume.",
                study_lib.count_finished(self.study),
                self.max_trials,
            )
            raise

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
        try:
            with _released_custom_gradients():
                value = self.run_trial(trial, *fit_args, **fit_kwargs)
        except optuna.TrialPruned:
            self._consecutive_failures = 0
            raise
        except FatalError as e:
            trial.set_user_attr("fail_reason", str(e))
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("fail_reason", "interrupted (KeyboardInterrupt)")
            raise
        except Exception as e:  # any failure of user code, TF or the data fails this trial only
            if isinstance(e, tf.errors.ResourceExhaustedError):
                reason = f"out of memory: {str(e).splitlines()[0]}"
            else:
                reason = f"{type(e).__name__}: {e}".splitlines()[0]
            trial.set_user_attr("fail_reason", reason)
            self._consecutive_failures += 1
            if self._consecutive_failures >= self.max_consecutive_failed_trials:
                raise FatalError(
                    f"{self._consecutive_failures} consecutive trials failed "
                    f"(max_consecutive_failed_trials={self.max_consecutive_failed_trials}); "
                    f"last failure, trial {trial.number}: {reason}"
                ) from e
            raise FailedTrialError(reason) from e
        self._consecutive_failures = 0
        return value

    @functools.cached_property
    def distribution_strategy(self) -> tf.distribute.Strategy:
        """The ``tf.distribute`` strategy, chosen on first use.

        Choosing it lists the devices, which starts TensorFlow's runtime and reserves nearly all the
        memory of every visible GPU: a process that only creates the study (the parent of
        ``--workers``, whose workers each take one of those GPUs) must not do that.
        """
        return get_strategy(self._strategy_setting)

    def _build(self, hp: HyperParameters) -> Any:
        """``hypermodel.build(hp)`` under the strategy's scope, with the optimizer's variables built.

        Outside a ``tf.distribute`` scope of its own, Keras defers building the optimizer to the
        first trace of the train step; its variables are then created inside the ``tf.function``,
        which makes TensorFlow trace the step twice and initialize them under ``tf.cond``. Built
        here, eagerly, the first epoch of a trial traced in 1.3 s instead of 3.0 s (a 32x2 LSTM).
        Only done for a built model (a subclassed model that is built on its first call is left to
        Keras: its variables are not known yet).
        """
        with self.distribution_strategy.scope():
            model = self.hypermodel.build(hp)
            optimizer = getattr(model, "optimizer", None)
            if (
                optimizer is not None
                and not optimizer.built
                and getattr(model, "built", False)
                and model.trainable_variables
            ):
                optimizer.build(model.trainable_variables)
        return model

    def run_trial(self, trial: optuna.trial.BaseTrial, *fit_args: Any, **fit_kwargs: Any) -> float:
        """Trains ``executions_per_trial`` models for one trial and returns the trial's value.

        Saves the best execution's best-epoch weights under the project directory.

        Raises:
            FailedTrialError: for a non-finite loss or when no objective value can be read.
        """
        hp = HyperParameters(trial)
        values: list[float] = []
        best_weights: list[np.ndarray] | None = None
        best_exec_value: float | None = None
        for execution in range(self.executions_per_trial):
            keras.backend.clear_session()
            gc.collect()
            if self.seed is not None:
                if not execution:
                    # The values are drawn while the model is built, and the weights are initialized
                    # then too: a first build draws them, the model built after seeding is the one
                    # trained. A build takes milliseconds against seconds of tracing.
                    with self.distribution_strategy.scope():
                        self.hypermodel.build(hp)
                    keras.backend.clear_session()
                keras.utils.set_random_seed(training_seed(self.seed, hp.values, execution))
            model = self._build(hp)
            tracker = _EpochTracker(
                self.objective, trial, report_to_pruner=self.executions_per_trial == 1
            )
            kwargs = dict(fit_kwargs)
            kwargs["callbacks"] = [copy.copy(cb) for cb in fit_kwargs.get("callbacks") or []] + [
                tracker
            ]
            if self.tensorboard_dir is not None:
                # Before the tracker, so that an epoch that prunes the trial is still logged.
                kwargs["callbacks"][-1:-1] = tensorboard_lib.trial_callbacks(
                    self.tensorboard_dir,
                    trial,
                    lambda: hp.values,
                    self.objective,
                    execution,
                    self.executions_per_trial,
                )
            result = self.hypermodel.fit(hp, model, *fit_args, **kwargs)
            if tracker.non_finite:
                raise FailedTrialError(tracker.non_finite)
            value = tracker.best_value
            weights = tracker.best_weights
            if value is None:
                value = _value_from_fit_result(result, self.objective)
                weights = model.get_weights()
            if value is None or not math.isfinite(value):
                raise FailedTrialError(
                    f"no finite value of objective {self.objective.name!r} (got {value!r})"
                )
            values.append(value)
            if best_exec_value is None or self.objective.is_better(value, best_exec_value):
                best_exec_value, best_weights = value, weights
                if tracker.best_epoch is not None:
                    trial.set_user_attr("best_epoch", tracker.best_epoch)
                trial.set_user_attr("epochs_run", tracker.epochs_run)
                trial.set_user_attr("history", tracker.history)
        trial.set_user_attr("hyperparameters", hp.values)
        model.set_weights(best_weights)
        path = self.weights_path(trial.number)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        model.save_weights(path)
        return float(np.mean(values))

    def _log_progress(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        finished = study_lib.count_finished(study)
        elapsed = time.monotonic() - (self._search_start or time.monotonic())
        done_here = max(1, finished - self._trials_at_start)
        eta = elapsed / done_here * max(0, self.max_trials - finished)
        best = study_lib.best_trials(study, 1)
        best_text = f"{best[0].value:.6g} (trial {best[0].number})" if best else "none"
        value = "" if trial.value is None else f" {self.objective.name}={trial.value:.6g},"
        reason = trial.user_attrs.get("fail_reason")
        logging.info(
            "Trial %d %s (%d of %d finished):%s best %s; %s; elapsed %.0f s, about %.0f s left%s",
            trial.number,
            trial.state.name,
            finished,
            self.max_trials,
            value,
            best_text,
            ", ".join(
                f"{k}={report.format_value(v)}"
                for k, v in study_lib.trial_hyperparameters(trial).items()
            ),
            elapsed,
            eta,
            f"; reason: {reason}" if reason else "",
        )

    # -- results ----------------------------------------------------------------------------------

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """Frozen ``HyperParameters`` of the best COMPLETE trials, best first."""
        return [
            HyperParameters.from_values(study_lib.trial_hyperparameters(t))
            for t in study_lib.best_trials(self.study, num_trials)
        ]

    def get_best_models(self, num_models: int = 1) -> list[keras.Model]:
        """The best trials' models, rebuilt and loaded with their best-epoch weights.

        Raises:
            FileNotFoundError: when a trial's weights are not in this project directory (a trial run by
                a worker on another machine keeps its weights there).
        """
        models = []
        for trial in study_lib.best_trials(self.study, num_models):
            path = self.weights_path(trial.number)
            if not os.path.exists(path):
                raise FileNotFoundError(
                    f"weights of trial {trial.number} not found at {path}; they are kept by the worker "
                    "that ran the trial"
                )
            hp = HyperParameters.from_values(study_lib.trial_hyperparameters(trial))
            model = self._build(hp)  # with its optimizer built: the weights file holds its state
            model.load_weights(path)
            models.append(model)
        return models

    def retrain_best(
        self,
        *fit_args: Any,
        epochs: int,
        patience: int = 10,
        **fit_kwargs: Any,
    ) -> tuple[keras.Model, keras.callbacks.History]:
        """The spec's next step: retrains the best configuration from scratch for longer.

        Early stopping watches the objective with ``patience`` epochs and restores the best epoch's
        weights. Arguments are passed to ``hypermodel.fit`` as in :meth:`search`.

        Returns:
            The retrained model and its history.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"retrain_best: `epochs` must be an int >= 1, but got {epochs!r}")
        best = self.get_best_hyperparameters(1)
        if not best:
            raise FatalError(f"study {self.study_name!r} has no COMPLETE trial to retrain")
        hp = best[0]
        keras.backend.clear_session()
        gc.collect()
        if self.seed is not None:
            # The best trial's own initialization (its first execution), now trained for longer.
            keras.utils.set_random_seed(training_seed(self.seed, hp.values, 0))
        model = self._build(hp)
        stopper = keras.callbacks.EarlyStopping(
            monitor=self.objective.name,
            mode=self.objective.direction,
            patience=patience,
            restore_best_weights=True,
        )
        fit_kwargs["callbacks"] = list(fit_kwargs.get("callbacks") or []) + [stopper]
        history = self.hypermodel.fit(hp, model, *fit_args, epochs=epochs, **fit_kwargs)
        return model, history

    def get_search_space(self) -> list[HyperParameter]:
        """The declared hyperparameters, found by declaring them on a recording ``HyperParameters``."""
        hp = HyperParameters()
        with self.distribution_strategy.scope():
            self.hypermodel.declare_hyperparameters(hp)
        keras.backend.clear_session()
        return hp.space

    def search_space_summary(self) -> None:
        """Prints the search space (KerasTuner format)."""
        print(report.format_search_space(self.get_search_space()))

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

    # -- internals --------------------------------------------------------------------------------

    def weights_path(self, trial_number: int) -> str:
        """Where a trial's best-epoch weights are kept."""
        return os.path.join(
            self.project_dir, "trials", f"trial_{trial_number:04d}", WEIGHTS_FILENAME
        )

    def _delete_previous_run(self) -> None:
        try:
            optuna.delete_study(study_name=self.study_name, storage=self._storage)
            logging.info("overwrite=True: deleted study %r", self.study_name)
        except KeyError:
            pass
        shutil.rmtree(os.path.join(self.project_dir, "trials"), ignore_errors=True)


def grid_from_hypermodel(hypermodel: HyperModel) -> dict[str, list[Any]]:
    """``{name: values}`` of every searched hyperparameter, for Optuna's ``GridSampler``.

    Raises:
        ValueError: for a continuous float (no ``step``).
    """
    hp = HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    keras.backend.clear_session()
    return {d.name: _grid_values(d) for d in hp.space if d.kind != "Fixed"}


def _grid_values(decl: HyperParameter) -> list[Any]:
    if decl.kind == "Int":
        return list(range(decl.min_value, decl.max_value + 1, decl.step))
    if decl.kind == "Float":
        if decl.step is None:
            raise ValueError(
                f"GridSearch: Float {decl.name!r} is continuous; give it a `step` to make it a grid"
            )
        n = int(math.floor((decl.max_value - decl.min_value) / decl.step + 1e-9)) + 1
        return [decl.min_value + i * decl.step for i in range(n)]
    if decl.kind in ("Choice", "Boolean"):
        return list(decl.values)
    return [decl.default]


def _with_sampler(
    sampler_name: str,
    hypermodel: Any,
    objective: str | Objective,
    max_trials: int,
    seed: int | None,
    **kwargs: Any,
) -> Tuner:
    return Tuner(
        hypermodel,
        objective,
        max_trials,
        sampler=study_lib.make_sampler(sampler_name, seed, n_trials=max_trials),
        seed=seed,
        **kwargs,
    )


def RandomSearch(  # noqa: N802
    hypermodel: Any,
    objective: str | Objective = "val_loss",
    max_trials: int = 10,
    seed: int | None = None,
    **kwargs: Any,
) -> Tuner:
    """KerasTuner's ``RandomSearch``: a :class:`Tuner` with Optuna's ``RandomSampler``."""
    return _with_sampler("random", hypermodel, objective, max_trials, seed, **kwargs)


def BayesianOptimization(  # noqa: N802
    hypermodel: Any,
    objective: str | Objective = "val_loss",
    max_trials: int = 10,
    seed: int | None = None,
    **kwargs: Any,
) -> Tuner:
    """KerasTuner's ``BayesianOptimization`` name, run by Optuna's TPE (a Bayesian optimizer over a
    tree-structured Parzen estimator, not KerasTuner's Gaussian process)."""
    return _with_sampler("tpe", hypermodel, objective, max_trials, seed, **kwargs)


def GridSearch(  # noqa: N802
    hypermodel: Any,
    objective: str | Objective = "val_loss",
    max_trials: int | None = None,
    seed: int | None = None,
    **kwargs: Any,
) -> Tuner:
    """KerasTuner's ``GridSearch``: every combination of the (discrete) space, by Optuna's ``GridSampler``.

    ``max_trials`` defaults to the size of the grid. Continuous floats need a ``step``.
    """
    hm = get_hypermodel(hypermodel)
    grid = grid_from_hypermodel(hm)
    size = int(np.prod([len(v) for v in grid.values()])) if grid else 1
    sampler = study_lib.make_sampler("grid", seed, search_space=grid)
    return Tuner(hm, objective, max_trials or size, sampler=sampler, seed=seed, **kwargs)


def Hyperband(  # noqa: N802
    hypermodel: Any,
    objective: str | Objective = "val_loss",
    max_epochs: int = 100,
    factor: int = 3,
    max_trials: int = 10,
    seed: int | None = None,
    **kwargs: Any,
) -> Tuner:
    """KerasTuner's ``Hyperband`` name: TPE sampling with Optuna's ``HyperbandPruner``.

    Pass ``epochs=max_epochs`` to ``search``: the pruner stops weak trials early.
    """
    pruner = optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=max_epochs, reduction_factor=factor
    )
    return _with_sampler("tpe", hypermodel, objective, max_trials, seed, pruner=pruner, **kwargs)
