"""KerasTuner's tuner classes, as :class:`~lstm_tuner.Tuner` subclasses with Optuna's samplers.

They are classes, as in KerasTuner, so that code subclassing ``RandomSearch`` (to override
``run_trial``, say) runs unchanged.
"""

from __future__ import annotations

from typing import Any

import optuna

from lstm_tuner import study as study_lib
from lstm_tuner.hypermodel import get_hypermodel
from lstm_tuner.hyperparameters import HyperParameters
from lstm_tuner.tuner import Tuner, grid_of


class RandomSearch(Tuner):
    """KerasTuner's ``RandomSearch``: a :class:`Tuner` with Optuna's ``RandomSampler``."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        sampler = kwargs.pop("sampler", None) or study_lib.make_sampler("random", seed)
        super().__init__(hypermodel, objective, max_trials, sampler=sampler, seed=seed, **kwargs)


class BayesianOptimization(Tuner):
    """KerasTuner's ``BayesianOptimization`` name, run by Optuna's TPE (a Bayesian optimizer over a
    tree-structured Parzen estimator, not KerasTuner's Gaussian process).

    Args:
        num_initial_points: Random trials before TPE models the results (default: half the budget,
            between 5 and 10; see :func:`lstm_tuner.study.tpe_startup_trials`).
        alpha / beta: KerasTuner's Gaussian-process settings; TPE has none, so only their defaults
            are accepted. For a Gaussian process, pass ``sampler=optuna.samplers.GPSampler()``.
    """

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
        if alpha != 1e-4 or beta != 2.6:
            raise ValueError(
                "BayesianOptimization: alpha and beta tune KerasTuner's Gaussian process; "
                "lstm_tuner's BayesianOptimization is Optuna's TPE, which has neither: pass "
                "sampler=optuna.samplers.GPSampler(seed=...) for a Gaussian process"
            )
        sampler = kwargs.pop("sampler", None)
        if sampler is None and num_initial_points is not None:
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=num_initial_points)
        if sampler is None:
            sampler = study_lib.make_sampler("tpe", seed, n_trials=max_trials)
        super().__init__(hypermodel, objective, max_trials, sampler=sampler, seed=seed, **kwargs)


class GridSearch(Tuner):
    """KerasTuner's ``GridSearch``: every combination of the (discrete) space, by Optuna's
    ``GridSampler``. ``max_trials`` defaults to the size of the grid; floats need a ``step``."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        declared = kwargs.get("hyperparameters")
        hp = HyperParameters(declared=declared.space if declared is not None else ())
        if hypermodel is not None:
            get_hypermodel(hypermodel).declare_hyperparameters(hp)
        grid = grid_of(hp.space)
        size = 1
        for values in grid.values():
            size *= len(values)
        sampler = study_lib.make_sampler("grid", seed, search_space=grid)
        super().__init__(
            hypermodel, objective, max_trials or size, sampler=sampler, seed=seed, **kwargs
        )


class Hyperband(Tuner):
    """KerasTuner's ``Hyperband`` name: TPE sampling with Optuna's ``HyperbandPruner``.

    Each trial trains for up to ``max_epochs`` epochs (the ``epochs`` passed to ``search`` are
    replaced, as in KerasTuner); the pruner stops weak trials early.
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        max_trials: int = 10,
        **kwargs: Any,
    ) -> None:
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=max_epochs, reduction_factor=factor
        )
        self.max_epochs = max_epochs
        kwargs.setdefault("sampler", study_lib.make_sampler("tpe", seed, n_trials=max_trials))
        super().__init__(hypermodel, objective, max_trials, pruner=pruner, seed=seed, **kwargs)

    def run_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> float:
        fit_kwargs["epochs"] = self.max_epochs
        return super().run_trial(trial, *fit_args, **fit_kwargs)
