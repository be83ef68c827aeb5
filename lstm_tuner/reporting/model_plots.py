"""PNG plots of the final model: its training curves, its test forecasts, its error per step ahead.

Written to ``<run directory>/plots/`` next to :mod:`lstm_tuner.reporting.search_plots`'s, with the same helpers
(matplotlib's object API on the Agg canvas, atomic writes, a plot that fails is skipped).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_tuner.reporting.search_plots import (
    ERROR_PER_STEP,
    RETRAINED_LOSS,
    TEST_PREDICTIONS,
    figure,
    plot_loss_curves,
    save,
    try_plot,
)
from lstm_tuner.timeseries.statistical import LABELS


def plot_test_predictions(
    actual: Any,
    predicted: Any,
    path: str,
    *,
    target_name: str = "target",
    model_label: str = "model",
    baseline: tuple[str, Any] | None = None,
    best_label: str | None = None,
) -> str:
    """The model's one-step-ahead test forecasts against the actual series (and the best baseline's),
    and the model's error.

    Args:
        actual: ``[n, horizon]`` (or ``[n]``) actual values, in original units.
        predicted: The same shape, the model's forecasts.
        baseline: ``(label, forecasts)`` of a baseline or statistical model to draw too.
        best_label: The forecaster with the lowest test MSE, named in the title.

    Raises:
        ValueError: for empty or mismatched inputs.
    """
    y = np.asarray(actual, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    if y.size == 0 or y.shape != p.shape:
        raise ValueError(
            f"actual and predicted must be non-empty with one shape, got {y.shape} and {p.shape}"
        )
    if y.ndim == 2:
        y, p = y[:, 0], p[:, 0]
    steps = np.arange(len(y))
    fig = figure(10.0, 6.0)
    top = fig.add_subplot(2, 1, 1)
    top.plot(steps, y, color="black", linewidth=1.0, label="actual")
    if baseline is not None:
        b = np.asarray(baseline[1], dtype=np.float64)
        b = b[:, 0] if b.ndim == 2 else b
        mse_b = float(np.mean((b - y) ** 2))
        top.plot(
            steps, b, color="tab:gray", linewidth=0.8, label=f"{baseline[0]} (MSE {mse_b:.4g})"
        )
    mse = float(np.mean((p - y) ** 2))
    top.plot(steps, p, color="tab:orange", linewidth=1.0, label=f"{model_label} (MSE {mse:.4g})")
    top.set_ylabel(target_name)
    title = "Test set: next-step forecasts against the actual series"
    top.set_title(title + (f"; lowest test MSE: {best_label}" if best_label else ""))
    top.legend()
    top.grid(alpha=0.3)
    bottom = fig.add_subplot(2, 1, 2, sharex=top)
    bottom.plot(steps, p - y, color="tab:red", linewidth=0.8)
    bottom.axhline(0.0, color="black", linewidth=0.5)
    bottom.set_xlabel("test window")
    bottom.set_ylabel(f"{model_label} - actual")
    bottom.grid(alpha=0.3)
    return save(fig, path)


def plot_error_per_step(test: Mapping[str, Any], path: str) -> str:
    """Rolling-origin test MSE per step ahead (1..h), for each model and baseline.

    Raises:
        ValueError: for a horizon of 1 (there is nothing to compare across steps).
    """
    if test["horizon"] < 2:
        raise ValueError("horizon 1: one step ahead only")
    fig = figure(8.0, 4.5)
    ax = fig.add_subplot(1, 1, 1)
    steps = np.arange(1, test["horizon"] + 1)
    for name, result in test["models"].items():
        ax.plot(steps, result["mse_per_step"], "o-", linewidth=2, label=name.replace("_", " "))
    for name, result in {**test["baselines"], **test.get("statistical", {})}.items():
        ax.plot(steps, result["mse_per_step"], "--", label=LABELS[name])
    ax.set_xlabel("steps ahead")
    ax.set_ylabel(f"test MSE ({test['units']})")
    ax.set_title(f"Error per step ahead over {test['test_windows']} test origins")
    ax.set_xticks(steps)
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def write_forecast_plots(
    evaluation: Mapping[str, Any],
    plots_dir: str,
    *,
    objective_name: str = "val_loss",
    minimize: bool = True,
    target_name: str = "target",
) -> list[str]:
    """Writes the retrained model's curves, the test forecasts and the error per step ahead.

    Args:
        evaluation: ``evaluation.json``'s content (``test`` and, after retraining, ``retraining``).
    """
    written: list[str] = []
    retraining = evaluation.get("retraining")
    if retraining and retraining.get("history"):
        try_plot(
            "retrained loss",
            lambda: plot_loss_curves(
                retraining["history"],
                os.path.join(plots_dir, RETRAINED_LOSS),
                title=f"Retrained best configuration: loss per epoch "
                f"({retraining.get('epochs_run', '?')} epochs)",
                objective_name=objective_name,
                minimize=minimize,
            ),
            written,
        )
    test = evaluation["test"]
    final = test["final_model"]
    best = test.get("best_other") or test["best_baseline"]
    try_plot(
        "test predictions",
        lambda: plot_test_predictions(
            test["test_predictions"]["actual"],
            test["test_predictions"][final],
            os.path.join(plots_dir, TEST_PREDICTIONS),
            target_name=target_name,
            model_label=final.replace("_", " "),
            baseline=(LABELS[best], test["test_predictions"][best]),
            best_label=LABELS.get(test.get("best_forecaster", ""), None),
        ),
        written,
    )
    if test["horizon"] > 1:
        try_plot(
            "error per step",
            lambda: plot_error_per_step(test, os.path.join(plots_dir, ERROR_PER_STEP)),
            written,
        )
    return written
