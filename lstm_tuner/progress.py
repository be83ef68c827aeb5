"""What a running search says about itself: one log line per finished trial, with an estimate of the
time left."""

from __future__ import annotations

import time

import optuna
from absl import logging

from lstm_tuner import study as study_lib
from lstm_tuner.rules import format_value


class SearchProgress:
    """An Optuna callback that logs each finished trial: state, value, best so far, time left."""

    def __init__(self, study: optuna.Study, max_trials: int, objective_name: str) -> None:
        self._max_trials = max_trials
        self._objective_name = objective_name
        self._start = time.monotonic()
        self._finished_at_start = study_lib.count_finished(study)

    def trial_finished(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        finished = study_lib.count_finished(study)
        elapsed = time.monotonic() - self._start
        done_here = max(1, finished - self._finished_at_start)
        eta = elapsed / done_here * max(0, self._max_trials - finished)
        best = study_lib.best_trials(study, 1)
        best_text = f"{best[0].value:.6g} (trial {best[0].number})" if best else "none"
        value = "" if trial.value is None else f" {self._objective_name}={trial.value:.6g},"
        reason = trial.user_attrs.get("fail_reason")
        logging.info(
            "Trial %d %s (%d of %d finished):%s best %s; %s; elapsed %.0f s, about %.0f s left%s",
            trial.number,
            trial.state.name,
            finished,
            self._max_trials,
            value,
            best_text,
            ", ".join(
                f"{k}={format_value(v)}" for k, v in study_lib.trial_hyperparameters(trial).items()
            ),
            elapsed,
            eta,
            f"; reason: {reason}" if reason else "",
        )
