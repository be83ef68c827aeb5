"""The verdict: the final models on the held-out test split against the free baselines and the
statistical models.

:func:`evaluate_on_test` scores models, every baseline of :mod:`lstm_tuner.timeseries.baselines` and
the statistical models of :mod:`lstm_tuner.timeseries.statistical` on the same test windows, in
original units (MSE, MAE, MASE, and the error per step ahead); :func:`verdict` says in a sentence or
two whether the final model beats them, and if not which forecaster does. The run writes both to
``evaluation.json`` and ``summary.md``.
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np
from absl import logging

from lstm_tuner.config.schema import Config
from lstm_tuner.lstm.model import anchor_forecast
from lstm_tuner.timeseries import baselines, statistical
from lstm_tuner.timeseries.intervals import ConformalIntervals, interval_report, level_name
from lstm_tuner.timeseries.series import SeriesData
from lstm_tuner.timeseries.statistical import LABELS

#: Whose validation residuals calibrate a model refitted on train + validation.
TWIN = "the same configuration trained on the training split alone"
#: The model the verdict is about: the retrained one when there is one.
FINAL_MODELS = ("retrained", "best_trial")


def calibrate_intervals(
    models: dict[str, keras.Model],
    data: SeriesData,
    config: Config,
    held_out: dict[str, keras.Model] | None = None,
) -> dict[str, ConformalIntervals]:
    """Each model's prediction intervals, calibrated on its residuals on the validation split
    (original units), at ``evaluation.interval_levels``; none when the list is empty or there is
    no validation window. A level the split is too small for is left out with a warning.

    The validation windows were not used to fit the model, but they chose it (the trial, the
    retraining's best epoch), so its residuals there are a little smaller than on new data;
    docs/benchmarks.md measures the resulting coverage on the test split. A model that was
    fitted on validation too (``training.retrain_on: train_validation``) is calibrated on the
    residuals of its ``held_out`` twin, the same configuration trained on train alone.
    """
    levels = config.evaluation.interval_levels
    if not levels or not len(data.validation):
        return {}
    x_val, y_val = data.validation.arrays()
    actual = data.scaler.inverse_transform_target(y_val)
    held_out, out = held_out or {}, {}
    for name, model in models.items():
        model = held_out.get(name, model)
        predicted = data.scaler.inverse_transform_target(model.predict(x_val, verbose=0))
        intervals = ConformalIntervals.calibrate(
            predicted, actual, levels, config.evaluation.interval_scale
        )
        for reason in intervals.dropped.values():
            logging.warning("Prediction intervals of the %s: %s", LABELS[name], reason)
        out[name] = intervals
    return out


def _statistical(
    data: SeriesData,
    config: Config,
    origins: np.ndarray,
    horizon: int,
    fit_end: int,
    levels: tuple[float, ...] = (),
) -> statistical.StatisticalForecasts | None:
    models = config.evaluation.statistical_models
    if not models or not len(origins):
        return None
    begin = time.perf_counter()
    result = statistical.forecast_statistical(
        data.values[:, 0],
        origins,
        horizon,
        fit_end=fit_end,
        season_length=data.season_length,
        history=config.evaluation.statistical_history,
        models=models,
        levels=levels,
        # Inputs known in advance: AutoARIMA reads them too (auto_arima_x).
        regressors=data.values[:, -len(data.future_features) :] if data.future_features else None,
    )
    logging.info(
        "Statistical models fitted on points %d-%d and run from %d origins in %.1f s: %s%s",
        *result.fit_range,
        len(origins),
        time.perf_counter() - begin,
        ", ".join(f"{LABELS[n]} {m}" for n, m in result.models.items()),
        "".join(f"; {LABELS[n]} not fitted: {r}" for n, r in result.not_fitted.items()),
    )
    return result


def evaluate_on_test(
    models: dict[str, keras.Model],
    data: SeriesData,
    config: Config,
    intervals: dict[str, ConformalIntervals] | None = None,
    held_out: dict[str, keras.Model] | None = None,
) -> dict[str, Any]:
    """Every model, baseline and statistical model on the test windows, in original units.

    One rule for every forecaster: it is fitted and chosen on the points before the split it is
    judged on. The LSTM is trained on the training split and chosen on validation; on the test
    split, the statistical models are fitted on the points before it (train + validation, at most
    ``evaluation.statistical_history`` of them), on the validation split on the training split's.
    Every forecast uses only the observations before its origin (and, with future features, their
    values at the steps it forecasts).

    Args:
        models: ``best_trial`` and, after a retraining, ``retrained``.
        data: The series.
        config: The run's configuration.
        intervals: Each model's calibrated intervals (:func:`calibrate_intervals`, which runs
            here when ``None``).
        held_out: For a model also fitted on validation, its twin trained on train alone,
            which stands in for it on validation (the intervals, the validation errors).

    Returns:
        ``models``, ``baselines`` and ``statistical`` (name -> MSE, MAE, MASE and the per-step
        errors), the fitted statistical models and those not fitted (with the reason), the season
        and MASE scale used, the best forecaster, the forecasters that beat the final model (the
        retrained one if any), the validation split's MSE of the final model and of each
        statistical model, the test predictions (``[windows, horizon]``, original units), the
        time axis (``time_axis``: the time column, its kind and inferred frequency), the target
        timestamp of every test forecast (``target_timestamps``, ``[windows, horizon]``) and, for a
        horizon > 1, each forecast's origin (``origin_timestamps``, ``[windows]``: the last
        observation it sees). Timestamps are ISO-8601 strings or numbers from ``data.time_column``,
        or positions in the series without one. With prediction intervals: ``intervals`` (model
        -> how they were calibrated and, per level, their coverage, mean width and Winkler score
        on the test split, the coverage a calibrated interval would show, and the coverage per
        step), ``statistical_intervals`` (the same for each statistical model's own intervals)
        and the final model's bands in ``test_predictions["intervals"]``.
    """
    held_out = held_out or {}
    if intervals is None:
        intervals = calibrate_intervals(models, data, config, held_out)
    x_test, y_test = data.test.arrays()
    actual = data.scaler.inverse_transform_target(y_test)
    horizon = int(actual.shape[1])
    series = data.values[:, 0]
    train_end, validation_end = data.boundaries
    season, season_source = data.season_length, data.season_source
    predictions = {
        name: data.scaler.inverse_transform_target(model.predict(x_test, verbose=0))
        for name, model in models.items()
    }
    levels = config.evaluation.interval_levels
    stats = _statistical(data, config, data.test.origins, horizon, validation_end, levels)
    final = next(name for name in FINAL_MODELS if name in models)
    # A delta model starts from an anchor (the last or seasonal value plus the mean training
    # change, or for linear_ar the ridge autoregression on the window) and its LSTM forecasts the
    # rest: it earns credit only where it beats that anchor.
    anchor = anchor_forecast(models[final], x_test)
    scale = baselines.mase_scale(series[:train_end], season)
    model_errors = {name: baselines.errors(p, actual, scale) for name, p in predictions.items()}
    baseline_forecasts = baselines.forecast_all(
        series, data.test.origins, horizon, train_end=train_end, season_length=season
    )
    if anchor is not None:
        baseline_forecasts["model_anchor"] = data.scaler.inverse_transform_target(anchor)
    # Every competitor of the model, with its forecasts and errors; computed once.
    forecasts = {**baseline_forecasts, **(stats.forecasts if stats else {})}
    others = {name: baselines.errors(p, actual, scale) for name, p in forecasts.items()}
    baseline_errors = {name: others[name] for name in baseline_forecasts}
    best_baseline = baselines.best_baseline(baseline_errors)
    best_other = baselines.best_baseline(others)
    everyone = {**others, final: model_errors[final]}
    times = data.times
    origins = data.test.origins
    bands = {name: ci.bands(predictions[name]) for name, ci in intervals.items()}
    interval_reports = {
        name: {
            **{k: v for k, v in ci.to_dict().items() if k != "levels"},
            "levels": interval_report(
                {
                    lv: (
                        bands[name][f"lower_{level_name(lv)}"],
                        bands[name][f"upper_{level_name(lv)}"],
                    )
                    for lv in ci.levels
                },
                actual,
                ci.calibration_windows,
            ),
            **({"residuals_of": TWIN} if name in held_out else {}),
        }
        for name, ci in intervals.items()
    }
    return {
        "units": f"original units of {data.target_name!r}",
        "target_scale": "log" if data.scaler.log_target else "linear",
        "target_scale_source": data.target_scale_source,
        "test_windows": len(actual),
        "horizon": horizon,
        "window_size": data.test.window_size,
        "season_length": season,
        "season_source": season_source,
        "mase_scale": scale,
        "final_model": final,
        "models": model_errors,
        "baselines": baseline_errors,
        "statistical": {name: others[name] for name in (stats.forecasts if stats else {})},
        "statistical_models": _fitted_models(stats),
        "not_fitted": {} if stats is None else stats.not_fitted,
        "fit_rule": fit_rule(data, config, refit=final in held_out),
        "best_baseline": best_baseline,
        "best_forecaster": min(everyone, key=lambda name: everyone[name]["mse"]),
        "best_other": best_other,
        "beaten_by": baselines.winners_over(model_errors[final], others, ["mse"]),
        "validation": _validation_mse(held_out.get(final, models[final]), data, config, horizon),
        "test_predictions": {
            "actual": actual.tolist(),
            **{name: p.tolist() for name, p in predictions.items()},
            **{name: forecasts[name].tolist() for name in {best_baseline, best_other}},
            **(
                {"intervals": {k: v.tolist() for k, v in bands[final].items()}}
                if final in bands
                else {}
            ),
        },
        "intervals": interval_reports,
        "statistical_intervals": {
            name: interval_report(model_bands, actual, None)
            for name, model_bands in (stats.intervals if stats else {}).items()
        },
        "time_axis": {
            "name": times.name,
            "kind": times.kind,
            "frequency": times.frequency,
            "label": times.axis_label(),
        },
        "target_timestamps": times.labels(origins[:, None] + np.arange(horizon)),
        **({"origin_timestamps": times.labels(origins - 1)} if horizon > 1 else {}),
    }


def _fitted_models(stats: statistical.StatisticalForecasts | None) -> dict[str, dict[str, Any]]:
    if stats is None:
        return {}
    return {
        name: {
            "model": description,
            "season_length": stats.season_lengths.get(name),
            **({"note": stats.notes[name]} if name in stats.notes else {}),
            "fitted_on": list(stats.fit_range),
        }
        for name, description in stats.models.items()
    }


def fit_rule(data: SeriesData, config: Config, refit: bool = False) -> str:
    """Which data each forecaster was fitted and chosen on, in one sentence; ``refit``: the
    final model was trained again on train + validation (``training.retrain_on``)."""
    _, validation_end = data.boundaries
    history = config.evaluation.statistical_history
    periods = data.split_periods()
    return (
        f"The LSTM was trained on the training split ({periods['train']}) and chosen on "
        f"validation ({periods['validation']})"
        + (
            ", then the retrained model was trained again on both, for the epochs early "
            "stopping kept, with the intervals of its twin trained on train alone"
            if refit
            else ""
        )
        + "; the statistical models were fitted on "
        f"the last {min(history, validation_end)} points before the test split, with their "
        "parameters then fixed; every forecast uses only the observations up to its origin, the "
        "last one it sees"
        + (
            f", and the future features ({', '.join(data.future_features)}) at the steps it "
            "forecasts (the LSTM and ARIMAX)."
            if data.future_features
            else "."
        )
    )


def _validation_mse(
    model: keras.Model, data: SeriesData, config: Config, horizon: int
) -> dict[str, float]:
    """The final model's and each statistical model's MSE on the validation split (the
    statistical models fitted on the training split), original units."""
    if not len(data.validation):
        return {}
    x_val, y_val = data.validation.arrays()
    actual = data.scaler.inverse_transform_target(y_val)
    predicted = data.scaler.inverse_transform_target(model.predict(x_val, verbose=0))
    out = {"model": float(np.mean((predicted - actual) ** 2))}
    stats = _statistical(data, config, data.validation.origins, horizon, data.boundaries[0])
    if stats is not None:
        out.update({name: float(np.mean((p - actual) ** 2)) for name, p in stats.forecasts.items()})
    return out


def _steps(steps: list[int]) -> str:
    return ", ".join(str(k) for k in steps)


def verdict(test: dict[str, Any]) -> str:
    """One plain sentence or two: does the final model beat every baseline and statistical
    model on the test set, and if not, which forecaster is best and by how much?"""
    final = test["final_model"]
    model = test["models"][final]
    label = LABELS[final]
    statistical_note = ""
    if not test.get("statistical"):
        statistical_note = (
            " (no statistical model could be fitted: see the summary)"
            if test.get("not_fitted")
            else " (no statistical model was evaluated: see evaluation.statistical_models)"
        )
    best = test.get("best_other") or test["best_baseline"]
    other = {**test["baselines"], **test.get("statistical", {})}[best]
    per_step = ""
    if test["horizon"] > 1:
        everyone = {**test["baselines"], **test.get("statistical", {}), final: model}
        steps_won = [
            k + 1
            for k in range(test["horizon"])
            if all(model["mse_per_step"][k] <= r["mse_per_step"][k] for r in everyone.values())
        ]
        per_step = (
            f" Per step ahead, the {label} has the lowest test MSE at steps {_steps(steps_won)}"
            f" of {test['horizon']}."
            if steps_won
            else f" Per step ahead, it is beaten at every step of {test['horizon']}."
        )
    if not test["beaten_by"]:
        kind = (
            "every baseline and statistical model"
            if test.get("statistical")
            else ("every free baseline")
        )
        return (
            f"The {label} beats {kind} on the test set{statistical_note}: MSE "
            f"{model['mse']:.4g} against {other['mse']:.4g} for the best of them "
            f"({LABELS[best]}); MASE {model['mase']:.3g}.{per_step}"
        )
    lower = 100 * (1 - other["mse"] / model["mse"]) if model["mse"] > 0 else 0.0
    validation = test.get("validation") or {}
    if best in validation and "model" in validation:
        seen = (
            f"It was better on validation too ({validation[best]:.4g} against "
            f"{validation['model']:.4g}), before the test split was looked at."
            if validation[best] < validation["model"]
            else f"On validation the {label} was better ({validation['model']:.4g} against "
            f"{validation[best]:.4g})."
        )
    else:
        seen = ""
    names = ", ".join(LABELS[name] for name in test["beaten_by"])
    return (
        f"The {LABELS[best]} forecast beats the model: its test MSE is {other['mse']:.4g} against "
        f"{model['mse']:.4g} for the {label} ({lower:.0f}% lower). {seen}".rstrip()
        + f" Beaten by: {names}.{per_step} Do not deploy this model as it is: use the "
        f"{LABELS[best]} forecast, or try data.target_transform, another window_size, more trials "
        "or --retrain_epochs."
    )


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def interval_verdict(test: dict[str, Any]) -> str:
    """The final model's prediction intervals on the test split in a few sentences: per level the
    coverage (and the range a calibrated interval shows), the mean width and the Winkler score
    next to the best statistical model's, and a warning for each level whose coverage falls
    outside that range. Empty without intervals."""
    final = test["final_model"]
    report = (test.get("intervals") or {}).get(final)
    if not report or not report["levels"]:
        return ""
    parts = []
    warnings = []
    others = test.get("statistical_intervals") or {}
    for name, level in report["levels"].items():
        lo, hi = level["calibrated_range"]
        rivals = {m: r[name]["winkler"] for m, r in others.items() if name in r}
        rival = min(rivals, key=rivals.get) if rivals else None
        parts.append(
            f"{level['level']:g}%: coverage {_percent(level['coverage'])} "
            f"(calibrated: {_percent(lo)}-{_percent(hi)}), mean width {level['mean_width']:.4g}, "
            f"Winkler score {level['winkler']:.4g}"
            + (f" ({LABELS[rival]}'s own: {rivals[rival]:.4g})" if rival else "")
        )
        if not level["calibrated"]:
            side = "too narrow" if level["coverage"] < lo else "wider than needed"
            warnings.append(
                f"The {level['level']:g}% interval covered {_percent(level['coverage'])} of the "
                f"test values, outside the {_percent(lo)}-{_percent(hi)} a calibrated interval "
                f"shows with these window counts: its bands are {side} for the test period."
            )
    how = (
        f"split conformal on {report['calibration_windows']} validation windows"
        + (f" of {report['residuals_of']}" if "residuals_of" in report else "")
        + f", {report['scale']}"
    )
    return " ".join(
        [f"Prediction intervals of the {LABELS[final]} ({how}): " + "; ".join(parts) + "."]
        + warnings
    )
