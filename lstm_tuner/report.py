"""Summaries as text: built by functions that return strings, so they can be tested and written to files.

``Tuner.search_space_summary()`` and ``Tuner.results_summary()`` print what these return.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from lstm_tuner.hyperparameters import HyperParameter
from lstm_tuner.study import best_trials, trial_hyperparameters


def format_value(value: Any) -> str:
    """Short, stable formatting of a hyperparameter or metric value."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_search_space(space: Sequence[HyperParameter]) -> str:
    """KerasTuner-style search space summary."""
    lines = ["Search space summary", f"Default search space size: {len(space)}"]
    for decl in space:
        info = decl.describe()
        if not info["conditions"]:
            info.pop("conditions")
        else:
            info["conditions"] = [f"{c.parent} in {list(c.values)}" for c in decl.conditions]
        lines.append(f"{decl.name} ({decl.kind})")
        lines.append(str(info))
    return "\n".join(lines)


def trial_duration_s(trial: FrozenTrial) -> float | None:
    """Wall time of a finished trial, in seconds."""
    if trial.datetime_start is None or trial.datetime_complete is None:
        return None
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(format_value(v) for v in row) + " |")
    return "\n".join(out)


def trials_table(study: optuna.Study, num_trials: int | None = None) -> str:
    """All trials as a markdown table: COMPLETE ones best first, then the others by number."""
    all_trials = study.get_trials(deepcopy=False)
    best = best_trials(study, len(all_trials))
    others = [t for t in all_trials if t.state != TrialState.COMPLETE or t.value is None]
    ordered = best + sorted(others, key=lambda t: t.number)
    if num_trials is not None:
        ordered = ordered[:num_trials]
    names: list[str] = []
    for t in ordered:
        for name in trial_hyperparameters(t):
            if name not in names:
                names.append(name)
    rows = []
    for t in ordered:
        hps = trial_hyperparameters(t)
        rows.append(
            [
                t.number,
                t.state.name,
                *(hps.get(n, "") for n in names),
                "" if t.value is None else t.value,
                t.user_attrs.get("best_epoch", ""),
                "" if trial_duration_s(t) is None else round(trial_duration_s(t), 1),
                t.user_attrs.get("fail_reason", ""),
            ]
        )
    header = ["trial", "state", *names, "value", "best epoch", "duration (s)", "note"]
    return markdown_table(header, rows)


def format_results(
    study: optuna.Study,
    *,
    objective_name: str,
    num_trials: int = 10,
    location: str | None = None,
) -> str:
    """The results summary: counts per state, the best trials table and the best configuration."""
    trials = study.get_trials(deepcopy=False)
    counts = Counter(t.state.name for t in trials)
    lines = ["Results summary"]
    if location:
        lines.append(f"Results in {location}")
    direction = "min" if study.direction == optuna.study.StudyDirection.MINIMIZE else "max"
    lines.append(f'Objective(name="{objective_name}", direction="{direction}")')
    lines.append(
        "Trials: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        if counts
        else "Trials: none"
    )
    best = best_trials(study, 1)
    if best:
        lines.append("")
        lines.append(
            f"Best trial: {best[0].number} ({objective_name} = {format_value(best[0].value)})"
        )
        for name, value in trial_hyperparameters(best[0]).items():
            lines.append(f"  {name}: {format_value(value)}")
    lines.append("")
    lines.append(f"Showing {min(num_trials, len(trials))} best trials")
    lines.append(trials_table(study, num_trials))
    return "\n".join(lines)
