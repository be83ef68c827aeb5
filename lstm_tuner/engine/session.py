"""A clean, seeded Keras session for every model a search trains.

``clear_session()`` and ``gc.collect()`` before each build (as KerasTuner does), a training seed derived
from the hyperparameter values rather than the trial number, and the cleanup of a TensorFlow registry
that ``clear_session`` does not reach.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import keras
from tensorflow.python.framework import ops as tf_ops


def fresh_session(seed: int | None = None, *, collect: bool = True) -> None:
    """Clears Keras's global state and collects garbage (once: ``clear_session``'s own collection
    is skipped; ``collect=False`` skips it too); then seeds Python, NumPy and TensorFlow."""
    keras.backend.clear_session(free_memory=False)
    if collect:
        gc.collect()
    if seed is not None:
        keras.utils.set_random_seed(seed)


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Python's cyclic garbage collector skips the objects alive when the block starts.

    A process that imported TensorFlow tracks about 380,000 objects, and every full
    ``gc.collect()`` walks them all: 0.25-0.3 s on these cores, several times per trial (before
    each build, as KerasTuner does). Those objects (modules, the user's data) outlive the search,
    so the block collects once and moves them to the permanent generation (``gc.freeze``, the
    standard library's tool for long-lived heaps); the collections inside it walk only what the
    search created, the models of earlier trials included. Everything is unfrozen when the block
    ends. A process that froze its heap itself is left as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def training_seed(seed: int, values: dict[str, Any], execution: int = 0) -> int:
    """The seed a trial trains with: a stable hash of the search seed and the hyperparameter values.

    Stable across processes and machines (SHA-256 of canonical JSON, not Python's salted ``hash``),
    so a resumed or retried trial, or another worker drawing the same values, trains the same model.
    """
    text = json.dumps([seed, execution, values], sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


@contextlib.contextmanager
def released_custom_gradients() -> Iterator[None]:
    """Unregisters the graph-mode custom gradients that a trial registered, when the trial ends.

    Tracing a Keras train step under any ``tf.distribute`` replica context (the default one too)
    calls ``ReplicaContext.all_reduce``, a ``tf.custom_gradient``; in graph mode that registers a
    ``CustomGradient-<uid>`` entry in TensorFlow's global gradient registry which is never removed
    and holds the whole traced ``FuncGraph`` (tensorflow/tensorflow#97697, keras-team/keras#17458):
    about 20 MB per trained model, whatever ``clear_session()`` does. The entries are only needed
    while the trial's own functions are traced and differentiated, and the trial's model is gone
    when it ends, so the entries it added are dropped. Entries from before the trial are kept. The
    registry is TensorFlow-private: if it is not where it is expected, nothing is done.
    """
    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", None)
    before = set(registry) if isinstance(registry, dict) else None
    try:
        yield
    finally:
        if before is not None:
            for name in [k for k in registry if k not in before]:
                if name.startswith("CustomGradient-"):
                    del registry[name]
