"""PNG plots of the final model: its training curves, its test forecasts, its error per step ahead.

Written to ``<run directory>/plots/`` next to :mod:`lstm_tuner.reporting.search_plots`'s, with the same helpers
(matplotlib's object API on the Agg canvas, atomic writes, a plot that fails is skipped).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
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
from lstm_tuner.timeseries.time_index import DATE, IRREGULAR, POSITION, POSITION_LABEL, parse_labels


def _nice_step(needed: float, steps: Sequence[int]) -> int:
    """The smallest of ``steps`` that is at least ``needed`` (the largest if none is)."""
    return next((step for step in steps if step >= needed), steps[-1])


def set_date_axis(ax: Any, times: np.ndarray, frequency: str, max_ticks: int = 8) -> None:
    """Date ticks for the series' frequency, on calendar boundaries: years, quarters, months, days
    of the month or hours of the day as labels; matplotlib's concise labels where no calendar unit
    fits (irregular timestamps, long spans)."""
    from matplotlib import dates as mdates
    from matplotlib.ticker import FuncFormatter

    span_days = float((times[-1] - times[0]) / np.timedelta64(1, "D"))
    months = span_days / 30.44
    if frequency == "yearly" or (frequency in ("quarterly", "monthly") and months > 72):
        years = _nice_step(span_days / 365.25 / max_ticks, (1, 2, 5, 10, 20, 25, 50, 100))
        locator: Any = mdates.YearLocator(base=years)
        formatter: Any = mdates.DateFormatter("%Y")
    elif frequency == "quarterly":
        locator = mdates.MonthLocator(bymonth=(1, 4, 7, 10) if months <= 30 else (1, 7))
        formatter = FuncFormatter(
            lambda x, _: f"{mdates.num2date(x):%Y} Q{(mdates.num2date(x).month - 1) // 3 + 1}"
        )
    elif frequency == "monthly":
        every = _nice_step(months / max_ticks, (1, 2, 3, 4, 6))
        locator = mdates.MonthLocator(bymonth=range(1, 13, every))
        formatter = mdates.DateFormatter("%b %Y")
    elif frequency in ("weekly", "daily", "business-daily") and span_days <= 90:
        every = _nice_step(span_days / max_ticks, (1, 2, 7, 14))
        days = {1: range(1, 32), 2: range(1, 32, 2), 7: (1, 8, 15, 22), 14: (1, 15)}[every]
        locator = mdates.DayLocator(bymonthday=days)
        formatter = mdates.ConciseDateFormatter(locator)
    elif frequency in ("hourly", "half-hourly", "quarter-hourly") and span_days <= 4:
        every = _nice_step(span_days * 24 / max_ticks, (1, 2, 3, 4, 6, 12))
        locator = mdates.HourLocator(byhour=range(0, 24, every))
        formatter = mdates.ConciseDateFormatter(locator)
    else:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=max_ticks + 2)
        formatter = mdates.ConciseDateFormatter(locator)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)


def draw_test_predictions(
    actual: Any,
    predicted: Any,
    *,
    times: Any = None,
    time_kind: str = POSITION,
    time_label: str = POSITION_LABEL,
    frequency: str = POSITION,
    target_name: str = "target",
    model_label: str = "model",
    baseline: tuple[str, Any] | None = None,
    best_label: str | None = None,
    bands: Mapping[str, Any] | None = None,
) -> Any:
    """The figure of :func:`plot_test_predictions`: two panels sharing the time axis.

    Args:
        actual: ``[n, horizon]`` (or ``[n]``) actual values, in original units.
        predicted: The same shape, the model's forecasts.
        times: ``[n]`` the target time of each next-step forecast: ``datetime64`` for dates,
            numbers, or positions; ``None``: ``0 .. n - 1``.
        time_kind: ``"date"``, ``"number"`` or ``"position"``
            (:data:`lstm_tuner.timeseries.time_index.DATE` ...).
        time_label: The x axis' label.
        frequency: The dates' frequency (``"monthly"`` ...), which sets the date ticks.
        baseline: ``(label, forecasts)`` of a baseline or statistical model to draw too.
        best_label: The forecaster with the lowest test MSE, named in the title.
        bands: The model's prediction intervals, ``lower_<level>`` / ``upper_<level>`` ->
            the same shape as ``predicted``, drawn as shaded bands (the widest palest).

    Returns:
        The matplotlib ``Figure``.

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
    x = np.arange(len(y)) if times is None else np.asarray(times)
    if len(x) != len(y):
        raise ValueError(f"times must have one value per forecast ({len(y)}), got {len(x)}")
    fig = figure(10.0, 6.0)
    top = fig.add_subplot(2, 1, 1)
    levels = sorted(
        {name.split("_", 1)[1] for name in (bands or {})},
        key=lambda name: -float(name.replace("_", ".")),
    )
    for i, name in enumerate(levels):
        lower = np.asarray(bands[f"lower_{name}"], dtype=np.float64)
        upper = np.asarray(bands[f"upper_{name}"], dtype=np.float64)
        if lower.ndim == 2:
            lower, upper = lower[:, 0], upper[:, 0]
        inside = float(np.mean((y >= lower) & (y <= upper)))
        top.fill_between(
            x,
            lower,
            upper,
            color="tab:orange",
            alpha=0.15 + 0.15 * i,
            linewidth=0,
            label=f"{name.replace('_', '.')}% interval (covers {100 * inside:.0f}%)",
        )
    top.plot(x, y, color="black", linewidth=1.0, label="actual")
    if baseline is not None:
        b = np.asarray(baseline[1], dtype=np.float64)
        b = b[:, 0] if b.ndim == 2 else b
        mse_b = float(np.mean((b - y) ** 2))
        top.plot(x, b, color="tab:gray", linewidth=0.8, label=f"{baseline[0]} (MSE {mse_b:.4g})")
    mse = float(np.mean((p - y) ** 2))
    top.plot(x, p, color="tab:orange", linewidth=1.0, label=f"{model_label} (MSE {mse:.4g})")
    top.set_ylabel(target_name)
    title = "Test set: next-step forecasts against the actual series"
    top.set_title(title + (f"; lowest test MSE: {best_label}" if best_label else ""))
    top.legend()
    top.grid(alpha=0.3)
    bottom = fig.add_subplot(2, 1, 2, sharex=top)
    bottom.plot(x, p - y, color="tab:red", linewidth=0.8)
    bottom.axhline(0.0, color="black", linewidth=0.5)
    if time_kind == DATE:
        for ax in (top, bottom):
            set_date_axis(ax, x, frequency)
        title = f"{time_label}, {frequency}" if frequency != IRREGULAR else time_label
        bottom.set_xlabel(f"{title} (target time of each forecast)")
    else:
        bottom.set_xlabel(time_label)
    bottom.set_ylabel(f"{model_label} - actual")
    bottom.grid(alpha=0.3)
    return fig


def plot_test_predictions(actual: Any, predicted: Any, path: str, **options: Any) -> str:
    """The model's one-step-ahead test forecasts against the actual series (and the best baseline's),
    and the model's error, against the series' time axis; written to ``path``.

    Args:
        actual / predicted / options: as :func:`draw_test_predictions` takes them.

    Raises:
        ValueError: for empty or mismatched inputs.
    """
    return save(draw_test_predictions(actual, predicted, **options), path)


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
                f"({retraining.get('epochs_run', '?')} epochs"
                + (
                    f" on train; then {retraining['refit']['epochs'][0]} on train + validation)"
                    if retraining.get("refit")
                    else ")"
                ),
                objective_name=objective_name,
                minimize=minimize,
            ),
            written,
        )
    test = evaluation["test"]
    final = test["final_model"]
    best = test.get("best_other") or test["best_baseline"]
    axis = test.get("time_axis") or {}
    time_options = {}
    if "target_timestamps" in test:  # not in an evaluation.json from before the time axis
        kind = axis.get("kind", POSITION)
        time_options = {
            "times": parse_labels([row[0] for row in test["target_timestamps"]], kind),
            "time_kind": kind,
            "time_label": axis.get("label", POSITION_LABEL),
            "frequency": axis.get("frequency", IRREGULAR),
        }
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
            bands=test["test_predictions"].get("intervals"),
            **time_options,
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
