"""KerasTuner's oracle classes, each naming the Optuna sampler (and pruner) that runs its search."""

from __future__ import annotations

import math
from typing import Any

import optuna

from lstm_tuner.engine.oracle import Oracle
from lstm_tuner.engine.search_space import grid_of
from lstm_tuner.storage import study as study_lib


class RandomSearchOracle(Oracle):
    """Random search: Optuna's ``RandomSampler``."""

    def make_sampler(self, n_trials: int, space: Any = None) -> optuna.samplers.BaseSampler:
        return study_lib.make_sampler("random", self.seed)


class BayesianOptimizationOracle(Oracle):
    """KerasTuner's ``BayesianOptimizationOracle`` name, run by Optuna's TPE (a Bayesian optimizer
    over a tree-structured Parzen estimator, not KerasTuner's Gaussian process).

    Args:
        num_initial_points: Random trials before TPE models the results (default: half the budget,
            between 5 and 10; see :func:`lstm_tuner.storage.study.tpe_startup_trials`).
        alpha / beta: KerasTuner's Gaussian-process settings; TPE has none, so only their defaults
            are accepted. For a Gaussian process, give the tuner ``sampler=optuna.samplers.GPSampler()``.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 2.6,
        **kwargs: Any,
    ) -> None:
        if alpha != 1e-4 or beta != 2.6:
            raise ValueError(
                "BayesianOptimization: alpha and beta tune KerasTuner's Gaussian process; "
                "lstm_tuner's BayesianOptimization is Optuna's TPE, which has neither: pass "
                "sampler=optuna.samplers.GPSampler(seed=...) for a Gaussian process"
            )
        super().__init__(objective, max_trials, **kwargs)
        self.num_initial_points = num_initial_points

    def make_sampler(self, n_trials: int, space: Any = None) -> optuna.samplers.BaseSampler:
        if self.num_initial_points is None:
            return study_lib.make_sampler("tpe", self.seed, n_trials=n_trials)
        return optuna.samplers.TPESampler(seed=self.seed, n_startup_trials=self.num_initial_points)


class GridSearchOracle(Oracle):
    """Every combination of the (discrete) space once, by Optuna's ``GridSampler``, in the order of
    nested loops over the parameters sorted by name. ``max_trials`` defaults to the grid's size;
    floats need a ``step``."""

    def make_sampler(self, n_trials: int, space: Any = None) -> optuna.samplers.BaseSampler:
        return study_lib.make_sampler("grid", self.seed, search_space=grid_of(space or ()))

    @staticmethod
    def grid_size(space: Any) -> int:
        return math.prod(len(values) for values in grid_of(space).values())


class HyperbandOracle(Oracle):
    """KerasTuner's ``Hyperband`` name: TPE sampling with Optuna's ``HyperbandPruner``.

    Trials train for up to ``max_epochs`` epochs (the ``epochs`` given to ``search`` are replaced,
    as in KerasTuner) and the pruner stops weak ones early. Without ``max_trials`` the budget is the
    number of trials KerasTuner's schedule would run: ``hyperband_iterations`` times the sizes of
    its brackets' rounds. Unlike KerasTuner, a trial that survives a round goes on training; it is
    not restarted from a checkpoint as a new trial, and no ``tuner/*`` values are added.
    """

    def __init__(
        self,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        max_trials: int | None = None,
        **kwargs: Any,
    ) -> None:
        if max_trials is None:
            max_trials = hyperband_iterations * kerastuner_hyperband_trials(max_epochs, factor)
        super().__init__(objective, max_trials, **kwargs)
        self.max_epochs, self.factor = max_epochs, factor

    def make_pruner(self) -> optuna.pruners.BasePruner:
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=self.max_epochs, reduction_factor=self.factor
        )


def kerastuner_hyperband_trials(max_epochs: int, factor: int, min_epochs: int = 1) -> int:
    """The trials of one iteration of KerasTuner's Hyperband schedule (``tuners/hyperband.py``):
    per bracket ``b`` and round ``r <= b``, ``ceil(ceil(1 + log_factor(max_epochs)) / (b + 1) *
    factor ** (b - r))``."""
    brackets, epochs = 0, max_epochs
    while epochs >= min_epochs:
        epochs, brackets = epochs / factor, brackets + 1
    end = math.ceil(1 + math.log(max_epochs, factor))
    return sum(
        math.ceil(end / (b + 1) * factor ** (b - r)) for b in range(brackets) for r in range(b + 1)
    )
