"""What the trials say about the space: parameter importance and edge-of-space warnings.

Both read the study only (no training); :mod:`lstm_tuner.engine.results` turns them into text and
:mod:`lstm_tuner.reporting.search_plots` into figures.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
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

from lstm_tuner.rules import format_value
from lstm_tuner.storage.study import best_trials

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


def make_evaluator(name: str) -> optuna.importance.BaseImportanceEvaluator:
    """The evaluator of an :class:`Importance`: ``"fANOVA"`` or ``"PED-ANOVA"``."""
    fanova = _make_fanova() if name == "fANOVA" else None
    return fanova or optuna.importance.PedAnovaImportanceEvaluator()


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
