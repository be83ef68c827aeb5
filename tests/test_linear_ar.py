"""The ``linear_ar`` target transform: a ridge autoregression on the window as the LSTM's anchor."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.lstm.model import (
    LSTMHyperModel,
    SeedEnsemble,
    anchor_forecast,
    build_lstm_model,
    resolve_target_transform,
    target_transform_of,
)
from lstm_tuner.serving.export import METADATA_FILENAME, export_model
from lstm_tuner.timeseries.autoregression import PENALTIES, fit_ridge_ar
from lstm_tuner.timeseries.windows import Windows

TINY = {"hidden_size": 8, "num_layers": 1, "dropout": 0.0, "lr": 1e-3, "batch_size": 32}


def _ar2(n: int, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(2, n):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + noise * rng.standard_normal()
    return y


def _ridge_by_augmentation(x: np.ndarray, y: np.ndarray, penalty: float):
    """Ridge with a free intercept as ordinary least squares on rows augmented with
    sqrt(penalty * n) * I (another route than the normal equations the module solves)."""
    mean_x, mean_y = x.mean(axis=0), y.mean(axis=0)
    rows = np.sqrt(penalty * len(x)) * np.eye(x.shape[1])
    a = np.vstack([x - mean_x, rows])
    b = np.vstack([y - mean_y, np.zeros((x.shape[1], y.shape[1]))])
    weights = np.linalg.lstsq(a, b, rcond=None)[0]
    return weights, mean_y - mean_x @ weights


def test_the_penalty_is_chosen_on_the_latest_fifth_and_refitted_on_every_window():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 6, 2))
    y = x[:, -1, :1] * 0.5 + x[:, -2, 1:] * -0.2 + rng.normal(0, 1.0, size=(60, 1)) + 3.0
    y = np.hstack([y, 2 * y])  # two steps ahead
    ridge = fit_ridge_ar(x, y)
    flat = x.reshape(60, -1)
    errors = []
    for p in PENALTIES:
        w, b = _ridge_by_augmentation(flat[:48], y[:48], p)
        errors.append(np.mean((flat[48:] @ w + b - y[48:]) ** 2))
    # the chosen penalty's held-out error is the least (ties within rounding either way)
    assert errors[PENALTIES.index(ridge.penalty)] <= min(errors) * (1 + 1e-9)
    weights, intercept = _ridge_by_augmentation(flat, y, ridge.penalty)
    np.testing.assert_allclose(ridge.weights, weights, atol=1e-8)
    np.testing.assert_allclose(ridge.intercept, intercept, atol=1e-8)
    np.testing.assert_allclose(ridge.forecast(x), flat @ weights + intercept, atol=1e-8)
    with pytest.raises(ValueError, match="at least 2 training windows"):
        fit_ridge_ar(x[:1], y[:1])


def test_the_anchor_recovers_an_ar2_process_and_the_model_starts_from_it():
    values = _ar2(1200, noise=0.1)[:, None]
    train = Windows(values[:900], window_size=8, horizon=1)
    test = Windows(values[900:], window_size=8, horizon=1)
    hm = LSTMHyperModel(8, 1, target_transform="linear_ar")
    hp = HyperParameters.from_values(TINY)
    model = hm.build(hp)
    assert target_transform_of(model) == "linear_ar"
    hm.fit(hp, model, train, epochs=1, verbose=0)
    weights = model.get_layer("prediction").anchor.numpy()[:, 0]
    # window positions 7 and 6 are y[t-1] and y[t-2]
    np.testing.assert_allclose(weights[[7, 6]], [0.6, -0.3], atol=0.03)
    assert np.abs(weights[:6]).max() < 0.1  # about 3 standard errors of 900 windows
    x, y = test.arrays()
    anchor = anchor_forecast(model, x)
    # the process's own one-step forecast by hand; the anchor is within the noise of it
    by_hand = 0.6 * x[:, 7, 0] - 0.3 * x[:, 6, 0]
    assert np.mean((anchor[:, 0] - by_hand) ** 2) < 0.05 * 0.1**2
    assert np.mean((anchor - y) ** 2) < 1.1 * 0.1**2


def test_inputs_known_in_advance_enter_the_anchor():
    # y[t] = 2 f[t] + noise, with f[t] i.i.d.: only a window whose last row holds f at the
    # target step (a future feature led by the horizon) can forecast y, and the ARX anchor does.
    rng = np.random.default_rng(2)
    f = rng.normal(size=700)
    y = 2.0 * f + 0.05 * rng.normal(size=700)
    led = np.column_stack([y, np.append(f[1:], 0.0)])  # row t holds f[t + 1]
    train = Windows(led[:600], window_size=6, horizon=1)
    hm = LSTMHyperModel(6, 2, target_transform="linear_ar")
    hp = HyperParameters.from_values(TINY)
    model = hm.build(hp)
    hm.fit(hp, model, train, epochs=1, verbose=0)
    weights = model.get_layer("prediction").anchor.numpy().reshape(6, 2)
    assert weights[5, 1] == pytest.approx(2.0, abs=0.02)
    x, target = Windows(led[590:699], window_size=6, horizon=1).arrays()
    assert np.mean((anchor_forecast(model, x) - target) ** 2) < 2 * 0.05**2


def test_the_anchor_is_the_model_with_a_zero_change_head_and_is_shared_by_seed_members():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, 12, 2)).astype(np.float32)
    y = (x[:, -1, :1] + 0.5 * x[:, -3, 1:] + rng.normal(0, 0.3, size=(80, 1))).astype(np.float32)
    y = np.hstack([y, y, -y])
    members = []
    for _ in range(2):
        model = build_lstm_model(
            12, 2, horizon=3, hidden_size=8, num_layers=1, target_transform="linear_ar"
        )
        model.get_layer("prediction").fit_anchor(x, y)
        members.append(model)
    ridge = fit_ridge_ar(x, y)
    layer = members[0].get_layer("prediction")
    # offset: the mean of what the ridge leaves on the training windows (its intercept, as the
    # layer's weights carry only the slopes); scale: their spread
    residual = y - x.reshape(80, -1) @ ridge.weights
    np.testing.assert_allclose(layer.offset.numpy(), residual.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(layer.offset.numpy(), ridge.intercept, atol=1e-4)
    np.testing.assert_allclose(layer.scale.numpy(), residual.std(axis=0), rtol=1e-4)
    windows = rng.normal(size=(7, 12, 2)).astype(np.float32)
    expected = ridge.forecast(windows)
    np.testing.assert_allclose(anchor_forecast(members[0], windows), expected, atol=1e-4)
    np.testing.assert_allclose(members[0].predict(windows, verbose=0), expected, atol=1e-4)
    np.testing.assert_allclose(anchor_forecast(SeedEnsemble(members), windows), expected, atol=1e-4)


def test_a_linear_ar_export_serves_the_keras_model_in_original_units(tmp_path):
    mean, scale = np.array([50.0, 10.0]), np.array([5.0, 2.0])
    rng = np.random.default_rng(4)
    model = build_lstm_model(
        12, 2, horizon=3, hidden_size=8, num_layers=1, target_transform="linear_ar"
    )
    x = rng.normal(size=(90, 12, 2)).astype(np.float32)
    model.get_layer("prediction").fit_anchor(x, x[:, -1, :1] * [0.9, 0.8, 0.7] + 0.1)
    change = model.get_layer("change")
    change.set_weights([rng.normal(size=w.shape) for w in change.get_weights()])
    export_model(
        model,
        tmp_path / "m",
        input_mean=mean,
        input_scale=scale,
        target_mean=50.0,
        target_scale=5.0,
        metadata={"target_transform": target_transform_of(model)},
    )
    assert json.loads((tmp_path / "m" / METADATA_FILENAME).read_text())["target_transform"] == (
        "linear_ar"
    )
    raw = (mean + scale * rng.normal(size=(9, 12, 2))).astype(np.float32)
    served = (
        tf.saved_model.load(str(tmp_path / "m"))
        .signatures["serving_default"](window=tf.constant(raw))["prediction"]
        .numpy()
    )
    expected = model.predict(((raw - mean) / scale).astype(np.float32), verbose=0) * 5.0 + 50.0
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-4)


def test_linear_ar_needs_no_season():
    assert resolve_target_transform("linear_ar", None, 8) == "linear_ar"
    assert resolve_target_transform(["linear_ar", "delta"], 48, 24) == ("linear_ar", "delta")
    LSTMHyperModel(4, 1, target_transform="linear_ar")


def test_the_ridge_is_fitted_once_per_training_windows_and_again_for_other_data(monkeypatch):
    # Every trial of a search trains on the run's one Windows object: the ridge depends on it
    # alone, so it is fitted once; new windows, or arrays (which may change in place), refit.
    from lstm_tuner.lstm import layers

    calls = []
    real = layers.fit_ridge_ar
    monkeypatch.setattr(layers, "fit_ridge_ar", lambda *a: calls.append(1) or real(*a))
    values = _ar2(400, noise=0.1)[:, None]
    train = Windows(values[:300], window_size=8, horizon=1)
    hm = LSTMHyperModel(8, 1, target_transform="linear_ar")
    hp = HyperParameters.from_values(TINY)
    first, second = hm.build(hp), hm.build(hp)
    # the first model trains an epoch (the ridge's weights stay frozen through it); the others
    # only set their anchors (epochs=0: no training step is traced)
    hm.fit(hp, first, train, epochs=1, verbose=0)
    hm.fit(hp, second, train, epochs=0, verbose=0)
    assert len(calls) == 1
    by_hand = fit_ridge_ar(*train.arrays())
    for model in (first, second):
        layer = model.get_layer("prediction")
        np.testing.assert_allclose(layer.anchor.numpy(), by_hand.weights, atol=1e-6)
        np.testing.assert_allclose(layer.offset.numpy(), by_hand.intercept, atol=1e-6)
    other = Windows(values[100:], window_size=8, horizon=1)
    hm.fit(hp, hm.build(hp), other, epochs=0, verbose=0)
    # back on the first Windows (a retraining's seeds alternate train / train + validation): kept
    hm.fit(hp, hm.build(hp), train, epochs=0, verbose=0)
    hm.fit(hp, hm.build(hp), other, epochs=0, verbose=0)
    assert len(calls) == 2
    x, y = train.arrays()
    hm.fit(hp, hm.build(hp), x, y, epochs=0, verbose=0)
    hm.fit(hp, hm.build(hp), x, y, epochs=0, verbose=0)
    assert len(calls) == 4
