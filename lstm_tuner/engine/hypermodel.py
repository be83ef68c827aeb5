"""``HyperModel``: the KerasTuner base class for search spaces defined in code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lstm_tuner.engine.hyperparameters import HyperParameters


class HyperModel:
    """Defines a search space by building a model from ``hp``, and how to train it.

    Subclass it and override :meth:`build` (and :meth:`fit` to tune training arguments, for example the
    batch size), exactly as with KerasTuner.

    Args:
        name: Optional name, used in summaries.
        tunable: Kept for KerasTuner compatibility.
    """

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        self.name = name or type(self).__name__
        self.tunable = tunable

    def build(self, hp: HyperParameters) -> Any:
        """Builds and compiles a ``keras.Model`` for the values in ``hp``."""
        raise NotImplementedError(f"{type(self).__name__}.build(hp) must be implemented")

    def declare_hyperparameters(self, hp: HyperParameters) -> None:
        """Declares the search space on ``hp`` without training; used by ``search_space_summary``.

        The default builds a model (as KerasTuner does to populate the space); subclasses that know their
        space may declare it without building anything.
        """
        self.build(hp)

    def fit(self, hp: HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Trains ``model``; the default is ``model.fit(*args, **kwargs)``.

        Returns:
            A ``keras.callbacks.History``, a dict of metrics, or a float (the objective's value).
        """
        return model.fit(*args, **kwargs)


class _FunctionHyperModel(HyperModel):
    """Wraps a plain ``build_model(hp)`` function."""

    def __init__(self, build_fn: Callable[[HyperParameters], Any]) -> None:
        super().__init__(name=getattr(build_fn, "__name__", "build_model"))
        self._build_fn = build_fn

    def build(self, hp: HyperParameters) -> Any:
        return self._build_fn(hp)


def get_hypermodel(hypermodel: HyperModel | Callable[[HyperParameters], Any]) -> HyperModel:
    """Accepts a ``HyperModel`` or a ``build_model(hp)`` callable, as KerasTuner does.

    Raises:
        TypeError: for anything else.
    """
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel):
        return _FunctionHyperModel(hypermodel)
    raise TypeError(
        f"hypermodel must be a lstm_tuner.HyperModel or a callable build_model(hp), "
        f"but got {type(hypermodel).__name__}"
    )
