"""What a search found, as text: trials, states, timing, importance, edge warnings, ``trials.csv``.

Functions here return strings (or small dataclasses), so the summaries can be tested and written to files;
``Tuner.search_space_summary()`` and ``Tuner.results_summary()`` print what these return, and the run's
``summary.md`` (:mod:`lstm_tuner.reporting.summary`) is built from the same pieces. It lives in the
engine because the tuner prints it; nothing here trains or imports TensorFlow.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from lstm_tuner.engine.analysis import EdgeWarning, Importance, edge_warnings, param_importances
from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.search_space import ParamSpec
from lstm_tuner.rules import format_value
from lstm_tuner.storage.study import best_trials


def format_search_space(space: Sequence[ParamSpec]) -> str:
    """KerasTuner-style search space summary."""
    lines = ["Search space summary", f"Default search space size: {len(space)}"]
    for spec in space:
        info = spec.keras_config()
        if not info["conditions"]:
            info.pop("conditions")
        lines.append(f"{spec.name} ({spec.keras_kind})")
        lines.append(str(info))
    return "\n".join(lines)


def trial_duration_s(trial: FrozenTrial) -> float | None:
    """Wall time of a finished trial, in seconds."""
    return None if trial.duration is None else trial.duration.total_seconds()


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(format_value(v) for v in row) + " |")
    return "\n".join(out)


# -- trials, states and time ------------------------------------------------------------------------


def epochs_run(trial: FrozenTrial) -> int | None:
    """Epochs a trial trained: recorded by the tuner, or the pruner's reports for a pruned trial."""
    recorded = trial.user_attrs.get("epochs_run")
    if recorded is not None:
        return int(recorded)
    return None if trial.last_step is None else trial.last_step + 1


def trial_note(trial: FrozenTrial, objective_name: str = "value") -> str:
    """Why a trial did not complete: its failure reason, or where it was pruned."""
    if trial.state == TrialState.FAIL:
        return str(trial.user_attrs.get("fail_reason") or "failed (no reason recorded)")
    if trial.state == TrialState.PRUNED:
        if not trial.intermediate_values:
            return "pruned before its first epoch ended"
        step = max(trial.intermediate_values)
        return (
            f"pruned after epoch {step + 1} "
            f"({objective_name}={format_value(trial.intermediate_values[step])})"
        )
    return ""


def _ordered_trials(study: optuna.Study) -> list[FrozenTrial]:
    """COMPLETE trials best first, then the others (PRUNED, FAIL, RUNNING) by number."""
    all_trials = study.get_trials(deepcopy=False)
    best = best_trials(study, len(all_trials))
    others = [t for t in all_trials if t.state != TrialState.COMPLETE or t.value is None]
    return best + sorted(others, key=lambda t: t.number)


def trials_table(
    study: optuna.Study, num_trials: int | None = None, *, objective_name: str = "value"
) -> str:
    """All trials as a markdown table sorted by value: COMPLETE ones best first, then the others.

    Columns: trial number, state, each hyperparameter, the best epoch's objective, the best epoch, the
    epochs run, the duration and a note (failure reason or where the trial was pruned).
    """
    ordered = _ordered_trials(study)
    if num_trials is not None:
        ordered = ordered[:num_trials]
    values = [HyperParameters.from_trial(t).values for t in ordered]
    names = _column_names(values)
    rows = []
    for t, hps in zip(ordered, values, strict=True):
        duration = trial_duration_s(t)
        run = epochs_run(t)
        rows.append(
            [
                t.number,
                t.state.name,
                *(hps.get(n, "") for n in names),
                "" if t.value is None else t.value,
                t.user_attrs.get("best_epoch", ""),
                "" if run is None else run,
                "" if duration is None else round(duration, 1),
                trial_note(t, objective_name),
            ]
        )
    value_header = "value" if objective_name == "value" else f"best {objective_name}"
    header = [
        "trial",
        "state",
        *names,
        value_header,
        "best epoch",
        "epochs run",
        "duration (s)",
        "note",
    ]
    return markdown_table(header, rows)


def state_counts(study: optuna.Study) -> dict[str, int]:
    """Trials per state name, e.g. ``{"COMPLETE": 8, "PRUNED": 1, "FAIL": 1}``."""
    return dict(sorted(Counter(t.state.name for t in study.get_trials(deepcopy=False)).items()))


def format_state_counts(study: optuna.Study, objective_name: str = "value") -> list[str]:
    """``Trials: 8 COMPLETE, 1 FAIL, 1 PRUNED`` and one indented line per FAIL or PRUNED trial."""
    counts = state_counts(study)
    if not counts:
        return ["Trials: none"]
    lines = ["Trials: " + ", ".join(f"{n} {state}" for state, n in counts.items())]
    for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL, TrialState.PRUNED)):
        lines.append(f"  trial {t.number} {t.state.name}: {trial_note(t, objective_name)}")
    return lines


def total_time_s(study: optuna.Study) -> tuple[float, float | None]:
    """Time spent: the sum of the trials' durations, and the wall time from the first trial's start
    to the last trial's end (``None`` when no trial has finished)."""
    trials = study.get_trials(deepcopy=False)
    in_trials = sum(d for d in (trial_duration_s(t) for t in trials) if d is not None)
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
    wall = (max(ends) - min(starts)).total_seconds() if starts and ends else None
    return in_trials, wall


def format_total_time(study: optuna.Study) -> str:
    """``Total time: 184.2 s in trials (wall clock 190.5 s, first start to last finish)``."""
    in_trials, wall = total_time_s(study)
    text = f"Total time: {in_trials:.1f} s in trials"
    if wall is not None:
        text += f" (wall clock {wall:.1f} s, first start to last finish)"
    return text


def format_importance(importance: Importance, *, markdown: bool = False) -> str:
    """A ranked list, e.g. ``1. lr  0.620``, with the caveat if any.

    Plain text starts with a line naming the evaluator; markdown (for a section of ``summary.md``) has
    the caveat as a quote and a numbered list.
    """
    lines = []
    if not markdown:
        lines.append(
            f"Parameter importance ({importance.evaluator}, {importance.num_complete} complete "
            "trials):"
        )
    if importance.caveat:
        lines.append(
            f"> Caveat: {importance.caveat}." if markdown else f"  Caveat: {importance.caveat}."
        )
        if markdown:
            lines.append("")
    for rank, (name, value) in enumerate(importance.importances.items(), start=1):
        if markdown:
            lines.append(f"{rank}. `{name}`: {value:.3f}")
        else:
            lines.append(f"  {rank}. {name:<16} {value:.3f} {'#' * round(value * 20)}")
    return "\n".join(lines).rstrip("\n")


def format_edge_warnings(found: Sequence[EdgeWarning], *, markdown: bool = False) -> str:
    """One line per warning, or one saying that no best value sits at an end of its range.

    Plain text starts with a heading line; markdown (for a section of ``summary.md``) is a bullet list.
    """
    none = "no best value sits at an end of its range"
    if markdown:
        return "\n".join(f"- {w.message}" for w in found) if found else f"None: {none}."
    lines = ["Edge-of-space warnings:"]
    lines += [f"  - {w.message}" for w in found] if found else [f"  none: {none}"]
    return "\n".join(lines)


# -- the summary -------------------------------------------------------------------------------------


def format_best(study: optuna.Study, objective_name: str) -> list[str]:
    """``Best trial: 3 (val_loss = 0.0123)`` and one line per hyperparameter; empty without one."""
    best = best_trials(study, 1)
    if not best:
        return []
    lines = [f"Best trial: {best[0].number} ({objective_name} = {format_value(best[0].value)})"]
    parts = best[0].user_attrs.get("objective_parts")
    if parts:  # a list objective: the parts of the sum
        lines.append(
            "  objective parts: " + ", ".join(f"{k} = {format_value(v)}" for k, v in parts.items())
        )
    for name, value in HyperParameters.from_trial(best[0]).values.items():
        lines.append(f"  {name}: {format_value(value)}")
    return lines


#: The study user attribute that holds the run's verdict on the test split (set by the run).
VERDICT_ATTR = "verdict"
#: The study's user attribute with the final model's prediction intervals on the test split.
INTERVALS_ATTR = "intervals"


def format_results(
    study: optuna.Study,
    *,
    objective_name: str,
    num_trials: int = 10,
    location: str | None = None,
    importance: Importance | None = None,
    include_insight: bool = True,
) -> str:
    """The results summary: the run's verdict on the test split (once a run has evaluated the study),
    trials per state (with reasons), total time, the best configuration,
    parameter importance, edge-of-space warnings and the best trials as a table.

    Args:
        study: The study.
        objective_name: The objective's metric name, e.g. ``val_loss``.
        num_trials: Rows of the trials table.
        location: The project directory, if any.
        importance: Precomputed importances (computed here when ``None``).
        include_insight: Include importance and edge warnings.
    """
    trials = study.get_trials(deepcopy=False)
    lines = ["Results summary"]
    if location:
        lines.append(f"Results in {location}")
    direction = "min" if study.direction == optuna.study.StudyDirection.MINIMIZE else "max"
    lines.append(f'Objective(name="{objective_name}", direction="{direction}")')
    if study.user_attrs.get(VERDICT_ATTR):
        lines.append(f"Verdict on the test split: {study.user_attrs[VERDICT_ATTR]}")
    if study.user_attrs.get(INTERVALS_ATTR):
        lines.append(study.user_attrs[INTERVALS_ATTR])
    lines += format_state_counts(study, objective_name)
    if trials:
        lines.append(format_total_time(study))
    best = format_best(study, objective_name)
    if best:
        lines += ["", *best]
    if include_insight and best:
        lines += ["", format_importance(importance or param_importances(study))]
        lines += ["", format_edge_warnings(edge_warnings(study))]
    lines.append("")
    lines.append(f"Showing {min(num_trials, len(trials))} best trials")
    lines.append(trials_table(study, num_trials, objective_name=objective_name))
    return "\n".join(lines)


def _column_names(values: list[dict[str, Any]]) -> list[str]:
    """Every hyperparameter name of some trial, in first-seen order (conditional ones included)."""
    return list(dict.fromkeys(name for hps in values for name in hps))


def trials_csv(study: optuna.Study) -> str:
    """One row per trial: number, state, each hyperparameter, value, duration, best epoch, failure
    reason, and the optimizer steps of each of its epochs."""
    trials = study.get_trials(deepcopy=False)
    values = [HyperParameters.from_trial(t).values for t in trials]
    names = _column_names(values)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "number",
            "state",
            *names,
            "value",
            "duration_s",
            "best_epoch",
            "fail_reason",
            "steps_per_epoch",
        ]
    )
    for t, hps in zip(trials, values, strict=True):
        duration = trial_duration_s(t)
        writer.writerow(
            [
                t.number,
                t.state.name,
                *(hps.get(n, "") for n in names),
                "" if t.value is None else repr(float(t.value)),
                "" if duration is None else f"{duration:.3f}",
                t.user_attrs.get("best_epoch", ""),
                t.user_attrs.get("fail_reason", ""),
                t.user_attrs.get("steps_per_epoch", ""),
            ]
        )
    return buf.getvalue()
