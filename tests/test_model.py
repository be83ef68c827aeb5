from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from optuna.trial import FixedTrial

from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.lstm.model import LSTMHyperModel, build_lstm_model
from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE
from lstm_tuner.timeseries.windows import Windows


def _lstm_layers(model: keras.Model) -> list[keras.layers.LSTM]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_builder_structure_shapes_and_compile(num_layers):
    hp = HyperParameters(
        FixedTrial(
            {
                "hidden_size": 64,
                "num_layers": num_layers,
                "dropout": 0.3,
                "lr": 2e-3,
                "batch_size": 32,
            }
        )
    )
    model = LSTMHyperModel(
        window_size=10, num_features=3, horizon=2, target_transform="level"
    ).build(hp)
    lstms = _lstm_layers(model)
    assert len(lstms) == num_layers
    assert [layer.return_sequences for layer in lstms] == [True] * (num_layers - 1) + [False]
    assert all(layer.units == 64 for layer in lstms)
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert len(dropouts) == num_layers and all(d.rate == pytest.approx(0.3) for d in dropouts)
    # each LSTM is directly followed by its Dropout, then the Dense head
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer", *["LSTM", "Dropout"] * num_layers, "Dense"]
    assert model.input_shape == (None, 10, 3)
    assert model.output_shape == (None, 2)
    assert model.predict(np.zeros((4, 10, 3), "float32"), verbose=0).shape == (4, 2)
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.Adam)
    assert opt.clipnorm == 1.0
    assert float(opt.learning_rate) == pytest.approx(2e-3)
    assert model.loss == "mse"


@pytest.mark.parametrize("transform", ["level", "delta", "seasonal_delta"])
def test_every_searched_configuration_stays_on_the_cudnn_path(transform):
    """Keras runs an LSTM on cuDNN only with tanh/sigmoid, a bias, no unrolling and no recurrent
    dropout; Keras's own rule is asked, for every corner of the default space."""
    from keras.src.backend.tensorflow.rnn import _do_lstm_arguments_support_cudnn

    hypermodel = LSTMHyperModel(
        window_size=8, num_features=1, target_transform=transform, season_length=4
    )
    space = {spec.name: spec for spec in DEFAULT_SEARCH_SPACE}
    corners = [
        {"hidden_size": h, "num_layers": n, "dropout": d, "lr": 1e-3, "batch_size": 32}
        for h in (space["hidden_size"].low, space["hidden_size"].high)
        for n in range(space["num_layers"].low, space["num_layers"].high + 1)
        for d in (space["dropout"].low, space["dropout"].high)
    ]
    for values in corners:
        model = hypermodel.build(HyperParameters.from_values(values))
        layers = _lstm_layers(model)
        assert len(layers) == values["num_layers"]
        assert not any(isinstance(layer, keras.layers.Masking) for layer in model.layers)
        for layer in layers:
            cell = layer.cell
            assert _do_lstm_arguments_support_cudnn(
                cell.activation, cell.recurrent_activation, layer.unroll, cell.use_bias
            ), values
            assert layer.recurrent_dropout == 0 and layer.use_cudnn in ("auto", True), values


def test_default_search_space_is_the_spec():
    hp = HyperParameters()
    LSTMHyperModel(30, 1).declare_hyperparameters(hp)
    described = {d.name: (d.keras_kind, d.keras_config()) for d in hp.space}
    assert described["hidden_size"][0] == "Int"
    assert {k: described["hidden_size"][1][k] for k in ("min_value", "max_value", "step")} == {
        "min_value": 64,
        "max_value": 256,
        "step": 64,
    }
    assert (
        described["num_layers"][1]["min_value"] == 1
        and described["num_layers"][1]["max_value"] == 3
    )
    assert (
        described["dropout"][1]["min_value"] == 0.0 and described["dropout"][1]["max_value"] == 0.4
    )
    assert described["lr"][1]["sampling"] == "log"
    assert (described["lr"][1]["min_value"], described["lr"][1]["max_value"]) == (1e-4, 5e-3)
    assert described["batch_size"][1]["values"] == [32, 64, 128]
    assert [s.name for s in DEFAULT_SEARCH_SPACE] == [
        "hidden_size",
        "num_layers",
        "dropout",
        "lr",
        "batch_size",
    ]


def test_fit_uses_the_trials_batch_size():
    hm = LSTMHyperModel(4, 1, search_space=None)
    hp = HyperParameters.from_values(
        {"hidden_size": 8, "num_layers": 1, "dropout": 0.0, "lr": 1e-3, "batch_size": 16}
    )
    model = build_lstm_model(4, 1, hidden_size=8, num_layers=1)
    seen: list[int] = []

    class BatchSpy(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    x = np.random.default_rng(0).normal(size=(64, 4, 1)).astype("float32")
    y = x[:, -1, :]
    hm.fit(hp, model, x, y, epochs=1, verbose=0, callbacks=[BatchSpy()])
    assert len(seen) == 64 // 16
    # an unbatched tf.data.Dataset is batched the same way
    seen.clear()
    hm.fit(
        hp,
        model,
        tf.data.Dataset.from_tensor_slices((x, y)),
        epochs=1,
        verbose=0,
        callbacks=[BatchSpy()],
    )
    assert len(seen) == 4
    # At least 10 steps per epoch: 4 batches per pass, so 3 whole passes (12 steps), for arrays
    # and for Windows; validation data is not repeated.
    hm = LSTMHyperModel(4, 1, search_space=None, min_steps_per_epoch=10)
    seen.clear()
    validated: list[int] = []

    class ValidationSpy(keras.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            validated.append(batch)

    history = hm.fit(
        hp,
        model,
        x,
        y,
        validation_data=(x, y),
        epochs=1,
        verbose=0,
        callbacks=[BatchSpy(), ValidationSpy()],
    )
    assert len(seen) == 12 and history.params["steps"] == 12
    assert len(validated) == 4  # validation batches: once
    windows = Windows(np.arange(68.0)[:, None], window_size=4)  # 64 windows
    seen.clear()
    hm.fit(hp, model, windows, epochs=1, verbose=0, callbacks=[BatchSpy()])
    assert len(seen) == 12
    with pytest.raises(ValueError, match="min_steps_per_epoch"):
        LSTMHyperModel(4, 1, min_steps_per_epoch=-1)


def test_invalid_model_arguments():
    with pytest.raises(ValueError, match="window_size"):
        LSTMHyperModel(0, 1)
    with pytest.raises(ValueError, match="optimizer"):
        build_lstm_model(4, 1, optimizer="adagradx")


# -- the delta target transform ---------------------------------------------------------------------

TINY_VALUES = {"hidden_size": 8, "num_layers": 1, "dropout": 0.0, "lr": 5e-3, "batch_size": 16}


def test_delta_forecasts_a_linear_trend_exactly_after_a_short_training():
    from lstm_tuner.timeseries.windows import split_windows

    series = (3.0 + 0.25 * np.arange(300))[:, None]  # original units: a pure linear trend
    mean, std = series[:210].mean(), series[:210].std()
    windows = split_windows((series - mean) / std, (210, 255), window_size=8, horizon=3)
    hm = LSTMHyperModel(8, 1, horizon=3, target_transform="delta")
    hp = HyperParameters.from_values(TINY_VALUES)
    model = hm.build(hp)
    assert [type(layer).__name__ for layer in model.layers][-1] == "DeltaToLevel"
    hm.fit(hp, model, windows.train, validation_data=windows.validation, epochs=2, verbose=0)
    x, y = windows.test.arrays()
    predicted = model.predict(x, verbose=0) * std + mean
    np.testing.assert_allclose(predicted, y * std + mean, atol=1e-4)
    # the layer holds the training split's changes: 0.25, 0.5, 0.75 (scaled), and no spread but
    # float32 rounding (so the head's own output, whatever Adam made of it, hardly counts)
    layer = model.get_layer("prediction")
    np.testing.assert_allclose(layer.offset.numpy(), 0.25 * np.arange(1, 4) / std, rtol=1e-5)
    assert (layer.scale.numpy() < 1e-6).all()


def test_seasonal_delta_forecasts_a_pure_season_exactly_after_a_short_training():
    from lstm_tuner.timeseries.windows import split_windows

    t = np.arange(360)
    series = (50 + 7 * np.sin(2 * np.pi * t / 6) + 2 * np.cos(2 * np.pi * t / 3))[:, None]
    mean, std = series[:250].mean(), series[:250].std()
    windows = split_windows((series - mean) / std, (250, 300), window_size=12, horizon=4)
    hm = LSTMHyperModel(12, 1, horizon=4, target_transform="seasonal_delta", season_length=6)
    hp = HyperParameters.from_values(TINY_VALUES)
    model = hm.build(hp)
    hm.fit(hp, model, windows.train, validation_data=windows.validation, epochs=2, verbose=0)
    x, y = windows.test.arrays()
    np.testing.assert_allclose(model.predict(x, verbose=0) * std + mean, y * std + mean, atol=1e-4)
    # the reference of step k is one season back: window positions 6, 7, 8, 9 of 12
    layer = model.get_layer("prediction")
    np.testing.assert_array_equal(12 - layer.span + np.argmax(layer.anchor, axis=0), [6, 7, 8, 9])
    with pytest.raises(ValueError, match="season_length in \\[2, window_size=4\\]"):
        LSTMHyperModel(4, 1, target_transform="seasonal_delta", season_length=6)


@pytest.mark.parametrize("horizon", [3, 8])
def test_seasonal_growth_forecasts_trend_plus_season_exactly(horizon: int):
    """y = a quadratic trend plus a pure season: y[t+k] - (y[t+k-qm] + q (y[t-1] - y[t-1-m])) is
    the same constant for every origin (q seasons ahead), which the layer's offset holds, so the
    forecast is exact; the change from one season back (seasonal_delta) grows with t instead."""
    from lstm_tuner.timeseries.windows import split_windows

    t = np.arange(400)
    series = (20 + 0.002 * t**2 + 5 * np.sin(2 * np.pi * t / 6))[:, None]
    mean, std = series[:280].mean(), series[:280].std()
    windows = split_windows((series - mean) / std, (280, 340), window_size=10, horizon=horizon)
    # The changes from the reference are one constant per step, up to float32 rounding.
    assert windows.train.changes(6, growth=True).std(axis=0).max() < 1e-4
    assert windows.train.changes(6).std(axis=0).min() > 0.03
    hm = LSTMHyperModel(10, 1, horizon=horizon, target_transform="seasonal_growth", season_length=6)
    hp = HyperParameters.from_values(TINY_VALUES)
    model = hm.build(hp)
    hm.fit(hp, model, windows.train, validation_data=windows.validation, epochs=1, verbose=0)
    x, y = windows.test.arrays()
    np.testing.assert_allclose(model.predict(x, verbose=0) * std + mean, y * std + mean, atol=1e-3)
    with pytest.raises(ValueError, match="window_size - 1=5"):
        LSTMHyperModel(6, 1, target_transform="seasonal_growth", season_length=6)


def test_auto_searches_the_ridge_anchor_and_the_naive_anchor_that_suits_the_series():
    from lstm_tuner.lstm.model import resolve_target_transform
    from lstm_tuner.timeseries.autoregression import MAX_INPUTS

    assert resolve_target_transform("auto", 12, 24) == ("linear_ar", "seasonal_delta")
    assert resolve_target_transform("auto", 24, 24) == ("linear_ar", "seasonal_delta")
    assert resolve_target_transform("auto", 48, 24) == ("linear_ar", "delta")
    assert resolve_target_transform("auto", None, 24) == ("linear_ar", "delta")
    assert resolve_target_transform(["auto", "level"], None, 24) == ("linear_ar", "delta", "level")
    assert resolve_target_transform(["level", "auto"], 12, 24) == (
        "level",
        "linear_ar",
        "seasonal_delta",
    )
    # a window of more values than the ridge reads: the two naive anchors, as before it
    assert resolve_target_transform("auto", 12, 24, MAX_INPUTS // 24 + 1) == (
        "seasonal_delta",
        "delta",
    )
    assert resolve_target_transform("auto", None, MAX_INPUTS + 1) == ("delta", "level")
    with pytest.raises(ValueError, match="linear_ar reads data.window_size x features"):
        resolve_target_transform("linear_ar", None, 24, MAX_INPUTS // 24 + 1)
    assert resolve_target_transform(["seasonal_growth", "auto"], 12, 24) == (
        "seasonal_growth",
        "linear_ar",
        "seasonal_delta",
    )
    assert resolve_target_transform("seasonal_delta", 12, 24) == "seasonal_delta"
    assert resolve_target_transform("seasonal_growth", 12, 24) == "seasonal_growth"
    with pytest.raises(ValueError, match="seasonal_growth needs a season of 2 to"):
        resolve_target_transform("seasonal_growth", 12, 12)
    with pytest.raises(ValueError, match="seasonal_delta needs a season"):
        resolve_target_transform("seasonal_delta", None, 24)


def test_delta_statistics_come_from_the_training_changes_of_arrays_windows_and_datasets():
    from lstm_tuner.lstm.fit_inputs import target_changes
    from lstm_tuner.timeseries.windows import Windows

    rng = np.random.default_rng(0)
    values = np.cumsum(rng.normal(size=(60, 2)), axis=0)
    windows = Windows(values, window_size=5, horizon=2)
    x, y = windows.arrays()
    by_hand = np.stack([values[t : t + 2, 0] - values[t - 1, 0] for t in range(5, 59)])
    np.testing.assert_allclose(windows.changes(), by_hand, rtol=1e-5)
    np.testing.assert_allclose(target_changes(x, y), by_hand, rtol=1e-5)
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    np.testing.assert_allclose(target_changes(dataset, None), by_hand, rtol=1e-5)
    np.testing.assert_allclose(target_changes(dataset.batch(7), None), by_hand, rtol=1e-5)
    # with a season of 3 steps, each target's reference is the value one season before it
    seasonal = np.stack([values[t : t + 2, 0] - values[t - 3 : t - 1, 0] for t in range(5, 59)])
    np.testing.assert_allclose(windows.changes(3), seasonal, rtol=1e-5)
    np.testing.assert_allclose(target_changes(x, y, 3), seasonal, rtol=1e-5)


def test_both_transforms_are_searched_as_a_categorical_hyperparameter():
    import optuna

    hm = LSTMHyperModel(8, 1, target_transform=["level", "delta"])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(6):
        trial = study.ask()
        model = hm.build(HyperParameters(trial))
        seen.add((trial.params["target_transform"], type(model.layers[-1]).__name__))
        study.tell(trial, 0.0)
    assert seen == {("level", "Dense"), ("delta", "DeltaToLevel")}
    assert hm.target_transform == ("level", "delta")
    with pytest.raises(ValueError, match="target_transform"):
        LSTMHyperModel(8, 1, target_transform="log")


def test_validation_split_takes_the_last_fraction_in_order():
    from lstm_tuner.lstm.fit_inputs import chronological_split

    x = np.arange(50, dtype="float32").reshape(10, 5, 1)
    y = np.arange(10, dtype="float32")[:, None]
    (xt, yt), (xv, yv) = chronological_split(x, y, 0.2)
    assert yt.ravel().tolist() == list(range(8)) and yv.ravel().tolist() == [8, 9]
    hm = LSTMHyperModel(5, 1, search_space=None)
    hp = HyperParameters.from_values(TINY_VALUES)
    history = hm.fit(hp, hm.build(hp), x, y, validation_split=0.2, epochs=1, verbose=0)
    assert "val_loss" in history.history
    with pytest.raises(ValueError, match="validation_split takes arrays"):
        chronological_split(tf.data.Dataset.from_tensor_slices((x, y)), None, 0.2)


@pytest.mark.parametrize(
    "transform, season", [("delta", None), ("seasonal_delta", 4), ("seasonal_growth", 4)]
)
def test_anchor_forecast_is_the_model_with_a_zero_change_head(transform, season):
    from lstm_tuner.lstm.model import SeedEnsemble, anchor_forecast, build_lstm_model

    rng = np.random.default_rng(3)
    windows = rng.normal(size=(7, 12, 2)).astype(np.float32)
    members = []
    for _ in range(2):
        model = build_lstm_model(
            12,
            2,
            horizon=3,
            hidden_size=8,
            num_layers=1,
            target_transform=transform,
            season_length=season,
        )
        model.get_layer("prediction").adapt(rng.normal(0.3, 0.5, size=(50, 3)))
        members.append(model)
    members[1].get_layer("prediction").offset.assign(members[0].get_layer("prediction").offset)
    # by hand: the reference the transform names plus the training changes' mean
    offset = members[0].get_layer("prediction").offset.numpy()
    y = windows[:, :, 0]
    reference = {
        "delta": y[:, [11, 11, 11]],
        "seasonal_delta": y[:, [8, 9, 10]],
        "seasonal_growth": y[:, [8, 9, 10]] + (y[:, 11] - y[:, 7])[:, None],
    }[transform]
    np.testing.assert_allclose(anchor_forecast(members[0], windows), reference + offset, atol=1e-5)
    # the model itself forecasts exactly that while its change head is zero (as initialized)
    np.testing.assert_allclose(
        members[0].predict(windows, verbose=0), reference + offset, atol=1e-5
    )
    ensemble = SeedEnsemble(members)
    np.testing.assert_allclose(anchor_forecast(ensemble, windows), reference + offset, atol=1e-5)
    level = build_lstm_model(12, 2, hidden_size=8, num_layers=1, target_transform="level")
    assert anchor_forecast(level, windows) is None


@pytest.mark.parametrize("transform, season", [("delta", None), ("seasonal_delta", 4)])
def test_last_value_normalization_makes_a_delta_forecast_shift_with_the_window(transform, season):
    # data.window_normalization: last_value. The LSTM sees the window minus its last target
    # value, so a window moved by a constant c (a later level of a trend) gets the same change
    # forecast, and the level forecast moves by exactly c. Without it the LSTM sees the level and
    # the change forecast moves too.
    from lstm_tuner.lstm.model import build_lstm_model

    rng = np.random.default_rng(5)
    windows = rng.normal(size=(6, 12, 2)).astype(np.float32)
    shifted = windows.copy()
    shifted[:, :, 0] += 3.0  # the target only; the feature stays

    def forecasts(normalization):
        model = build_lstm_model(
            12,
            2,
            horizon=2,
            hidden_size=8,
            num_layers=1,
            target_transform=transform,
            season_length=season,
            window_normalization=normalization,
        )
        change = model.get_layer("change")
        change.set_weights([rng.normal(size=w.shape) for w in change.get_weights()])
        return model.predict(windows, verbose=0), model.predict(shifted, verbose=0), model

    before, after, model = forecasts("last_value")
    np.testing.assert_allclose(after - before, 3.0, atol=1e-4)
    # what the LSTM sees: the target relative to its last value, the feature as it was
    seen = keras.Model(model.input, model.get_layer("window_normalization").output)
    got = seen.predict(windows, verbose=0)
    np.testing.assert_allclose(got[..., 0], windows[..., 0] - windows[:, -1:, 0], atol=1e-6)
    np.testing.assert_array_equal(got[..., 1], windows[..., 1])
    before, after, _ = forecasts("none")
    assert not np.allclose(after - before, 3.0, atol=1e-3)
    # a level model has nothing to add the level back: it always sees levels
    level = build_lstm_model(12, 2, hidden_size=8, num_layers=1, window_normalization="last_value")
    assert "window_normalization" not in [layer.name for layer in level.layers]
    with pytest.raises(ValueError, match="window_normalization must be one of"):
        build_lstm_model(12, 2, window_normalization="mean")


def test_seed_ensemble_forecasts_the_mean_of_its_members():
    # training.retrain_seeds: the exported model is the mean of its members' forecasts, not one
    # member's (the CLI e2e test compares the export with a rebuilt ensemble, which would agree
    # with any rule); three members with different weights, mean by hand.
    from lstm_tuner.lstm.model import SeedEnsemble

    windows = np.random.default_rng(7).normal(size=(5, 12, 2)).astype(np.float32)
    members = []
    for seed in range(3):
        keras.utils.set_random_seed(seed)
        members.append(build_lstm_model(12, 2, horizon=2, hidden_size=8, num_layers=1))
    each = np.stack([m.predict(windows, verbose=0) for m in members])
    assert not np.allclose(each[0], each[1])
    ensemble = SeedEnsemble(members)
    np.testing.assert_allclose(ensemble.predict(windows, verbose=0), each.mean(axis=0), atol=1e-6)
    assert ensemble.input_shape == (None, 12, 2)
    with pytest.raises(ValueError, match="at least 2 members"):
        SeedEnsemble(members[:1])
