"""The spec's next step after the search: the best configuration trained for longer."""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.progress import TrainingProgress
from lstm_tuner.engine.tuner import Tuner
from lstm_tuner.lstm.model import SeedEnsemble
from lstm_tuner.timeseries.series import SeriesData


def retrain(
    tuner: Tuner,
    data: SeriesData,
    hp: HyperParameters,
    epochs: int,
    patience: int,
    verbose: int = 0,
    seeds: int = 1,
) -> tuple[keras.Model, dict[str, Any]]:
    """Retrains the best configuration for up to ``epochs`` epochs, stopping early after
    ``patience`` epochs without a better objective, and saves its weights as
    ``retrained.weights.h5`` (the run exports it to ``export/final/``). With ``seeds`` > 1 it is
    trained that many times from different initializations (the first is the trial's own) and
    the model is their mean (:class:`~lstm_tuner.lstm.model.SeedEnsemble`).

    Returns:
        The model and what happened: epochs run, the best epoch and its validation loss, the
        curves (of the first training), and with several seeds each training's figures.
    """
    members, runs = [], []
    for execution in range(seeds):
        label = "retraining" if seeds == 1 else f"retraining {execution + 1}/{seeds}"
        shown = [] if verbose or not tuner.progress else [TrainingProgress(label)]
        model, history = tuner.retrain_best(
            data.train,
            validation_data=data.validation,
            epochs=epochs,
            patience=patience,
            hyperparameters=hp,
            execution=execution,
            verbose=verbose,
            callbacks=shown,
        )
        members.append(model)
        runs.append(_run_info(tuner, history))
    model = members[0] if seeds == 1 else SeedEnsemble(members, name="seed_ensemble")
    model.save_weights(os.path.join(tuner.project_dir, "retrained.weights.h5"))
    info = {"retrain_epochs": epochs, "patience": patience, **runs[0]}
    if seeds > 1:  # the mean's validation error is the evaluation's (verdict._validation_mse)
        info["seeds"] = {"count": seeds, "runs": runs}
    return model, info


def _run_info(tuner: Tuner, history: keras.callbacks.History) -> dict[str, Any]:
    curve = [float(v) for v in history.history.get(tuner.objective.name, [])]
    pick = np.argmin if tuner.objective.direction == "min" else np.argmax
    best_epoch = int(pick(curve)) + 1 if curve else None
    return {
        "epochs_run": len(curve),
        "best_epoch": best_epoch,
        "best_validation_loss": curve[best_epoch - 1] if best_epoch else None,
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
    }
