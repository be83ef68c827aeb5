"""SavedModel export for serving: raw units in, raw units out, written atomically.

The exported ``serving_default`` signature takes a float32 window ``[batch, window_size, num_features]``
in the series' original units (columns ``feature_names``; the ``future_features`` among them led by
the horizon: row ``t`` holds the value at ``t + horizon``), scales it with the training statistics,
runs the model and returns ``{"prediction": [batch, horizon]}`` in the target's original units, and,
when the model has calibrated
prediction intervals (:mod:`lstm_tuner.timeseries.intervals`), ``lower_<level>`` and ``upper_<level>``
``[batch, horizon]`` computed from ``prediction`` in the same graph. TF Serving loads the directory
as a model version (mount it as ``/models/<name>/1``).

Both exports of a run are made here: the best trial's (``export/best_trial/``) and the retrained
model's (``export/final/``), each by :func:`export_trained`.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from lstm_tuner.files import write_json_atomic
from lstm_tuner.lstm.model import season_of_model, target_transform_of
from lstm_tuner.timeseries.intervals import ConformalIntervals, band_names
from lstm_tuner.timeseries.series import SeriesData
from lstm_tuner.version import __version__

METADATA_FILENAME = "metadata.json"


def package_versions() -> dict[str, str]:
    """Versions of the packages that produced a model."""
    import optuna

    return {
        "lstm_tuner": __version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "optuna": optuna.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def export_model(
    model: keras.Model,
    path: str | os.PathLike,
    *,
    input_mean: Sequence[float],
    input_scale: Sequence[float],
    target_mean: float,
    target_scale: float,
    metadata: Mapping[str, Any],
    intervals: ConformalIntervals | None = None,
    log_target: bool = False,
) -> str:
    """Exports ``model`` as a SavedModel with scaling inside the serving graph.

    Args:
        model: Maps scaled windows ``[batch, window, features]`` to scaled targets ``[batch, horizon]``.
        path: The export directory; replaced atomically if it exists.
        input_mean / input_scale: Per-feature statistics ``[features]``: ``scaled = (x - mean) / scale``.
        target_mean / target_scale: The target's statistics: ``y = scaled * scale + mean``.
        metadata: Written to ``metadata.json`` in the export directory (package versions are added).
        intervals: Calibrated in the target's original units; the signature then also returns
            each level's bounds, and ``metadata.json`` records them under ``intervals``.
        log_target: The model sees and forecasts the target's natural log (data.target_scale:
            log): the graph takes the log of feature 0 before scaling and ``exp`` of the
            forecast; target_mean / target_scale are then those of the log.

    Returns:
        The export directory.
    """
    path = os.path.abspath(os.fspath(path))
    window_size, num_features = int(model.input_shape[1]), int(model.input_shape[2])
    mean = tf.constant(np.asarray(input_mean, dtype=np.float32).reshape(1, 1, num_features))
    scale = tf.constant(np.asarray(input_scale, dtype=np.float32).reshape(1, 1, num_features))
    t_mean = tf.constant(np.float32(target_mean))
    t_scale = tf.constant(np.float32(target_scale))

    archive = keras.export.ExportArchive()
    archive.track(model)

    bands = []  # (lower name, upper name, offsets [horizon])
    if intervals is not None:
        bands = [
            (*band_names(level), tf.constant(intervals.offsets[level].astype(np.float32)))
            for level in intervals.levels
        ]
    relative = intervals is not None and intervals.scale == "relative"

    def serve(window: tf.Tensor) -> dict[str, tf.Tensor]:
        if log_target:
            window = tf.concat([tf.math.log(window[..., :1]), window[..., 1:]], axis=-1)
        scaled = model((window - mean) / scale, training=False)
        prediction = scaled * t_scale + t_mean
        if log_target:
            prediction = tf.exp(prediction)
        out = {"prediction": prediction}
        for lower, upper, offsets in bands:
            width = offsets * tf.abs(prediction) if relative else offsets
            out[lower] = prediction - width
            out[upper] = prediction + width
        return out

    archive.add_endpoint(
        name="serving_default",
        fn=serve,
        input_signature=[
            tf.TensorSpec([None, window_size, num_features], tf.float32, name="window")
        ],
    )

    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.tmp-")
    umask = os.umask(0o022)
    os.umask(umask)
    os.chmod(
        tmp, 0o777 & ~umask
    )  # mkdtemp makes it private; a model server may run as another user
    try:
        archive.write_out(tmp, verbose=False)
        full_metadata = {
            **metadata,
            "window_size": window_size,
            "num_features": num_features,
            "scaling": {
                "input_mean": [float(v) for v in np.ravel(input_mean)],
                "input_scale": [float(v) for v in np.ravel(input_scale)],
                "target_mean": float(target_mean),
                "target_scale": float(target_scale),
                "target_log": bool(log_target),
            },
            "signature": {
                "name": "serving_default",
                "input": {
                    "window": f"float32 [batch, {window_size}, {num_features}], original units"
                },
                "output": {
                    "prediction": "float32 [batch, horizon], original units",
                    **{
                        name: "float32 [batch, horizon], original units"
                        for lower, upper, _ in bands
                        for name in (lower, upper)
                    },
                },
            },
            **({"intervals": intervals.to_dict()} if intervals is not None else {}),
            "versions": package_versions(),
            "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
        }
        write_json_atomic(os.path.join(tmp, METADATA_FILENAME), full_metadata)
        _replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _replace_dir(src: str, dst: str) -> None:
    """Moves ``src`` to ``dst``; an existing ``dst`` is swapped out first and removed after."""
    if not os.path.exists(dst):
        os.replace(src, dst)
        return
    old = tempfile.mkdtemp(dir=os.path.dirname(dst), prefix=f".{os.path.basename(dst)}.old-")
    os.rmdir(old)
    os.replace(dst, old)
    os.replace(src, dst)
    shutil.rmtree(old, ignore_errors=True)


def export_trained(
    model: keras.Model,
    path: str,
    data: SeriesData,
    metadata: dict[str, Any],
    *,
    run_config: Mapping[str, Any],
    intervals: ConformalIntervals | None = None,
) -> str:
    """Exports a model trained on the scaled series so that it serves in original units.

    Args:
        model: Trained on ``data``'s scaled windows.
        path: The export directory.
        data: The series, for its scaler, columns and source.
        metadata: What the export says about the model (source, hyperparameters, ...).
        run_config: The run's configuration as a dict (``config_to_dict``), written with it.
        intervals: The model's prediction intervals, calibrated in original units.
    """
    scaler = data.scaler
    return export_model(
        model,
        path,
        input_mean=scaler.mean,
        input_scale=scaler.scale,
        target_mean=float(scaler.mean[0]),
        target_scale=float(scaler.scale[0]),
        metadata={
            **metadata,
            "horizon": run_config["data"]["horizon"],
            "target_transform": target_transform_of(model),
            "season_length": season_of_model(model),
            "feature_names": list(data.column_names),
            # These last columns of the window hold each value `horizon` steps ahead of its row.
            "future_features": list(data.future_features),
            "target_name": data.target_name,
            "time_column": run_config["data"]["time_column"],
            "data_source": data.source,
            "config": run_config,
        },
        intervals=intervals,
        log_target=scaler.log_target,
    )
