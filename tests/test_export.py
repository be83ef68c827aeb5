"""The SavedModel export: raw windows in, raw-unit forecasts out, for both target transforms."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstm_tuner.lstm.model import build_lstm_model, target_transform_of
from lstm_tuner.serving.export import METADATA_FILENAME, export_model

MEAN = np.array([50.0, 10.0])
SCALE = np.array([5.0, 2.0])


def _raw_windows(n: int = 9) -> np.ndarray:
    rng = np.random.default_rng(1)
    return (MEAN + SCALE * rng.normal(size=(n, 12, 2))).astype(np.float32)


def _export(model: keras.Model, path) -> dict:
    export_model(
        model,
        path,
        input_mean=MEAN,
        input_scale=SCALE,
        target_mean=float(MEAN[0]),
        target_scale=float(SCALE[0]),
        metadata={"target_transform": target_transform_of(model)},
    )
    return json.loads((path / METADATA_FILENAME).read_text())


def _small_model(transform: str, season: int | None) -> keras.Model:
    """A 12-step, 2-feature, 3-step-ahead model; a delta model's change head gets random weights
    and its scale/offset are adapted, so that it makes a real (nonzero) forecast of the change."""
    model = build_lstm_model(
        12,
        2,
        horizon=3,
        hidden_size=8,
        num_layers=1,
        target_transform=transform,
        season_length=season,
    )
    if transform != "level":
        rng = np.random.default_rng(0)
        change = model.get_layer("change")
        change.set_weights([rng.normal(size=w.shape) for w in change.get_weights()])
        model.get_layer("prediction").adapt(rng.normal(0.2, 0.7, size=(100, 3)))
    return model


def _serve(path, windows: np.ndarray) -> np.ndarray:
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    return signature(window=tf.constant(windows))["prediction"].numpy()


@pytest.mark.parametrize(
    "transform, season, reference",
    [
        ("delta", None, lambda w: w[:, [11, 11, 11], 0]),
        ("seasonal_delta", 4, lambda w: w[:, [8, 9, 10], 0]),
        # one season back plus the last season's growth: y[t-1] - y[t-5]
        ("seasonal_growth", 4, lambda w: w[:, [8, 9, 10], 0] + (w[:, 11, 0] - w[:, 7, 0])[:, None]),
    ],
)
def test_delta_export_adds_the_raw_reference_back_inside_the_graph(
    tmp_path, transform, season, reference
):
    model = _small_model(transform, season)
    meta = _export(model, tmp_path / "delta")
    assert meta["target_transform"] == transform

    windows = _raw_windows()
    served = _serve(tmp_path / "delta", windows)
    # by hand: the change head's output on scaled windows, unscaled, plus each target's reference
    # (the window's last raw value, or the raw value one season before the target)
    head = keras.Model(model.input, model.get_layer("change").output)
    z = head.predict(((windows - MEAN) / SCALE).astype(np.float32), verbose=0)
    layer = model.get_layer("prediction")
    change_raw = (z * layer.scale.numpy() + layer.offset.numpy()) * SCALE[0]
    expected = reference(windows) + change_raw
    assert served.shape == (9, 3)
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-4)
    # A window shifted by a constant: the reference moves by exactly that constant, and the
    # change moves too, since the model sees z-scored levels; the same computation by hand holds.
    shifted = windows.copy()
    shifted[:, :, 0] += 1000.0
    z_shifted = head.predict(((shifted - MEAN) / SCALE).astype(np.float32), verbose=0)
    change_shifted = (z_shifted * layer.scale.numpy() + layer.offset.numpy()) * SCALE[0]
    np.testing.assert_allclose(reference(shifted) - reference(windows), 1000.0, rtol=1e-6)
    np.testing.assert_allclose(
        _serve(tmp_path / "delta", shifted),
        reference(shifted) + change_shifted,
        rtol=1e-5,
        atol=1e-3,
    )


def test_level_export_unscales_the_models_output(tmp_path):
    model = build_lstm_model(12, 2, hidden_size=8, num_layers=1, target_transform="level")
    meta = _export(model, tmp_path / "level")
    assert meta["target_transform"] == "level"
    assert meta["scaling"] == {
        "input_mean": MEAN.tolist(),
        "input_scale": SCALE.tolist(),
        "target_mean": 50.0,
        "target_scale": 5.0,
        "target_log": False,
    }
    windows = _raw_windows()
    expected = model.predict(((windows - MEAN) / SCALE).astype(np.float32), verbose=0) * 5 + 50
    np.testing.assert_allclose(_serve(tmp_path / "level", windows), expected, rtol=1e-5, atol=1e-4)
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
        _serve(tmp_path / "level", windows[:, :5])  # too short a window: refused, not forecast


@pytest.mark.parametrize("transform, season", [("level", None), ("seasonal_delta", 4)])
def test_log_scale_export_logs_the_target_and_exponentiates_the_forecast(
    tmp_path, transform, season
):
    # data.target_scale: log. The model sees (log y - mean) / scale for the target and the plain
    # standardized feature; the graph must log feature 0 only and exp the unscaled forecast.
    log_mean, log_scale = 3.9, 0.1  # the statistics of log y (y around 50)
    model = _small_model(transform, season)

    def export_log(name: str) -> np.ndarray:
        export_model(
            model,
            tmp_path / name,
            input_mean=[log_mean, MEAN[1]],
            input_scale=[log_scale, SCALE[1]],
            target_mean=log_mean,
            target_scale=log_scale,
            metadata={},
            log_target=True,
        )
        assert json.loads((tmp_path / name / METADATA_FILENAME).read_text())["scaling"][
            "target_log"
        ]
        return _serve(tmp_path / name, windows)

    windows = _raw_windows()
    scaled = np.stack(
        [(np.log(windows[..., 0]) - log_mean) / log_scale, (windows[..., 1] - MEAN[1]) / SCALE[1]],
        axis=-1,
    ).astype(np.float32)
    expected = np.exp(model.predict(scaled, verbose=0) * log_scale + log_mean)
    np.testing.assert_allclose(export_log("log"), expected, rtol=1e-5)
    if transform == "seasonal_delta":
        # on the log scale, a seasonal_delta model whose change and offset are zero forecasts the
        # raw value one season back (a seasonal ratio of 1), not a value shifted in log units
        zero = model.get_layer("change")
        zero.set_weights([np.zeros_like(w) for w in zero.get_weights()])
        model.get_layer("prediction").offset.assign(np.zeros(3, np.float32))
        np.testing.assert_allclose(export_log("log0"), windows[:, [8, 9, 10], 0], rtol=1e-5)
