from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from optuna.trial import FixedTrial

from lstm_tuner.hyperparameters import HyperParameters
from lstm_tuner.model import LSTMHyperModel, build_lstm_model
from lstm_tuner.search_space import DEFAULT_SEARCH_SPACE


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
    model = LSTMHyperModel(window_size=10, num_features=3, horizon=2).build(hp)
    lstms = _lstm_layers(model)
    assert len(lstms) == num_layers
    assert [layer.return_sequences for layer in lstms] == [True] * (num_layers - 1) + [False]
    assert all(layer.units == 64 for layer in lstms)
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert len(dropouts) == num_layers and all(d.rate == pytest.approx(0.3) for d in dropouts)
    # each LSTM is directly followed by its Dropout, then the Dense head
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["LSTM", "Dropout"] * num_layers + ["Dense"]
    assert model.input_shape == (None, 10, 3)
    assert model.output_shape == (None, 2)
    assert model.predict(np.zeros((4, 10, 3), "float32"), verbose=0).shape == (4, 2)
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.Adam)
    assert opt.clipnorm == 1.0
    assert float(opt.learning_rate) == pytest.approx(2e-3)
    assert model.loss == "mse"


def test_lstm_layers_keep_cudnn_eligible_configuration():
    model = build_lstm_model(8, 1, hidden_size=8, num_layers=3)
    for layer in _lstm_layers(model):
        cfg = layer.get_config()
        assert cfg["activation"] == "tanh"
        assert cfg["recurrent_activation"] == "sigmoid"
        assert cfg["recurrent_dropout"] == 0
        assert cfg["unroll"] is False
        assert cfg["use_bias"] is True


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


def test_invalid_model_arguments():
    with pytest.raises(ValueError, match="window_size"):
        LSTMHyperModel(0, 1)
    with pytest.raises(ValueError, match="optimizer"):
        build_lstm_model(4, 1, optimizer="adagradx")
