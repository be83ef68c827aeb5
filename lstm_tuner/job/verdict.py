"""The verdict: the final models on the held-out test split against the free baselines.

:func:`evaluate_on_test` scores models and every baseline of :mod:`lstm_tuner.timeseries.baselines` on
the same test windows, in original units (MSE, MAE, MASE, and the error per step ahead);
:func:`verdict` says in one sentence whether the final model beats them. The run writes both to
``evaluation.json`` and ``summary.md``.
"""

from __future__ import annotations

from typing import Any

import keras

from lstm_tuner.config.schema import Config
from lstm_tuner.timeseries import baselines
from lstm_tuner.timeseries.series import SeriesData

#: The model the verdict is about: the retrained one when there is one.
FINAL_MODELS = ("retrained", "best_trial")


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
