"""The KerasTuner search loop on Optuna, model-agnostic.

Per trial: ``HyperParameters(trial)`` (``hyperparameters``, rules in ``search_space``) -> the user's
``HyperModel`` (``hypermodel``) built under the ``strategy``'s scope, in a fresh ``session`` ->
``fit`` with the trial's ``callbacks`` -> its ``objective`` value -> the study. ``base_tuner`` runs the
loop, ``tuner`` trains Keras models, ``oracle`` offers KerasTuner's read-only views of the study,
``progress`` reports it, ``analysis`` and ``results`` describe what it found.

The names here import no TensorFlow; ``Tuner`` and ``BaseTuner`` live in ``engine.tuner`` and
``engine.base_tuner`` (and at the top level, ``lstm_tuner.Tuner``).
"""

from lstm_tuner.engine.hypermodel import HyperModel
from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.engine.objective import Objective
from lstm_tuner.engine.search_space import Condition, ParamSpec

__all__ = ["Condition", "HyperModel", "HyperParameters", "Objective", "ParamSpec"]
