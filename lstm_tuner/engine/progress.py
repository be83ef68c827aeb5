"""What a running search says about itself.

- One log line per finished trial: state, value, best so far, time spent and a rough estimate of the
  time left (the remaining trials' sizes are not known until they are sampled, and batch size and
  depth drive a trial's cost, so the estimate is the median finished trial's duration per trial).
- While a model trains (a trial, or the retraining): on a terminal, one live line drawn by tqdm
  (which Optuna brings): the epoch and batch, the current loss, the search's state and ETA; without a
  terminal, at most one log line per epoch. Keras's own output (``verbose``) replaces it when asked.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import keras
import optuna
from absl import logging

from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.rules import format_value
from lstm_tuner.storage import study as study_lib


def rough_duration(seconds: float) -> str:
    """``"about 40 s"``, ``"about 3 min"``, ``"about 1.5 h"``."""
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


class TrainingProgress(keras.callbacks.Callback):
    """A live line (terminal) or one log line per epoch (no terminal) while one model trains.

    Args:
        label: What trains, e.g. ``"trial 3"`` or ``"retraining"``.
        status: Called for the search's state (trials done, best, time left), or ``None``.
        live: Draw a live line; default: when stderr is a terminal.
    """

    def __init__(
        self, label: str, status: Callable[[], str] | None = None, live: bool | None = None
    ) -> None:
        super().__init__()
        self.label, self.status = label, status
        self.live = sys.stderr.isatty() if live is None else live
        self._bar: Any = None
        self._epoch_start = 0.0

    def __deepcopy__(self, memo: dict[int, Any]) -> TrainingProgress:
        return self  # the tuner adds it itself; it is never one of the user's callbacks

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        epochs, steps = self.params.get("epochs") or 0, self.params.get("steps") or 0
        if self.live:
            from tqdm.auto import tqdm

            # A terminal that reports no size (a bare pseudo-terminal) is taken as 100 x 24: tqdm
            # would take it as -1 rows and draw nothing.
            width, height = shutil.get_terminal_size((100, 24))
            self._bar = tqdm(
                total=epochs * steps or None,
                desc=self.label,
                file=sys.stderr,
                leave=False,
                ncols=width,
                nrows=height,
                unit="batch",
                bar_format="{desc} {bar:20} {postfix}",
            )

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch
        self._epoch_start = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._bar is None:
            return
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        loss = (logs or {}).get("loss")
        text = f"epoch {self._epoch + 1}/{epochs}, batch {batch + 1}/{steps or '?'}"
        if loss is not None:
            text += f", loss {float(loss):.4g}"
        if self.status is not None:
            text += f" | {self.status()}"
        # The text first: tqdm draws on update() only when its interval has passed, and that draw
        # must show this batch, not the one before.
        self._bar.set_postfix_str(text, refresh=False)
        self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.refresh()  # at least one draw per epoch, however fast its batches
            return
        metrics = ", ".join(
            f"{k}={float(v):.4g}" for k, v in (logs or {}).items() if k in ("loss", "val_loss")
        )
        logging.info(
            "%s: epoch %d/%s, %s (%.1f s)",
            self.label,
            epoch + 1,
            self.params.get("epochs"),
            metrics or "no loss logged",
            time.monotonic() - self._epoch_start,
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class SearchProgress:
    """An Optuna callback that logs each finished trial, and the live state of the search.

    Args:
        study: The study.
        max_trials: The budget.
        objective_name: The objective's name, for the log lines.
        live: Draw live lines while models train (default: when stderr is a terminal).
    """

    def __init__(
        self,
        study: optuna.Study,
        max_trials: int,
        objective_name: str,
        live: bool | None = None,
    ) -> None:
        self._study = study
        self._max_trials = max_trials
        self._objective_name = objective_name
        self._start = time.monotonic()
        self.live = sys.stderr.isatty() if live is None else live
        self._finished = study_lib.count_finished(study)
        self._best: str = self._best_text()
        # Read from the storage when a trial finishes, not at every batch of the live line.
        self._left: float | None = self._time_left_s()

    def _best_text(self) -> str:
        best = study_lib.best_trials(self._study, 1)
        return f"{best[0].value:.6g} (trial {best[0].number})" if best else "none"

    def _time_left_s(self) -> float | None:
        durations = [
            t.duration.total_seconds()
            for t in self._study.get_trials(deepcopy=False)
            if t.duration is not None and t.state in study_lib.FINISHED_STATES
        ]
        if not durations:
            return None
        return statistics.median(durations) * max(0, self._max_trials - self._finished)

    def status(self) -> str:
        """``"3 of 10 trials done, best 0.0412 (trial 1), about 4 min left (rough)"``."""
        left = self._left
        eta = f", {rough_duration(left)} left (rough)" if left is not None else ""
        return f"{self._finished} of {self._max_trials} trials done, best {self._best}{eta}"

    def trial_callback(self, number: int) -> TrainingProgress:
        """The live line (or per-epoch log lines) of trial ``number``."""
        return TrainingProgress(f"trial {number}", self.status, self.live)

    def trial_finished(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._finished = study_lib.count_finished(study)
        self._best = self._best_text()
        value = "" if trial.value is None else f" {self._objective_name}={trial.value:.6g},"
        reason = trial.user_attrs.get("fail_reason")
        left = self._left = self._time_left_s()
        logging.info(
            "Trial %d %s (%d of %d finished):%s best %s; %s; elapsed %.0f s%s%s",
            trial.number,
            trial.state.name,
            self._finished,
            self._max_trials,
            value,
            self._best,
            ", ".join(
                f"{k}={format_value(v)}"
                for k, v in HyperParameters.from_trial(trial).values.items()
            ),
            time.monotonic() - self._start,
            f", {rough_duration(left)} left (rough)"
            if left and self._finished < self._max_trials
            else "",
            f"; reason: {reason}" if reason else "",
        )
