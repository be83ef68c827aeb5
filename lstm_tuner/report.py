"""What a search found, as text: trials, states, timing, parameter importance and edge-of-space warnings.

Functions here return strings (or small dataclasses), so the summaries can be tested and written to files;
``Tuner.search_space_summary()`` and ``Tuner.results_summary()`` print what these return. Nothing here
trains or imports TensorFlow; plots live in :mod:`lstm_tuner.plots`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import optuna
from absl import logging
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, TrialState

from lstm_tuner.hyperparameters import HyperParameter
from lstm_tuner.study import best_trials, trial_hyperparameters

#: Below this many COMPLETE trials an importance is stated with a caveat. PED-ANOVA (Optuna's default)
#: contrasts the top 10% of trials with all of them, so it needs 20 trials for its top group to hold
#: more than a single trial; fANOVA's random forest is no more trustworthy on fewer points.
MIN_TRIALS_FOR_IMPORTANCE = 20

#: A continuous parameter (or a discrete one with more than ``1 / EDGE_FRACTION`` values) counts as "at
#: an end" of its range within this fraction of the range, measured in log space for log parameters.
EDGE_FRACTION = 0.1
#: The spec's tip: a best dropout in the top fifth of its range hints at overfitting.
DROPOUT_TOP_FRACTION = 0.2

_CAPACITY_PARAMS = ("hidden_size", "num_layers")


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


# -- trials, states and time ------------------------------------------------------------------------


def epochs_run(trial: FrozenTrial) -> int | None:
    """Epochs a trial trained: recorded by the tuner, or the pruner's reports for a pruned trial."""
    recorded = trial.user_attrs.get("epochs_run")
    if recorded is not None:
        return int(recorded)
    if trial.intermediate_values:
        return max(trial.intermediate_values) + 1
    return None


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
    names: list[str] = []
    for t in ordered:
        for name in trial_hyperparameters(t):
            if name not in names:
                names.append(name)
    rows = []
    for t in ordered:
        hps = trial_hyperparameters(t)
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


# -- parameter importance ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Importance:
    """Parameter importances of a study, as computed by one of Optuna's evaluators.

    Attributes:
        evaluator: ``"fANOVA"`` or ``"PED-ANOVA"`` (Optuna's default).
        importances: Parameter name -> share of importance (summing to 1), most important first; empty
            when not computed.
        num_complete: COMPLETE trials the evaluator saw.
        caveat: Why the numbers should be read with care (or why there are none); ``None`` if no caveat.
    """

    evaluator: str
    importances: dict[str, float]
    num_complete: int
    caveat: str | None = None


def _searched_params(trials: Sequence[FrozenTrial]) -> list[str]:
    """Parameters that took more than one possible value in some trial, in first-seen order."""
    names: list[str] = []
    for t in trials:
        for name, dist in t.distributions.items():
            if not dist.single() and name not in names:
                names.append(name)
    return names


def _make_fanova() -> optuna.importance.BaseImportanceEvaluator | None:
    """fANOVA when scikit-learn is installed (its random forest needs it), else ``None``."""
    try:
        return optuna.importance.FanovaImportanceEvaluator(seed=0)
    except ImportError:
        return None


def param_importances(study: optuna.Study) -> Importance:
    """Parameter importances of the COMPLETE trials, fANOVA if scikit-learn is there, else PED-ANOVA.

    PED-ANOVA (Optuna's default evaluator) needs no extra package. fANOVA also needs every parameter in
    every trial with one distribution; when a study violates that (an edited space), PED-ANOVA is used.
    """
    complete = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None and math.isfinite(t.value)
    ]
    n = len(complete)
    params = _searched_params(complete)
    fanova = _make_fanova()
    candidates: list[tuple[str, optuna.importance.BaseImportanceEvaluator]] = []
    if fanova is not None:
        candidates.append(("fANOVA", fanova))
    candidates.append(("PED-ANOVA", optuna.importance.PedAnovaImportanceEvaluator()))
    name = candidates[0][0]
    if n < 2 or not params:
        reason = (
            f"needs at least 2 complete trials, got {n}"
            if n < 2
            else "no searched parameter (every one is fixed)"
        )
        return Importance(name, {}, n, f"not computed: {reason}")
    values: dict[str, float] | None = None
    for name, evaluator in candidates:
        try:
            with warnings.catch_warnings():
                # Optuna warns about too few trials; the caveat below says it once, in our words.
                warnings.simplefilter("ignore")
                values = optuna.importance.get_param_importances(
                    study, evaluator=evaluator, params=params
                )
            break
        except (ValueError, RuntimeError) as e:
            logging.warning("Parameter importance by %s failed (%s); trying the next one", name, e)
    if values is None:
        return Importance(name, {}, n, "not computed: every importance evaluator failed")
    ranked = dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
    caveat = None
    if n < MIN_TRIALS_FOR_IMPORTANCE:
        if name == "PED-ANOVA":
            top = max(1, math.ceil(0.1 * n))
            how = (
                f"PED-ANOVA contrasts the best 10% of trials ({top} here) with all of them, so it "
                "rests on very few trials"
            )
        else:
            how = f"fANOVA's random forest is fitted to only {n} points"
        caveat = (
            f"only {n} complete trials (fewer than {MIN_TRIALS_FOR_IMPORTANCE}): {how}; read the "
            "ranking as a rough hint and run more trials to confirm it"
        )
    if len(ranked) > 1 and len({round(v, 12) for v in ranked.values()}) == 1:
        caveat = (caveat + "; " if caveat else "") + (
            "all parameters came out equal: the trials do not tell them apart"
        )
    return Importance(name, ranked, n, caveat)


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


# -- edge-of-space warnings -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EdgeWarning:
    """The best trial's value of a parameter sits at an end of the range it was searched in.

    Attributes:
        name: The hyperparameter.
        value: The best trial's value.
        low: The lowest value of the range searched (for that trial).
        high: The highest value of the range searched.
        edge: ``"low"`` or ``"high"``.
        message: The interpretation, e.g. ``consider expanding the search space``.
    """

    name: str
    value: Any
    low: Any
    high: Any
    edge: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclasses.dataclass(frozen=True)
class _Position:
    low: float
    high: float
    fraction: float  # 0 at low, 1 at high (log scale for log distributions)
    linear_fraction: float  # 0 at low, 1 at high, on a linear scale
    at_low: bool
    at_high: bool


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _position(value: Any, dist: BaseDistribution) -> _Position | None:
    """Where ``value`` sits in an ordered numeric distribution; ``None`` if unordered or single."""
    if not _is_number(value) or dist.single():
        return None
    v = float(value)
    if isinstance(dist, (IntDistribution, FloatDistribution)):
        low, high, log = float(dist.low), float(dist.high), dist.log
        step = dist.step
        num_values = None if step is None else int(round((high - low) / step)) + 1
    elif isinstance(dist, CategoricalDistribution):
        if not all(_is_number(c) for c in dist.choices):
            return None
        ordered = sorted({float(c) for c in dist.choices})
        if len(ordered) < 2:
            return None
        low, high, log, num_values = ordered[0], ordered[-1], False, len(ordered)
    else:
        return None
    if log and low > 0 and v > 0:
        fraction = (math.log(v) - math.log(low)) / (math.log(high) - math.log(low))
    else:
        fraction = (v - low) / (high - low)
    linear = (v - low) / (high - low)
    if num_values is not None and num_values <= round(1 / EDGE_FRACTION):
        # A short grid: only its first and last values are its ends.
        at_low = math.isclose(v, low, rel_tol=1e-9, abs_tol=1e-12)
        at_high = math.isclose(v, high, rel_tol=1e-9, abs_tol=1e-12)
    else:
        at_low = fraction <= EDGE_FRACTION
        at_high = fraction >= 1 - EDGE_FRACTION
    return _Position(low, high, fraction, linear, at_low, at_high)


def _where(name: str, value: Any, pos: _Position, dist: BaseDistribution, place: str) -> str:
    """``best lr=0.0001 is at the low end of its range [0.0001, 0.005]``."""
    if isinstance(dist, CategoricalDistribution):
        span = "choices [" + ", ".join(format_value(c) for c in dist.choices) + "]"
    else:
        cast = int if isinstance(dist, IntDistribution) else float
        span = f"range [{format_value(cast(pos.low))}, {format_value(cast(pos.high))}]"
    return f"best {name}={format_value(value)} is {place} of its {span}"


def _edge_warning(name: str, value: Any, dist: BaseDistribution) -> EdgeWarning | None:
    pos = _position(value, dist)
    if pos is None:
        return None

    def warn(edge: str, place: str, advice: str) -> EdgeWarning:
        text = f"{_where(name, value, pos, dist, place)}: {advice}"
        return EdgeWarning(name, value, pos.low, pos.high, edge, text)

    if name in _CAPACITY_PARAMS:
        if pos.at_high:
            return warn(
                "high",
                "at the top",
                f"consider expanding the search space (a larger {name} may do better)",
            )
        if pos.at_low:
            return warn("low", "at the bottom", "a simpler model may be enough")
        return None
    if name == "dropout":
        if pos.linear_fraction >= 1 - DROPOUT_TOP_FRACTION:
            return warn(
                "high",
                "in the top fifth",
                "overfitting may be an issue (the model wanted strong regularization); consider "
                "more data or a smaller model" + (", and a wider range" if pos.at_high else ""),
            )
        return None
    if name == "lr":
        if pos.at_low:
            return warn(
                "low",
                "at the low end",
                "the best rate may lie below the range, so consider lowering its lower bound; "
                "larger rates may have made training unstable, and small ones converge slowly, "
                "so give them enough epochs",
            )
        if pos.at_high:
            return warn(
                "high",
                "at the high end",
                "the best rate may lie above the range, so consider raising its upper bound; "
                "short trials favour fast learning, and a longer training (--retrain_epochs) may "
                "prefer a smaller rate",
            )
        return None
    if pos.at_high:
        return warn(
            "high",
            "at the top",
            "the optimum may lie above it; consider expanding the search space",
        )
    if pos.at_low:
        return warn(
            "low",
            "at the bottom",
            "the optimum may lie below it; consider expanding the search space",
        )
    return None


def edge_warnings(study: optuna.Study) -> list[EdgeWarning]:
    """The spec's interpretation tips, applied to the best trial and the space it was searched in.

    The ranges are the best trial's own ``distributions``, so the warnings follow an edited config. Only
    ordered numeric parameters have ends: int and float ranges, and categoricals whose choices are all
    numbers; a parameter fixed to one value has none.

    - ``hidden_size`` / ``num_layers`` at the top: consider expanding the search space; at the bottom:
      a simpler model may be enough.
    - ``dropout`` in the top fifth of its range: overfitting may be an issue.
    - ``lr`` at either end: which end, and what it suggests.
    - any other ordered parameter at an end: the optimum may lie beyond it.
    """
    best = best_trials(study, 1)
    if not best:
        return []
    trial = best[0]
    found = []
    for name, dist in trial.distributions.items():
        if name not in trial.params:
            continue
        warning = _edge_warning(name, trial.params[name], dist)
        if warning is not None:
            found.append(warning)
    return found


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
    for name, value in trial_hyperparameters(best[0]).items():
        lines.append(f"  {name}: {format_value(value)}")
    return lines


def format_results(
    study: optuna.Study,
    *,
    objective_name: str,
    num_trials: int = 10,
    location: str | None = None,
    importance: Importance | None = None,
    include_insight: bool = True,
) -> str:
    """The results summary: trials per state (with reasons), total time, the best configuration,
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
