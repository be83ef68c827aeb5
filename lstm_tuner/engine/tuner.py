"""``Tuner``: the search over Keras models built by a ``HyperModel`` (or ``build_model(hp)``).

Per trial and execution: a fresh, seeded Keras session -> ``hypermodel.build(hp)`` under the distribution
strategy's scope -> ``hypermodel.fit(hp, model, ...)`` with the user's callbacks (copied), TensorBoard
logs and an :class:`~lstm_tuner.engine.callbacks.EpochTracker` that keeps the best epoch -> the mean of the
executions' values goes to the study, and the best execution's best-epoch weights to the artifact
store, with the model's build config in the trial's attributes. Every way of getting a trial's model
back (``get_best_models``, ``load_model``, the export, the retraining) goes through :meth:`load_model`.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import optuna
import tensorflow as tf

from lstm_tuner.engine.base_tuner import BaseTuner
from lstm_tuner.engine.callbacks import (
    EpochTracker,
    TunerBatchHooks,
    TunerHooks,
    check_tensorboard_dir,
    copy_user_callbacks,
    objective_callbacks,
    tensorboard_callbacks,
    trial_log_dir,
)
from lstm_tuner.engine.hypermodel import HyperModel, get_hypermodel
from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.objective import MultiObjective, Objective, value_from_result
from lstm_tuner.engine.oracle import Oracle, Trial
from lstm_tuner.engine.results import format_search_space
from lstm_tuner.engine.search_space import ParamSpec
from lstm_tuner.engine.session import fresh_session, training_seed
from lstm_tuner.engine.strategy import check_strategy, get_strategy
from lstm_tuner.errors import FailedTrialError, FatalError
from lstm_tuner.rules import is_int, plain
from lstm_tuner.storage import artifacts
from lstm_tuner.timeseries.intervals import ConformalIntervals


class Tuner(BaseTuner):
    """Hyperparameter search over a ``HyperModel`` (or ``build_model(hp)``), run by an Optuna study.

    Args:
        hypermodel: A :class:`~lstm_tuner.HyperModel` or a callable ``build_model(hp)``; may be
            ``None`` in a subclass that overrides ``run_trial``.
        objective / max_trials / sampler / pruner / storage / study_name / directory / project_name /
            overwrite / hyperparameters / tune_new_entries / allow_new_entries / max_retries_per_trial
            / max_consecutive_failed_trials / heartbeat_interval_s / grace_period_s / max_retries /
            artifact_store: See :class:`~lstm_tuner.engine.base_tuner.BaseTuner`.
        seed: Seeds the default sampler and each trial's training. A trial's training seed is derived
            from ``seed`` and the trial's hyperparameter values (see
            :func:`lstm_tuner.engine.session.training_seed`), not from its number: the same hyperparameters
            train from the same initialization in any trial, and a retried trial repeats the original.
        distribution_strategy: A ``tf.distribute.Strategy`` or a name (see
            :func:`lstm_tuner.engine.strategy.get_strategy`); default chosen from the devices.
        executions_per_trial: Models trained per trial; the trial's value is their mean.
        tensorboard_dir: Write TensorBoard logs here, per trial ``trial_NNNN/`` (Keras's scalars and
            the HParams plugin's session). Skipped with one warning when ``tensorboard`` is missing.
        optimizer / loss / metrics: Compile every model with these (KerasTuner's arguments, for a
            hypermodel that does not compile its models).
        max_model_size: Fail a trial whose model has more parameters than this.
        progress: Show each model's training as it runs (see :mod:`lstm_tuner.engine.progress`): a live
            line on a terminal, one log line per epoch otherwise; off when Keras's own ``verbose``
            output is on.
    """

    def __init__(
        self,
        hypermodel: HyperModel | Callable[[HyperParameters], Any] | Oracle | None = None,
        objective: str | Objective | None = "val_loss",
        max_trials: int | None = 10,
        *,
        distribution_strategy: str | tf.distribute.Strategy | None = None,
        executions_per_trial: int = 1,
        tensorboard_dir: str | None = None,
        optimizer: Any = None,
        loss: Any = None,
        metrics: Any = None,
        max_model_size: int | None = None,
        progress: bool = False,
        **kwargs: Any,
    ) -> None:
        if not is_int(executions_per_trial) or executions_per_trial < 1:
            raise ValueError(
                f"Tuner: `executions_per_trial` must be an int >= 1, but got {executions_per_trial!r}"
            )
        if isinstance(hypermodel, Oracle):  # KerasTuner's Tuner(oracle, hypermodel=...) order
            kwargs["oracle"], hypermodel = hypermodel, kwargs.pop("hypermodel", None)
        self.hypermodel = None if hypermodel is None else get_hypermodel(hypermodel)
        self._strategy_setting = check_strategy(distribution_strategy)
        super().__init__(objective, max_trials, **kwargs)
        self.executions_per_trial = executions_per_trial
        self._compile_overrides = {
            k: v for k, v in (("optimizer", optimizer), ("loss", loss), ("metrics", metrics)) if v
        }
        self.max_model_size = max_model_size
        self.progress = progress
        # None (after one warning) when the tensorboard package is missing: the search goes on.
        self.tensorboard_dir = check_tensorboard_dir(tensorboard_dir)

    @functools.cached_property
    def distribution_strategy(self) -> tf.distribute.Strategy:
        """The ``tf.distribute`` strategy, chosen on first use.

        Choosing it lists the devices, which starts TensorFlow's runtime and reserves nearly all the
        memory of every visible GPU: a process that only creates the study (the parent of
        ``--workers``, whose workers each take one of those GPUs) must not do that.
        """
        return get_strategy(self._strategy_setting)

    def _declared_space(self, oracle: Oracle) -> list[ParamSpec]:
        if self.hypermodel is None or not hasattr(oracle, "grid_size"):
            return super()._declared_space(oracle)
        hp = HyperParameters(
            declared=oracle.hyperparameters.space if oracle.hyperparameters is not None else ()
        )
        self.hypermodel.declare_hyperparameters(hp)
        fresh_session()
        return hp.space

    # -- one trial --------------------------------------------------------------------------------

    def _build(self, hp: HyperParameters) -> keras.Model:
        """``hypermodel.build(hp)`` under the strategy's scope, compiled, with its optimizer built.

        Outside a ``tf.distribute`` scope of its own, Keras defers building the optimizer to the
        first trace of the train step; its variables are then created inside the ``tf.function``,
        which makes TensorFlow trace the step twice. Built here, eagerly, the first epoch of a trial
        traced in 1.3 s instead of 3.0 s (a 32x2 LSTM). A model built on its first call (no input
        shape) is left to Keras: its variables are not known yet.
        """
        if self.hypermodel is None:
            raise FatalError(
                f"{type(self).__name__} has no hypermodel: pass one, or override run_trial"
            )
        with self.distribution_strategy.scope():
            model = self.hypermodel.build(hp)
            if not isinstance(model, keras.Model):
                raise FatalError(
                    f"hypermodel.build(hp) must return a keras.Model, got {type(model).__name__}"
                )
            if self._compile_overrides:
                overrides = dict(self._compile_overrides)
                if "optimizer" in overrides and not isinstance(overrides["optimizer"], str):
                    # A fresh copy per model, as KerasTuner makes: an optimizer instance holds
                    # the variables and step count of the model it last trained.
                    overrides["optimizer"] = keras.optimizers.deserialize(
                        keras.optimizers.serialize(overrides["optimizer"])
                    )
                model.compile(
                    **{
                        "optimizer": getattr(model, "optimizer", None) or "adam",
                        "loss": getattr(model, "loss", None),
                        **overrides,
                    }
                )
            _build_optimizer(model)
        if self.max_model_size and model.built and model.count_params() > self.max_model_size:
            raise FailedTrialError(
                f"model has {model.count_params()} parameters, more than "
                f"max_model_size={self.max_model_size}"
            )
        return model

    def _seeded_build(self, hp: HyperParameters, execution: int) -> keras.Model:
        fresh_session()
        if self.seed is not None:
            if not execution and not hp.frozen:
                # The values are drawn while the model is built, and the weights are initialized
                # then too: a first build draws them, the model built after seeding is the one
                # trained. A build takes milliseconds against seconds of tracing.
                with self.distribution_strategy.scope():
                    self.hypermodel.build(hp)
                fresh_session(collect=False)  # the session just cleared holds one unused model
            keras.utils.set_random_seed(training_seed(self.seed, hp.values, execution))
        return self._build(hp)

    def train_execution(
        self,
        hp: HyperParameters,
        execution: int,
        fit_args: Sequence[Any],
        fit_kwargs: dict[str, Any],
        *,
        trial: Trial | None = None,
        callbacks: Sequence[keras.callbacks.Callback] | None = None,
    ) -> tuple[float, keras.Model, EpochTracker]:
        """Builds, seeds and trains one model; returns its value, the model at its best epoch and
        the tracker (best epoch, epochs run, history).

        Args:
            hp: The hyperparameters.
            execution: Which execution of these values (it picks the training seed).
            fit_args / fit_kwargs: For ``hypermodel.fit``.
            trial: The running trial, for the pruner and the logs; ``None`` outside a search.
            callbacks: The user's callbacks (copied for this execution).

        Raises:
            FailedTrialError: for a non-finite loss or when no objective value can be read.
        """
        model = self._seeded_build(hp, execution)
        optuna_trial = trial.optuna_trial if trial is not None else None
        tracker = EpochTracker(
            self.objective,
            optuna_trial,
            report_to_pruner=self.executions_per_trial == 1 and trial is not None,
        )
        copies: list[keras.callbacks.Callback] = []
        if trial is not None:
            copies = copy_user_callbacks(
                callbacks, trial.trial_id, execution, hp.values, self.objective
            )
            if self.tensorboard_dir is not None:
                log_dir = trial_log_dir(
                    self.tensorboard_dir,
                    f"trial_{trial.number:04d}",
                    execution,
                    self.executions_per_trial,
                )
                copies += tensorboard_callbacks(log_dir, trial.trial_id, hp.values, self.objective)
        shown = []
        if self.progress and not fit_kwargs.get("verbose") and self._progress is not None:
            number = trial.number if trial is not None else "re-run"
            shown = [self._progress.trial_callback(number)]
        hooks = self._hook_callbacks(trial) if trial is not None else []
        fit_callbacks = [*objective_callbacks(self.objective), *copies, *hooks, tracker, *shown]
        result = self.hypermodel.fit(hp, model, *fit_args, callbacks=fit_callbacks, **fit_kwargs)
        if tracker.non_finite:
            raise FailedTrialError(tracker.non_finite)
        if tracker.best_value is not None:
            value = tracker.best_value  # the epoch whose weights are kept
            model.set_weights(tracker.best_weights)
        else:
            try:  # a custom fit that returns its value (a float, a dict) without logging it
                value, _ = value_from_result(result, self.objective)
            except FatalError:
                if tracker.history:
                    raise FatalError(tracker.missing_objective()) from None
                raise
        if not np.isfinite(value):
            raise FailedTrialError(f"non-finite value of {self.objective.name}: {value}")
        return float(value), model, tracker

    def _hook_callbacks(self, trial: Trial) -> list[keras.callbacks.Callback]:
        """KerasTuner's epoch and batch hooks, as callbacks, for those a subclass overrides."""
        overridden = {
            name
            for name in ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end")
            if getattr(type(self), name) is not getattr(BaseTuner, name)
        }
        if overridden & {"on_batch_begin", "on_batch_end"}:
            return [TunerBatchHooks(self, trial)]
        return [TunerHooks(self, trial)] if overridden else []

    def run_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> float:
        """Trains ``executions_per_trial`` models for one trial and returns the mean of their values.

        Uploads the best execution's best-epoch weights to the artifact store.

        Raises:
            FailedTrialError: for a non-finite loss or when no objective value can be read.
        """
        hp = trial.hyperparameters
        user_callbacks = fit_kwargs.pop("callbacks", None)
        values: list[float] = []
        best: tuple[float, keras.Model, EpochTracker] | None = None
        for execution in range(self.executions_per_trial):
            value, model, tracker = self.train_execution(
                hp, execution, fit_args, fit_kwargs, trial=trial, callbacks=user_callbacks
            )
            values.append(value)
            if best is None or self.objective.is_better(value, best[0]):
                best = (value, model, tracker)
        _, model, tracker = best
        optuna_trial = trial.optuna_trial
        if tracker.best_epoch is not None:
            optuna_trial.set_user_attr("best_epoch", tracker.best_epoch)
        optuna_trial.set_user_attr("epochs_run", tracker.epochs_run)
        if tracker.steps_per_epoch is not None:
            optuna_trial.set_user_attr("steps_per_epoch", int(tracker.steps_per_epoch))
        optuna_trial.set_user_attr("history", tracker.history)
        if isinstance(self.objective, MultiObjective) and tracker.best_epoch is not None:
            parts = self.objective.parts(tracker.history[tracker.best_epoch - 1])
            optuna_trial.set_user_attr("objective_parts", parts)
        if model.built:
            optuna_trial.set_user_attr("build_config", plain(model.get_build_config()))
        artifacts.upload_weights(self.artifacts, optuna_trial, model)
        return float(np.mean(values))

    # -- results ----------------------------------------------------------------------------------

    def load_model(self, trial: Trial | optuna.trial.FrozenTrial | int) -> keras.Model:
        """A trial's model, rebuilt from its hyperparameters and build config, with its best-epoch
        weights from the artifact store (on any machine that opens the study).

        Raises:
            FileNotFoundError: the trial has no weights (it did not complete).
        """
        if isinstance(trial, int):  # a trial number: one trial read, not the whole study
            storage = self._storage
            frozen = storage.get_trial(
                storage.get_trial_id_from_study_id_trial_number(self.study._study_id, trial)
            )
        else:
            frozen = trial.optuna_trial if isinstance(trial, Trial) else trial
        hp = HyperParameters.from_trial(frozen)
        model = self._build(hp)
        build_config = frozen.user_attrs.get("build_config")
        if not model.built and build_config:
            with self.distribution_strategy.scope():
                model.build_from_config(build_config)
                _build_optimizer(model)
        with tempfile.TemporaryDirectory() as tmp:
            path = artifacts.download_weights(self.artifacts, frozen, self._storage, tmp)
            model.load_weights(path)
        return model

    def save_model(self, trial_id: str, model: keras.Model, step: int = 0) -> None:
        """Uploads ``model``'s weights as the running trial's (what :meth:`load_model` and
        :meth:`get_best_models` load), for a custom ``run_trial`` that trains its own model.

        Raises:
            ValueError: ``trial_id`` is not the running trial of this process.
        """
        running = self._running
        if running is None or str(trial_id) not in (running.trial_id, str(running.number)):
            raise ValueError(
                f"save_model({trial_id!r}): only the running trial's model can be saved "
                f"(running: {None if running is None else running.trial_id!r})"
            )
        if model.built:
            running.optuna_trial.set_user_attr("build_config", plain(model.get_build_config()))
        artifacts.upload_weights(self.artifacts, running.optuna_trial, model)

    def retrain_best(
        self,
        *fit_args: Any,
        epochs: int,
        patience: int | None = 10,
        hyperparameters: HyperParameters | None = None,
        execution: int = 0,
        **fit_kwargs: Any,
    ) -> tuple[keras.Model, keras.callbacks.History]:
        """The spec's next step: retrains the best configuration from scratch for longer.

        Early stopping watches the objective with ``patience`` epochs and restores the best epoch's
        weights; ``patience=None`` trains exactly ``epochs`` epochs (a refit on all the data, for an
        epoch count found before). Arguments are passed to ``hypermodel.fit`` as in :meth:`search`.

        Args:
            hyperparameters: The configuration to retrain (default: the best trial's).
            execution: Whose initialization: 0 is the best trial's own (its first execution),
                ``i`` that of the trial's ``i``-th execution seed.

        Returns:
            The retrained model and its history.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"retrain_best: `epochs` must be an int >= 1, but got {epochs!r}")
        best = (
            [hyperparameters] if hyperparameters is not None else self.get_best_hyperparameters(1)
        )
        if not best:
            raise FatalError(f"study {self.study_name!r} has no COMPLETE trial to retrain")
        hp = best[0]
        # The best trial's own initialization (its first execution), now trained for longer.
        model = self._seeded_build(hp, execution)
        callbacks = list(fit_kwargs.get("callbacks") or [])
        if patience is not None:
            stopper = keras.callbacks.EarlyStopping(
                monitor=self.objective.name,
                mode=self.objective.direction,
                patience=patience,
                restore_best_weights=True,
            )
            callbacks = [*objective_callbacks(self.objective), *callbacks, stopper]
        fit_kwargs["callbacks"] = callbacks
        history = self.hypermodel.fit(hp, model, *fit_args, epochs=epochs, **fit_kwargs)
        return model, history

    def calibrate_intervals(
        self,
        x: Any,
        y: Any = None,
        *,
        levels: Sequence[float] = (80, 95),
        scale: str = "additive",
        model: keras.Model | None = None,
    ) -> ConformalIntervals:
        """Prediction intervals for the best model (or ``model``) by split conformal prediction
        per step ahead, calibrated on windows it was not trained on (:mod:`lstm_tuner.timeseries.intervals`).

        Use them as ``intervals.predict(model, x_new)``: the forecast and each level's
        ``lower_<level>`` / ``upper_<level>``, in the units of ``y``. The windows chose the model
        when they are the search's validation data, which makes the bands a little narrow; windows
        after them, not used in the search, avoid that.

        Args:
            x / y: The calibration windows' inputs and targets (numpy), or as ``x`` alone a
                :class:`~lstm_tuner.timeseries.windows.Windows` or a ``tf.data.Dataset`` of
                ``(inputs, targets)`` batches.
            levels: Percentages in (0, 100); a level with too few windows is left out
                (``intervals.dropped`` says why).
            scale: ``"additive"`` (forecast +- q) or ``"relative"`` (forecast +- q * |forecast|).
            model: The model (default: the best trial's).
        """
        if y is None:
            if hasattr(x, "arrays"):
                x, y = x.arrays()
            elif isinstance(x, tf.data.Dataset):
                batches = [(np.asarray(a), np.asarray(b)) for a, b in x.as_numpy_iterator()]
                x = np.concatenate([a for a, _ in batches])
                y = np.concatenate([b for _, b in batches])
            else:
                raise ValueError(
                    "calibrate_intervals: give `x` and `y`, or `x` as Windows or a tf.data.Dataset "
                    f"of (inputs, targets), got {type(x).__name__} and no `y`"
                )
        if model is None:
            best = self.get_best_models(1)
            if not best:
                raise FatalError(f"study {self.study_name!r} has no COMPLETE trial to calibrate")
            model = best[0]
        predicted = model.predict(x, verbose=0)
        return ConformalIntervals.calibrate(predicted, y, levels, scale)

    def get_search_space(self) -> list[ParamSpec]:
        """The declared hyperparameters, found by declaring them on a recording ``HyperParameters``."""
        hp = HyperParameters(
            declared=self.hyperparameters.space if self.hyperparameters is not None else (),
            tune_new_entries=self.tune_new_entries,
            allow_new_entries=self.allow_new_entries,
        )
        if self.hypermodel is not None:
            with self.distribution_strategy.scope():
                self.hypermodel.declare_hyperparameters(hp)
            fresh_session()
        if self.tune_new_entries or self.hyperparameters is None:
            return hp.space
        declared = {spec.name for spec in self.hyperparameters.space}
        return [spec for spec in hp.space if spec.name in declared]

    def search_space_summary(self) -> None:
        """Prints the search space (KerasTuner format)."""
        print(format_search_space(self.get_search_space()))


def _build_optimizer(model: keras.Model) -> None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built and model.built and model.trainable_variables:
        optimizer.build(model.trainable_variables)
