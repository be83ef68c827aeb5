"""What the command does: ``run`` (search -> selection -> retraining -> verdict -> export -> reports),
with its ``options``, the ``search`` a config describes (hypermodel and tuner), the trial
``selection``, the ``retraining``, the ``verdict`` on the test split, the ``workers`` and the
``console``. ``run`` imports TensorFlow; the names here do not."""

from lstm_tuner.job.options import RunOptions, open_backends

__all__ = ["RunOptions", "open_backends"]
