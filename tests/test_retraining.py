"""``training.retrain_on``: the retrained model refitted on train + validation, its intervals and
its validation error taken from its twin trained on train alone."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lstm_tuner.config import config_from_dict
from lstm_tuner.engine.hyperparameters import HyperParameters
from lstm_tuner.errors import ConfigError
from lstm_tuner.job.options import RunOptions, open_backends
from lstm_tuner.job.retraining import retrain
from lstm_tuner.job.search import make_tuner
from lstm_tuner.job.verdict import calibrate_intervals, evaluate_on_test
from lstm_tuner.lstm.layers import DeltaToLevel, ridge_anchor
from lstm_tuner.timeseries.intervals import ConformalIntervals
from lstm_tuner.timeseries.series import load_data

HP = {"hidden_size": 8, "num_layers": 1, "dropout": 0.0, "lr": 1e-2, "batch_size": 16}


def _setup(tmp_path, retrain_on: str):
    rng = np.random.default_rng(3)
    t = np.arange(260)
    y = 50 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, len(t))
    (tmp_path / "s.csv").write_text("y\n" + "\n".join(f"{v:.5f}" for v in y) + "\n")
    config = config_from_dict(
        {
            "data": {
                "csv": str(tmp_path / "s.csv"),
                "target": "y",
                "window_size": 12,
                "target_transform": "linear_ar",
                "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
            },
            "search_space": HP,
            "training": {"epochs": 1, "retrain_epochs": 4, "retrain_on": retrain_on},
            "study": {"n_trials": 1, "seed": 0},
            "evaluation": {"statistical_models": []},
            "export": {"enabled": False},
        }
    )
    data = load_data(config.data)
    options = RunOptions(study_name="r", output_dir=str(tmp_path / "run"), plots=False)
    tuner = make_tuner(config, options, data, *open_backends(config.study, options))
    return config, data, tuner


def _anchor(model) -> np.ndarray:
    (layer,) = [layer for layer in model.layers if isinstance(layer, DeltaToLevel)]
    return layer.anchor.numpy()


def test_the_refit_trains_on_train_and_validation_for_the_epochs_early_stopping_kept(tmp_path):
    config, data, tuner = _setup(tmp_path, "train_validation")
    hp = HyperParameters.from_values(HP)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        retrained = retrain(tuner, data, hp, epochs=4, patience=1, on="train_validation")
    # the refit has no validation to stop on, and no early stopping that would warn of it
    assert not [w for w in caught if "Early stopping conditioned" in str(w.message)]
    info = retrained.info
    assert retrained.held_out is not None and retrained.on_validation is retrained.held_out
    assert info["trained_on"] == "train_validation"
    assert info["refit"] == {
        "windows": len(data.train) + len(data.validation),
        "epochs": [info["best_epoch"]],
    }
    x_val, y_val = data.validation.arrays()
    # On disk (before another retraining overwrites them): the refit as retrained.weights.h5
    # (exported), its twin beside it, each loading into a model built from the configuration
    # to the same forecasts.
    for filename, model in (
        ("retrained.weights.h5", retrained.model),
        ("retrained_train_only.weights.h5", retrained.held_out),
    ):
        rebuilt = tuner.hypermodel.build(hp)
        rebuilt.optimizer.build(rebuilt.trainable_variables)  # the file holds its state too
        rebuilt.load_weights(tmp_path / "run" / filename)
        np.testing.assert_allclose(
            rebuilt.predict(x_val, verbose=0), model.predict(x_val, verbose=0), rtol=1e-6
        )
    # The refit's ridge anchor is the ridge of every training and validation window, in time
    # order, computed here from the arrays; its twin's is that of the training windows alone.
    x_train, y_train = data.train.arrays()
    both = ridge_anchor(np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val]))[0]
    np.testing.assert_allclose(_anchor(retrained.model), both, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        _anchor(retrained.held_out), ridge_anchor(x_train, y_train)[0], rtol=1e-5, atol=1e-6
    )
    # Early stopping kept an earlier epoch than the last, and restored its weights in the twin.
    curve = info["history"]["val_loss"]
    assert info["best_epoch"] == int(np.argmin(curve)) + 1 < len(curve)
    twin_loss = np.mean((retrained.held_out.predict(x_val, verbose=0) - y_val) ** 2)
    assert twin_loss == pytest.approx(min(curve), rel=1e-4)
    # The twin is what `retrain_on: train` gives: the same initialization, the same training.
    alone = retrain(tuner, data, hp, epochs=4, patience=1, on="train")
    assert alone.held_out is None and alone.stand_ins() == {} and "refit" not in alone.info
    np.testing.assert_allclose(
        alone.model.predict(x_val, verbose=0), retrained.held_out.predict(x_val, verbose=0)
    )

    # The intervals come from the twin's validation residuals, as does the verdict's
    # validation error; the test error is the refit's own.
    models = {"retrained": retrained.model}
    held_out = retrained.stand_ins()
    assert held_out == {"retrained": retrained.held_out}
    (intervals,) = calibrate_intervals(models, data, config, held_out).values()
    unscale = data.scaler.inverse_transform_target
    twin = ConformalIntervals.calibrate(
        unscale(retrained.held_out.predict(x_val, verbose=0)),
        unscale(y_val),
        config.evaluation.interval_levels,
        config.evaluation.interval_scale,
    )
    assert intervals.levels == twin.levels == (80, 95)
    for level in twin.levels:
        np.testing.assert_allclose(intervals.offsets[level], twin.offsets[level])
    test = evaluate_on_test(models, data, config, None, held_out)
    twin_validation = np.mean(
        (unscale(retrained.held_out.predict(x_val, verbose=0)) - unscale(y_val)) ** 2
    )
    assert test["validation"]["model"] == pytest.approx(twin_validation, rel=1e-6)
    x_test, y_test = data.test.arrays()
    refit_test = np.mean(
        (unscale(retrained.model.predict(x_test, verbose=0)) - unscale(y_test)) ** 2
    )
    assert test["models"]["retrained"]["mse"] == pytest.approx(refit_test, rel=1e-6)
    assert "trained again on both" in test["fit_rule"]
    assert test["intervals"]["retrained"]["residuals_of"] == (
        "the same configuration trained on the training split alone"
    )


def test_with_several_seeds_the_twin_is_the_mean_of_the_members_trained_on_train(tmp_path):
    config, data, tuner = _setup(tmp_path, "train_validation")
    hp = HyperParameters.from_values(HP)
    retrained = retrain(tuner, data, hp, epochs=1, patience=1, seeds=2, on="train_validation")
    alone = retrain(tuner, data, hp, epochs=1, patience=1, seeds=2, on="train")
    x_val, _ = data.validation.arrays()
    np.testing.assert_allclose(
        retrained.held_out.predict(x_val, verbose=0), alone.model.predict(x_val, verbose=0)
    )
    assert len(retrained.info["refit"]["epochs"]) == 2
    assert not np.allclose(
        retrained.model.predict(x_val, verbose=0), alone.model.predict(x_val, verbose=0)
    )


def test_retrain_best_stops_early_unless_patience_is_none(tmp_path):
    config, data, tuner = _setup(tmp_path, "train_validation")
    hp = HyperParameters.from_values(HP)
    # hypermodel.fit(hp, model, x, y, validation_data): validation given by position
    _, history = tuner.retrain_best(
        data.train, None, data.validation, epochs=4, patience=1, hyperparameters=hp
    )
    curve = history.history["val_loss"]
    assert len(curve) == int(np.argmin(curve)) + 2 < 4  # stopped one epoch after the best
    # patience=None: exactly the epochs asked for, though validation would have stopped it
    _, history = tuner.retrain_best(
        data.train, None, data.validation, epochs=4, patience=None, hyperparameters=hp
    )
    assert len(history.history["val_loss"]) == 4


def test_a_nan_epoch_is_never_the_best():
    import types

    import keras

    from lstm_tuner.engine.objective import Objective
    from lstm_tuner.job.retraining import _run_info

    history = keras.callbacks.History()
    history.history = {"val_loss": [0.5, float("nan"), 0.4, 0.45]}
    info = _run_info(types.SimpleNamespace(objective=Objective("val_loss", "min")), history)
    assert (info["best_epoch"], info["best_validation_loss"]) == (3, 0.4)


def test_retrain_on_names_its_choices():
    with pytest.raises(ConfigError, match=r"training.retrain_on.*'train', 'train_validation'"):
        config_from_dict({"training": {"retrain_on": "all"}})
