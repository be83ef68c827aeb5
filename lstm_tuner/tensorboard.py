"""TensorBoard logs of a search: Keras's per-epoch scalars and the HParams plugin's summaries.

Layout under a tuner's ``tensorboard_dir`` (``runs/<study>/tensorboard`` from the command line)::

    events.out.tfevents.*            the experiment: every hyperparameter with its domain, the metrics
    trial_0000/events.out.tfevents.* the trial's hyperparameter values, its best objective so far
    trial_0000/train/, validation/   Keras's per-epoch scalars (``epoch_loss``, ...)

so that ``tensorboard --logdir runs/<study>/tensorboard`` shows the HPARAMS tab (table, parallel coordinates
and scatter plots) next to the loss curves. Domains come from the Optuna distributions of all the study's
trials (their union, so trials of an edited space still fit in).

TensorFlow 2.21 no longer installs the ``tensorboard`` package (it is in the ``lstm_tuner[plots]`` extra).
Without it :func:`check_log_dir` logs one warning and returns ``None``, and the tuner writes no logs.
"""

from __future__ import annotations

import glob
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import keras
import numpy as np
import optuna
import tensorflow as tf
from absl import logging
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from lstm_tuner.objective import Objective
from lstm_tuner.study import trial_hyperparameters

#: A domain as plain data: ``("int", low, high)``, ``("real", low, high)`` or ``("discrete", values)``;
#: ``("none",)`` for a hyperparameter whose values fit no single domain.
DomainSpec = tuple


def is_available() -> bool:
    """Whether the ``tensorboard`` package (and its HParams plugin) can be imported."""
    try:
        import tensorboard.plugins.hparams.api  # noqa: F401
    except ImportError:
        return False
    return True


def check_log_dir(log_dir: str | os.PathLike | None) -> str | None:
    """The absolute TensorBoard directory to log to, or ``None`` when there is none to use.

    Logs one warning (and returns ``None``) when a directory is asked for but the ``tensorboard``
    package is not installed; the search then runs without TensorBoard logs.
    """
    if log_dir is None:
        return None
    if not is_available():
        logging.warning(
            "TensorBoard logs skipped: the tensorboard package is not installed (TensorFlow 2.21 no "
            "longer installs it); install it with pip install 'lstm_tuner[plots]'"
        )
        return None
    return os.path.abspath(os.fspath(log_dir))


def trial_log_dir(
    tensorboard_dir: str, trial_number: int, execution: int = 0, executions: int = 1
) -> str:
    """``<tensorboard_dir>/trial_0007`` (``.../trial_0007/execution_1`` with several executions)."""
    path = os.path.join(tensorboard_dir, f"trial_{trial_number:04d}")
    if executions > 1:
        path = os.path.join(path, f"execution_{execution}")
    return path


# -- domains -----------------------------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _spec_of(dist: BaseDistribution) -> DomainSpec:
    if isinstance(dist, IntDistribution):
        return ("int", int(dist.low), int(dist.high))
    if isinstance(dist, FloatDistribution):
        return ("real", float(dist.low), float(dist.high))
    if isinstance(dist, CategoricalDistribution):
        return ("discrete", list(dist.choices))
    return ("none",)


def _merge(a: DomainSpec, b: DomainSpec) -> DomainSpec:
    if a[0] == "none" or b[0] == "none":
        return ("none",)
    if a[0] == "discrete" and b[0] == "discrete":
        values = list(a[1])
        values += [v for v in b[1] if v not in values]
        return ("discrete", values)
    # At least one interval: widen it to cover the other side (discrete values must then be numbers).
    lows, highs, kinds = [], [], set()
    for spec in (a, b):
        if spec[0] == "discrete":
            if not all(_is_number(v) for v in spec[1]):
                return ("none",)
            lows.append(min(float(v) for v in spec[1]))
            highs.append(max(float(v) for v in spec[1]))
            kinds.add("real" if any(isinstance(v, float) for v in spec[1]) else "int")
        else:
            lows.append(spec[1])
            highs.append(spec[2])
            kinds.add(spec[0])
    if kinds == {"int"}:
        return ("int", int(min(lows)), int(max(highs)))
    return ("real", float(min(lows)), float(max(highs)))


def domain_specs(
    trials: Iterable[tuple[Mapping[str, BaseDistribution], Mapping[str, Any]]],
) -> dict[str, DomainSpec]:
    """The domain of every hyperparameter over several trials: the union of their distributions.

    Args:
        trials: ``(distributions, values)`` per trial; a value without a distribution (a ``Fixed``
            hyperparameter) contributes a one-value discrete domain.

    Returns:
        ``{name: spec}`` in first-seen order; see :data:`DomainSpec`.
    """
    specs: dict[str, DomainSpec] = {}
    for distributions, values in trials:
        for name, dist in distributions.items():
            spec = _spec_of(dist)
            specs[name] = spec if name not in specs else _merge(specs[name], spec)
        for name, value in values.items():
            if name in distributions or value is None:
                continue
            spec = ("discrete", [value])
            specs[name] = spec if name not in specs else _merge(specs[name], spec)
    return specs


def _discrete_dtype(values: list[Any]) -> type:
    if values and all(isinstance(v, bool) for v in values):
        return bool
    if values and all(_is_number(v) for v in values):
        return int if all(isinstance(v, (int, np.integer)) for v in values) else float
    return str


def _convert(value: Any, dtype: type) -> Any:
    if dtype is str:
        return str(value)
    if dtype is bool:
        return bool(value)
    return dtype(value)


def session_values(values: Mapping[str, Any], specs: Mapping[str, DomainSpec]) -> dict[str, Any]:
    """A trial's hyperparameter values in the types their domains declare (``None`` values dropped)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        spec = specs.get(name, ("none",))
        if spec[0] == "discrete":
            out[name] = _convert(value, _discrete_dtype(spec[1]))
        elif spec[0] == "int" and _is_number(value) and float(value).is_integer():
            out[name] = int(value)
        elif spec[0] == "real" and _is_number(value):
            out[name] = float(value)
        elif isinstance(value, (bool, str)) or _is_number(value):
            out[name] = value.item() if isinstance(value, np.generic) else value
        else:
            out[name] = str(value)
    return out


def _hparam(name: str, spec: DomainSpec) -> Any:
    from tensorboard.plugins.hparams import api as hp_api

    if spec[0] == "int":
        return hp_api.HParam(name, hp_api.IntInterval(spec[1], spec[2]))
    if spec[0] == "real":
        return hp_api.HParam(name, hp_api.RealInterval(spec[1], spec[2]))
    if spec[0] == "discrete":
        dtype = _discrete_dtype(spec[1])
        values = sorted({_convert(v, dtype) for v in spec[1]})
        return hp_api.HParam(name, hp_api.Discrete(values, dtype=dtype))
    return hp_api.HParam(name)


def metrics(objective_name: str) -> list[Any]:
    """The HParams metrics: the trial's objective (best epoch so far) and Keras's per-epoch losses."""
    from tensorboard.plugins.hparams import api as hp_api

    return [
        hp_api.Metric(objective_name, display_name=f"{objective_name} (best epoch)"),
        hp_api.Metric("epoch_loss", group="validation", display_name="val_loss (last epoch)"),
        hp_api.Metric("epoch_loss", group="train", display_name="loss (last epoch)"),
    ]


def write_experiment(
    tensorboard_dir: str, specs: Mapping[str, DomainSpec], objective_name: str
) -> str:
    """Writes the experiment summary (every hyperparameter with its domain, and the metrics).

    The HParams plugin reads one experiment summary per log directory, so the previous one (the
    directory's own top-level event files) is replaced.

    Returns:
        The event file written.
    """
    from tensorboard.plugins.hparams import api as hp_api

    os.makedirs(tensorboard_dir, exist_ok=True)
    old = set(glob.glob(os.path.join(tensorboard_dir, "events.out.tfevents.*")))
    writer = tf.summary.create_file_writer(tensorboard_dir)
    with writer.as_default():
        hp_api.hparams_config(
            hparams=[_hparam(name, spec) for name, spec in specs.items()],
            metrics=metrics(objective_name),
        )
    writer.close()
    new = set(glob.glob(os.path.join(tensorboard_dir, "events.out.tfevents.*"))) - old
    for path in old:
        try:
            os.remove(path)
        except OSError:  # another worker removed it first
            pass
    return sorted(new)[-1] if new else ""


# -- the per-trial callbacks -----------------------------------------------------------------------------


class HParamsCallback(keras.callbacks.Callback):
    """Writes a trial's HParams summaries: the experiment's domains, the trial's values, its objective.

    At the start of training (when the hypermodel has declared every hyperparameter) it rewrites the
    experiment summary in ``tensorboard_dir`` with the domains of all the study's trials and writes the
    trial's values to ``log_dir``; after each epoch it writes the best objective so far, so a pruned or
    interrupted trial still has its value in the HParams table.

    Args:
        tensorboard_dir: The search's TensorBoard directory.
        log_dir: This trial's directory (see :func:`trial_log_dir`).
        trial: The Optuna trial (its study and distributions are read).
        values: The trial's hyperparameter values, read at the start of training (e.g.
            ``HyperParameters.values``, passed as a callable or a mapping).
        objective: The objective whose best value is logged.
    """

    def __init__(
        self,
        tensorboard_dir: str,
        log_dir: str,
        trial: optuna.trial.BaseTrial,
        values: Any,
        objective: Objective,
    ) -> None:
        super().__init__()
        self.tensorboard_dir = tensorboard_dir
        self.log_dir = log_dir
        self.trial = trial
        self._values = values
        self.objective = objective
        self.best_value: float | None = None
        self._writer: Any = None

    def _current_values(self) -> dict[str, Any]:
        values = self._values() if callable(self._values) else self._values
        return dict(values)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        from tensorboard.plugins.hparams import api as hp_api

        values = self._current_values()
        trials: list[tuple[Mapping[str, BaseDistribution], Mapping[str, Any]]] = []
        study = getattr(self.trial, "study", None)
        number = getattr(self.trial, "number", 0)
        if study is not None:
            for t in study.get_trials(deepcopy=False):
                if t.number != number:
                    trials.append((t.distributions, trial_hyperparameters(t)))
        trials.append((self.trial.distributions, values))
        specs = domain_specs(trials)
        write_experiment(self.tensorboard_dir, specs, self.objective.name)
        self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            hp_api.hparams(session_values(values, specs), trial_id=f"trial_{number:04d}")
        self._writer.flush()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self.objective.name)
        if self._writer is None or value is None or np.ndim(value) != 0:
            return
        value = float(value)
        if not math.isfinite(value):
            return
        if self.best_value is None or self.objective.is_better(value, self.best_value):
            self.best_value = value
        with self._writer.as_default():
            tf.summary.scalar(self.objective.name, self.best_value, step=epoch)
        self._writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def trial_callbacks(
    tensorboard_dir: str,
    trial: optuna.trial.BaseTrial,
    values: Any,
    objective: Objective,
    execution: int = 0,
    executions: int = 1,
) -> list[keras.callbacks.Callback]:
    """Keras's ``TensorBoard`` callback and the HParams writer for one execution of a trial.

    Args:
        tensorboard_dir: From :func:`check_log_dir` (so the package is known to be installed).
        trial: The running trial.
        values: The trial's hyperparameter values, or a callable returning them.
        objective: The search's objective.
        execution: Which execution of the trial this is.
        executions: Executions per trial.
    """
    log_dir = trial_log_dir(tensorboard_dir, getattr(trial, "number", 0), execution, executions)
    return [
        keras.callbacks.TensorBoard(log_dir=log_dir, write_graph=False, profile_batch=0),
        HParamsCallback(tensorboard_dir, log_dir, trial, values, objective),
    ]
