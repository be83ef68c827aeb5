"""Choosing the ``tf.distribute`` strategy.

``batch_size`` is always the global batch: Keras splits each batch of a distributed dataset over the
replicas, so the per-replica batch is ``batch_size // num_replicas_in_sync``.
"""

from __future__ import annotations

import tensorflow as tf
from absl import logging

from lstm_tuner.names import STRATEGIES


def check_strategy(strategy: str | tf.distribute.Strategy | None) -> str | tf.distribute.Strategy:
    """Validates a strategy name (``None`` is ``"auto"``) without touching the devices.

    Raises:
        ValueError: for an unknown name.
    """
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    name = "auto" if strategy is None else strategy
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}, but got {name!r}")
    return name


def get_strategy(strategy: str | tf.distribute.Strategy | None = None) -> tf.distribute.Strategy:
    """Returns a strategy by name, or passes an instance through.

    Args:
        strategy: ``None``/``"auto"`` picks one: ``MirroredStrategy`` over all GPUs when there are
            several, ``OneDeviceStrategy`` on the GPU when there is one, the default strategy on CPU.
            ``"mirrored"`` mirrors over every GPU, or every logical CPU device when there is no GPU;
            ``"one_device"`` uses the first GPU (or the CPU); ``"default"`` is TensorFlow's default.

    Raises:
        ValueError: for an unknown name.
    """
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    name = check_strategy(strategy)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "one_device" if gpus else "default"
    if name == "default":
        chosen = tf.distribute.get_strategy()
    elif name == "one_device":
        chosen = tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    else:
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        chosen = _mirrored(tuple(devices))
    logging.info(
        "Distribution strategy: %s with %d replica(s)",
        type(chosen).__name__,
        chosen.num_replicas_in_sync,
    )
    return chosen


def _mirrored(devices: tuple[str, ...]) -> tf.distribute.MirroredStrategy:
    """A ``MirroredStrategy`` whose collective ops cannot collide with an earlier strategy's.

    Every new ``MirroredStrategy`` numbers its all-reduces from the same keys (group 1, instance 100)
    and the runtime remembers each key's tensor shape for the life of the process. A second strategy
    in the same process (a user's own strategy before ours, the retraining after a search, a second
    tuner in a notebook) then aborts its first all-reduce with "Shape mismatch in the collective
    instance 100". TensorFlow's own tests move the key base before each new strategy
    (``strategy_combinations._mirrored_strategy_with_collective_key_base``); so do we, and once
    more after ours is made: the base is a class attribute that a new strategy reads but does not
    move, so a strategy the user makes after ours would otherwise take ours's keys.
    """
    tf.distribute.MirroredStrategy._collective_key_base += 100_000
    strategy = tf.distribute.MirroredStrategy(list(devices))
    tf.distribute.MirroredStrategy._collective_key_base += 100_000
    return strategy
