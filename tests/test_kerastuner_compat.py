"""KerasTuner compatibility: the README's and the keras.io guides' code, with only the import changed.

Our promise is "change the import from keras_tuner to lstm_tuner, keep your code". Each test below runs
one documented example of KerasTuner 1.4, copied as close to verbatim as possible, on BOTH libraries
(the ``module_name`` fixture: ``keras_tuner`` and ``lstm_tuner``). The first line of every test,

    keras_tuner = import_as(module_name)

stands for ``import keras_tuner`` / ``import lstm_tuner as keras_tuner`` (``kt`` likewise). Every example
passes on the real KerasTuner, which proves the test itself is right; on lstm_tuner a failure is a
compatibility gap. The KerasTuner side runs wherever keras-tuner is installed (marked slow: about 2
minutes of CPU, 10 before both libraries' garbage collections skipped the frozen import heap), as
does the differential test at the end.

What was changed in the examples, and only this:
  * data: MNIST/CIFAR replaced by small synthetic numpy arrays of the same rank (a few dozen samples,
    8x8 images where the model does not need 28x28), epochs 1, ``max_trials`` 2-3, ``steps_per_epoch``
    and ``validation_steps`` tiny;
  * ``directory=`` points into pytest's ``tmp_path`` (added where the example has none), file paths
    (TensorBoard logs, saved models) likewise;
  * where the guide's code no longer runs on Keras 3.15 / KerasTuner 1.4.8 even with KerasTuner, the
    smallest fix, commented at the line: ``callback.set_model(model)`` and ``Metric.reset_state()``
    (custom_tuner.py), ``AveragePooling2D(pool_size=(2, 2))`` (custom_tuner.py, distributed_tuning.py),
    ``best_model.build()`` with the data's 4-D shape (getting_started.py), and in the older
    custom_tuner.py revision ``kt.oracles.RandomSearchOracle`` for the removed
    ``kt.oracles.BayesianOptimization`` plus a ``return`` of the objective from ``run_trial``;
  * a few lines marked ``# test instrumentation`` that record what the assertions need.

Tests slower than 20 s on KerasTuner are marked ``slow``.

Sources (keras-team/keras-io ``guides/keras_tuner/*.py``; keras-team/keras-tuner ``README.md`` at
417e5b5, the 1.4.7 line; KerasTuner's own docstrings in ``keras_tuner/src/...`` for the API reference).
"""

# The guides' code is kept verbatim, including its zip() without strict= and its str.format calls.
# ruff: noqa: B905, UP032

from __future__ import annotations

import collections
import gc
import glob
import importlib
import os

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


@pytest.fixture(params=[pytest.param("keras_tuner", marks=pytest.mark.slow), "lstm_tuner"])
def module_name(request: pytest.FixtureRequest) -> str:
    if request.param == "keras_tuner":
        # The examples on KerasTuner itself prove the tests right: they run wherever keras-tuner is
        # installed (the test extra installs it; about 2 minutes of CPU), and not with -m "not slow".
        pytest.importorskip("keras_tuner")
        # KerasTuner runs gc.collect() before every build: 0.25 s each in a process that imported
        # TensorFlow. The heap the test finds is frozen while it runs, as lstm_tuner's own search
        # freezes it (engine.session.frozen_heap), so both libraries pay the same.
        gc.collect()
        gc.freeze()
        request.addfinalizer(gc.unfreeze)
    return request.param


def import_as(name: str):
    """``import keras_tuner`` or ``import lstm_tuner as keras_tuner``: the only change to the examples."""
    return importlib.import_module(name)


def refuses_image_hypermodels(module_name: str, name: str) -> bool:
    """On lstm_tuner, KerasTuner's image hypermodels are refused with one line naming what to use
    instead (README, compatibility table); returns True when that was checked and the example ends."""
    if module_name != "lstm_tuner":
        return False
    applications = importlib.import_module("lstm_tuner.applications")
    with pytest.raises(
        ImportError, match=f"applications.{name}: lstm_tuner ships no image"
    ) as info:
        getattr(applications, name)
    assert "\n" not in str(info.value) and "build_model(hp)" in str(info.value)
    return True


# -- helpers used by the assertions (never by the example code) -------------------------------------


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _images(n: int, size: int = 8, channels: int | None = 1, seed: int = 0) -> np.ndarray:
    shape = (n, size, size) if channels is None else (n, size, size, channels)
    return _rng(seed).random(shape).astype("float32")


def _labels(n: int, seed: int = 1, num_classes: int = 10) -> np.ndarray:
    return _rng(seed).integers(0, num_classes, (n, 1))


def _one_hot(n: int, seed: int = 1) -> np.ndarray:
    return keras.utils.to_categorical(_labels(n, seed)[:, 0], 10)


def _trial_states(tuner) -> dict[str, int]:
    """Trials per status, as the KerasTuner user reads them: ``tuner.oracle.trials``."""
    return dict(collections.Counter(t.status for t in tuner.oracle.trials.values()))


def _types(values: dict) -> dict[str, type]:
    return {name: type(value) for name, value in values.items()}


# =====================================================================================================
# README (keras-team/keras-tuner README.md, "Quick introduction")
# =====================================================================================================


def test_readme_quick_introduction(module_name, tmp_path):
    # README.md, "Quick introduction".
    keras_tuner = import_as(module_name)
    x_train, y_train = _rng(0).random((64, 8)), _rng(1).random((64, 1))
    x_val, y_val = _rng(2).random((16, 8)), _rng(3).random((16, 1))

    def build_model(hp):
        model = keras.Sequential()
        model.add(keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"))
        model.add(keras.layers.Dense(1, activation="relu"))
        model.compile(loss="mse")
        return model

    tuner = keras_tuner.RandomSearch(
        build_model,
        objective="val_loss",
        max_trials=3,  # README: 5
        directory=tmp_path,  # README: none (the current directory)
    )
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))  # README: epochs=5
    best_model = tuner.get_best_models()[0]

    # The best model is the deferred-build Sequential, rebuilt and loaded with its best weights.
    assert isinstance(best_model, keras.Model)
    assert best_model.predict(x_val, verbose=0).shape == (16, 1)
    best_hp = tuner.get_best_hyperparameters()[0]
    assert list(best_hp.values) == ["units"]
    assert type(best_hp.values["units"]) is int and best_hp.values["units"] in (8, 16, 32)
    assert best_model.layers[0].units == best_hp.values["units"]
    assert _trial_states(tuner) == {"COMPLETED": 3}


def test_readme_legacy_hypermodel_subclass_without_super_init(module_name, tmp_path):
    # Older README.md (keras-team/keras-tuner at 0009dc5, `kerastuner` era), "You can use a HyperModel
    # subclass instead of a model-building function": note that __init__ does not call super().__init__().
    keras_tuner = import_as(module_name)
    HyperModel = keras_tuner.HyperModel  # README: from kerastuner import HyperModel
    RandomSearch = keras_tuner.RandomSearch  # README: from kerastuner.tuners import RandomSearch
    x, y = _rng(0).random((64, 8)), _labels(64)
    val_x, val_y = _rng(2).random((16, 8)), _labels(16, seed=3)

    class MyHyperModel(HyperModel):
        def __init__(self, num_classes):
            self.num_classes = num_classes

        def build(self, hp):
            model = keras.Sequential()
            model.add(
                layers.Dense(
                    units=hp.Int("units", min_value=32, max_value=512, step=32), activation="relu"
                )
            )
            model.add(layers.Dense(self.num_classes, activation="softmax"))
            model.compile(
                optimizer=keras.optimizers.Adam(
                    hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
                ),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

    hypermodel = MyHyperModel(num_classes=10)

    tuner = RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=2,  # README: 10
        directory=tmp_path,  # README: 'my_dir'
        project_name="helloworld",
    )

    tuner.search(x, y, epochs=1, validation_data=(val_x, val_y))  # README: epochs=5

    best_hp = tuner.get_best_hyperparameters()[0]
    assert _types(best_hp.values) == {"units": int, "learning_rate": float}
    assert tuner.get_best_models()[0].predict(val_x, verbose=0).shape == (16, 10)


def test_public_import_paths(module_name):
    # Names the guides and the README reach through submodules or use as classes.
    keras_tuner = import_as(module_name)
    # failed_trials.py: keras_tuner.errors.FailedTrialError / FatalError (+ the 3 Fatal* subclasses
    # its "Takeaways" list).
    errors = importlib.import_module(f"{module_name}.errors")
    assert issubclass(errors.FailedTrialError, Exception)
    assert issubclass(errors.FatalValueError, errors.FatalError) and issubclass(
        errors.FatalValueError, ValueError
    )
    assert issubclass(errors.FatalTypeError, errors.FatalError) and issubclass(
        errors.FatalTypeError, TypeError
    )
    assert issubclass(errors.FatalRuntimeError, errors.FatalError) and issubclass(
        errors.FatalRuntimeError, RuntimeError
    )
    # getting_started.py, "Tune any function": tuners are classes one subclasses.
    for name in ("Tuner", "RandomSearch", "BayesianOptimization", "GridSearch", "Hyperband"):
        assert isinstance(getattr(keras_tuner, name), type), name
    assert issubclass(keras_tuner.RandomSearch, keras_tuner.Tuner)
    # custom_tuner.py (older revision): an oracle passed to kt.Tuner (KerasTuner 1.4 names it
    # kt.oracles.BayesianOptimizationOracle; the revision's kt.oracles.BayesianOptimization is gone);
    # README (older): from kerastuner.tuners import RandomSearch.
    oracles = importlib.import_module(f"{module_name}.oracles")
    for name in (
        "RandomSearchOracle",
        "BayesianOptimizationOracle",
        "GridSearchOracle",
        "HyperbandOracle",
    ):
        assert issubclass(getattr(oracles, name), keras_tuner.Oracle), name
    assert importlib.import_module(f"{module_name}.tuners").RandomSearch is keras_tuner.RandomSearch
    # getting_started.py / tailor_the_search_space.py: keras_tuner.applications.HyperResNet/HyperXception.
    if not refuses_image_hypermodels(module_name, "HyperResNet"):
        applications = importlib.import_module(f"{module_name}.applications")
        assert applications.HyperResNet and applications.HyperXception


def test_tuner_oracle_and_trial_attributes(module_name, tmp_path):
    # The attributes a user reads after search (KerasTuner API reference: BaseTuner, Oracle, Trial),
    # on the README's model-building function.
    keras_tuner = import_as(module_name)
    x_train, y_train = _rng(0).random((64, 8)), _rng(1).random((64, 1))
    x_val, y_val = _rng(2).random((16, 8)), _rng(3).random((16, 1))

    def build_model(hp):
        model = keras.Sequential()
        model.add(keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"))
        model.add(keras.layers.Dense(1, activation="relu"))
        model.compile(loss="mse")
        return model

    tuner = keras_tuner.RandomSearch(
        build_model, objective="val_loss", max_trials=3, directory=tmp_path
    )
    tuner.search(x_train, y_train, epochs=2, validation_data=(x_val, y_val), verbose=0)

    assert isinstance(tuner.hypermodel, keras_tuner.HyperModel)
    assert isinstance(tuner.hypermodel.build(keras_tuner.HyperParameters()), keras.Model)
    assert tuner.project_name == "untitled_project"
    assert tuner.project_dir == os.path.join(str(tmp_path), "untitled_project")
    assert tuner.executions_per_trial == 1
    assert tuner.remaining_trials == 0
    assert tuner.oracle.max_trials == 3
    assert tuner.oracle.objective.name == "val_loss" and tuner.oracle.objective.direction == "min"
    assert len(tuner.oracle.trials) == 3

    trials = tuner.oracle.get_best_trials(3)
    assert [t.score for t in trials] == sorted(t.score for t in trials)
    for trial in trials:
        assert isinstance(trial.trial_id, str)
        assert trial.status == "COMPLETED"
        assert isinstance(trial.score, float)
        assert trial.best_step in (0, 1)
        assert _types(trial.hyperparameters.values) == {"units": int}
        assert tuner.oracle.get_trial(trial.trial_id) is trial
    best = trials[0]
    assert tuner.get_best_hyperparameters()[0].values == best.hyperparameters.values
    # load_model(trial) gives the trial's best-epoch model: its val_loss is the trial's score.
    model = tuner.load_model(best)
    val_loss = float(np.mean((model.predict(x_val, verbose=0) - y_val) ** 2))
    assert val_loss == pytest.approx(best.score, rel=1e-4)
    np.testing.assert_allclose(
        tuner.get_best_models()[0].predict(x_val, verbose=0), model.predict(x_val, verbose=0)
    )


def test_resume_and_overwrite(module_name, tmp_path):
    # getting_started.py, "Start the search" (the `overwrite` argument: "Control whether to overwrite
    # the previous results in the same directory or resume the previous search instead"), and
    # distributed_tuning.py ("`overwrite` should be kept as `False` ... (`False` is the default)").
    keras_tuner = import_as(module_name)
    x, y = _rng(0).random((64, 8)), _rng(1).random((64, 1))
    xv, yv = _rng(2).random((16, 8)), _rng(3).random((16, 1))

    def build_model(hp):
        model = keras.Sequential()
        model.add(keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"))
        model.add(keras.layers.Dense(1))
        model.compile(loss="mse")
        return model

    def make(**kwargs):
        return keras_tuner.RandomSearch(
            build_model,
            objective="val_loss",
            max_trials=2,
            directory=tmp_path,
            project_name="resume",
            **kwargs,
        )

    tuner = make()
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    best = tuner.get_best_hyperparameters()[0].values

    resumed = make()  # overwrite=False: reloads the project
    assert resumed.get_best_hyperparameters()[0].values == best
    resumed.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)  # max_trials reached
    assert len(resumed.get_best_hyperparameters(10)) == 2
    assert _trial_states(resumed) == {"COMPLETED": 2}

    fresh = make(overwrite=True)
    assert fresh.get_best_hyperparameters() == []
    assert _trial_states(fresh) == {}


# =====================================================================================================
# Getting started with KerasTuner (keras-io guides/keras_tuner/getting_started.py)
# =====================================================================================================


def test_getting_started_define_search_space(module_name, capsys):
    # getting_started.py, "Tune the model architecture" / "Define the search space".
    keras_tuner = import_as(module_name)

    def build_model(hp):
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(
            layers.Dense(
                # Define the hyperparameter.
                units=hp.Int("units", min_value=32, max_value=512, step=32),
                activation="relu",
            )
        )
        model.add(layers.Dense(10, activation="softmax"))
        model.compile(
            optimizer="adam",
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    assert isinstance(build_model(keras_tuner.HyperParameters()), keras.Model)

    def build_model(hp):  # noqa: F811 - the guide redefines it
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(
            layers.Dense(
                # Tune number of units.
                units=hp.Int("units", min_value=32, max_value=512, step=32),
                # Tune the activation function to use.
                activation=hp.Choice("activation", ["relu", "tanh"]),
            )
        )
        # Tune whether to use dropout.
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        # Define the optimizer learning rate as a hyperparameter.
        learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    assert isinstance(build_model(keras_tuner.HyperParameters()), keras.Model)

    # "the hyperparameters are actual values"
    hp = keras_tuner.HyperParameters()
    print(hp.Int("units", min_value=32, max_value=512, step=32))
    assert capsys.readouterr().out == "32\n"

    def call_existing_code(units, activation, dropout, lr):
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(layers.Dense(units=units, activation=activation))
        if dropout:
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=lr),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def build_model(hp):  # noqa: F811
        units = hp.Int("units", min_value=32, max_value=512, step=32)
        activation = hp.Choice("activation", ["relu", "tanh"])
        dropout = hp.Boolean("dropout")
        lr = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        # call existing model-building code with the hyperparameter values.
        model = call_existing_code(units=units, activation=activation, dropout=dropout, lr=lr)
        return model

    hp = keras_tuner.HyperParameters()
    build_model(hp)
    # Defaults: Int -> min_value, Choice -> first value, Boolean -> False, Float -> min_value.
    assert hp.values == {"units": 32, "activation": "relu", "dropout": False, "lr": 1e-4}

    def build_model(hp):  # noqa: F811
        model = keras.Sequential()
        model.add(layers.Flatten())
        # Tune the number of layers.
        for i in range(hp.Int("num_layers", 1, 3)):
            model.add(
                layers.Dense(
                    # Tune number of units separately.
                    units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                    activation=hp.Choice("activation", ["relu", "tanh"]),
                )
            )
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    hp = keras_tuner.HyperParameters()
    model = build_model(hp)
    assert hp.values == {
        "num_layers": 1,
        "units_0": 32,
        "activation": "relu",
        "dropout": False,
        "lr": 1e-4,
    }
    assert len(model.layers) == 3  # Flatten, Dense(units_0), Dense(10)


def test_getting_started_start_search_and_query_results(module_name, tmp_path, capsys):
    # getting_started.py, "Start the search", "Query the results", "Retrain the model".
    keras_tuner = import_as(module_name)

    def build_model(hp):
        model = keras.Sequential()
        model.add(layers.Flatten())
        # Tune the number of layers.
        for i in range(hp.Int("num_layers", 1, 3)):
            model.add(
                layers.Dense(
                    # Tune number of units separately.
                    units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                    activation=hp.Choice("activation", ["relu", "tanh"]),
                )
            )
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add(layers.Dense(10, activation="softmax"))
        learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_model,
        objective="val_accuracy",
        max_trials=2,  # guide: 3
        executions_per_trial=2,
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="helloworld",
    )

    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert "Search space summary" in out
    for line in ("num_layers (Int)", "units_0 (Int)", "activation (Choice)", "dropout (Boolean)"):
        assert line in out
    assert "lr (Float)" in out

    # MNIST replaced by random 8x8 images, one-hot labels (same ranks as the guide's arrays).
    x_train, x_val = _images(48, seed=0), _images(16, seed=2)
    y_train, y_val = _one_hot(48, seed=1), _one_hot(16, seed=3)

    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))  # guide: epochs=2

    # Get the top 2 models.
    models = tuner.get_best_models(num_models=2)
    best_model = models[0]
    # Build the model.
    # Needed for `Sequential` without specified `input_shape`.
    # guide: (None, 28, 28). Keras 3 refuses to rebuild a built Sequential with another shape, and
    # get_best_models() returns it built (build_from_config) with the data's shape, channel axis included.
    best_model.build(input_shape=(None, 8, 8, 1))
    best_model.summary()
    assert len(models) == 2
    assert best_model.predict(x_val, verbose=0).shape == (16, 10)

    capsys.readouterr()
    tuner.results_summary()
    out = capsys.readouterr().out
    assert "Results summary" in out
    assert f"Results in {tuner.project_dir}" in out
    assert 'Objective(name="val_accuracy", direction="max")' in out
    assert tuner.project_dir == os.path.join(str(tmp_path), "helloworld")

    # Get the top 2 hyperparameters.
    best_hps = tuner.get_best_hyperparameters(5)
    # Build the model with the best hp.
    model = build_model(best_hps[0])
    # Fit with the entire dataset.
    x_all = np.concatenate((x_train, x_val))
    y_all = np.concatenate((y_train, y_val))
    model.fit(x=x_all, y=y_all, epochs=1)

    assert len(best_hps) == 2  # only 2 trials exist
    values = best_hps[0].values
    n = values["num_layers"]
    assert set(values) == {"num_layers", "activation", "dropout", "lr"} | {
        f"units_{i}" for i in range(n)
    }
    assert _types(values)["lr"] is float and _types(values)["dropout"] is bool
    assert _types(values)["num_layers"] is int and isinstance(values["activation"], str)
    assert _trial_states(tuner) == {"COMPLETED": 2}


def test_getting_started_tune_model_training(module_name, tmp_path):
    # getting_started.py, "Tune model training", "Tune data preprocessing", and the
    # `hp.get("image_size")` HyperModel searched with RandomSearch, then "Retrain the model".
    keras_tuner = import_as(module_name)

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential()
            model.add(layers.Flatten())
            model.add(
                layers.Dense(
                    units=hp.Int("units", min_value=32, max_value=512, step=32),
                    activation="relu",
                )
            )
            model.add(layers.Dense(10, activation="softmax"))
            model.compile(
                optimizer="adam",
                loss="categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(
                *args,
                # Tune whether to shuffle the data in each epoch.
                shuffle=hp.Boolean("shuffle"),
                **kwargs,
            )

    hp = keras_tuner.HyperParameters()
    hypermodel = MyHyperModel()
    model = hypermodel.build(hp)
    history = hypermodel.fit(
        hp, model, np.random.rand(16, 8, 8), np.random.rand(16, 10)
    )  # guide: 100, 28x28
    assert isinstance(history, keras.callbacks.History)
    assert hp.values == {"units": 32, "shuffle": False}

    class MyHyperModel(keras_tuner.HyperModel):  # noqa: F811 - "Tune data preprocessing"
        def build(self, hp):
            model = keras.Sequential()
            model.add(layers.Flatten())
            model.add(
                layers.Dense(
                    units=hp.Int("units", min_value=32, max_value=512, step=32),
                    activation="relu",
                )
            )
            model.add(layers.Dense(10, activation="softmax"))
            model.compile(
                optimizer="adam",
                loss="categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp, model, x, y, **kwargs):
            if hp.Boolean("normalize"):
                x = layers.Normalization()(x)
            return model.fit(
                x,
                y,
                # Tune whether to shuffle the data in each epoch.
                shuffle=hp.Boolean("shuffle"),
                **kwargs,
            )

    hp = keras_tuner.HyperParameters()
    hypermodel = MyHyperModel()
    model = hypermodel.build(hp)
    hypermodel.fit(hp, model, np.random.rand(16, 8, 8), np.random.rand(16, 10))
    assert hp.values == {"units": 32, "normalize": False, "shuffle": False}

    class MyHyperModel(keras_tuner.HyperModel):  # noqa: F811 - hp used in build() and fit()
        def build(self, hp):
            image_size = hp.Int("image_size", 10, 28)
            inputs = keras.Input(shape=(image_size, image_size))
            outputs = layers.Flatten()(inputs)
            outputs = layers.Dense(
                units=hp.Int("units", min_value=32, max_value=512, step=32),
                activation="relu",
            )(outputs)
            outputs = layers.Dense(10, activation="softmax")(outputs)
            model = keras.Model(inputs, outputs)
            model.compile(
                optimizer="adam",
                loss="categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp, model, x, y, validation_data=None, **kwargs):
            if hp.Boolean("normalize"):
                x = layers.Normalization()(x)
            image_size = hp.get("image_size")
            cropped_x = x[:, :image_size, :image_size, :]
            if validation_data:
                x_val, y_val = validation_data
                cropped_x_val = x_val[:, :image_size, :image_size, :]
                validation_data = (cropped_x_val, y_val)
            return model.fit(
                cropped_x,
                y,
                # Tune whether to shuffle the data in each epoch.
                shuffle=hp.Boolean("shuffle"),
                validation_data=validation_data,
                **kwargs,
            )

    # This example crops 28x28 images, so it keeps MNIST's size (48 random images).
    x_train, x_val = _images(48, size=28, seed=0), _images(16, size=28, seed=2)
    y_train, y_val = _one_hot(48, seed=1), _one_hot(16, seed=3)

    tuner = keras_tuner.RandomSearch(
        MyHyperModel(),
        objective="val_accuracy",
        max_trials=2,  # guide: 3
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="tune_hypermodel",
    )

    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))  # guide: epochs=2

    hypermodel = MyHyperModel()
    best_hp = tuner.get_best_hyperparameters()[0]
    model = hypermodel.build(best_hp)
    x_all, y_all = np.concatenate((x_train, x_val)), np.concatenate((y_train, y_val))
    hypermodel.fit(best_hp, model, x_all, y_all, epochs=1)

    # Hyperparameters declared in fit() are part of the trial's hyperparameters.
    assert _types(best_hp.values) == {
        "image_size": int,
        "units": int,
        "normalize": bool,
        "shuffle": bool,
    }
    size = best_hp.values["image_size"]
    assert tuner.get_best_models()[0].input_shape == (None, size, size)
    assert _trial_states(tuner) == {"COMPLETED": 2}


def test_getting_started_builtin_metric_objective(module_name, tmp_path, capsys):
    # getting_started.py, "Specify the tuning objective" / "Built-in metric as the objective".
    keras_tuner = import_as(module_name)

    def build_regressor(hp):
        model = keras.Sequential(
            [
                layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer="adam",
            loss="mean_squared_error",
            # Objective is one of the metrics.
            metrics=[keras.metrics.MeanAbsoluteError()],
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_regressor,
        # The objective name and direction.
        # Name is the f"val_{snake_case_metric_class_name}".
        objective=keras_tuner.Objective("val_mean_absolute_error", direction="min"),
        max_trials=2,  # guide: 3
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="built_in_metrics",
    )

    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )

    capsys.readouterr()
    tuner.results_summary()
    out = capsys.readouterr().out
    assert 'Objective(name="val_mean_absolute_error", direction="min")' in out
    assert tuner.oracle.objective == keras_tuner.Objective("val_mean_absolute_error", "min")
    scores = [t.score for t in tuner.oracle.get_best_trials(2)]
    assert scores == sorted(scores) and all(isinstance(s, float) for s in scores)
    assert tuner.get_best_models()[0].predict(np.random.rand(5, 10), verbose=0).shape == (5, 1)


def test_getting_started_custom_metric_objective(module_name, tmp_path, capsys):
    # getting_started.py, "Custom metric as the objective".
    keras_tuner = import_as(module_name)

    class CustomMetric(keras.metrics.Metric):
        def __init__(self, **kwargs):
            # Specify the name of the metric as "custom_metric".
            super().__init__(name="custom_metric", **kwargs)
            self.sum = self.add_weight(name="sum", initializer="zeros")
            self.count = self.add_weight(name="count", dtype=tf.int32, initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            values = tf.math.squared_difference(y_pred, y_true)
            count = tf.shape(y_true)[0]
            if sample_weight is not None:
                sample_weight = tf.cast(sample_weight, self.dtype)
                values *= sample_weight
                count *= sample_weight
            self.sum.assign_add(tf.reduce_sum(values))
            self.count.assign_add(count)

        def result(self):
            return self.sum / tf.cast(self.count, tf.float32)

        def reset_states(self):
            self.sum.assign(0)
            self.count.assign(0)

    def build_regressor(hp):
        model = keras.Sequential(
            [
                layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer="adam",
            loss="mean_squared_error",
            # Put custom metric into the metrics.
            metrics=[CustomMetric()],
        )
        return model

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_regressor,
        # Specify the name and direction of the objective.
        objective=keras_tuner.Objective("val_custom_metric", direction="min"),
        max_trials=2,  # guide: 3
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="custom_metrics",
    )

    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )

    capsys.readouterr()
    tuner.results_summary()
    assert 'Objective(name="val_custom_metric", direction="min")' in capsys.readouterr().out
    assert _trial_states(tuner) == {"COMPLETED": 2}
    assert all(isinstance(t.score, float) for t in tuner.oracle.get_best_trials(2))


def test_getting_started_fit_returns_float_without_objective(module_name, tmp_path, capsys):
    # getting_started.py, "If your custom objective is hard to put into a custom metric ... return the
    # objective value. The objective value would be minimized by default."
    keras_tuner = import_as(module_name)
    returned = []  # test instrumentation

    class HyperRegressor(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [
                    layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                    layers.Dense(units=1),
                ]
            )
            model.compile(
                optimizer="adam",
                loss="mean_squared_error",
            )
            return model

        def fit(self, hp, model, x, y, validation_data, **kwargs):
            model.fit(x, y, **kwargs)
            x_val, y_val = validation_data
            y_pred = model.predict(x_val)
            # Return a single float to minimize.
            returned.append(
                (hp.get("units"), float(np.mean(np.abs(y_pred - y_val))))
            )  # test instrumentation
            return np.mean(np.abs(y_pred - y_val))

    tuner = keras_tuner.RandomSearch(
        hypermodel=HyperRegressor(),
        # No objective to specify.
        # Objective is the return value of `HyperModel.fit()`.
        max_trials=2,  # guide: 3
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="custom_eval",
    )
    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )

    capsys.readouterr()
    tuner.results_summary()
    assert "Results summary" in capsys.readouterr().out
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == pytest.approx(min(value for _, value in returned))
    best_units = best.hyperparameters.values["units"]
    assert any(u == best_units and v == pytest.approx(best.score) for u, v in returned)
    assert _trial_states(tuner) == {"COMPLETED": 2}


def test_getting_started_fit_returns_dict(module_name, tmp_path, capsys):
    # getting_started.py, "... you can return a dictionary ... Use one of the keys as the objective
    # name, for example, `keras_tuner.Objective("metric_a", "min")`."
    keras_tuner = import_as(module_name)

    class HyperRegressor(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [
                    layers.Dense(units=hp.Int("units", 32, 128, 32), activation="relu"),
                    layers.Dense(units=1),
                ]
            )
            model.compile(
                optimizer="adam",
                loss="mean_squared_error",
            )
            return model

        def fit(self, hp, model, x, y, validation_data, **kwargs):
            model.fit(x, y, **kwargs)
            x_val, y_val = validation_data
            y_pred = model.predict(x_val)
            # Return a dictionary of metrics for KerasTuner to track.
            return {
                "metric_a": -np.mean(np.abs(y_pred - y_val)),
                "metric_b": np.mean(np.square(y_pred - y_val)),
            }

    tuner = keras_tuner.RandomSearch(
        hypermodel=HyperRegressor(),
        # Objective is one of the keys.
        # Maximize the negative MAE, equivalent to minimize MAE.
        objective=keras_tuner.Objective("metric_a", "max"),
        max_trials=2,  # guide: 3
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="custom_eval_dict",
    )
    tuner.search(
        x=np.random.rand(100, 10),
        y=np.random.rand(100, 1),
        validation_data=(np.random.rand(20, 10), np.random.rand(20, 1)),
    )

    capsys.readouterr()
    tuner.results_summary()
    assert 'Objective(name="metric_a", direction="max")' in capsys.readouterr().out
    trials = tuner.oracle.get_best_trials(2)
    assert trials[0].score >= trials[1].score  # "max": best first
    assert all(t.score < 0 for t in trials)  # the score is metric_a = -MAE
    assert _trial_states(tuner) == {"COMPLETED": 2}


def test_getting_started_tune_any_function(module_name, tmp_path):
    # getting_started.py, "Tune end-to-end workflows" / "Tune any function".
    keras_tuner = import_as(module_name)

    class MyTuner(keras_tuner.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            # Get the hp from trial.
            hp = trial.hyperparameters
            # Define "x" as a hyperparameter.
            x = hp.Float("x", min_value=-1.0, max_value=1.0)
            # Return the objective value to minimize.
            return x * x + 1

    tuner = MyTuner(
        # No hypermodel or objective specified.
        max_trials=3,  # guide: 20
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="tune_anything",
    )

    # No need to pass anything to search()
    # unless you use them in run_trial().
    tuner.search()
    print(tuner.get_best_hyperparameters()[0].get("x"))

    x = tuner.get_best_hyperparameters()[0].get("x")
    assert isinstance(x, float) and -1.0 <= x <= 1.0
    trials = tuner.oracle.get_best_trials(3)
    assert len(trials) == 3
    for trial in trials:
        assert trial.score == pytest.approx(trial.hyperparameters.get("x") ** 2 + 1)
    assert trials[0].score == min(t.score for t in trials)


def test_run_trial_returns_dict_or_history(module_name, tmp_path):
    # KerasTuner's Tuner.run_trial docstring (keras_tuner/src/engine/tuner.py): "Returns: A `History`
    # object ..., a dictionary, a float ... If return a dictionary, it should be a dictionary of the
    # metrics to track. The keys are the metric names, which contains the `objective` name."
    keras_tuner = import_as(module_name)

    class MyTuner(keras_tuner.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            x = hp.Float("x", -2.0, 2.0)
            y = x * x + 2 * x + 1
            return {"my_metric": y, "other_metric": -y}

    tuner = MyTuner(
        objective=keras_tuner.Objective("my_metric", "min"),
        max_trials=3,
        directory=tmp_path,
        project_name="dict",
    )
    tuner.search()
    trials = tuner.oracle.get_best_trials(3)
    for trial in trials:
        x = trial.hyperparameters.values["x"]
        assert trial.score == pytest.approx(x * x + 2 * x + 1)
    assert trials[0].score == min(t.score for t in trials)

    # The docstring's first example: build with self.hypermodel and return the fit History.
    histories = {}  # test instrumentation

    def build_model(hp):
        model = keras.Sequential()
        model.add(keras.layers.Dense(hp.Choice("units", [8, 16]), activation="relu"))
        model.add(keras.layers.Dense(1))
        model.compile(loss="mse")
        return model

    class MyTuner(keras_tuner.RandomSearch):  # noqa: F811
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            model = self.hypermodel.build(hp)
            history = self.hypermodel.fit(hp, model, *args, **kwargs)
            histories[trial.trial_id] = history  # test instrumentation
            return history

    tuner = MyTuner(
        hypermodel=build_model,
        objective="val_loss",
        max_trials=2,
        directory=tmp_path,
        project_name="h",
    )
    x, y = _rng(0).random((64, 8)), _rng(1).random((64, 1))
    tuner.search(x, y, epochs=2, validation_data=(x[:16], y[:16]), verbose=0)
    for trial in tuner.oracle.get_best_trials(2):
        val_loss = histories[trial.trial_id].history["val_loss"]
        # The score is the best epoch's objective; best_step is that epoch.
        assert trial.score == pytest.approx(min(val_loss))
        assert trial.best_step == int(np.argmin(val_loss))


def test_getting_started_keep_keras_code_separate(module_name, tmp_path):
    # getting_started.py, "Keep Keras code separate" (trial.trial_id to name the saved models).
    keras_tuner = import_as(module_name)
    saved = tmp_path / "saved"  # guide: "/tmp"
    saved.mkdir()

    def keras_code(units, optimizer, saving_path):
        # Build model
        model = keras.Sequential(
            [
                layers.Dense(units=units, activation="relu"),
                layers.Dense(units=1),
            ]
        )
        model.compile(
            optimizer=optimizer,
            loss="mean_squared_error",
        )

        # Prepare data
        x_train = np.random.rand(100, 10)
        y_train = np.random.rand(100, 1)
        x_val = np.random.rand(20, 10)
        y_val = np.random.rand(20, 1)

        # Train & eval model
        model.fit(x_train, y_train)

        # Save model
        model.save(saving_path)

        # Return a single float as the objective value.
        # You may also return a dictionary
        # of {metric_name: metric_value}.
        y_pred = model.predict(x_val)
        return np.mean(np.abs(y_pred - y_val))

    class MyTuner(keras_tuner.RandomSearch):
        def run_trial(self, trial, **kwargs):
            hp = trial.hyperparameters
            return keras_code(
                units=hp.Int("units", 32, 128, 32),
                optimizer=hp.Choice("optimizer", ["adam", "adadelta"]),
                saving_path=os.path.join(saved, f"{trial.trial_id}.keras"),
            )

    tuner = MyTuner(
        max_trials=2,  # guide: 3
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="keep_code_separate",
    )
    tuner.search()
    # Retraining the model
    best_hp = tuner.get_best_hyperparameters()[0]
    keras_code(**best_hp.values, saving_path=os.path.join(saved, "best_model.keras"))

    assert _types(best_hp.values) == {"units": int, "optimizer": str}
    trial_ids = [t.trial_id for t in tuner.oracle.get_best_trials(2)]
    assert sorted(os.listdir(saved)) == sorted(
        [f"{i}.keras" for i in trial_ids] + ["best_model.keras"]
    )


@pytest.mark.slow  # about 20 s on KerasTuner (one ResNet trial on 2 CPU cores)
def test_getting_started_pre_made_hyperresnet(module_name, tmp_path):
    # getting_started.py, "KerasTuner includes pre-made tunable applications: HyperResNet and
    # HyperXception".
    keras_tuner = import_as(module_name)
    if refuses_image_hypermodels(module_name, "HyperResNet"):
        return
    HyperResNet = importlib.import_module(f"{module_name}.applications").HyperResNet
    # from keras_tuner.applications import HyperResNet

    x_train, x_val = _images(8, size=32, seed=0), _images(8, size=32, seed=2)
    y_train, y_val = _one_hot(8, seed=1), _one_hot(8, seed=3)

    hypermodel = HyperResNet(input_shape=(32, 32, 1), classes=10)  # guide: (28, 28, 1)

    tuner = keras_tuner.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=1,  # guide: 2
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="built_in_hypermodel",
        # Not in the guide: unseeded, the one trial may draw conv4_depth 36 (ResNet-152's depth);
        # on KerasTuner seed 2 draws the shallowest (conv3_depth 4, conv4_depth 6).
        seed=2,
    )

    tuner.search(x_train[:100], y_train[:100], epochs=1, validation_data=(x_val[:100], y_val[:100]))
    assert _trial_states(tuner) == {"COMPLETED": 1}
    assert "version" in tuner.get_best_hyperparameters()[0].values


# =====================================================================================================
# Tune hyperparameters in your custom training loop (keras-io guides/keras_tuner/custom_tuner.py)
# =====================================================================================================


def test_custom_training_loop_in_hypermodel_fit(module_name, tmp_path):
    # custom_tuner.py (current revision, "Tune hyperparameters in your custom training loop").
    keras_tuner = import_as(module_name)

    x_train = np.random.rand(64, 8, 8, 1)  # guide: (1000, 28, 28, 1)
    y_train = np.random.randint(0, 10, (64, 1))
    x_val = np.random.rand(64, 8, 8, 1)
    y_val = np.random.randint(0, 10, (64, 1))

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            """Builds a convolutional model."""
            inputs = keras.Input(shape=(8, 8, 1))  # guide: (28, 28, 1)
            x = keras.layers.Flatten()(inputs)
            x = keras.layers.Dense(units=hp.Choice("units", [32, 64, 128]), activation="relu")(x)
            outputs = keras.layers.Dense(10)(x)
            return keras.Model(inputs=inputs, outputs=outputs)

        def fit(self, hp, model, x, y, validation_data, callbacks=None, **kwargs):
            # Convert the datasets to tf.data.Dataset.
            batch_size = hp.Int("batch_size", 32, 128, step=32, default=64)
            train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(batch_size)
            validation_data = tf.data.Dataset.from_tensor_slices(validation_data).batch(batch_size)

            # Define the optimizer.
            optimizer = keras.optimizers.Adam(
                hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
            )
            loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

            # The metric to track validation loss.
            epoch_loss_metric = keras.metrics.Mean()

            # Function to run the train step.
            @tf.function
            def run_train_step(images, labels):
                with tf.GradientTape() as tape:
                    logits = model(images)
                    loss = loss_fn(labels, logits)
                    # Add any regularization losses.
                    if model.losses:
                        loss += tf.math.add_n(model.losses)
                gradients = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(gradients, model.trainable_variables))

            # Function to run the validation step.
            @tf.function
            def run_val_step(images, labels):
                logits = model(images)
                loss = loss_fn(labels, logits)
                # Update the metric.
                epoch_loss_metric.update_state(loss)

            # Assign the model to the callbacks.
            for callback in callbacks:
                callback.set_model(
                    model
                )  # Keras 3: `callback.model = model` (no setter in Keras 3)

            # Record the best validation loss value
            best_epoch_loss = float("inf")

            # The custom training loop.
            for epoch in range(2):
                print(f"Epoch: {epoch}")

                # Iterate the training data to run the training step.
                for images, labels in train_ds:
                    run_train_step(images, labels)

                # Iterate the validation data to run the validation step.
                for images, labels in validation_data:
                    run_val_step(images, labels)

                # Calling the callbacks after epoch.
                epoch_loss = float(epoch_loss_metric.result().numpy())
                for callback in callbacks:
                    # The "my_metric" is the objective passed to the tuner.
                    callback.on_epoch_end(epoch, logs={"my_metric": epoch_loss})
                epoch_loss_metric.reset_state()  # Keras 3: `reset_states()` was renamed

                print(f"Epoch loss: {epoch_loss}")
                best_epoch_loss = min(best_epoch_loss, epoch_loss)

            # Return the evaluation metric value.
            return best_epoch_loss

    tuner = keras_tuner.RandomSearch(
        objective=keras_tuner.Objective("my_metric", "min"),
        max_trials=2,
        hypermodel=MyHyperModel(),
        directory=tmp_path,  # guide: "results"
        project_name="custom_training",
        overwrite=True,
    )

    tuner.search(x=x_train, y=y_train, validation_data=(x_val, y_val))

    best_hps = tuner.get_best_hyperparameters()[0]
    print(best_hps.values)

    best_model = tuner.get_best_models()[0]
    best_model.summary()

    assert _types(best_hps.values) == {"units": int, "batch_size": int, "learning_rate": float}
    assert best_hps.values["units"] in (32, 64, 128) and best_hps.values["batch_size"] in (
        32,
        64,
        96,
        128,
    )
    assert best_model.predict(x_val, verbose=0).shape == (64, 10)
    assert _trial_states(tuner) == {"COMPLETED": 2}


def test_custom_tuner_run_trial_with_gradient_tape(module_name, tmp_path):
    # custom_tuner.py (earlier revision, "Writing your own Tuner to support a custom training loop",
    # keras-io 0274e0a): subclass kt.Tuner, give it an oracle, train with tf.GradientTape in run_trial and
    # call the Tuner's hooks. KerasTuner 1.4's Tuner.on_epoch_end no longer reports to the oracle, so
    # run_trial returns the objective (as the Tuner.run_trial docstring says); and the revision's last
    # line, get_best_models(), needs a checkpoint that this run_trial does not write, so it is left out.
    kt = import_as(module_name)

    def build_model(hp):
        """Builds a convolutional model."""
        inputs = tf.keras.Input(shape=(8, 8, 1))  # guide: (28, 28, 1)
        x = inputs
        for i in range(hp.Int("conv_layers", 1, 3, default=3)):
            x = tf.keras.layers.Conv2D(
                filters=hp.Int("filters_" + str(i), 4, 32, step=4, default=8),
                kernel_size=hp.Int("kernel_size_" + str(i), 3, 5),
                activation="relu",
                padding="same",
            )(x)

            if hp.Choice("pooling" + str(i), ["max", "avg"]) == "max":
                x = tf.keras.layers.MaxPooling2D()(x)
            else:
                x = tf.keras.layers.AveragePooling2D(pool_size=(2, 2))(
                    x
                )  # Keras 3.15: no default pool_size

            x = tf.keras.layers.BatchNormalization()(x)
            x = tf.keras.layers.ReLU()(x)

        if hp.Choice("global_pooling", ["max", "avg"]) == "max":
            x = tf.keras.layers.GlobalMaxPooling2D()(x)
        else:
            x = tf.keras.layers.GlobalAveragePooling2D()(x)
        outputs = tf.keras.layers.Dense(10, activation="softmax")(x)

        model = tf.keras.Model(inputs, outputs)

        optimizer = hp.Choice("optimizer", ["adam", "sgd"])
        model.compile(optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    class MyTuner(kt.Tuner):
        def run_trial(self, trial, train_ds):
            hp = trial.hyperparameters

            # Hyperparameters can be added anywhere inside `run_trial`.
            # When the first trial is run, they will take on their default values.
            # Afterwards, they will be tuned by the `Oracle`.
            train_ds = train_ds.batch(hp.Int("batch_size", 32, 128, step=32, default=64))

            model = self.hypermodel.build(trial.hyperparameters)
            lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log", default=1e-3)
            optimizer = tf.keras.optimizers.Adam(lr)
            epoch_loss_metric = tf.keras.metrics.Mean()
            loss_fn = tf.keras.losses.SparseCategoricalCrossentropy()

            # @tf.function
            def run_train_step(data):
                images = tf.dtypes.cast(data[0], "float32") / 255.0
                labels = data[1]
                with tf.GradientTape() as tape:
                    logits = model(images)
                    loss = loss_fn(labels, logits)
                    # Add any regularization losses.
                    if model.losses:
                        loss += tf.math.add_n(model.losses)
                gradients = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(gradients, model.trainable_variables))
                epoch_loss_metric.update_state(loss)
                return loss

            for epoch in range(2):
                print("Epoch: {}".format(epoch))

                self.on_epoch_begin(trial, model, epoch, logs={})
                for batch, data in enumerate(train_ds):
                    self.on_batch_begin(trial, model, batch, logs={})
                    batch_loss = float(run_train_step(data))
                    self.on_batch_end(trial, model, batch, logs={"loss": batch_loss})

                    if batch % 100 == 0:
                        loss = epoch_loss_metric.result().numpy()
                        print("Batch: {}, Average Loss: {}".format(batch, loss))

                epoch_loss = epoch_loss_metric.result().numpy()
                self.on_epoch_end(trial, model, epoch, logs={"loss": epoch_loss})
                epoch_loss_metric.reset_state()  # Keras 3: `reset_states()` was renamed
            return float(epoch_loss)  # KerasTuner 1.4: run_trial returns the objective

    tuner = MyTuner(
        # The revision: kt.oracles.BayesianOptimization(...); KerasTuner 1.4 names it
        # kt.oracles.BayesianOptimizationOracle, which needs scipy (keras-tuner[bayesian]), not installed
        # here: the random-search oracle takes its place.
        oracle=kt.oracles.RandomSearchOracle(objective=kt.Objective("loss", "min"), max_trials=2),
        hypermodel=build_model,
        directory=tmp_path,  # guide: "results"
        project_name="mnist_custom_training",
    )

    # MNIST replaced by random uint8 8x8 images.
    x_train = _rng(0).integers(0, 256, (64, 8, 8)).astype("uint8")
    y_train = _rng(1).integers(0, 10, 64)

    # Reshape the images to have the channel dimension.
    x_train = x_train.reshape(x_train.shape + (1,))[:1000]
    y_train = y_train.astype(np.int64)[:1000]

    mnist_train = tf.data.Dataset.from_tensor_slices((x_train, y_train))

    tuner.search(train_ds=mnist_train)

    best_hps = tuner.get_best_hyperparameters()[0]
    print(best_hps.values)

    values = best_hps.values
    assert {"conv_layers", "global_pooling", "optimizer", "batch_size", "learning_rate"} <= set(
        values
    )
    for i in range(values["conv_layers"]):
        assert {f"filters_{i}", f"kernel_size_{i}", f"pooling{i}"} <= set(values)
    assert type(values["learning_rate"]) is float and type(values["batch_size"]) is int
    assert _trial_states(tuner) == {"COMPLETED": 2}


# =====================================================================================================
# Handling failed trials (keras-io guides/keras_tuner/failed_trials.py)
# =====================================================================================================

_FAILED_TRIALS_DATA = dict(
    x=np.random.rand(100, 20),
    y=np.random.rand(100, 1),
    validation_data=(np.random.rand(100, 20), np.random.rand(100, 1)),
)

# GridSearch enumerates units_1 in (10, 20, 30, 40) x units_2 in (10, 20, 30) = 12 combinations,
# defaults first, the last hyperparameter bumped first; 5 of them have more than 1200 parameters.
_TOO_LARGE = {(30, 20), (30, 30), (40, 10), (40, 20), (40, 30)}


@pytest.mark.slow  # > 20 s on KerasTuner (its clear_session + gc.collect per build)
def test_failed_trials_tolerate_with_retries(module_name, tmp_path, capsys):
    # failed_trials.py, "Tolerate failed trials": a ValueError in build() fails the trial; each failed
    # trial is retried max_retries_per_trial=3 times (4 runs), then counted as failed.
    keras_tuner = import_as(module_name)
    too_large = []  # test instrumentation

    def build_model(hp):
        # Define the 2 hyperparameters for the units in dense layers
        units_1 = hp.Int("units_1", 10, 40, step=10)
        units_2 = hp.Int("units_2", 10, 30, step=10)

        # Define the model
        model = keras.Sequential(
            [
                layers.Dense(units=units_1, input_shape=(20,)),
                layers.Dense(units=units_2),
                layers.Dense(units=1),
            ]
        )
        model.compile(loss="mse")

        # Raise an error when the model is too large
        num_params = model.count_params()
        if num_params > 1200:
            too_large.append((units_1, units_2))  # test instrumentation
            raise ValueError(f"Model too large! It contains {num_params} params.")
        return model

    tuner = keras_tuner.GridSearch(
        hypermodel=build_model,
        objective="val_loss",
        overwrite=True,
        max_retries_per_trial=3,
        max_consecutive_failed_trials=8,
        directory=tmp_path,  # guide: none
    )

    # Use random data to train the model.
    tuner.search(
        x=np.random.rand(100, 20),
        y=np.random.rand(100, 1),
        validation_data=(
            np.random.rand(100, 20),
            np.random.rand(100, 1),
        ),
        epochs=1,  # guide: 10
    )

    # Print the results.
    tuner.results_summary()

    assert "Results summary" in capsys.readouterr().out
    assert _trial_states(tuner) == {"COMPLETED": 7, "FAILED": 5}
    # Each too-large combination ran 1 + max_retries_per_trial times.
    assert collections.Counter(too_large) == {combo: 4 for combo in _TOO_LARGE}
    failed = [t for t in tuner.oracle.trials.values() if t.status == "FAILED"]
    assert all("Model too large!" in t.message for t in failed)
    assert {
        (t.hyperparameters.values["units_1"], t.hyperparameters.values["units_2"]) for t in failed
    } == (_TOO_LARGE)


@pytest.mark.slow  # > 20 s on KerasTuner (its clear_session + gc.collect per build)
def test_failed_trials_mark_failed_skips_retries(module_name, tmp_path, capsys):
    # failed_trials.py, "Mark a trial as failed": FailedTrialError skips the retries.
    keras_tuner = import_as(module_name)
    too_large = []  # test instrumentation

    def build_model(hp):
        # Define the 2 hyperparameters for the units in dense layers
        units_1 = hp.Int("units_1", 10, 40, step=10)
        units_2 = hp.Int("units_2", 10, 30, step=10)

        # Define the model
        model = keras.Sequential(
            [
                layers.Dense(units=units_1, input_shape=(20,)),
                layers.Dense(units=units_2),
                layers.Dense(units=1),
            ]
        )
        model.compile(loss="mse")

        # Raise an error when the model is too large
        num_params = model.count_params()
        if num_params > 1200:
            too_large.append((units_1, units_2))  # test instrumentation
            # When this error is raised, it skips the retries.
            raise keras_tuner.errors.FailedTrialError(
                f"Model too large! It contains {num_params} params."
            )
        return model

    tuner = keras_tuner.GridSearch(
        hypermodel=build_model,
        objective="val_loss",
        overwrite=True,
        max_retries_per_trial=3,
        max_consecutive_failed_trials=8,
        directory=tmp_path,  # guide: none
    )

    # Use random data to train the model.
    tuner.search(
        x=np.random.rand(100, 20),
        y=np.random.rand(100, 1),
        validation_data=(
            np.random.rand(100, 20),
            np.random.rand(100, 1),
        ),
        epochs=1,  # guide: 10
    )

    # Print the results.
    tuner.results_summary()

    assert "Results summary" in capsys.readouterr().out
    assert _trial_states(tuner) == {"COMPLETED": 7, "FAILED": 5}
    assert collections.Counter(too_large) == {combo: 1 for combo in _TOO_LARGE}  # no retries
    assert len(tuner.get_best_hyperparameters(7)) == 7


@pytest.mark.slow  # > 20 s on KerasTuner (its clear_session + gc.collect per build)
def test_failed_trials_fatal_error_terminates_search(module_name, tmp_path, capsys):
    # failed_trials.py, "Terminate the search programmatically".
    keras_tuner = import_as(module_name)

    def build_model(hp):
        # Define the 2 hyperparameters for the units in dense layers
        units_1 = hp.Int("units_1", 10, 40, step=10)
        units_2 = hp.Int("units_2", 10, 30, step=10)

        # Define the model
        model = keras.Sequential(
            [
                layers.Dense(units=units_1, input_shape=(20,)),
                layers.Dense(units=units_2),
                layers.Dense(units=1),
            ]
        )
        model.compile(loss="mse")

        # Raise an error when the model is too large
        num_params = model.count_params()
        if num_params > 1200:
            # When this error is raised, the search is terminated.
            raise keras_tuner.errors.FatalError(
                f"Model too large! It contains {num_params} params."
            )
        return model

    tuner = keras_tuner.GridSearch(
        hypermodel=build_model,
        objective="val_loss",
        overwrite=True,
        max_retries_per_trial=3,
        max_consecutive_failed_trials=8,
        directory=tmp_path,  # guide: none
    )

    try:
        # Use random data to train the model.
        tuner.search(
            x=np.random.rand(100, 20),
            y=np.random.rand(100, 1),
            validation_data=(
                np.random.rand(100, 20),
                np.random.rand(100, 1),
            ),
            epochs=1,  # guide: 10
        )
    except keras_tuner.errors.FatalError:
        print("The search is terminated.")

    assert "The search is terminated." in capsys.readouterr().out
    # The grid's first 7 combinations are small; the 8th, (30, 20), raises: nothing runs after it.
    # (KerasTuner leaves that 8th trial "RUNNING": end_trial() is never called for it.)
    assert _trial_states(tuner).get("COMPLETED") == 7
    assert len(tuner.oracle.trials) == 8
    completed = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    assert {
        (t.hyperparameters.values["units_1"], t.hyperparameters.values["units_2"])
        for t in completed
    } == {(10, 10), (10, 20), (10, 30), (20, 10), (20, 20), (20, 30), (30, 10)}


def test_failed_trials_consecutive_failures_stop_search(module_name, tmp_path):
    # failed_trials.py, "Tolerate failed trials": "`max_consecutive_failed_trials` controls how many
    # consecutive failed trials ... occur before terminating the search ... The default value ... is 3."
    keras_tuner = import_as(module_name)

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [layers.Dense(hp.Int("units", 10, 40, step=10)), layers.Dense(1)]
            )
            model.compile(loss="mse")
            return model

        def fit(self, hp, model, *args, **kwargs):
            raise keras_tuner.errors.FailedTrialError("always fails")

    tuner = keras_tuner.RandomSearch(
        hypermodel=MyHyperModel(), objective="val_loss", max_trials=10, directory=tmp_path
    )
    with pytest.raises(RuntimeError):
        tuner.search(
            np.zeros((4, 2)), np.zeros((4, 1)), validation_data=(np.zeros((4, 2)), np.zeros((4, 1)))
        )
    assert _trial_states(tuner) == {"FAILED": 3}


# =====================================================================================================
# Distributed hyperparameter tuning (keras-io guides/keras_tuner/distributed_tuning.py)
# =====================================================================================================


def test_distributed_tuning_data_parallel_single_process(module_name, tmp_path):
    # distributed_tuning.py, "Data parallelism with tf.distribute" / "Example code", run as one process
    # (no KERASTUNER_* environment variables: no chief, no workers).
    keras_tuner = import_as(module_name)

    def build_model(hp):
        """Builds a convolutional model."""
        inputs = tf.keras.Input(shape=(8, 8, 1))  # guide: (28, 28, 1)
        x = inputs
        for i in range(hp.Int("conv_layers", 1, 3, default=3)):
            x = tf.keras.layers.Conv2D(
                filters=hp.Int("filters_" + str(i), 4, 32, step=4, default=8),
                kernel_size=hp.Int("kernel_size_" + str(i), 3, 5),
                activation="relu",
                padding="same",
            )(x)

            if hp.Choice("pooling" + str(i), ["max", "avg"]) == "max":
                x = tf.keras.layers.MaxPooling2D()(x)
            else:
                x = tf.keras.layers.AveragePooling2D(pool_size=(2, 2))(
                    x
                )  # Keras 3.15: no default pool_size

            x = tf.keras.layers.BatchNormalization()(x)
            x = tf.keras.layers.ReLU()(x)

        if hp.Choice("global_pooling", ["max", "avg"]) == "max":
            x = tf.keras.layers.GlobalMaxPooling2D()(x)
        else:
            x = tf.keras.layers.GlobalAveragePooling2D()(x)
        outputs = tf.keras.layers.Dense(10, activation="softmax")(x)

        model = tf.keras.Model(inputs, outputs)

        optimizer = hp.Choice("optimizer", ["adam", "sgd"])
        model.compile(optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    # Test harness, not the guide: this test makes a MirroredStrategy for each library in one
    # process, and two strategies made by the user share their all-reduce keys (TensorFlow's own
    # tests move the key base before each one, as here; lstm_tuner moves it around its own).
    tf.distribute.MirroredStrategy._collective_key_base += 100_000
    strategy = tf.distribute.MirroredStrategy()
    tuner = keras_tuner.Hyperband(
        hypermodel=build_model,
        objective="val_accuracy",
        max_epochs=2,
        factor=3,
        hyperband_iterations=1,
        distribution_strategy=strategy,  # guide: tf.distribute.MirroredStrategy() inline
        directory=tmp_path,  # guide: "results_dir"
        project_name="mnist",
        overwrite=True,
    )

    # MNIST replaced by random uint8 8x8 images.
    x_train = _rng(0).integers(0, 256, (64, 8, 8)).astype("uint8")
    y_train = _rng(1).integers(0, 10, 64)
    x_test = _rng(2).integers(0, 256, (32, 8, 8)).astype("uint8")
    y_test = _rng(3).integers(0, 10, 32)

    # Reshape the images to have the channel dimension.
    x_train = (x_train.reshape(x_train.shape + (1,)) / 255.0)[:1000]
    y_train = y_train.astype(np.int64)[:1000]
    x_test = (x_test.reshape(x_test.shape + (1,)) / 255.0)[:100]
    y_test = y_test.astype(np.int64)[:100]

    early_stopping = tf.keras.callbacks.EarlyStopping("val_accuracy")
    tuner.search(
        x_train,
        y_train,
        steps_per_epoch=2,  # guide: 600
        validation_data=(x_test, y_test),
        validation_steps=1,  # guide: 100
        callbacks=[early_stopping],  # guide: [tf.keras.callbacks.EarlyStopping("val_accuracy")]
    )

    assert tuner.distribution_strategy is strategy
    best = tuner.get_best_hyperparameters()[0].values
    assert {"conv_layers", "global_pooling", "optimizer"} <= set(best)
    if module_name == "keras_tuner":
        # max_epochs=2, factor=3: one bracket of 2 trials trained for 2 epochs.
        assert _trial_states(tuner) == {"COMPLETED": 2}
        # Hyperband records its schedule in the trial's values.
        assert best["tuner/epochs"] == 2 and best["tuner/initial_epoch"] == 0
        assert best["tuner/bracket"] == 0 and best["tuner/round"] == 0
    else:
        # Works differently (README, compatibility table): the same budget, KerasTuner's 2 trials,
        # run by Optuna's HyperbandPruner, which stops weak trials early ("STOPPED") instead of
        # restarting the strong ones; no tuner/* values.
        states = _trial_states(tuner)
        assert sum(states.values()) == 2 and states.get("COMPLETED", 0) >= 1
        assert set(states) <= {"COMPLETED", "STOPPED"}
        assert not any(name.startswith("tuner/") for name in best)
    assert tuner.get_best_models()[0].predict(x_test, verbose=0).shape == (32, 10)
    # The user's callback is deep-copied for every trial, never used itself.
    assert early_stopping.model is None


# =====================================================================================================
# Visualize the hyperparameter tuning process (keras-io guides/keras_tuner/visualize_tuning.py)
# =====================================================================================================


def _visualize_build_model(keras_tuner):
    def build_model(hp):
        inputs = keras.Input(shape=(28, 28, 1))
        # Model type can be MLP or CNN.
        model_type = hp.Choice("model_type", ["mlp", "cnn"])
        x = inputs
        if model_type == "mlp":
            x = layers.Flatten()(x)
            # Number of layers of the MLP is a hyperparameter.
            for i in range(hp.Int("mlp_layers", 1, 3)):
                # Number of units of each layer are
                # different hyperparameters with different names.
                output_node = layers.Dense(  # noqa: F841 - verbatim
                    units=hp.Int(f"units_{i}", 32, 128, step=32),
                    activation="relu",
                )(x)
        else:
            # Number of layers of the CNN is also a hyperparameter.
            for i in range(hp.Int("cnn_layers", 1, 3)):
                x = layers.Conv2D(
                    hp.Int(f"filters_{i}", 32, 128, step=32),
                    kernel_size=(3, 3),
                    activation="relu",
                )(x)
                x = layers.MaxPooling2D(pool_size=(2, 2))(x)
            x = layers.Flatten()(x)

        # A hyperparamter for whether to use dropout layer.
        if hp.Boolean("dropout"):
            x = layers.Dropout(0.5)(x)

        # The last layer contains 10 units,
        # which is the same as the number of classes.
        outputs = layers.Dense(units=10, activation="softmax")(x)
        model = keras.Model(inputs=inputs, outputs=outputs)

        # Compile the model.
        model.compile(
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            optimizer="adam",
        )
        return model

    return build_model


def test_visualize_quick_model_check_by_setting_values(module_name):
    # visualize_tuning.py, "We can do a quick test of the models to check if it build successfully
    # for both CNN and MLP": values are set through `hp.values[...] = ...`.
    keras_tuner = import_as(module_name)
    build_model = _visualize_build_model(keras_tuner)
    x_train = _images(16, size=28)  # MNIST's shape, 16 random images

    # Initialize the `HyperParameters` and set the values.
    hp = keras_tuner.HyperParameters()
    hp.values["model_type"] = "cnn"
    # Build the model using the `HyperParameters`.
    model = build_model(hp)
    # Test if the model runs with our data.
    model(x_train[:100])
    # Print a summary of the model.
    model.summary()
    assert any(isinstance(layer, layers.Conv2D) for layer in model.layers)
    assert hp.values["model_type"] == "cnn" and "cnn_layers" in hp.values

    # Do the same for MLP model.
    hp.values["model_type"] = "mlp"
    model = build_model(hp)
    model(x_train[:100])
    model.summary()
    assert not any(isinstance(layer, layers.Conv2D) for layer in model.layers)


def test_visualize_tensorboard_callback(module_name, tmp_path):
    # visualize_tuning.py: RandomSearch + `keras.callbacks.TensorBoard(log_dir)` passed to search, and
    # `validation_split=0.2`. KerasTuner writes each trial's logs to <log_dir>/<trial_id>/execution<i>
    # and adds the HParams plugin's callback.
    keras_tuner = import_as(module_name)
    build_model = _visualize_build_model(keras_tuner)
    x_train, y_train = _images(40, size=28), _labels(40)[:, 0]  # MNIST's shapes, 40 random samples
    log_dir = str(tmp_path / "tb_logs")  # guide: "/tmp/tb_logs"

    tuner = keras_tuner.RandomSearch(
        build_model,
        max_trials=2,  # guide: 10
        # Do not resume the previous search in the same directory.
        overwrite=True,
        objective="val_accuracy",
        # Set a directory to store the intermediate results.
        directory=str(tmp_path / "tb"),  # guide: "/tmp/tb"
    )

    tuner.search(
        x_train,
        y_train,
        validation_split=0.2,
        epochs=1,  # guide: 2
        # Use the TensorBoard callback.
        # The logs will be write to "/tmp/tb_logs".
        callbacks=[keras.callbacks.TensorBoard(log_dir)],
    )

    assert _trial_states(tuner) == {"COMPLETED": 2}
    for trial in tuner.oracle.trials.values():
        execution_dir = os.path.join(log_dir, trial.trial_id, "execution0")
        assert glob.glob(os.path.join(execution_dir, "train", "events.out.tfevents.*"))
        assert glob.glob(os.path.join(execution_dir, "validation", "events.out.tfevents.*"))
        assert glob.glob(os.path.join(execution_dir, "events.out.tfevents.*"))  # HParams summary


# =====================================================================================================
# Tailor the search space (keras-io guides/keras_tuner/tailor_the_search_space.py)
# =====================================================================================================


def _tailor_build_model():
    def build_model(hp):
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(
            layers.Dense(units=hp.Int("units", min_value=32, max_value=128, step=32, default=64))
        )
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add  # noqa: B018 - verbatim (the guide's model has no output layer)
        model.compile(
            optimizer=keras.optimizers.Adam(
                learning_rate=hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
            ),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    return build_model


def _tailor_data():
    # Generate random data (guide: 100 / 20 samples of 28x28x1)
    x_train = np.random.rand(32, 8, 8, 1)
    y_train = np.random.randint(0, 10, (32, 1))
    x_val = np.random.rand(16, 8, 8, 1)
    y_val = np.random.randint(0, 10, (16, 1))
    return x_train, y_train, x_val, y_val


def test_tailor_search_a_few_fix_the_rest(module_name, tmp_path, capsys):
    # tailor_the_search_space.py, "Search a few and fix the rest": hyperparameters= with
    # tune_new_entries=False; README "You can easily restrict the search space to just a few parameters".
    keras_tuner = import_as(module_name)
    build_model = _tailor_build_model()

    hp = keras_tuner.HyperParameters()

    # This will override the `learning_rate` parameter with your
    # own selection of choices
    hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_model,
        hyperparameters=hp,
        # Prevents unlisted parameters from being tuned
        tune_new_entries=False,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="search_a_few",
    )

    x_train, y_train, x_val, y_val = _tailor_data()

    # Run the search
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))

    capsys.readouterr()
    tuner.search_space_summary()
    out = capsys.readouterr().out
    # "If you summarize the search space, you will see only one hyperparameter."
    assert "Default search space size: 1" in out
    assert "learning_rate (Float)" in out and "units" not in out

    for trial in tuner.oracle.trials.values():
        values = trial.hyperparameters.values
        # learning_rate is the overriding Float; the rest keep their defaults.
        assert type(values["learning_rate"]) is float and 1e-4 <= values["learning_rate"] <= 1e-2
        assert values.get("units", 64) == 64 and values.get("dropout", False) is False
    assert (
        len({t.hyperparameters.values["learning_rate"] for t in tuner.oracle.trials.values()}) == 3
    )
    assert tuner.get_best_models()[0].layers[-1].units == 64


def test_tailor_fix_a_few_tune_the_rest(module_name, tmp_path, capsys):
    # tailor_the_search_space.py, "Fix a few and tune the rest"; README "Fixing values in a hypermodel".
    keras_tuner = import_as(module_name)
    build_model = _tailor_build_model()

    hp = keras_tuner.HyperParameters()
    hp.Fixed("learning_rate", value=1e-4)

    tuner = keras_tuner.RandomSearch(
        build_model,
        hyperparameters=hp,
        tune_new_entries=True,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="fix_a_few",
    )

    x_train, y_train, x_val, y_val = _tailor_data()
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))

    capsys.readouterr()
    tuner.search_space_summary()
    out = capsys.readouterr().out
    # "you will see the `learning_rate` is marked as fixed, and the rest of the hyperparameters are
    # being tuned."
    assert "Default search space size: 3" in out
    assert "learning_rate (Fixed)" in out and "units (Int)" in out and "dropout (Boolean)" in out
    for trial in tuner.oracle.trials.values():
        assert trial.hyperparameters.values["learning_rate"] == 1e-4
    best = tuner.get_best_hyperparameters()[0].values
    assert _types(best) == {"learning_rate": float, "units": int, "dropout": bool}


def test_tailor_override_compilation_arguments(module_name, tmp_path):
    # tailor_the_search_space.py, "Overriding compilation arguments"; README section of the same name.
    keras_tuner = import_as(module_name)
    build_model = _tailor_build_model()
    x_train, y_train, x_val, y_val = _tailor_data()

    tuner = keras_tuner.RandomSearch(
        build_model,
        optimizer=keras.optimizers.Adam(1e-3),
        loss="mse",
        metrics=[
            "sparse_categorical_crossentropy",
        ],
        objective="val_loss",
        max_trials=2,  # guide: 3
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="override_compile",
    )

    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))

    # "If you get the best model, you can see the loss function has changed to MSE."
    assert tuner.get_best_models()[0].loss == "mse"


@pytest.mark.slow  # about 20 s on KerasTuner
def test_tailor_pre_built_hyperxception(module_name, tmp_path, capsys):
    # tailor_the_search_space.py, "Tailor the search space of pre-build HyperModels".
    keras_tuner = import_as(module_name)
    if refuses_image_hypermodels(module_name, "HyperXception"):
        return
    x_train, y_train = np.random.rand(8, 32, 32, 1), np.random.randint(0, 10, (8, 1))
    x_val, y_val = np.random.rand(8, 32, 32, 1), np.random.randint(0, 10, (8, 1))

    hypermodel = keras_tuner.applications.HyperXception(
        input_shape=(32, 32, 1), classes=10
    )  # guide: 28

    hp = keras_tuner.HyperParameters()

    # This will override the `learning_rate` parameter with your
    # own selection of choices
    hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])

    tuner = keras_tuner.RandomSearch(
        hypermodel,
        hyperparameters=hp,
        # Prevents unlisted parameters from being tuned
        tune_new_entries=False,
        # Override the loss.
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        objective="val_accuracy",
        max_trials=1,  # guide: 3
        overwrite=True,
        directory=tmp_path,  # guide: "my_dir"
        project_name="helloworld",
    )

    # Run the search
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))
    capsys.readouterr()
    tuner.search_space_summary()
    out = capsys.readouterr().out
    assert "Default search space size: 1" in out and "learning_rate (Choice)" in out


# =====================================================================================================
# HyperParameters API (KerasTuner API reference: the HyperParameters docstrings in
# keras_tuner/src/engine/hyperparameters/hyperparameters.py)
# =====================================================================================================


def test_hyperparameters_defaults_conditions_and_access(module_name):
    keras_tuner = import_as(module_name)
    hp = keras_tuner.HyperParameters()
    # Defaults: "If you don't, hyperparameters always have a default default (for `Int`, it is equal
    # to `min_value`)" (README / tailor_the_search_space.py).
    assert hp.Int("units", min_value=32, max_value=512, step=32, default=128) == 128
    assert hp.Int("layers", 1, 3) == 1
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 1e-4
    assert hp.Choice("activation", ["relu", "tanh"]) == "relu"
    assert hp.Choice("optimizer", ["adam", "sgd"], default="sgd") == "sgd"
    assert hp.Boolean("dropout") is False
    assert hp.Fixed("epochs", 3) == 3
    # The same name declared again (even with another range) is the same hyperparameter: the first
    # declaration's value is returned (HyperParameters._retrieve: name + conditions identify it).
    assert hp.Int("units", min_value=8, max_value=16) == 128

    # parent_name / parent_values and conditional_scope (Int/Float/Choice/Boolean/Fixed docstrings).
    hp.Choice("model_type", ["mlp", "cnn"])
    assert hp.Int("filters", 8, 64, step=8, parent_name="model_type", parent_values=["cnn"]) is None
    with hp.conditional_scope("model_type", ["mlp"]):
        assert hp.Int("mlp_units", 8, 64, step=8) == 8
    # Only active hyperparameters have values.
    assert hp.values == {
        "units": 128,
        "layers": 1,
        "lr": 1e-4,
        "activation": "relu",
        "optimizer": "sgd",
        "dropout": False,
        "epochs": 3,
        "model_type": "mlp",
        "mlp_units": 8,
    }
    assert hp["units"] == 128 and hp.get("mlp_units") == 8
    assert "mlp_units" in hp and "filters" not in hp
    with pytest.raises(ValueError):  # declared but inactive: "filters is currently inactive."
        hp.get("filters")
    with pytest.raises(KeyError):  # never declared
        hp.get("nope")
    with pytest.raises(ValueError):  # the parent must be declared first
        with hp.conditional_scope("undeclared", ["x"]):
            pass
    # The search space lists every declaration, in order, with its class name.
    assert [(p.name, type(p).__name__) for p in hp.space][:3] == [
        ("units", "Int"),
        ("layers", "Int"),
        ("lr", "Float"),
    ]


def test_hyperparameters_search_with_step_ordered_and_parent(module_name, tmp_path):
    # Float(step=...) ("The possible values are [0, 0.2, 0.4, 0.6, 0.8, 1.0]"), Choice(ordered=...),
    # parent_name/parent_values, searched by RandomSearch; every trial's values stay on the grid.
    keras_tuner = import_as(module_name)

    def build_model(hp):
        model_type = hp.Choice("model_type", ["small", "large"])
        units = 8
        if model_type == "large":
            units = hp.Int(
                "units_large", 16, 32, step=16, parent_name="model_type", parent_values=["large"]
            )
        rate = hp.Float("dropout_rate", min_value=0, max_value=1, step=0.2)
        k = hp.Choice("k", [1, 2, 4], ordered=True)
        activation = hp.Choice("activation", ["relu", "tanh"], ordered=False)
        model = keras.Sequential(
            [
                layers.Dense(units * k, activation=activation),
                layers.Dropout(min(rate, 0.9)),
                layers.Dense(1),
            ]
        )
        model.compile(loss="mse")
        return model

    tuner = keras_tuner.RandomSearch(
        build_model, objective="val_loss", max_trials=3, seed=3, directory=tmp_path
    )
    x, y = _rng(0).random((32, 4)), _rng(1).random((32, 1))
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)

    for trial in tuner.oracle.trials.values():
        values = trial.hyperparameters.values
        assert values["model_type"] in ("small", "large")
        assert ("units_large" in values) == (values["model_type"] == "large")
        if "units_large" in values:
            assert values["units_large"] in (16, 32)
        assert any(values["dropout_rate"] == pytest.approx(v) for v in (0, 0.2, 0.4, 0.6, 0.8, 1.0))
        assert values["k"] in (1, 2, 4) and type(values["k"]) is int
        assert values["activation"] in ("relu", "tanh")


def test_hyperparameters_int_log_sampling_with_step(module_name, tmp_path):
    # Int docstring, Example #3: hp.Int("batch_size", min_value=2, max_value=32, step=2, sampling="log")
    # "When `sampling="log"` the `step` is multiplied between samples. The possible values are
    # [2, 4, 8, 16, 32]."
    keras_tuner = import_as(module_name)
    hp = keras_tuner.HyperParameters()
    assert hp.Int("batch_size", min_value=2, max_value=32, step=2, sampling="log") == 2

    def build_model(hp):
        batch = hp.Int("batch_size", min_value=2, max_value=32, step=2, sampling="log")
        width = hp.Int("width", 1, 64, sampling="log")
        lr = hp.Float("learning_rate", min_value=0.001, max_value=10, step=10, sampling="log")
        model = keras.Sequential([layers.Dense(batch + width), layers.Dense(1)])
        model.compile(loss="mse", optimizer=keras.optimizers.SGD(lr * 1e-3))
        return model

    tuner = keras_tuner.RandomSearch(
        build_model, objective="val_loss", max_trials=3, seed=5, directory=tmp_path
    )
    x, y = _rng(0).random((32, 4)), _rng(1).random((32, 1))
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    for trial in tuner.oracle.trials.values():
        values = trial.hyperparameters.values
        assert values["batch_size"] in (2, 4, 8, 16, 32)
        assert 1 <= values["width"] <= 64
        assert any(values["learning_rate"] == pytest.approx(v) for v in (0.001, 0.01, 0.1, 1, 10))


# =====================================================================================================
# The rest of the public surface: hooks, reload, list objectives, max_model_size, compile overrides
# =====================================================================================================


def _regression_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x @ np.arange(1, 7, dtype="float32"))[:, None] / 10


def test_hooks_reload_list_objective_and_trial_dirs(module_name, tmp_path):
    keras_tuner = import_as(module_name)
    x, y = _regression_data(64, seed=0)
    xv, yv = _regression_data(32, seed=1)

    def build_model(hp):
        model = keras.Sequential(
            [keras.Input((6,)), layers.Dense(hp.Int("units", 4, 8, step=4)), layers.Dense(1)]
        )
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        return model

    events = []  # test instrumentation

    class MyTuner(keras_tuner.RandomSearch):
        def on_search_begin(self):
            events.append("search_begin")
            super().on_search_begin()

        def on_trial_begin(self, trial):
            events.append("trial_begin")
            super().on_trial_begin(trial)

        def on_epoch_begin(self, trial, model, epoch, logs=None):
            events.append("epoch_begin")

        def on_batch_begin(self, trial, model, batch, logs):
            events.append("batch_begin")

        def on_batch_end(self, trial, model, batch, logs=None):
            events.append("batch_end")

        def on_epoch_end(self, trial, model, epoch, logs=None):
            events.append("epoch_end")
            super().on_epoch_end(trial, model, epoch, logs=logs)

        def on_trial_end(self, trial):
            events.append("trial_end")
            super().on_trial_end(trial)

        def on_search_end(self):
            events.append("search_end")
            super().on_search_end()

    tuner = MyTuner(
        build_model,
        objective=["val_loss", keras_tuner.Objective("val_mae", direction="min")],
        max_trials=2,
        seed=3,
        directory=tmp_path,
        project_name="surface",
    )
    tuner.search(x, y, epochs=2, batch_size=32, validation_data=(xv, yv), verbose=0)
    epoch = ["epoch_begin", "batch_begin", "batch_end", "batch_begin", "batch_end", "epoch_end"]
    one_trial = ["trial_begin", *epoch, *epoch, "trial_end"]
    assert events == ["search_begin", *one_trial, *one_trial, "search_end"]
    assert tuner.remaining_trials == 0

    # the list objective: one value per trial, the sum of val_loss and val_mae at the best epoch
    best = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    val_loss, val_mae = model.evaluate(xv, yv, verbose=0)
    assert best.score == pytest.approx(val_loss + val_mae, rel=1e-4)
    if module_name == "lstm_tuner":  # each part is reported too
        text = tuner.results_summary_text()
        assert f"objective parts: val_loss = {val_loss:.4g}, val_mae = {val_mae:.4g}" in text

    # a new tuner object on the finished project, reloaded: the same best values and model
    again = keras_tuner.RandomSearch(
        build_model,
        objective=["val_loss", "val_mae"],
        max_trials=2,
        seed=3,
        directory=tmp_path,
        project_name="surface",
    )
    again.reload()
    assert again.get_best_hyperparameters()[0].values == tuner.get_best_hyperparameters()[0].values
    np.testing.assert_allclose(
        again.get_best_models()[0].predict(xv, verbose=0), model.predict(xv, verbose=0), rtol=1e-5
    )

    # a trial's directory: a local folder user code writes into
    trial_dir = tuner.get_trial_dir(best.trial_id)
    assert os.path.isdir(trial_dir) and trial_dir.startswith(str(tmp_path))


def test_a_subclass_state_survives_a_new_tuner_object(module_name, tmp_path):
    keras_tuner = import_as(module_name)
    x, y = _regression_data(32, seed=0)

    def build_model(hp):
        model = keras.Sequential([keras.Input((6,)), layers.Dense(hp.Int("units", 1, 4))])
        model.compile(optimizer="adam", loss="mse")
        return model

    class Counting(keras_tuner.RandomSearch):
        def __init__(self, *args, **kwargs):
            self.ended = 0
            super().__init__(*args, **kwargs)

        def on_trial_end(self, trial):
            self.ended += 1
            super().on_trial_end(trial)

        def get_state(self):
            return {**super().get_state(), "ended": self.ended}

        def set_state(self, state):
            super().set_state(state)
            self.ended = state["ended"]

    kwargs = dict(objective="val_loss", max_trials=2, directory=tmp_path, project_name="state")
    tuner = Counting(build_model, **kwargs)
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    assert tuner.ended == 2
    again = Counting(build_model, **kwargs)
    again.reload()
    assert again.ended == 2


def test_objective_oracle_and_hyperparameters_smaller_members(module_name, tmp_path):
    keras_tuner = import_as(module_name)
    x, y = _regression_data(48, seed=0)

    def build_model(hp):
        model = keras.Sequential([keras.Input((6,)), layers.Dense(hp.Int("units", 1, 4))])
        model.compile(optimizer="adam", loss="mse")
        return model

    objective = keras_tuner.Objective("loss", "min")
    tuner = keras_tuner.RandomSearch(
        build_model, objective=objective, max_trials=2, seed=0, directory=tmp_path, project_name="s"
    )
    assert tuner.oracle.remaining_trials() == 2
    tuner.search(x, y, epochs=1, verbose=0)
    assert tuner.oracle.remaining_trials() == 0
    trial = tuner.oracle.get_best_trials(1)[0]
    assert trial.metrics.get_best_step("loss") == 0
    assert trial.metrics.get_direction("loss") == "min"
    assert trial.metrics.get_statistics("loss")["min"] == pytest.approx(trial.score)
    assert trial.get_state()["trial_id"] == trial.trial_id
    trial.display_hyperparameters()

    # the objective's own methods
    assert objective.better_than(0.1, 0.2) and not objective.better_than(0.2, 0.1)
    assert objective.has_value({"loss": 1.0}) and not objective.has_value({"mae": 1.0})
    assert objective.get_value({"loss": 0.5, "mae": 1.0}) == 0.5

    # HyperParameters: activity, merge, and a config round trip
    hp = keras_tuner.HyperParameters()
    hp.Choice("kind", ["a", "b"])
    with hp.conditional_scope("kind", ["b"]):
        hp.Int("depth", 1, 3)
    assert hp.is_active("kind") and not hp.is_active("depth")
    other = keras_tuner.HyperParameters()
    other.Float("lr", 1e-3, 1e-1, sampling="log")
    hp.merge(other)
    assert hp.values == {"kind": "a", "lr": 1e-3}
    again = keras_tuner.HyperParameters.from_config(hp.get_config())
    assert again.values == hp.values and [p.name for p in again.space] == ["kind", "depth", "lr"]


def test_max_model_size_fails_the_trial_before_fit(module_name, tmp_path):
    keras_tuner = import_as(module_name)
    x, y = _regression_data(32, seed=0)
    fits = []  # test instrumentation

    class SizedModel(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [
                    keras.Input((4, 6)),
                    layers.LSTM(hp.Choice("units", [4, 512])),
                    layers.Dense(1),
                ]
            )
            model.compile(optimizer="adam", loss="mse")
            return model

        def fit(self, hp, model, *args, **kwargs):
            fits.append(hp.get("units"))
            return model.fit(*args, **kwargs)

    tuner = keras_tuner.GridSearch(
        SizedModel(),
        objective="val_loss",
        max_trials=2,
        max_model_size=5000,
        max_consecutive_failed_trials=2,
        directory=tmp_path,
        project_name="sized",
    )
    xs = np.repeat(x[:, None, :], 4, axis=1)
    tuner.search(xs, y, epochs=1, validation_data=(xs, y), verbose=0)
    assert fits == [4]  # the 512-unit LSTM never reached fit
    assert _trial_states(tuner) == {"COMPLETED": 1, "FAILED": 1}
    assert tuner.get_best_hyperparameters()[0].values == {"units": 4}


def test_compile_overrides_get_a_fresh_optimizer_per_trial(module_name, tmp_path):
    keras_tuner = import_as(module_name)
    x, y = _regression_data(64, seed=0)
    optimizers = []  # test instrumentation

    def build_model(hp):
        model = keras.Sequential(
            [keras.Input((6,)), layers.Dense(hp.Int("units", 2, 8, step=2)), layers.Dense(1)]
        )
        model.compile(optimizer="sgd", loss="mae")  # overridden by the tuner's arguments
        return model

    class Recorded(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            optimizers.append((self.model.optimizer, int(self.model.optimizer.iterations)))

    given = keras.optimizers.Adam(learning_rate=0.01)
    tuner = keras_tuner.RandomSearch(
        build_model,
        objective="val_loss",
        max_trials=2,
        seed=0,
        optimizer=given,
        loss="mse",
        metrics=["mae"],
        directory=tmp_path,
        project_name="compile",
    )
    tuner.search(x, y, epochs=1, validation_data=(x, y), callbacks=[Recorded()], verbose=0)
    assert len(optimizers) == 2
    assert all(opt is not given and steps == 0 for opt, steps in optimizers)
    assert optimizers[0][0] is not optimizers[1][0]
    assert float(optimizers[1][0].learning_rate) == pytest.approx(0.01)
    assert "val_mae" in tuner.oracle.get_best_trials(1)[0].metrics.metrics


def test_oracle_entries_conditional_scope_with_several_values_and_hypermodel_name(
    module_name, tmp_path
):
    keras_tuner = import_as(module_name)
    x, y = _regression_data(32, seed=0)
    built = []  # test instrumentation

    class NamedModel(keras_tuner.HyperModel):
        def build(self, hp):
            kind = hp.Choice("kind", ["small", "medium", "large"])
            with hp.conditional_scope("kind", ["medium", "large"]):
                if kind in ("medium", "large"):
                    hp.Int("extra", 2, 4, step=2)
            units = hp.Int("units", 2, 16, step=2)
            built.append(dict(hp.values))
            model = keras.Sequential([keras.Input((6,)), layers.Dense(units), layers.Dense(1)])
            model.compile(optimizer="adam", loss="mse")
            return model

    hypermodel = NamedModel(name="named", tunable=True)
    assert (hypermodel.name, hypermodel.tunable) == ("named", True)
    hp = keras_tuner.HyperParameters()
    hp.Choice("kind", ["small", "medium", "large"])
    hp.Fixed("units", 6)
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("val_loss", "min"),
        max_trials=4,
        seed=2,
        hyperparameters=hp,
        tune_new_entries=False,
        allow_new_entries=True,
    )
    tuner = keras_tuner.Tuner(
        oracle=oracle, hypermodel=hypermodel, directory=tmp_path, project_name="entries"
    )
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    trials = tuner.oracle.get_best_trials(4)
    assert len(trials) == 4
    # both branches of the scope were tried (fixed seed)
    assert {t.hyperparameters.values["kind"] == "small" for t in trials} == {True, False}
    for trial in trials:
        values = trial.hyperparameters.values
        assert values["units"] == 6  # fixed by the oracle's hyperparameters
        # a new entry that is not tuned takes its default, and only when its parent is active
        if values["kind"] in ("medium", "large"):
            assert values["extra"] == 2
        else:
            assert "extra" not in values


# =====================================================================================================
# Differential: the same user code on both libraries, compared by what the user sees
# =====================================================================================================


def _observe(module: str, directory) -> dict:
    """Runs one user program with `module` as keras_tuner; returns what the user sees (or the error)."""
    keras_tuner = import_as(module)
    keras.utils.set_random_seed(0)
    fits = {"n": 0}
    x, y = _images(48, seed=0), _labels(48, seed=1)
    xv, yv = _images(16, seed=2), _labels(16, seed=3)

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            model = keras.Sequential()
            model.add(layers.Flatten())
            model.add(
                layers.Dense(
                    hp.Int("units", 8, 32, step=8),
                    activation=hp.Choice("activation", ["relu", "tanh"]),
                )
            )
            if hp.Boolean("dropout"):
                model.add(layers.Dropout(0.25))
            model.add(layers.Dense(10, activation="softmax"))
            lr = hp.Float("lr", 1e-4, 1e-2, sampling="log")
            model.compile(
                optimizer=keras.optimizers.Adam(lr),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
            return model

        def fit(self, hp, model, *args, **kwargs):
            fits["n"] += 1
            if fits["n"] == 2:
                raise keras_tuner.errors.FailedTrialError("the second trial fails on purpose")
            return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 32]), **kwargs)

    seen: dict = {}

    def record(key, fn):
        try:
            seen[key] = fn()
        except Exception as e:  # noqa: BLE001 - the difference is what is reported
            seen[key] = f"raised {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"

    tuner = keras_tuner.RandomSearch(
        MyHyperModel(),
        objective="val_accuracy",
        max_trials=3,
        seed=1,
        directory=directory,
        project_name="p",
    )
    record("search", lambda: tuner.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0))
    record("fit_calls", lambda: fits["n"])
    record(
        "best_hp_types",
        lambda: {
            k: type(v).__name__ for k, v in tuner.get_best_hyperparameters()[0].values.items()
        },
    )
    record("len_get_best_hyperparameters_5", lambda: len(tuner.get_best_hyperparameters(5)))
    record("trials_per_state", lambda: _trial_states(tuner))
    record(
        "best_trial_fields",
        lambda: sorted(
            (type(t.trial_id).__name__, t.status, isinstance(t.score, float))
            for t in tuner.oracle.get_best_trials(2)
        ),
    )
    record(
        "best_model_output_shape", lambda: tuner.get_best_models()[0].predict(xv, verbose=0).shape
    )
    record("remaining_trials", lambda: tuner.remaining_trials)
    record("get_state_type", lambda: type(tuner.get_state()).__name__)
    record("save_then_reload", lambda: (tuner.save(), tuner.reload()))
    record(
        "trial_dir_is_a_directory",
        lambda: os.path.isdir(tuner.get_trial_dir(tuner.oracle.get_best_trials(1)[0].trial_id)),
    )
    return seen


@pytest.mark.slow  # > 20 s: a search on each library
def test_differential_same_user_code_both_libraries(tmp_path):
    pytest.importorskip("keras_tuner")
    expected = _observe("keras_tuner", tmp_path / "kt")
    keras.backend.clear_session()
    observed = _observe("lstm_tuner", tmp_path / "lt")
    # KerasTuner's own side must look as documented: 3 trials (max_trials counts failed ones too),
    # one FAILED; the failed trial's hyperparameters fill up get_best_hyperparameters(5).
    assert expected["trials_per_state"] == {"COMPLETED": 2, "FAILED": 1}
    assert expected["best_hp_types"] == {
        "units": "int",
        "activation": "str",
        "dropout": "bool",
        "lr": "float",
        "batch_size": "int",
    }
    assert expected["best_model_output_shape"] == (16, 10)
    diff = {k: (expected[k], observed.get(k)) for k in expected if expected[k] != observed.get(k)}
    assert not diff, "keras_tuner vs lstm_tuner: " + "; ".join(
        f"{k}: {a!r} != {b!r}" for k, (a, b) in diff.items()
    )
