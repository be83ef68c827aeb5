"""``Objective``: which logged metric a trial's value is read from, and its direction."""

from __future__ import annotations

import dataclasses
from typing import Literal

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
