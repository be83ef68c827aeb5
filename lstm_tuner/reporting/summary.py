"""The run's ``summary.md``: what ran, what the trials found, how the final model did on the test set.

It takes plain results (the study, a :class:`RunInfo`, the evaluation's dict), never the job's options,
so nothing here depends on :mod:`lstm_tuner.job.run`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import optuna

from lstm_tuner.engine.analysis import Importance, edge_warnings, param_importances
from lstm_tuner.engine.results import (
    format_best,
    format_edge_warnings,
    format_importance,
    format_state_counts,
    format_total_time,
    markdown_table,
    trials_table,
)
from lstm_tuner.reporting import search_plots as plot_names
from lstm_tuner.timeseries.season import short_window_note
from lstm_tuner.timeseries.statistical import LABELS


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """What ``summary.md`` says about the run, besides the study itself.

    Attributes:
        study_name: The study.
        config_path: The config file.
        data: One line on the data (source, columns, windows per split).
        storage: The storage URL, its password hidden.
        objective / direction: The objective and its direction.
        epochs_per_trial / sampler / pruner: How the trials ran.
        run_dir: The run directory, as given.
        tensorboard_dir: Where TensorBoard logs went, or ``None`` when none were written.
        time_column: ``data.time_column``, ``None`` when the series has none (positions).
        frequency: What the timestamps were read at (``"monthly"``, ``"irregular"``...).
        split_periods: Each split's first and last timestamp, ``{"train": "2000-01-01 to ..."}``.
    """

    study_name: str
    config_path: str | None
    data: str
    storage: str
    objective: str
    direction: str
    epochs_per_trial: int
    sampler: str
    pruner: str
    run_dir: str
    tensorboard_dir: str | None
    time_column: str | None = None
    frequency: str = "position"
    split_periods: dict[str, str] = dataclasses.field(default_factory=dict)


_PLOT_TITLES = {
    plot_names.OPTIMIZATION_HISTORY: "Optimization history",
    plot_names.PARAM_IMPORTANCES: "Parameter importance",
    plot_names.SLICE: "Objective against each hyperparameter",
    plot_names.BEST_TRIAL_LOSS: "Best trial: loss per epoch",
    plot_names.RETRAINED_LOSS: "Retrained model: loss per epoch",
    plot_names.TEST_PREDICTIONS: "Test forecasts against the actual series",
    plot_names.ERROR_PER_STEP: "Test error per step ahead",
}
_EVALUATION_PLOTS = (
    plot_names.RETRAINED_LOSS,
    plot_names.TEST_PREDICTIONS,
    plot_names.ERROR_PER_STEP,
)


def format_time_axis(info: RunInfo) -> list[str]:
    """The data's time axis and each split's period, as markdown list items."""
    if info.time_column is None:
        axis = "positions (no data.time_column)"
    else:
        axis = f"`{info.time_column}`, read as {info.frequency}"
    lines = [f"- time axis: {axis}"]
    lines += [f"  - {name}: {period}" for name, period in info.split_periods.items()]
    return lines


def _epochs(counts: list[int]) -> str:
    return f"{counts[0]} epochs" if len(set(counts)) == 1 else f"{counts} epochs"


def format_evaluation(evaluation: dict[str, Any], epochs_per_trial: int) -> list[str]:
    """The models against the free baselines and the statistical models on the test set, as
    markdown lines."""
    test, retraining = evaluation["test"], evaluation.get("retraining")
    lines = ["## Test set: the model against free baselines and statistical models", ""]
    seeds = (retraining or {}).get("seeds")
    if seeds:
        runs = ", ".join(
            f"{run['epochs_run']} epochs (best {run['best_epoch']}, validation loss "
            f"{run['best_validation_loss']:.4g})"
            for run in seeds["runs"]
        )
        lines += [
            f"The best configuration was retrained {seeds['count']} times from different "
            f"initializations for up to {retraining['retrain_epochs']} epochs each, with early "
            f"stopping (patience {retraining['patience']}): {runs}. The retrained model is the "
            "mean of their forecasts, exported as one SavedModel.",
            "",
        ]
    elif retraining:
        lines += [
            f"The best configuration was retrained for up to {retraining['retrain_epochs']} epochs "
            f"with early stopping (patience {retraining['patience']}): it ran "
            f"{retraining['epochs_run']} epochs, best epoch {retraining['best_epoch']}.",
            "",
        ]
    refit = (retraining or {}).get("refit")
    if refit:
        lines += [
            f"It was then trained again from the same initialization on the {refit['windows']} "
            f"training and validation windows together, for {_epochs(refit['epochs'])} "
            "(training.retrain_on: train_validation); that model is the one exported and scored "
            "below. Its intervals and its validation error are those of the model trained on "
            "train alone.",
            "",
        ]
    season = test["season_length"]
    targets = test.get("target_timestamps")
    period = f" (targets {targets[0][0]} to {targets[-1][-1]})" if targets else ""
    lines += [
        f"{test['test_windows']} test windows{period}, {test['horizon']} step(s) ahead each; errors in "
        f"{test['units']}. Season length: "
        + (f"{season} ({test['season_source']})" if season else f"none ({test['season_source']})")
        + f"; MASE divides the MAE by {test['mase_scale']:.4g}, the in-sample MAE of the "
        + ("seasonal naive" if season else "naive")
        + " forecast on the training split."
        + (
            " " + short
            if (short := short_window_note(season, test.get("window_size") or 0))
            else ""
        )
        + (
            f" The model saw the target's natural log ({test.get('target_scale_source')}); its "
            "forecasts are mapped back with exp before any error is computed."
            if test.get("target_scale") == "log"
            else f" The model saw the target on its own scale ({test['target_scale_source']})."
            if "target_scale_source" in test
            else ""
        ),
        "",
    ]
    rows = [
        [
            LABELS[name] + (f" ({epochs_per_trial} epochs)" if name == "best_trial" else ""),
            r["mse"],
            r["mae"],
            r["mase"],
        ]
        for name, r in test["models"].items()
    ]
    statistical = test.get("statistical", {})
    fitted = test.get("statistical_models", {})
    validation = test.get("validation", {})
    rows += [[LABELS[name], r["mse"], r["mae"], r["mase"]] for name, r in test["baselines"].items()]
    rows += [
        [f"{LABELS[name]}: {fitted[name]['model']}", r["mse"], r["mae"], r["mase"]]
        for name, r in statistical.items()
    ]
    lines += [markdown_table(["forecast", "test MSE", "test MAE", "MASE"], rows), ""]
    if test.get("fit_rule"):
        lines += [test["fit_rule"], ""]
    for name, info in fitted.items():
        if info.get("note"):
            lines += [f"- {LABELS[name]}: {info['note']}."]
    for name, reason in test.get("not_fitted", {}).items():
        lines += [f"- {LABELS[name]}: not fitted: {reason}."]
    if any(info.get("note") for info in fitted.values()) or test.get("not_fitted"):
        lines += [""]
    if len(validation) > 1:
        final = LABELS[test["final_model"]]
        rows = [[final, validation["model"]]]
        rows += [[LABELS[name], value] for name, value in validation.items() if name != "model"]
        lines += [
            "On the validation split (the statistical models fitted on the training split):",
            "",
            markdown_table(["forecast", "validation MSE"], rows),
            "",
        ]
    if test["horizon"] > 1:
        columns = [*test["models"], *test["baselines"], *statistical]
        results = {**test["models"], **test["baselines"], **statistical}
        header = ["steps ahead", *(LABELS[c] for c in columns)]
        per_step = [
            [k + 1, *(results[c]["mse_per_step"][k] for c in columns)]
            for k in range(test["horizon"])
        ]
        lines += ["Test MSE per step ahead (rolling origin over the test split):", ""]
        lines += [markdown_table(header, per_step), ""]
    return lines + format_intervals(evaluation)


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def format_intervals(evaluation: dict[str, Any]) -> list[str]:
    """The prediction intervals on the test split, per level: the models' and each statistical
    model's own coverage, calibrated range, mean width and Winkler score, as markdown lines."""
    test = evaluation["test"]
    reports = test.get("intervals") or {}
    if not reports:
        return []
    lines = ["## Prediction intervals on the test split", ""]
    if evaluation.get("intervals"):
        lines += [evaluation["intervals"], ""]
    rows = []
    everyone = {
        **{name: r["levels"] for name, r in reports.items()},
        **(test.get("statistical_intervals") or {}),
    }
    for name, levels in everyone.items():
        for level in levels.values():
            lo, hi = level["calibrated_range"]
            rows.append(
                [
                    LABELS[name],
                    f"{level['level']:g}%",
                    _percent(level["coverage"]),
                    f"{_percent(lo)}-{_percent(hi)}",
                    level["mean_width"],
                    level["winkler"],
                ]
            )
    header = ["forecast", "level", "coverage", "calibrated range", "mean width", "Winkler score"]
    final = reports.get(test["final_model"]) or next(iter(reports.values()))
    lines += [
        markdown_table(header, rows),
        "",
        f"The LSTM's intervals: {final['method']}, {final['scale']} bands, from "
        f"{final['calibration_windows']} validation windows. The statistical models' are their "
        'own (statsforecast\'s `level=`). "calibrated range": where the coverage of a perfectly '
        "calibrated interval falls 95% of the time with these numbers of windows. The Winkler "
        "score is the width plus 2/alpha times any miss; lower is better.",
        "",
    ]
    for reason in (final.get("dropped") or {}).values():
        lines += [f"- Left out: {reason}."]
    return lines + ([""] if final.get("dropped") else [])


def format_selection(selection: dict[str, Any], objective: str) -> list[str]:
    """The re-evaluation of the top trials, as markdown lines."""
    rows = [
        [number, ", ".join(f"{v:.4g}" for v in c["values"]), c["mean"], c["std"]]
        for number, c in selection["candidates"].items()
    ]
    return [
        "## Selection",
        "",
        f"Exported and retrained: trial {selection['trial']}, the {selection['by']} "
        f"(study.reevaluate_top_k); each configuration's {objective} per run:",
        "",
        markdown_table(["trial", f"{objective} per run", "mean", "std"], rows),
        "",
    ]


def summary_markdown(
    study: optuna.Study,
    info: RunInfo,
    evaluation: dict[str, Any] | None = None,
    *,
    importance: Importance | None = None,
    plot_files: Sequence[str] = (),
    selection: dict[str, Any] | None = None,
) -> str:
    """The run's ``summary.md``: what ran, the trials, the best configuration and how to read it.

    Sections: results (trials per state with failure reasons, total time, best configuration), all
    trials sorted by value, parameter importance, edge-of-space warnings, the plots, the retrained
    model on the test set (after ``--retrain_epochs``), and the commands that open TensorBoard and
    optuna-dashboard on this run.
    """
    objective = info.objective
    lines = [f"# Study `{info.study_name}`", ""]
    if evaluation is not None:
        lines += [f"> **{evaluation['verdict']}**", ""]
    lines += [
        f"- config: `{info.config_path}`",
        f"- data: {info.data}",
        *format_time_axis(info),
        f"- storage: `{info.storage}`",
        f"- objective: {objective} ({info.direction}), {info.epochs_per_trial} epochs per trial, "
        f"sampler {info.sampler}, pruner {info.pruner}",
        "",
        "## Results",
        "",
        "```",
        *format_state_counts(study, objective),
    ]
    if study.get_trials(deepcopy=False):
        lines.append(format_total_time(study))
    best = format_best(study, objective)
    if best:
        lines += ["", *best]
    lines += ["```", "", "## Trials, best first", "", trials_table(study, objective_name=objective)]
    lines.append("")
    if best:
        importance = importance or param_importances(study)
        lines += [
            "## Parameter importance",
            "",
            format_importance(importance, markdown=True),
            "",
            f"Computed by Optuna's {importance.evaluator} evaluator over "
            f"{importance.num_complete} complete trials"
            + (
                " (fANOVA is used when scikit-learn is installed)."
                if importance.evaluator != "fANOVA"
                else "."
            ),
            "",
            "## Edge-of-space warnings",
            "",
            format_edge_warnings(edge_warnings(study), markdown=True),
            "",
        ]
    if selection and selection.get("candidates"):
        lines += format_selection(selection, info.objective)
    names = [os.path.basename(p) for p in plot_files]
    search_plots = [n for n in names if n not in _EVALUATION_PLOTS]
    if search_plots:
        lines += ["## Plots", ""]
        lines += [
            line for n in search_plots for line in (f"![{_PLOT_TITLES.get(n, n)}](plots/{n})", "")
        ]
    if evaluation is not None:
        lines += format_evaluation(evaluation, info.epochs_per_trial)
        for name in (n for n in names if n in _EVALUATION_PLOTS):
            lines += [f"![{_PLOT_TITLES[name]}](plots/{name})", ""]
    lines += ["## Browsing the run", ""]
    if info.tensorboard_dir is not None:
        lines.append(
            "- TensorBoard (loss curves; HPARAMS tab: table and parallel coordinates): "
            f"`tensorboard --logdir {info.tensorboard_dir}`"
        )
    else:
        lines.append(
            "- TensorBoard logs were not written: install the `tensorboard` package "
            "(`pip install 'lstm_tuner[plots]'`)"
        )
    lines += [
        "- optuna-dashboard (`pip install optuna-dashboard`), while no worker is running: "
        f"`optuna-dashboard {info.storage}`",
        "",
    ]
    return "\n".join(lines)
