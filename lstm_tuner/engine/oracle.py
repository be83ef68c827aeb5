"""KerasTuner's ``Trial`` and ``oracle`` names, as read-only views over the Optuna study.

Code written for KerasTuner reads ``tuner.oracle.get_best_trials(n)`` and ``tuner.oracle.trials`` and,
on each trial, ``trial_id``, ``hyperparameters.values``, ``score``, ``status``, ``best_step`` and
``metrics``. Here the Optuna storage is the only state: every view is computed from it when asked, so
it sees the trials of every worker. The oracle's own methods for driving a search (``create_trial``,
``update_trial``, ``end_trial``) belong to Optuna's study and are not offered.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.objective import Objective, get_objective
from lstm_tuner.storage import study as study_lib

#: KerasTuner's ``TrialStatus`` strings for Optuna's states.
STATUS = {
    TrialState.RUNNING: "RUNNING",
    TrialState.WAITING: "IDLE",
    TrialState.COMPLETE: "COMPLETED",
    TrialState.PRUNED: "STOPPED",
    TrialState.FAIL: "FAILED",
}


def trial_id(number: int, max_trials: int | None) -> str:
    """KerasTuner's trial id: the trial number zero-padded to the width of ``max_trials``."""
    return f"{number:0{len(str(max_trials or 1))}d}"


def _refusing(names: tuple[str, ...], message: str) -> Any:
    """A ``__getattr__`` that refuses KerasTuner's ``names`` with ``message`` (``{name}`` in it)
    in one line, and is the usual AttributeError for anything else."""

    def __getattr__(self: Any, name: str) -> Any:
        if name in names:
            raise AttributeError(message.format(name=name))
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    return __getattr__


class MetricsTracker:
    """The per-epoch metrics of a trial (``trial.metrics`` in KerasTuner)."""

    def __init__(self, history: list[dict[str, float]], objective: Objective) -> None:
        self._history = history
        self._objective = objective

    @property
    def metrics(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for logs in self._history:
            for name, value in logs.items():
                out.setdefault(name, []).append(value)
        return out

    def exists(self, name: str) -> bool:
        return name in self.metrics

    def get_history(self, name: str) -> list[float]:
        return self.metrics.get(name, [])

    def get_last_value(self, name: str) -> float | None:
        values = self.get_history(name)
        return values[-1] if values else None

    def get_best_value(self, name: str) -> float | None:
        values = [v for v in self.get_history(name) if math.isfinite(v)]
        if not values:
            return None
        return max(values) if self.get_direction(name) == "max" else min(values)

    def get_direction(self, name: str) -> str:
        """``"min"`` or ``"max"``: the objective's own, else inferred from the name (``"min"``
        when the name says nothing)."""
        if name == self._objective.name:
            return self._objective.direction
        try:
            return get_objective(name).direction
        except ValueError:
            return "min"

    def get_best_step(self, name: str) -> int | None:
        """The epoch (from 0) of the best finite value."""
        values = self.get_history(name)
        finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
        if not finite:
            return None
        pick = max if self.get_direction(name) == "max" else min
        return pick(finite)[1]

    def get_statistics(self, name: str) -> dict[str, float]:
        """Mean, median, min, max, std and var of the metric's values (``{}`` without any)."""
        values = np.asarray(self.get_history(name), dtype=np.float64)
        if not len(values):
            return {}
        return {
            "mean": float(np.mean(values)),
            "median": float(np.median(values)),
            "min": float(np.min(values)),
            "max": float(np.max(values)),
            "std": float(np.std(values)),
            "var": float(np.var(values)),
        }

    def get_config(self) -> dict[str, Any]:
        return {
            "metrics": {
                name: {"direction": self.get_direction(name), "observations": values}
                for name, values in self.metrics.items()
            }
        }

    __getattr__ = _refusing(
        (
            "register",
            "register_metrics",
            "update",
            "set_history",
            "from_config",
            "to_proto",
            "from_proto",
        ),
        "trial.metrics.{name}: a trial's metrics are what its training logged, kept in the study "
        "(the trial's history); this view is read-only",
    )


class Trial:
    """A KerasTuner ``Trial`` over one Optuna trial (frozen, or running with live ``hp``).

    Attributes:
        trial_id: The trial number, zero-padded as KerasTuner does (``"03"`` of 10 trials).
        hyperparameters: The trial's values (a frozen ``HyperParameters``), or, for the running
            trial handed to ``run_trial``, the live one that suggests values to Optuna.
        score: The trial's value (its best epoch's objective), ``None`` unless COMPLETE.
        status: ``"COMPLETED"``, ``"FAILED"``, ``"STOPPED"`` (pruned), ``"RUNNING"`` or ``"IDLE"``.
        best_step: The best epoch, counted from 0 as KerasTuner does.
        message: Why the trial failed.
        optuna_trial: The Optuna trial behind it.
    """

    def __init__(
        self,
        optuna_trial: FrozenTrial | optuna.Trial,
        objective: Objective,
        max_trials: int | None,
        hyperparameters: HyperParameters | None = None,
    ) -> None:
        self.trial_id = trial_id(optuna_trial.number, max_trials)
        self.number = optuna_trial.number
        self._objective = objective
        self._load(optuna_trial, hyperparameters)

    def _load(
        self,
        optuna_trial: FrozenTrial | optuna.Trial,
        hyperparameters: HyperParameters | None = None,
    ) -> None:
        """Takes the trial's current state from the storage's copy of it."""
        self.optuna_trial = optuna_trial
        frozen = isinstance(optuna_trial, FrozenTrial)
        if hyperparameters is None:
            hyperparameters = (
                HyperParameters.from_trial(optuna_trial)
                if frozen
                else HyperParameters.from_values({})
            )
        self.hyperparameters = hyperparameters
        attrs = optuna_trial.user_attrs
        self.status = STATUS.get(optuna_trial.state, "RUNNING") if frozen else "RUNNING"
        self.score = optuna_trial.value if frozen and self.status == "COMPLETED" else None
        best_epoch = attrs.get("best_epoch")
        self.best_step = None if best_epoch is None else int(best_epoch) - 1
        self.message = attrs.get("fail_reason")
        self.metrics = MetricsTracker(list(attrs.get("history") or []), self._objective)

    def summary(self) -> None:
        """Prints the trial as KerasTuner does."""
        print(self.summary_text())

    def summary_text(self) -> str:
        lines = [f"Trial {self.trial_id} summary", "Hyperparameters:"]
        lines += [f"{name}: {value}" for name, value in self.hyperparameters.values.items()]
        if self.score is not None:
            lines.append(f"Score: {self.score}")
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)

    def display_hyperparameters(self) -> None:
        """Prints the trial's hyperparameters, one per line."""
        for name, value in self.hyperparameters.values.items():
            print(f"{name}: {value}")

    def get_state(self) -> dict[str, Any]:
        """The trial as plain data."""
        return {
            "trial_id": self.trial_id,
            "hyperparameters": dict(self.hyperparameters.values),
            "metrics": self.metrics.get_config(),
            "score": self.score,
            "best_step": self.best_step,
            "status": self.status,
            "message": self.message,
        }

    __getattr__ = _refusing(
        ("save", "load", "reload", "set_state", "from_state", "to_proto", "from_proto"),
        "trial.{name}: a trial is kept in the study's storage, which records it as it runs; this "
        "view is read-only (tuner.study for the Optuna trial)",
    )

    def __repr__(self) -> str:
        return f"Trial(trial_id={self.trial_id!r}, status={self.status!r}, score={self.score!r})"


class Oracle:
    """KerasTuner's oracle: the search's settings until a tuner takes it, then a view of its study.

    Build one (or a subclass of :mod:`lstm_tuner.oracles`) and pass it as ``Tuner(oracle=...)``, as
    KerasTuner's custom-tuner guide does; every tuner has one as ``tuner.oracle``. Reading it
    (``trials``, ``get_best_trials``, ...) reads the study's storage, so it sees every worker's
    trials; the same trial id gives the same ``Trial`` object, updated.

    Args:
        objective: The objective (a name or :class:`~lstm_tuner.Objective`; ``None``: the value
            ``run_trial`` returns).
        max_trials: The budget.
        hyperparameters / tune_new_entries / allow_new_entries / seed / max_retries_per_trial /
            max_consecutive_failed_trials: As for :class:`~lstm_tuner.engine.base_tuner.BaseTuner`.
    """

    def __init__(
        self,
        objective: str | Objective | None = None,
        max_trials: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
    ) -> None:
        self.objective = objective
        self.max_trials = max_trials
        self.hyperparameters = hyperparameters
        self.allow_new_entries = allow_new_entries
        self.tune_new_entries = tune_new_entries
        self.seed = seed
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.study: optuna.Study | None = None
        self._trials: dict[int, Trial] = {}
        self.verbose = "auto"  # KerasTuner's attribute; the search's logging says what it does

    def make_sampler(self, n_trials: int, space: Any = None) -> optuna.samplers.BaseSampler:
        """The Optuna sampler of this oracle (TPE, the default search)."""
        return study_lib.make_sampler("tpe", self.seed, n_trials=n_trials)

    def make_pruner(self) -> optuna.pruners.BasePruner | None:
        """The Optuna pruner of this oracle (none)."""
        return None

    def bind(self, study: optuna.Study, objective: Objective, max_trials: int) -> None:
        """Makes this oracle the view of ``study`` (the tuner does it)."""
        self.study, self.objective, self.max_trials = study, objective, max_trials

    def _view(self, frozen: FrozenTrial) -> Trial:
        view = self._trials.get(frozen.number)
        if view is None:
            view = self._trials[frozen.number] = Trial(frozen, self.objective, self.max_trials)
        else:
            view._load(frozen)
        return view

    def _all(self) -> list[FrozenTrial]:
        if self.study is None:
            raise RuntimeError(
                "this oracle is not used by a tuner yet: pass it as Tuner(oracle=...)"
            )
        return self.study.get_trials(deepcopy=False)

    @property
    def trials(self) -> dict[str, Trial]:
        """Every trial of the study, by trial id, in number order."""
        return {t.trial_id: t for t in map(self._view, self._all())}

    def get_trial(self, trial_id: str) -> Trial:
        """The trial with this id (``"03"``, or the number ``3``)."""
        return self._view(self._all()[int(trial_id)])

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The best COMPLETE trials, best first; as in KerasTuner, when there are fewer than
        ``num_trials`` of them, the other trials follow (in number order)."""
        best = study_lib.best_trials(self.study, num_trials)
        numbers = {t.number for t in best}
        rest = [t for t in self._all() if t.number not in numbers]
        return [self._view(t) for t in (best + rest)[:num_trials]]

    def get_space(self) -> HyperParameters:
        """The hyperparameters seen so far, with the values of the best trial."""
        best = self.get_best_trials(1)
        return best[0].hyperparameters if best else HyperParameters()

    def remaining_trials(self) -> int | None:
        """Trials of the budget still to run (``None`` without a budget), as KerasTuner's method."""
        if self.max_trials is None:
            return None
        return max(0, self.max_trials - study_lib.count_finished(self.study))

    def get_state(self) -> dict[str, Any]:
        """The oracle's settings; its trials are in the study's storage."""
        return {
            "objective": getattr(self.objective, "name", self.objective),
            "max_trials": self.max_trials,
            "seed": self.seed,
            "study_name": None if self.study is None else self.study.study_name,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Nothing to restore: the storage holds the trials, the tuner the settings."""

    def save(self) -> None:
        """Nothing to write: the storage records each trial as it ends."""

    def reload(self) -> None:
        """Nothing to read: every read of the oracle goes to the storage."""

    __getattr__ = _refusing(
        (
            "create_trial",
            "update_trial",
            "end_trial",
            "score_trial",
            "populate_space",
            "update_space",
        ),
        "oracle.{name}: lstm_tuner's trials are run by the Optuna study (tuner.study); use "
        "study.ask()/study.tell() or tuner.search() instead",
    )
