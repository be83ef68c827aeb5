"""KerasTuner's tuner classes: a :class:`~lstm_tuner.Tuner` with the matching oracle.

They are classes, as in KerasTuner, so that code subclassing ``RandomSearch`` (to override
``run_trial``, say) runs unchanged.
"""

from __future__ import annotations

from typing import Any

from lstm_tuner.engine.tuner import Tuner
from lstm_tuner.oracles import (
    BayesianOptimizationOracle,
    GridSearchOracle,
    HyperbandOracle,
    RandomSearchOracle,
)

_ORACLE_ARGS = (
    "hyperparameters",
    "tune_new_entries",
    "allow_new_entries",
    "max_retries_per_trial",
    "max_consecutive_failed_trials",
)


def _split(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in _ORACLE_ARGS if k in kwargs}


class RandomSearch(Tuner):
    """KerasTuner's ``RandomSearch``: Optuna's ``RandomSampler``."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = RandomSearchOracle(objective, max_trials, seed=seed, **_split(kwargs))
        super().__init__(hypermodel, oracle=oracle, **kwargs)


class BayesianOptimization(Tuner):
    """KerasTuner's ``BayesianOptimization`` name, run by Optuna's TPE (see
    :class:`~lstm_tuner.oracles.BayesianOptimizationOracle`)."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 2.6,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = BayesianOptimizationOracle(
            objective,
            max_trials,
            num_initial_points,
            alpha,
            beta,
            seed=seed,
            **_split(kwargs),
        )
        super().__init__(hypermodel, oracle=oracle, **kwargs)


class GridSearch(Tuner):
    """KerasTuner's ``GridSearch``: every combination of the (discrete) space once, by Optuna's
    ``GridSampler``. ``max_trials`` defaults to the size of the grid; floats need a ``step``."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = GridSearchOracle(objective, max_trials, seed=seed, **_split(kwargs))
        super().__init__(hypermodel, oracle=oracle, **kwargs)


class Hyperband(Tuner):
    """KerasTuner's ``Hyperband`` name: TPE sampling with Optuna's ``HyperbandPruner`` (see
    :class:`~lstm_tuner.oracles.HyperbandOracle`)."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        max_trials: int | None = None,
        **kwargs: Any,
    ) -> None:
        oracle = HyperbandOracle(
            objective,
            max_epochs,
            factor,
            hyperband_iterations,
            max_trials,
            seed=seed,
            **_split(kwargs),
        )
        super().__init__(hypermodel, oracle=oracle, **kwargs)

    def run_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> float:
        fit_kwargs["epochs"] = self.oracle.max_epochs
        return super().run_trial(trial, *fit_args, **fit_kwargs)
