"""After the search: the final model on the held-out test split, and its export for serving.

``retrain_and_evaluate`` retrains the best configuration for longer, compares it on the test split with
references in original units and exports it; ``export_trained`` wraps a model trained on scaled data
so that it serves in original units.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from lstm_tuner.config import Config, config_to_dict
from lstm_tuner.data import SeriesData
from lstm_tuner.export import export_model
from lstm_tuner.input_pipeline import Windows
from lstm_tuner.tuner import Tuner


def export_trained(
    model: keras.Model, path: str, data: SeriesData, config: Config, metadata: dict[str, Any]
) -> str:
    """Exports a model trained on scaled data so that it serves in original units."""
    scaler = data.scaler
    return export_model(
        model,
        path,
        input_mean=scaler.mean,
        input_scale=scaler.scale,
        target_mean=float(scaler.mean[0]),
        target_scale=float(scaler.scale[0]),
        metadata={
            **metadata,
            "horizon": config.data.horizon,
            "feature_names": list(data.column_names),
            "target_name": data.target_name,
            "data_source": data.source,
            "config": config_to_dict(config),
        },
    )


def evaluate_in_original_units(
    predictions_scaled: np.ndarray, windows: Windows, data: SeriesData
) -> dict[str, float]:
    """MSE and MAE of scaled predictions ``[n, horizon]`` against a split's targets, in original units."""
    _, y_scaled = windows.arrays()
    y = data.scaler.inverse_transform_target(y_scaled)
    pred = data.scaler.inverse_transform_target(np.asarray(predictions_scaled))
    err = pred - y
    return {"mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err)))}


def retrain_and_evaluate(
    tuner: Tuner,
    data: SeriesData,
    config: Config,
    epochs: int,
    verbose: int = 0,
    best_trial_model: keras.Model | None = None,
) -> dict[str, Any]:
    """Retrains the best configuration, evaluates it on the test split against two references.

    The references are the naive last-value forecast and ``best_trial_model``, the best trial's own
    (short-trained) model, when given. The retrained model is exported to ``export/final/``.
    """
    x_test, _ = data.test.arrays()
    best_trial_eval = None
    if best_trial_model is not None:
        best_trial_eval = evaluate_in_original_units(
            best_trial_model.predict(x_test, verbose=0), data.test, data
        )
    naive = evaluate_in_original_units(data.test.last_values(), data.test, data)
    model, history = tuner.retrain_best(
        data.train,
        validation_data=data.validation,
        epochs=epochs,
        patience=config.training.early_stopping_patience,
        verbose=verbose,
    )
    model.save_weights(os.path.join(tuner.project_dir, "retrained.weights.h5"))
    retrained_scaled = model.predict(x_test, verbose=0)
    retrained = evaluate_in_original_units(retrained_scaled, data.test, data)
    _, y_test_scaled = data.test.arrays()
    objective_history = [float(v) for v in history.history.get(config.study.objective, [])]
    best_epoch = (
        int(
            np.argmin(objective_history)
            if config.study.direction == "minimize"
            else np.argmax(objective_history)
        )
        + 1
        if objective_history
        else None
    )
    best_params = tuner.get_best_hyperparameters(1)[0].values
    result = {
        "retrain_epochs": epochs,
        "patience": config.training.early_stopping_patience,
        "epochs_run": len(objective_history),
        "best_epoch": best_epoch,
        "best_validation_loss": objective_history[best_epoch - 1] if best_epoch else None,
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "test": {
            "retrained": retrained,
            **({"best_trial": best_trial_eval} if best_trial_eval is not None else {}),
            "naive_last_value": naive,
        },
        "units": f"original units of {data.target_name!r}",
        # [test windows, horizon], original units: what the test plot draws
        "test_predictions": {
            "actual": data.scaler.inverse_transform_target(y_test_scaled).tolist(),
            "retrained": data.scaler.inverse_transform_target(retrained_scaled).tolist(),
        },
    }
    if config.export.enabled:
        export_trained(
            model,
            os.path.join(tuner.project_dir, "export", "final"),
            data,
            config,
            {
                "source": "retrained",
                "hyperparameters": best_params,
                "retrain_epochs": epochs,
                "epochs_run": result["epochs_run"],
                "validation_loss": result["best_validation_loss"],
                "test": retrained,
            },
        )
    return result
