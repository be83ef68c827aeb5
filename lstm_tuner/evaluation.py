"""After the search: the models on the held-out test split against the free baselines, and the export.

:func:`evaluate_on_test` scores models and every baseline of :mod:`lstm_tuner.baselines` on the same
test windows, in original units (MSE, MAE, MASE, and the error per step ahead); :func:`retrain` is the
spec's next step (the best configuration trained for longer, with early stopping); ``export_trained``
wraps a model trained on scaled data so that it serves in original units.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from lstm_tuner import baselines
from lstm_tuner.config import Config, config_to_dict
from lstm_tuner.data import SeriesData
from lstm_tuner.export import export_model
from lstm_tuner.hyperparameters import HyperParameters
from lstm_tuner.model import season_of_model, target_transform_of
from lstm_tuner.progress import TrainingProgress
from lstm_tuner.tuner import Tuner

#: The model the verdict is about: the retrained one when there is one.
FINAL_MODELS = ("retrained", "best_trial")


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
            "target_transform": target_transform_of(model),
            "season_length": season_of_model(model),
            "feature_names": list(data.column_names),
            "target_name": data.target_name,
            "time_column": config.data.time_column,
            "data_source": data.source,
            "config": config_to_dict(config),
        },
    )


def evaluate_on_test(
    models: dict[str, keras.Model], data: SeriesData, config: Config
) -> dict[str, Any]:
    """Every model and every baseline on the test windows, in original units.

    Returns:
        ``models`` and ``baselines`` (name -> MSE, MAE, MASE and the per-step errors), the season
        and MASE scale used, the best baseline, the baselines that beat the final model (the
        retrained one if any), and the test predictions (``[windows, horizon]``, original units).
    """
    x_test, y_test = data.test.arrays()
    actual = data.scaler.inverse_transform_target(y_test)
    series = data.values[:, 0]
    train_end = data.boundaries[0]
    season, season_source = data.season_length, data.season_source
    scale = baselines.mase_scale(series[:train_end], season)
    predictions = {
        name: data.scaler.inverse_transform_target(model.predict(x_test, verbose=0))
        for name, model in models.items()
    }
    model_errors = {name: baselines.errors(p, actual, scale) for name, p in predictions.items()}
    baseline_errors = baselines.evaluate_baselines(
        series,
        data.test.origins,
        actual,
        train_end=train_end,
        season_length=season,
        scale=scale,
    )
    final = next(name for name in FINAL_MODELS if name in models)
    best = baselines.best_baseline(baseline_errors)
    best_forecast = baselines.forecast(
        best, series, data.test.origins, actual.shape[1], train_end=train_end, season_length=season
    )
    return {
        "units": f"original units of {data.target_name!r}",
        "test_windows": len(actual),
        "horizon": int(actual.shape[1]),
        "season_length": season,
        "season_source": season_source,
        "mase_scale": scale,
        "final_model": final,
        "models": model_errors,
        "baselines": baseline_errors,
        "best_baseline": best,
        "beaten_by": baselines.winners_over(model_errors[final], baseline_errors, ["mse"]),
        "test_predictions": {
            "actual": actual.tolist(),
            **{name: p.tolist() for name, p in predictions.items()},
            best: best_forecast.tolist(),
        },
    }


def verdict(test: dict[str, Any]) -> str:
    """One plain sentence: does the final model beat the free baselines on the test set?"""
    final = test["final_model"]
    model = test["models"][final]
    label = baselines.LABELS[final]
    best = test["best_baseline"]
    base = test["baselines"][best]
    if test["beaten_by"]:
        names = ", ".join(baselines.LABELS[name] for name in test["beaten_by"])
        return (
            f"A free baseline beats the model: the {baselines.LABELS[best]} forecast has a lower "
            f"test MSE ({base['mse']:.4g}) than the {label} ({model['mse']:.4g}); beaten by: "
            f"{names}. Do not deploy this model as it is: try data.target_transform, another "
            "window_size, more trials or --retrain_epochs."
        )
    return (
        f"The {label} beats every baseline on the test set: MSE {model['mse']:.4g} against "
        f"{base['mse']:.4g} for the best baseline ({baselines.LABELS[best]}); MASE "
        f"{model['mase']:.3g}."
    )


def retrain(
    tuner: Tuner,
    data: SeriesData,
    config: Config,
    hp: HyperParameters,
    epochs: int,
    verbose: int = 0,
) -> tuple[keras.Model, dict[str, Any]]:
    """Retrains the best configuration for up to ``epochs`` epochs with early stopping, saves its
    weights as ``retrained.weights.h5`` and exports it to ``export/final/``.

    Returns:
        The model and what happened: epochs run, the best epoch and its validation loss, the curves.
    """
    shown = [] if verbose or not tuner.progress else [TrainingProgress("retraining")]
    model, history = tuner.retrain_best(
        data.train,
        validation_data=data.validation,
        epochs=epochs,
        patience=config.training.early_stopping_patience,
        hyperparameters=hp,
        verbose=verbose,
        callbacks=shown,
    )
    model.save_weights(os.path.join(tuner.project_dir, "retrained.weights.h5"))
    curve = [float(v) for v in history.history.get(config.study.objective, [])]
    pick = np.argmin if config.study.direction == "minimize" else np.argmax
    best_epoch = int(pick(curve)) + 1 if curve else None
    info = {
        "retrain_epochs": epochs,
        "patience": config.training.early_stopping_patience,
        "epochs_run": len(curve),
        "best_epoch": best_epoch,
        "best_validation_loss": curve[best_epoch - 1] if best_epoch else None,
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
    }
    if config.export.enabled:
        export_trained(
            model,
            os.path.join(tuner.project_dir, "export", "final"),
            data,
            config,
            {
                "source": "retrained",
                "hyperparameters": hp.values,
                "retrain_epochs": epochs,
                "epochs_run": info["epochs_run"],
                "validation_loss": info["best_validation_loss"],
            },
        )
    return model, info
