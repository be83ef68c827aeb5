"""``Objective``: which logged metric a trial's value is read from, and its direction; and how that
value is read from what ``run_trial`` or ``HyperModel.fit`` returns (:func:`value_from_result`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from lstm_tuner.errors import FatalError, FatalTypeError, FatalValueError

_MINIMIZE_HINTS = ("loss", "error", "mse", "mae", "rmse", "mape", "crossentropy")
_MAXIMIZE_HINTS = ("acc", "auc", "precision", "recall", "r2", "f1")


@dataclasses.dataclass(frozen=True)
class Objective:
    """A metric name and its direction, as in KerasTuner (``"min"`` or ``"max"``).

    Args:
        name: A key of the logs Keras passes to callbacks, e.g. ``"val_loss"``.
        direction: ``"min"`` or ``"max"`` (``"minimize"``/``"maximize"`` are accepted too).
    """

    name: str
    direction: Literal["min", "max"] = "min"

    def __post_init__(self) -> None:
        aliases = {"minimize": "min", "maximize": "max"}
        direction = aliases.get(self.direction, self.direction)
        if direction not in ("min", "max"):
            raise ValueError(
                f"Objective({self.name!r}): direction must be 'min' or 'max', but got {self.direction!r}"
            )
        object.__setattr__(self, "direction", direction)

    @property
    def optuna_direction(self) -> str:
        """``"minimize"`` or ``"maximize"``."""
        return "minimize" if self.direction == "min" else "maximize"

    def is_better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return a < b if self.direction == "min" else a > b

    def value_in(self, logs: Mapping[str, Any]) -> float | None:
        """The objective's value in an epoch's logs (``None`` when it is not there)."""
        value = logs.get(self.name)
        return None if value is None else float(value)

    # KerasTuner's names
    def better_than(self, a: float, b: float) -> bool:
        """KerasTuner's name of :meth:`is_better`."""
        return self.is_better(a, b)

    def has_value(self, logs: Mapping[str, Any]) -> bool:
        """Whether ``logs`` hold the objective's value."""
        return self.value_in(logs) is not None

    def get_value(self, logs: Mapping[str, Any]) -> float:
        """The objective's value in ``logs``.

        Raises:
            KeyError: ``logs`` do not hold it.
        """
        value = self.value_in(logs)
        if value is None:
            raise KeyError(f"{self.name!r} is not in the logs {sorted(logs)}")
        return value


@dataclasses.dataclass(frozen=True, init=False)
class MultiObjective(Objective):
    """Several objectives as one, as KerasTuner's ``MultiObjective``: the sum of their values,
    each negated when it is maximized, minimized under the name ``multi_objective``.

    The trials' logs and history carry the sum under that name next to each part, so early
    stopping, the pruner and the reports read it like any metric.
    """

    objectives: tuple[Objective, ...] = ()

    def __init__(self, objectives: Sequence[Objective]) -> None:
        object.__setattr__(self, "objectives", tuple(objectives))
        object.__setattr__(self, "name", "multi_objective")
        object.__setattr__(self, "direction", "min")

    def value_in(self, logs: Mapping[str, Any]) -> float | None:
        values = [o.value_in(logs) for o in self.objectives]
        if any(v is None for v in values):
            return None
        return float(
            sum(
                v if o.direction == "min" else -v
                for o, v in zip(self.objectives, values, strict=True)
            )
        )

    def parts(self, logs: Mapping[str, Any]) -> dict[str, float]:
        """Each objective's own value in ``logs``."""
        return {o.name: float(logs[o.name]) for o in self.objectives if o.name in logs}


def get_objective(objective: str | Objective | Sequence[str | Objective]) -> Objective:
    """Accepts a metric name (direction inferred from it), an :class:`Objective`, or a list of
    those (a :class:`MultiObjective`, as in KerasTuner).

    Raises:
        ValueError: when the direction cannot be inferred from the name.
    """
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, (list, tuple)):
        if not objective:
            raise ValueError("objective: an empty list; give one metric name or several")
        parts = [get_objective(o) for o in objective]
        if len(parts) == 1:
            return parts[0]
        if any(isinstance(p, MultiObjective) for p in parts):
            raise ValueError("objective: a list of objectives cannot hold another list")
        return MultiObjective(parts)
    if not isinstance(objective, str) or not objective:
        raise ValueError(f"objective must be a metric name or lt.Objective, but got {objective!r}")
    lowered = objective.lower()
    if any(h in lowered for h in _MINIMIZE_HINTS):
        return Objective(objective, "min")
    if any(h in lowered for h in _MAXIMIZE_HINTS):
        return Objective(objective, "max")
    raise ValueError(
        f"cannot infer the direction of objective {objective!r}; pass "
        f"lt.Objective({objective!r}, direction='min') or direction='max'"
    )


#: KerasTuner's objective when none is given: the value ``run_trial`` or ``HyperModel.fit`` returns.
#: A ``History`` has no such metric: its ``val_loss`` (else ``loss``) stands in for it.
DEFAULT_OBJECTIVE = Objective("default_objective", "min")


def value_from_result(result: Any, objective: Objective) -> tuple[float, int | None]:
    """The objective's value in what ``run_trial`` or ``HyperModel.fit`` returned, as KerasTuner reads
    it, and the best epoch (counted from 0) when the result tells it.

    A number is the value; a dict holds it under the objective's name; a ``History`` gives the best
    epoch's value; a list (one result per execution) gives the mean of the values.

    Raises:
        FatalTypeError: for ``None`` or another type.
        FatalValueError: for a dict without the objective.
        FatalError: for a ``History`` without the objective.
    """
    if isinstance(result, (list, tuple)) and result:
        read = [value_from_result(r, objective) for r in result]
        steps = [step for _, step in read]
        step = None if None in steps else int(np.mean(steps))
        return float(np.mean([value for value, _ in read])), step
    if isinstance(result, (int, float, np.floating, np.integer)) and not isinstance(result, bool):
        return float(result), None
    if result is None:
        raise FatalTypeError(
            "run_trial (or HyperModel.fit) returned None; did you forget to return the metrics?"
        )
    if isinstance(result, dict):
        if isinstance(objective, MultiObjective) and objective.value_in(result) is not None:
            return float(objective.value_in(result)), None
        if objective.name not in result and objective == DEFAULT_OBJECTIVE:
            raise FatalTypeError(
                "with no objective given, run_trial (or HyperModel.fit) must return a float or a "
                f"dict with the key 'default_objective', got keys {sorted(result)}; pass "
                "objective=lt.Objective(name, direction)"
            )
        if objective.name not in result:
            raise FatalValueError(
                f"the dict returned by run_trial (or HyperModel.fit) must hold the objective "
                f"{objective.name!r} as a key, got keys {sorted(result)}"
            )
        return float(result[objective.name]), None
    history = getattr(result, "history", None)
    if (
        isinstance(history, dict)
        and objective.name not in history
        and isinstance(objective, MultiObjective)
    ):
        epochs = [dict(zip(history, v, strict=True)) for v in zip(*history.values(), strict=True)]
        sums = [objective.value_in(logs) for logs in epochs]
        if sums and None not in sums:
            history = {objective.name: sums}
    if isinstance(history, dict):
        name = objective.name
        if objective == DEFAULT_OBJECTIVE and name not in history:
            name = "val_loss" if "val_loss" in history else "loss"
        values = [float(v) for v in history.get(name) or []]
        if not values:
            raise FatalError(
                f"objective {objective.name!r} is not among the metrics that fit logs "
                f"{sorted(history)}; pass validation data for 'val_*' objectives or choose one"
            )
        best = int(np.argmin(values) if objective.direction == "min" else np.argmax(values))
        return values[best], best
    raise FatalTypeError(
        "run_trial (or HyperModel.fit) must return a float, a dict of metrics, a History or a "
        f"list of those, got {type(result).__name__}"
    )
