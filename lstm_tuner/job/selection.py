"""Choosing the configuration to export and retrain: the best trial, or the best mean over re-runs.

At 5 epochs a configuration's validation loss moves with its training seed about as much as with its
hyperparameters, so the single best trial may owe its rank to luck. With ``study.reevaluate_top_k: K``
(K > 1) the best K trials' configurations are trained ``study.reevaluate_seeds: S`` times (the trial
itself and S - 1 more seeds) and the one with the best mean wins. The extra runs are recorded in the
study's user attribute ``reevaluation`` (``{trial number: {"values": [...], ...}}``), so a rerun reuses
them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from absl import logging
from optuna.trial import FrozenTrial

from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.tuner import Tuner

REEVALUATION_ATTR = "reevaluation"


@dataclasses.dataclass(frozen=True)
class Selection:
    """The chosen trial and how it was chosen.

    Attributes:
        trial: The chosen trial.
        by: ``"best trial"`` or ``"best mean of S seeds over the top K"``.
        candidates: Per trial number: the values of its runs, their mean and standard deviation
            (empty when the best trial was taken as it is).
    """

    trial: FrozenTrial
    by: str
    candidates: dict[int, dict[str, Any]]

    @property
    def hyperparameters(self) -> HyperParameters:
        """The chosen trial's values (frozen): what the run exports and retrains."""
        return HyperParameters.from_trial(self.trial)


def select_trial(
    tuner: Tuner,
    top: Sequence[FrozenTrial],
    seeds: int,
    fit_args: Sequence[Any] = (),
    fit_kwargs: dict[str, Any] | None = None,
) -> Selection | None:
    """The trial to export and retrain (``None`` without a COMPLETE trial).

    Args:
        tuner: The tuner that ran the search; the re-runs are recorded in its study.
        top: The candidates, best first: the study's ``study.reevaluate_top_k`` best COMPLETE
            trials (:func:`~lstm_tuner.storage.study.best_trials`, read by the run from its one
            snapshot of the study). One candidate is taken as it is.
        seeds: Runs per configuration, the trial's own included.
        fit_args / fit_kwargs: What the search passed to ``hypermodel.fit``.
    """
    if not top:
        return None
    if seeds <= 1 or len(top) == 1:
        return Selection(top[0], "best trial", {})
    recorded = {int(k): v for k, v in (tuner.study.user_attrs.get(REEVALUATION_ATTR) or {}).items()}
    for trial in top:
        runs = recorded.get(trial.number, {}).get("values", [trial.value])
        hp = HyperParameters.from_trial(trial)
        while len(runs) < seeds:
            # Seeds after the trial's own executions: new initializations and shuffles.
            execution = tuner.executions_per_trial + len(runs) - 1
            value, _, _ = tuner.train_execution(hp, execution, fit_args, dict(fit_kwargs or {}))
            runs = [*runs, value]
            logging.info(
                "Re-run %d of trial %d: %s = %.6g",
                len(runs),
                trial.number,
                tuner.objective.name,
                value,
            )
        recorded[trial.number] = {
            "values": runs,
            "mean": float(np.mean(runs[:seeds])),
            "std": float(np.std(runs[:seeds])),
        }
        tuner.study.set_user_attr(REEVALUATION_ATTR, {str(k): v for k, v in recorded.items()})
    candidates = {t.number: recorded[t.number] for t in top}
    pick = min if tuner.objective.direction == "min" else max
    chosen = pick(top, key=lambda t: candidates[t.number]["mean"])
    return Selection(chosen, f"best mean of {seeds} seeds over the top {len(top)}", candidates)
