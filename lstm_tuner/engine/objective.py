"""``Objective``: which logged metric a trial's value is read from, and its direction; and how that
value is read from what ``run_trial`` or ``HyperModel.fit`` returns (:func:`value_from_result`)."""

from __future__ import annotations

import dataclasses
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


def get_objective(objective: str | Objective) -> Objective:
    """Accepts a metric name (direction inferred from it) or an :class:`Objective`.

    Raises:
        ValueError: when the direction cannot be inferred from the name.
    """
    if isinstance(objective, Objective):
        return objective
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
