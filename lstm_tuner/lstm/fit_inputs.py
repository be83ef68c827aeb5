"""What ``fit`` accepts (Windows, arrays, ``tf.data`` datasets) turned into batched pipelines, and the
two things read from those inputs before training: the chronological validation split and what a
delta head is fitted to (its ridge anchor, the target changes it scales by). :func:`prepare` does all
of it, in that order, for :meth:`~lstm_tuner.lstm.model.LSTMHyperModel.fit`.

Keras comes in with the head's layers (:mod:`lstm_tuner.lstm.layers`); ``tf.data`` is used only
inside the functions that build or read a dataset.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from lstm_tuner.lstm.layers import DeltaToLevel, ridge_anchor
from lstm_tuner.timeseries.autoregression import MAX_WINDOWS
from lstm_tuner.timeseries.season import anchor_matrix
from lstm_tuner.timeseries.windows import Windows, make_dataset


def prepare(
    model: Any,
    x: Any,
    y: Any,
    validation_data: Any,
    *,
    batch_size: int,
    num_features: int,
    validation_split: float | None = None,
    seed: int | None = None,
    min_steps: int = 0,
    anchors: RidgeAnchors,
) -> tuple[Any, Any]:
    """The training and validation pipelines of one ``fit``, with the model's delta head fitted to the
    training inputs first.

    Args:
        model: The Keras model; each :class:`~lstm_tuner.lstm.layers.DeltaToLevel` in it gets its
            ridge anchor (``linear_ar``) or its scale and offset from the training inputs.
        x, y: The training inputs: Windows, arrays or a ``tf.data.Dataset``.
        validation_data: Windows, a dataset, ``(x_val, y_val)``, or ``None``.
        batch_size / num_features / seed / min_steps: As in :func:`batched`.
        validation_split: Takes the last fraction of arrays ``x``, ``y`` as the validation data
            (:func:`chronological_split`).
        anchors: The ridge anchors already fitted on training Windows (the hypermodel's).

    Returns:
        ``(train, validation)`` pipelines; ``validation`` is ``None`` without validation data.
    """
    if validation_split:
        if validation_data is not None:
            raise ValueError("pass either validation_data or validation_split, not both")
        (x, y), validation_data = chronological_split(x, y, validation_split)
    for layer in model.layers:
        if isinstance(layer, DeltaToLevel) and layer.fitted:
            layer.set_anchor(*anchors.of(x, y))
        elif isinstance(layer, DeltaToLevel):
            layer.adapt(target_changes(x, y, layer.season_length, layer.growth))
    batch = dict(batch_size=batch_size, num_features=num_features)
    train = batched(x, y, training=True, seed=seed, min_steps=min_steps, **batch)
    if validation_data is None:
        return train, None
    val_x, val_y = (
        validation_data[:2] if isinstance(validation_data, tuple) else (validation_data, None)
    )
    return train, batched(val_x, val_y, training=False, **batch)


class RidgeAnchors:
    """The ``linear_ar`` anchors (the ridge's weights and the training changes it leaves) fitted on
    each training :class:`Windows`, kept while that Windows lives. The ridge depends on the training
    windows alone, so a run's trials and re-evaluations (on its training Windows) fit it once, and
    its retrainings once more (on train + validation) however many seeds alternate between the
    two; other inputs (arrays, datasets, which may change between calls) are fitted each time."""

    def __init__(self) -> None:
        self._fitted: weakref.WeakKeyDictionary[Windows, tuple[np.ndarray, np.ndarray]] = (
            weakref.WeakKeyDictionary()
        )

    def of(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """The anchor of training inputs ``x``, ``y`` (the latest :data:`MAX_WINDOWS` windows)."""
        if not isinstance(x, Windows):
            return ridge_anchor(*training_pairs(x, y, last=MAX_WINDOWS))
        if x not in self._fitted:
            self._fitted[x] = ridge_anchor(*training_pairs(x, last=MAX_WINDOWS))
        return self._fitted[x]


def is_batched_dataset(ds: Any, input_rank: int = 2) -> bool:
    """Whether a ``tf.data.Dataset``'s inputs have a batch axis beyond ``input_rank``."""
    spec = ds.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    return len(x_spec.shape) > input_rank


def batched(
    x: Any,
    y: Any,
    batch_size: int,
    *,
    training: bool,
    seed: int | None = None,
    num_features: int | None = None,
    min_steps: int = 0,
) -> Any:
    """Any input of ``fit`` (Windows, arrays, datasets) as a pipeline batched with ``batch_size``.

    :class:`Windows` gather their batches; an already-batched dataset passes through unchanged; a
    ``[samples, window]`` array is one feature when ``num_features`` is 1. With ``training`` and
    ``min_steps``, Windows and arrays are visited as many whole times per epoch as make at least
    ``min_steps`` batches, each pass in its own order.
    """
    import tensorflow as tf

    passes = 1
    if training and min_steps and isinstance(x, (Windows, np.ndarray)):
        batches = -(-len(x) // batch_size)
        passes = max(1, -(-min_steps // max(batches, 1)))
    if isinstance(x, Windows):
        return x.to_dataset(batch_size=batch_size, shuffle=training, seed=seed, passes=passes)
    if isinstance(x, tf.data.Dataset) and is_batched_dataset(x):
        return x
    if isinstance(x, np.ndarray) and x.ndim == 2 and num_features == 1:
        x = x[..., None]  # [n, window] -> [n, window, 1] for a univariate series
    ds = make_dataset(x, y, batch_size=batch_size, training=training, seed=seed)
    return ds.repeat(passes) if passes > 1 else ds


def chronological_split(x: Any, y: Any, fraction: float) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """``(x, y)`` split in time: the last ``fraction`` of the samples validates, as Keras's
    ``validation_split`` does (``floor(n * (1 - fraction))`` training samples), never shuffled.

    Raises:
        ValueError: ``x`` is not an array, or ``fraction`` is not in (0, 1).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction!r}")
    if not isinstance(x, np.ndarray) or y is None:
        raise ValueError(
            "validation_split takes arrays x and y (Keras refuses it for datasets too); pass "
            "validation_data=(x_val, y_val) or a Windows/tf.data.Dataset of validation windows"
        )
    split_at = int(np.floor(len(x) * (1.0 - fraction)))
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def training_pairs(x: Any, y: Any = None, last: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The training windows and their targets as arrays, in the order given.

    Args:
        x: Windows, an array ``[n, window, features]`` (or ``[n, window]`` for one feature) or a
            ``tf.data.Dataset`` of ``(x, y)`` (batched or not: it is read once).
        y: Targets ``[n, horizon]`` (or ``[n]``) with an array ``x``.
        last: Only the latest ``last`` windows (Windows are then never made whole in memory).

    Returns:
        ``[n, window, features]`` and ``[n, horizon]``.
    """
    if isinstance(x, Windows):
        if last is not None and len(x) > last:
            first = x.first_target + len(x) - last
            x = Windows(x.series, x.window_size, x.horizon, first_target=first, end=x.end)
        xs, ys = x.arrays()
    elif isinstance(x, np.ndarray):
        xs, ys = x, np.asarray(y)
    else:
        # As in batched(): inputs of rank 3 are batches, of rank 2 single windows.
        pairs = list(x.as_numpy_iterator())
        join = np.concatenate if is_batched_dataset(x) else np.stack
        xs, ys = join([a for a, _ in pairs]), join([b for _, b in pairs])
    xs = xs[..., None] if xs.ndim == 2 else xs
    ys = ys.reshape(len(ys), -1)
    return (xs, ys) if last is None else (xs[-last:], ys[-last:])


def target_changes(
    x: Any, y: Any, season_length: int | None = None, growth: bool = False
) -> np.ndarray:
    """The training targets minus their reference values in each window (the last target value, or
    the one a season before each target; feature 0), ``[n, horizon]``.

    Args:
        x: Windows, an array ``[n, window, features]`` (or ``[n, window]`` for one feature) or a
            ``tf.data.Dataset`` of ``(x, y)`` (batched or not: it is read once).
        y: Targets ``[n, horizon]`` (or ``[n]``) with an array ``x``.
    """
    if isinstance(x, Windows):
        return x.changes(season_length, growth)
    xs, ys = training_pairs(x, y)
    target = xs[:, :, 0]
    matrix = anchor_matrix(ys.shape[1], season_length, growth)
    before = target[:, target.shape[1] - np.arange(1, len(matrix) + 1)]  # y[t-1], y[t-2], ...
    return ys - before @ matrix
