"""The spec's next step after the search: the best configuration trained for longer."""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.progress import TrainingProgress
from lstm_tuner.engine.tuner import Tuner
from lstm_tuner.timeseries.series import SeriesData


def retrain(
    tuner: Tuner,
    data: SeriesData,
    hp: HyperParameters,
    epochs: int,
    patience: int,
    verbose: int = 0,
) -> tuple[keras.Model, dict[str, Any]]:
    """Retrains the best configuration for up to ``epochs`` epochs, stopping early after
    ``patience`` epochs without a better objective, and saves its weights as
    ``retrained.weights.h5`` (the run exports it to ``export/final/``).

    Returns:
        The model and what happened: epochs run, the best epoch and its validation loss, the curves.
    """
    shown = [] if verbose or not tuner.progress else [TrainingProgress("retraining")]
    model, history = tuner.retrain_best(
        data.train,
        validation_data=data.validation,
        epochs=epochs,
        patience=patience,
        hyperparameters=hp,
        verbose=verbose,
        callbacks=shown,
    )
    model.save_weights(os.path.join(tuner.project_dir, "retrained.weights.h5"))
    curve = [float(v) for v in history.history.get(tuner.objective.name, [])]
    pick = np.argmin if tuner.objective.direction == "min" else np.argmax
    best_epoch = int(pick(curve)) + 1 if curve else None
    info = {
        "retrain_epochs": epochs,
        "patience": patience,
        "epochs_run": len(curve),
        "best_epoch": best_epoch,
        "best_validation_loss": curve[best_epoch - 1] if best_epoch else None,
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
    }
    return model, info
