"""The spec's next step after the search: the best configuration trained for longer."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import keras
import numpy as np

from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.progress import TrainingProgress
from lstm_tuner.engine.tuner import Tuner
from lstm_tuner.lstm.model import SeedEnsemble
from lstm_tuner.timeseries.series import SeriesData


@dataclasses.dataclass(frozen=True)
class Retrained:
    """The retraining's result.

    Attributes:
        model: The retrained model, exported as ``export/final/``.
        info: What happened (``evaluation.json``'s ``retraining``).
        held_out: With a refit on train + validation (``training.retrain_on``), the same
            configuration trained on the training split alone: the model whose validation
            residuals calibrate the intervals and whose validation error the verdict quotes.
            ``None`` when :attr:`model` itself was trained on train alone.
    """

    model: keras.Model
    info: dict[str, Any]
    held_out: keras.Model | None = None

    @property
    def on_validation(self) -> keras.Model:
        """The model that answers for :attr:`model` on the validation windows."""
        return self.model if self.held_out is None else self.held_out

    def stand_ins(self, name: str = "retrained") -> dict[str, keras.Model]:
        """``{name: held_out}`` with a refit, else ``{}``: the ``held_out`` argument of
        :func:`~lstm_tuner.job.verdict.calibrate_intervals` and ``evaluate_on_test``."""
        return {} if self.held_out is None else {name: self.held_out}


def retrain(
    tuner: Tuner,
    data: SeriesData,
    hp: HyperParameters,
    epochs: int,
    patience: int,
    verbose: int = 0,
    seeds: int = 1,
    on: str = "train_validation",
) -> Retrained:
    """Retrains the best configuration for up to ``epochs`` epochs, stopping early after
    ``patience`` epochs without a better objective, and saves its weights as
    ``retrained.weights.h5`` (the run exports it to ``export/final/``). With ``seeds`` > 1 it is
    trained that many times from different initializations (the first is the trial's own) and
    the model is their mean (:class:`~lstm_tuner.lstm.model.SeedEnsemble`).

    With ``on="train_validation"`` (``training.retrain_on``) each training is then repeated from
    the same initialization (with a study seed) on the training and validation windows together,
    for the number of epochs early stopping kept (saved as ``retrained.weights.h5``; the model
    trained on train alone as ``retrained_train_only.weights.h5``): the refit of scikit-learn's search and of statsforecast's
    conformal intervals, which calibrate on held-out fits and serve a model fitted on all the
    data. The model trained on train alone is then :attr:`Retrained.held_out`.
    """
    members, held_out, runs, refits = [], [], [], []
    both = data.train_and_validation if on == "train_validation" else None
    for execution in range(seeds):
        label = "retraining" if seeds == 1 else f"retraining {execution + 1}/{seeds}"
        model, history = tuner.retrain_best(
            data.train,
            validation_data=data.validation,
            epochs=epochs,
            patience=patience,
            hyperparameters=hp,
            execution=execution,
            verbose=verbose,
            callbacks=_shown(tuner, label, verbose),
        )
        held_out.append(model)
        runs.append(_run_info(tuner, history))
        if both is not None:
            model, history = tuner.retrain_best(
                both,
                epochs=runs[-1]["best_epoch"] or epochs,
                patience=None,
                hyperparameters=hp,
                execution=execution,
                verbose=verbose,
                callbacks=_shown(tuner, f"{label} on train + validation", verbose),
            )
            refits.append(len(history.history.get("loss", [])))
        members.append(model)
    model = _mean(members)
    model.save_weights(os.path.join(tuner.project_dir, "retrained.weights.h5"))
    info = {"retrain_epochs": epochs, "patience": patience, "trained_on": on, **runs[0]}
    if seeds > 1:  # the mean's validation error is the evaluation's (verdict._validation_mse)
        info["seeds"] = {"count": seeds, "runs": runs}
    if both is None:
        return Retrained(model, info)
    info["refit"] = {"windows": len(both), "epochs": refits}
    twin = _mean(held_out)  # whose validation residuals calibrate the intervals
    twin.save_weights(os.path.join(tuner.project_dir, "retrained_train_only.weights.h5"))
    return Retrained(model, info, twin)


def _shown(tuner: Tuner, label: str, verbose: int) -> list[keras.callbacks.Callback]:
    return [] if verbose or not tuner.progress else [TrainingProgress(label)]


def _mean(members: list[keras.Model]) -> keras.Model:
    return members[0] if len(members) == 1 else SeedEnsemble(members, name="seed_ensemble")


def _run_info(tuner: Tuner, history: keras.callbacks.History) -> dict[str, Any]:
    curve = [float(v) for v in history.history.get(tuner.objective.name, [])]
    # A NaN epoch is never the best (early stopping did not keep it either).
    worst = np.inf if tuner.objective.direction == "min" else -np.inf
    scores = np.nan_to_num(np.asarray(curve), nan=worst)
    pick = np.argmin if tuner.objective.direction == "min" else np.argmax
    best_epoch = int(pick(scores)) + 1 if curve else None
    return {
        "epochs_run": len(curve),
        "best_epoch": best_epoch,
        "best_validation_loss": curve[best_epoch - 1] if best_epoch else None,
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
    }
