"""The Keras callbacks of a trial: the epoch tracker, TensorBoard and HParams logs, the user's own.

- :class:`EpochTracker` reads the objective after each epoch: the best value and its weights, a
  non-finite loss (which fails the trial), the pruner's verdict.
- :func:`tensorboard_callbacks` writes a trial's logs as KerasTuner does: Keras's ``TensorBoard``
  callback and the HParams plugin's ``KerasCallback`` in the trial's own directory; the plugin infers
  each hyperparameter's domain from the trials it finds, so nothing reads the whole study.
- :func:`copy_user_callbacks` gives each trial its own deep copy of the callbacks passed to
  ``search`` (an ``EarlyStopping`` must not carry its state into the next trial) and points a
  ``TensorBoard`` callback at a directory of the trial, as KerasTuner does.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import optuna
from absl import logging

from lstm_tuner.engine.objective import MultiObjective, Objective
from lstm_tuner.errors import FatalValueError


class ObjectiveLogs(keras.callbacks.Callback):
    """Adds a :class:`MultiObjective`'s value to each epoch's logs under its name, before the
    callbacks after it (early stopping, the tracker, ``History``) read them."""

    def __init__(self, objective: MultiObjective) -> None:
        super().__init__()
        self.objective = objective

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            value = self.objective.value_in(logs)
            if value is not None:
                logs[self.objective.name] = value


def objective_callbacks(objective: Objective) -> list[keras.callbacks.Callback]:
    """The callbacks that put the objective into the logs (none for a logged metric)."""
    return [ObjectiveLogs(objective)] if isinstance(objective, MultiObjective) else []


class TunerHooks(keras.callbacks.Callback):
    """KerasTuner's ``TunerCallback``: calls the tuner's ``on_epoch_begin/end`` (and, in
    :class:`TunerBatchHooks`, ``on_batch_begin/end``) with the trial and the model."""

    def __init__(self, tuner: Any, trial: Any) -> None:
        super().__init__()
        self.tuner, self.trial = tuner, trial

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.tuner.on_epoch_begin(self.trial, self.model, epoch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.tuner.on_epoch_end(self.trial, self.model, epoch, logs=logs)


class TunerBatchHooks(TunerHooks):
    """:class:`TunerHooks` with the per-batch hooks too (installed only when a tuner overrides
    them: a Python call per batch costs time)."""

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.tuner.on_batch_begin(self.trial, self.model, batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.tuner.on_batch_end(self.trial, self.model, batch, logs)


class EpochTracker(keras.callbacks.Callback):
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
        self.steps_per_epoch: int | None = None
        self.history: list[dict[str, float]] = []
        self.non_finite: str | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.steps_per_epoch = (self.params or {}).get("steps")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        self.epochs_run = epoch + 1
        self.history.append(logs)
        bad = [k for k in ("loss", self.objective.name) if k in logs and not math.isfinite(logs[k])]
        if bad:
            self.non_finite = f"non-finite {bad[0]} ({logs[bad[0]]}) at epoch {epoch + 1}"
            self.model.stop_training = True
            return
        if self.objective.name not in logs:
            return  # fit may still return the value (a custom loop's float): the tuner reads it
        value = logs[self.objective.name]
        if self.best_value is None or self.objective.is_better(value, self.best_value):
            self.best_value, self.best_epoch = value, epoch + 1
            self.best_weights = self.model.get_weights()
        if self.report_to_pruner and self.trial is not None:
            self.trial.report(value, epoch)
            if self.trial.should_prune():
                raise optuna.TrialPruned(
                    f"pruned at epoch {epoch + 1} with {self.objective.name}={value:.6g}"
                )

    def missing_objective(self) -> str:
        """Why no value could be read, naming the metrics that were logged."""
        logged = sorted(self.history[-1]) if self.history else []
        return (
            f"objective {self.objective.name!r} is not among the metrics that fit logs {logged}; "
            "pass validation data for 'val_*' objectives or choose one of those"
        )


def tensorboard_available() -> bool:
    """Whether the ``tensorboard`` package (and its HParams plugin) can be imported."""
    try:
        import tensorboard.plugins.hparams.api  # noqa: F401
    except ImportError:
        return False
    return True


def check_tensorboard_dir(log_dir: str | os.PathLike | None) -> str | None:
    """The absolute TensorBoard directory to log to, or ``None`` when there is none to use.

    Logs one warning (and returns ``None``) when a directory is asked for but the ``tensorboard``
    package is not installed (TensorFlow 2.21 no longer installs it); the search runs without logs.
    """
    if log_dir is None:
        return None
    if not tensorboard_available():
        logging.warning(
            "TensorBoard logs skipped: the tensorboard package is not installed (TensorFlow 2.21 no "
            "longer installs it); install it with pip install 'lstm_tuner[plots]'"
        )
        return None
    return os.path.abspath(os.fspath(log_dir))


def trial_log_dir(root: str, trial_id: str, execution: int = 0, executions: int = 1) -> str:
    """``<root>/trial_0007`` (``.../trial_0007/execution_1`` with several executions)."""
    path = os.path.join(root, trial_id)
    return os.path.join(path, f"execution_{execution}") if executions > 1 else path


def _hparam_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (bool, int, float, str)) else str(value)


class _BestObjective(keras.callbacks.Callback):
    """Writes the objective's best value so far each epoch: the HParams table then shows the
    trial's value (its best epoch), not the last epoch's loss."""

    def __init__(self, log_dir: str, objective: Objective) -> None:
        super().__init__()
        self._log_dir, self._objective = log_dir, objective
        self._best: float | None = None
        self._writer: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(self._log_dir)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        import tensorflow as tf

        value = (logs or {}).get(self._objective.name)
        if value is None or np.ndim(value) != 0 or not math.isfinite(float(value)):
            return
        if self._best is None or self._objective.is_better(float(value), self._best):
            self._best = float(value)
        with self._writer.as_default():
            tf.summary.scalar(self._objective.name, self._best, step=epoch)
        self._writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._writer.close()


def tensorboard_callbacks(
    log_dir: str, trial_id: str, values: Mapping[str, Any], objective: Objective
) -> list[keras.callbacks.Callback]:
    """Keras's ``TensorBoard`` scalars, the HParams plugin's session and the best objective so far.

    Args:
        log_dir: The trial's directory (see :func:`trial_log_dir`).
        trial_id: Groups the trial's session in the HParams table.
        values: The trial's hyperparameter values.
        objective: The search's objective.
    """
    from tensorboard.plugins.hparams import api as hp_api

    hparams = {name: _hparam_value(v) for name, v in values.items() if v is not None}
    return [
        keras.callbacks.TensorBoard(log_dir=log_dir, write_graph=False, profile_batch=0),
        hp_api.KerasCallback(log_dir, hparams, trial_id=trial_id),
        _BestObjective(log_dir, objective),
    ]


def copy_user_callbacks(
    callbacks: Sequence[keras.callbacks.Callback] | None,
    trial_id: str,
    execution: int,
    values: Mapping[str, Any],
    objective: Objective,
) -> list[keras.callbacks.Callback]:
    """Deep copies of the callbacks passed to ``search``, one set per execution of a trial.

    A ``TensorBoard`` callback logs to ``<its log_dir>/<trial_id>/execution<k>`` (KerasTuner's
    layout), with the HParams plugin's session next to it.

    Raises:
        FatalError: a callback cannot be deep-copied.
    """
    out: list[keras.callbacks.Callback] = []
    for callback in callbacks or ():
        try:
            clone = copy.deepcopy(callback)
        except Exception as e:  # noqa: BLE001 - anything deepcopy raises means the same
            raise FatalValueError(
                f"callbacks passed to search are copied for each trial, but "
                f"{type(callback).__name__} cannot be deep-copied ({e}); pass a fresh one"
            ) from None
        out.append(clone)
        if isinstance(clone, keras.callbacks.TensorBoard) and tensorboard_available():
            from tensorboard.plugins.hparams import api as hp_api

            clone.log_dir = os.path.join(str(clone.log_dir), trial_id, f"execution{execution}")
            hparams = {name: _hparam_value(v) for name, v in values.items() if v is not None}
            out.append(hp_api.KerasCallback(clone.log_dir, hparams, trial_id=trial_id))
    return out
