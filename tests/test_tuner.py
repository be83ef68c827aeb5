from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import optuna
import pytest
import tensorflow as tf
from optuna.trial import TrialState
from tensorflow.python.framework import ops as tf_ops
from tensorflow.python.framework.func_graph import FuncGraph

import lstm_tuner as lt
from lstm_tuner.engine.search_space import ParamSpec
from lstm_tuner.engine.session import training_seed

TINY_SPACE = (
    ParamSpec("hidden_size", "int", low=8, high=16, step=8),
    ParamSpec("num_layers", "int", low=1, high=2),
    ParamSpec("dropout", "float", low=0.0, high=0.2),
    ParamSpec("lr", "float", low=1e-3, high=1e-2, log=True),
    ParamSpec("batch_size", "categorical", choices=(16, 32)),
)


def _tiny_lstm() -> lt.LSTMHyperModel:
    return lt.LSTMHyperModel(window_size=8, num_features=1, search_space=TINY_SPACE)


class _TinyDense(lt.HyperModel):
    """A Dense model on the same windows, for tests of the tuner's bookkeeping (resume, budgets,
    pruning), where what the model is does not matter: no LSTM to build and trace."""

    def build(self, hp):
        model = keras.Sequential(
            [
                keras.Input((8, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(hp.Int("units", 2, 16, step=2), activation="relu"),
                keras.layers.Dense(1),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")), loss="mse"
        )
        return model


def _tiny_tuner(tmp_path, project_name: str, max_trials: int, **kwargs) -> lt.Tuner:
    return lt.Tuner(
        _tiny_lstm(),
        max_trials=max_trials,
        directory=tmp_path,
        project_name=project_name,
        seed=0,
        **kwargs,
    )


def _search(tuner: lt.Tuner, data, epochs: int = 1) -> None:
    x, y, xv, yv = data
    tuner.search(x, y, validation_data=(xv, yv), epochs=epochs, verbose=0)


def _states(tuner: lt.Tuner) -> list[str]:
    return [t.state.name for t in tuner.study.get_trials()]


def test_lstm_hypermodel_search_results_and_best_model(tmp_path, sine_windows, capsys):
    tuner = lt.Tuner(_tiny_lstm(), max_trials=3, directory=tmp_path, project_name="p", seed=1)
    tuner.search_space_summary()
    assert "hidden_size (Int)" in capsys.readouterr().out
    _search(tuner, sine_windows, epochs=2)
    assert _states(tuner) == ["COMPLETE"] * 3
    best = tuner.study.best_trial
    # the trial's value is its best epoch's val_loss
    history = best.user_attrs["history"]
    assert best.value == pytest.approx(min(h["val_loss"] for h in history))
    best_hp = tuner.get_best_hyperparameters(1)[0]
    assert best_hp.frozen and set(best_hp.values) == {s.name for s in TINY_SPACE}
    assert best_hp.values == best.params
    model = tuner.get_best_models(1)[0]
    xv, yv = sine_windows[2], sine_windows[3]
    mse = float(np.mean((model.predict(xv, verbose=0) - yv) ** 2))
    assert mse == pytest.approx(best.value, rel=1e-4)
    # prediction intervals for the best model, calibrated on windows in any form fit takes
    residuals = np.abs(yv - model.predict(xv, verbose=0))[:, 0]
    intervals = tuner.calibrate_intervals(xv, yv, levels=[80, 95])
    rank = int(np.ceil((len(yv) + 1) * 0.8))
    assert intervals.offsets[80.0][0] == pytest.approx(np.sort(residuals)[rank - 1], rel=1e-5)
    batches = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(7)
    from_batches = tuner.calibrate_intervals(batches)
    assert from_batches.calibration_windows == len(yv)
    np.testing.assert_allclose(from_batches.offsets[95.0], intervals.offsets[95.0], rtol=1e-6)
    out = intervals.predict(model, xv[:5])
    np.testing.assert_allclose(out["upper_95"] - out["prediction"], intervals.offsets[95.0][0])
    with pytest.raises(ValueError, match="give `x` and `y`"):
        tuner.calibrate_intervals(xv)
    text = tuner.results_summary_text()
    assert f"Best trial: {best.number}" in text and "3 COMPLETE" in text
    tuner.results_summary()
    assert "Results summary" in capsys.readouterr().out
    assert isinstance(tuner.study, optuna.Study)


def test_build_model_function(tmp_path, sine_windows):
    def build_model(hp):
        model = keras.Sequential(
            [
                keras.Input((8, 1)),
                keras.layers.LSTM(hp.Int("units", 4, 8, step=4)),
                keras.layers.Dense(1),
            ]
        )
        model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")), "mse")
        return model

    tuner = lt.RandomSearch(
        build_model, objective="val_loss", max_trials=3, directory=tmp_path, seed=0
    )
    x, y, xv, yv = sine_windows
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=32, verbose=0)
    assert _states(tuner) == ["COMPLETE"] * 3
    assert set(tuner.get_best_hyperparameters()[0].values) == {"units", "lr"}
    assert isinstance(tuner.study.sampler, optuna.samplers.RandomSampler)


class BatchTuningHyperModel(lt.HyperModel):
    def build(self, hp):
        model = keras.Sequential([keras.Input((8, 1)), keras.layers.LSTM(8), keras.layers.Dense(1)])
        model.compile("adam", "mse")
        return model

    def fit(self, hp, model, x, y, **kwargs):
        return model.fit(x, y, batch_size=hp.Choice("batch_size", [16, 64]), **kwargs)


def test_hypermodel_subclass_tunes_batch_size_in_fit(tmp_path, sine_windows):
    tuner = lt.Tuner(
        BatchTuningHyperModel(), max_trials=3, directory=tmp_path, project_name="b", seed=3
    )
    _search(tuner, sine_windows)
    trials = tuner.study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    assert all(t.params["batch_size"] in (16, 64) for t in trials)


def test_resume_runs_only_missing_trials_and_overwrite_restarts(tmp_path, sine_windows):
    first = lt.Tuner(_TinyDense(), max_trials=2, directory=tmp_path, project_name="r", seed=5)
    _search(first, sine_windows)
    before = {t.number: (t.datetime_start, t.value) for t in first.study.get_trials()}
    second = lt.Tuner(_TinyDense(), max_trials=3, directory=tmp_path, project_name="r", seed=5)
    _search(second, sine_windows)
    trials = second.study.get_trials()
    assert [t.number for t in trials] == [0, 1, 2]
    assert {t.number: (t.datetime_start, t.value) for t in trials[:2]} == before
    # everything done: a third search trains nothing
    third = lt.Tuner(_TinyDense(), max_trials=3, directory=tmp_path, project_name="r", seed=5)
    _search(third, sine_windows)
    assert len(third.study.get_trials()) == 3
    fresh = lt.Tuner(
        _TinyDense(), max_trials=1, directory=tmp_path, project_name="r", seed=5, overwrite=True
    )
    assert fresh.study.get_trials() == []
    # the old study's weights are gone from the artifact store with it
    assert [p.name for p in (tmp_path / "r" / "artifacts").iterdir()] == []
    _search(fresh, sine_windows)
    assert len(fresh.study.get_trials()) == 1


class PoisonHyperModel(lt.HyperModel):
    """Produces a NaN loss when `poison` is chosen."""

    def build(self, hp):
        poison = hp.Boolean("poison")
        layers = [keras.Input((8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
        if poison:
            layers.append(keras.layers.Lambda(lambda t: t * float("nan")))
        model = keras.Sequential(layers)
        model.compile("adam", "mse")
        return model


def test_nan_trial_fails_with_reason_and_search_continues(tmp_path, sine_windows):
    # A failed trial spends budget, as in KerasTuner: 4 trials, 2 of them failed.
    tuner = lt.Tuner(PoisonHyperModel(), max_trials=4, directory=tmp_path, project_name="n", seed=0)
    for poison in (True, False, True, False):
        tuner.study.enqueue_trial({"poison": poison})
    _search(tuner, sine_windows)
    trials = tuner.study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "FAIL", "COMPLETE"]
    assert "non-finite" in trials[0].user_attrs["fail_reason"] and trials[0].user_attrs["counted"]
    assert tuner.remaining_trials == 0
    assert all(t.value is None for t in trials if t.state == TrialState.FAIL)
    assert tuner.get_best_hyperparameters()[0].values == {"poison": False}


class OutOfMemoryHyperModel(lt.HyperModel):
    """Training runs out of accelerator memory when `huge` is chosen, as TensorFlow reports it."""

    def build(self, hp):
        hp.Boolean("huge")
        model = keras.Sequential(
            [keras.Input((8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
        )
        model.compile("adam", "mse")
        return model

    def fit(self, hp, model, *args, **kwargs):
        if hp.get("huge"):
            raise tf.errors.ResourceExhaustedError(
                None, None, "OOM when allocating tensor with shape[4096,4096,256]\nmore detail"
            )
        return model.fit(*args, **kwargs)


def test_out_of_memory_fails_the_trial_with_its_reason_and_the_search_goes_on(
    tmp_path, sine_windows
):
    tuner = lt.Tuner(
        OutOfMemoryHyperModel(), max_trials=3, directory=tmp_path, project_name="m", seed=0
    )
    for huge in (True, False, False):
        tuner.study.enqueue_trial({"huge": huge})
    _search(tuner, sine_windows)
    trials = tuner.study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "COMPLETE"]
    reason = trials[0].user_attrs["fail_reason"]
    assert reason == "out of memory: OOM when allocating tensor with shape[4096,4096,256]", reason
    assert tuner.get_best_hyperparameters()[0].values == {"huge": False}


def test_consecutive_failures_stop_the_search(tmp_path, sine_windows):
    def broken(hp):
        hp.Int("units", 1, 4)
        raise RuntimeError("cannot build this")

    tuner = lt.Tuner(
        broken, max_trials=5, directory=tmp_path, project_name="f", max_consecutive_failed_trials=3
    )
    with pytest.raises(lt.FatalError, match="3 consecutive trials failed.*cannot build this"):
        _search(tuner, sine_windows)
    trials = tuner.study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL"] * 3
    assert trials[0].user_attrs["fail_reason"] == "RuntimeError: cannot build this"


def test_objective_not_logged_is_fatal(tmp_path, sine_windows):
    tuner = lt.Tuner(
        _tiny_lstm(), objective="val_mae", max_trials=2, directory=tmp_path, project_name="o"
    )
    with pytest.raises(lt.FatalError, match="'val_mae' is not among the metrics"):
        _search(tuner, sine_windows)


class InterruptOnce(lt.HyperModel):
    interrupted = False

    def build(self, hp):
        hp.Int("units", 2, 4)
        model = keras.Sequential(
            [keras.Input((8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
        )
        model.compile("adam", "mse")
        return model

    def fit(self, hp, model, *args, **kwargs):
        if not InterruptOnce.interrupted:
            InterruptOnce.interrupted = True
            raise KeyboardInterrupt
        return model.fit(*args, **kwargs)


def test_keyboard_interrupt_leaves_resumable_study(tmp_path, sine_windows):
    tuner = lt.Tuner(InterruptOnce(), max_trials=2, directory=tmp_path, project_name="k", seed=0)
    with pytest.raises(KeyboardInterrupt):
        _search(tuner, sine_windows)
    (trial,) = tuner.study.get_trials()
    assert trial.state == TrialState.FAIL and "interrupted" in trial.user_attrs["fail_reason"]
    resumed = lt.Tuner(InterruptOnce(), max_trials=2, directory=tmp_path, project_name="k", seed=0)
    _search(resumed, sine_windows)
    assert [t.state.name for t in resumed.study.get_trials()] == ["FAIL", "COMPLETE", "COMPLETE"]


class _UntrainedLSTM(lt.LSTMHyperModel):
    """The tiny LSTM's space and builds, with a fixed score instead of training: what the sampler
    proposes under a seed does not depend on training in the first, random trials."""

    def fit(self, hp, model, *args, **kwargs):
        return 1.0


def test_same_seed_gives_same_hyperparameter_sequence(tmp_path, sine_windows):
    def sequence(project):
        tuner = lt.Tuner(
            _UntrainedLSTM(window_size=8, num_features=1, search_space=TINY_SPACE),
            max_trials=3,
            directory=tmp_path,
            project_name=project,
            seed=11,
        )
        _search(tuner, sine_windows)
        return [t.params for t in tuner.study.get_trials()]

    a, b = sequence("a"), sequence("b")
    assert a == b
    assert len({tuple(sorted(p.items())) for p in a}) == 3


def test_training_seed_follows_the_hyperparameters_not_the_trial_number(tmp_path, sine_windows):
    params = {"hidden_size": 8, "num_layers": 1, "dropout": 0.1, "lr": 5e-3, "batch_size": 16}
    other = dict(params, dropout=0.05)
    tuner = lt.Tuner(_tiny_lstm(), max_trials=3, directory=tmp_path, project_name="s", seed=4)
    for p in (params, other, params):
        tuner.study.enqueue_trial(p)
    _search(tuner, sine_windows)
    first, second, third = tuner.study.get_trials()
    assert first.params == third.params == params
    # trials 0 and 2 trained the same model from the same initialization; trial 1 did not
    assert third.user_attrs["history"] == first.user_attrs["history"]
    assert third.value == first.value != second.value
    reordered = dict(reversed(list(params.items())))  # values recorded in another order
    assert training_seed(4, params) == training_seed(4, reordered)
    assert training_seed(4, params) != training_seed(5, params)
    assert training_seed(4, params) != training_seed(4, params, execution=1)


def _live_train_graphs() -> int:
    keras.backend.clear_session()
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, FuncGraph) and "one_step_on" in o.name)


def test_trials_leave_no_traced_graphs_behind(tmp_path, sine_windows):
    # tf.custom_gradient registrations (from the optimizer's all-reduce) pinned every trial's
    # traced train step, about 20 MB per trial (tensorflow/tensorflow#97697).
    registry = tf_ops._gradient_registry._registry
    before = set(registry)
    graphs_before = _live_train_graphs()
    tuner = lt.Tuner(_tiny_lstm(), max_trials=2, directory=tmp_path, project_name="g", seed=6)
    _search(tuner, sine_windows)
    assert _states(tuner) == ["COMPLETE"] * 2
    assert [k for k in registry if k not in before and k.startswith("CustomGradient-")] == []
    assert _live_train_graphs() <= graphs_before
    # the trials' models still load and predict afterwards
    assert tuner.get_best_models(1)[0].predict(sine_windows[2][:4], verbose=0).shape == (4, 1)


def test_a_search_freezes_the_heap_it_finds_and_unfreezes_it(tmp_path, sine_windows):
    # Full collections before each build walk only what the search made (engine.session.frozen_heap).
    frozen_during_builds: list[int] = []
    freed: list[object] = []

    def build_model(hp):
        frozen_during_builds.append(gc.get_freeze_count())
        model = keras.Sequential(
            [keras.Input((8, 1)), keras.layers.Flatten(), keras.layers.Dense(hp.Int("u", 2, 4))]
        )
        model.compile(loss="mse")
        cycle = keras.layers.Dense(1)
        cycle.me = cycle  # cyclic garbage made during the search is still collected in it
        freed.append(weakref.ref(cycle))
        return model

    assert gc.get_freeze_count() == 0
    tuner = lt.Tuner(build_model, max_trials=2, directory=tmp_path, project_name="f", seed=0)
    _search(tuner, sine_windows)
    assert _states(tuner) == ["COMPLETE"] * 2
    # the heap TensorFlow's import left (hundreds of thousands of objects) was frozen in every build
    assert len(frozen_during_builds) >= 2 and min(frozen_during_builds) > 100_000
    assert freed[0]() is None  # the first build's cycle went in a later build's collection
    assert gc.get_freeze_count() == 0

    # A process that froze its heap itself is left frozen as it was.
    gc.freeze()
    try:
        tuner = lt.Tuner(build_model, max_trials=1, directory=tmp_path, project_name="g", seed=0)
        _search(tuner, sine_windows)
        assert gc.get_freeze_count() > 100_000  # (objects that died since left it, none joined)
    finally:
        gc.unfreeze()


_TRACED: list[int] = []  # the tuner deep-copies its callbacks: the counts are kept out here


class _CountStepTraces(keras.callbacks.Callback):
    """How many ``one_step_on_data`` graphs (Keras's traced train/test step) each fit creates."""

    @staticmethod
    def _alive() -> int:
        gc.collect()
        return sum(
            1 for o in gc.get_objects() if isinstance(o, FuncGraph) and o.name == "one_step_on_data"
        )

    def on_train_begin(self, logs=None):
        self.before = self._alive()

    def on_train_end(self, logs=None):
        _TRACED.append(self._alive() - self.before)


def test_train_step_traced_once_with_optimizer_built_before_fit(tmp_path, sine_windows):
    # An optimizer built inside the first trace makes TensorFlow trace the train step twice.
    counter = _CountStepTraces()
    tuner = lt.Tuner(_tiny_lstm(), max_trials=1, directory=tmp_path, project_name="t", seed=7)
    x, y, xv, yv = sine_windows
    tuner.search(x, y, validation_data=(xv, yv), epochs=2, verbose=0, callbacks=[counter])
    assert _TRACED == [2]  # the train step once, the validation step once, for 2 epochs

    class Subclassed(keras.Model):  # built on its first call: its optimizer is left to Keras
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x[:, -1, :])

    def build_subclassed(hp):
        model = Subclassed()
        model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2)), "mse")
        return model

    other = lt.Tuner(build_subclassed, max_trials=1, directory=tmp_path, project_name="u", seed=7)
    model = other._build(lt.HyperParameters.from_values({"lr": 1e-3}))
    assert not model.optimizer.built
    other.search(x, y, validation_data=(xv, yv), epochs=1, verbose=0)
    assert _states(other) == ["COMPLETE"]


def test_get_best_models_after_restart(tmp_path, sine_windows):
    tuner = lt.Tuner(_tiny_lstm(), max_trials=2, directory=tmp_path, project_name="m", seed=2)
    _search(tuner, sine_windows)
    xv = sine_windows[2][:16]
    expected = tuner.get_best_models()[0].predict(xv, verbose=0)
    keras.backend.clear_session()
    restarted = lt.Tuner(_tiny_lstm(), max_trials=2, directory=tmp_path, project_name="m", seed=2)
    np.testing.assert_allclose(
        restarted.get_best_models()[0].predict(xv, verbose=0), expected, rtol=1e-6
    )


class _RecordVariableTypes(keras.callbacks.Callback):
    """Records the class of the model's variables when training starts (a class attribute: the tuner
    trains with a copy of each callback)."""

    seen: list[str] = []

    def on_train_begin(self, logs=None):
        _RecordVariableTypes.seen.extend(type(v.value).__name__ for v in self.model.weights)


def test_mirrored_strategy_with_two_replicas(tmp_path, sine_windows):
    _RecordVariableTypes.seen = []
    tuner = _tiny_tuner(tmp_path, "d", 1, distribution_strategy="mirrored")
    assert tuner.distribution_strategy.num_replicas_in_sync == 2
    x, y, xv, yv = sine_windows
    tuner.search(
        x, y, validation_data=(xv, yv), epochs=1, verbose=0, callbacks=[_RecordVariableTypes()]
    )
    assert _states(tuner) == ["COMPLETE"]
    # the model was built in the strategy's scope: every weight is mirrored over the 2 replicas
    assert _RecordVariableTypes.seen and set(_RecordVariableTypes.seen) == {"MirroredVariable"}
    model = tuner.get_best_models()[0]
    assert model.predict(sine_windows[2][:4], verbose=0).shape == (4, 1)


def test_a_second_mirrored_strategy_in_one_process_trains():
    # Every MirroredStrategy numbers its all-reduces from the same keys; a second one in the process
    # (the retraining after a search, a second tuner, a user's own strategy) whose gradients have
    # other shapes aborted with "Shape mismatch in the collective instance 100".
    # A user's own strategy made after ours too (it reads the key base ours moved past).
    for units, make in ((3, "mirrored"), (5, "mirrored"), (7, "user's own")):
        strategy = (
            lt.get_strategy("mirrored") if make == "mirrored" else tf.distribute.MirroredStrategy()
        )
        assert strategy.num_replicas_in_sync == 2
        with strategy.scope():
            model = keras.Sequential(
                [keras.Input((4,)), keras.layers.Dense(units), keras.layers.Dense(1)]
            )
            model.compile("adam", "mse")
        history = model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def test_objective_direction_and_constructor_validation(tmp_path):
    assert (
        lt.Tuner(
            _tiny_lstm(),
            objective=lt.Objective("val_r2", "max"),
            directory=tmp_path,
            project_name="x",
        ).study.direction.name
        == "MAXIMIZE"
    )
    with pytest.raises(ValueError, match="cannot infer the direction"):
        lt.Tuner(_tiny_lstm(), objective="val_zork", directory=tmp_path)
    with pytest.raises(ValueError, match="max_trials"):
        lt.Tuner(_tiny_lstm(), max_trials=0, directory=tmp_path)


def test_grid_search_covers_the_grid(tmp_path, sine_windows):
    def build_model(hp):
        model = keras.Sequential(
            [
                keras.Input((8, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(hp.Choice("units", [1, 2])),
                keras.layers.Dense(1),
            ]
        )
        model.compile(keras.optimizers.Adam(hp.Float("lr", 0.01, 0.02, step=0.01)), "mse")
        return model

    tuner = lt.GridSearch(build_model, directory=tmp_path, project_name="g")
    assert tuner.max_trials == 4
    _search(tuner, sine_windows)
    combos = {(t.params["units"], round(t.params["lr"], 3)) for t in tuner.study.get_trials()}
    assert combos == {(1, 0.01), (1, 0.02), (2, 0.01), (2, 0.02)}


def test_default_tpe_random_start_is_half_the_budget(tmp_path):
    from lstm_tuner.storage.study import tpe_startup_trials

    assert [tpe_startup_trials(n) for n in (None, 4, 10, 16, 20, 100)] == [10, 5, 5, 8, 10, 10]
    tuner = lt.Tuner(_tiny_lstm(), max_trials=10, directory=tmp_path, project_name="d", seed=0)
    assert isinstance(tuner.study.sampler, optuna.samplers.TPESampler)
    # the spec's 10-trial search: 5 random trials, then 5 proposed by TPE (Optuna's default: 10 random)
    assert tuner.study.sampler._n_startup_trials == 5


def test_creating_a_tuner_leaves_the_devices_alone(tmp_path):
    # run_workers' parent creates the study through a Tuner; listing the devices there would start
    # TensorFlow's runtime and reserve the memory of every GPU its workers are about to use.
    import subprocess
    import sys

    code = (
        "import lstm_tuner as lt\n"
        "from tensorflow.python.eager import context\n"
        f"t = lt.Tuner(lt.LSTMHyperModel(8, 1), max_trials=2, directory={str(tmp_path)!r})\n"
        "print(context.context()._initialized)\n"
        "t.distribution_strategy\n"
        "print(context.context()._initialized)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True"]
    with pytest.raises(ValueError, match="strategy must be one of"):
        lt.Tuner(_tiny_lstm(), max_trials=1, directory=tmp_path, distribution_strategy="tpu")


def test_executions_per_trial_average_and_best_models_in_rank_order(tmp_path, sine_windows):
    tuner = lt.Tuner(
        _TinyDense(),
        max_trials=3,
        executions_per_trial=2,
        directory=tmp_path,
        project_name="e",
        seed=8,
    )
    _search(tuner, sine_windows)
    trials = tuner.study.get_trials()
    # each execution trains from its own seed: the trial's value is the mean of the two executions'
    # best epochs, and the kept weights are the better execution's
    xv, yv = sine_windows[2], sine_windows[3]
    ranked = sorted(trials, key=lambda t: t.value)
    models = tuner.get_best_models(3)
    mse = [float(np.mean((m.predict(xv, verbose=0) - yv) ** 2)) for m in models]
    for trial, model_mse in zip(ranked, mse, strict=True):
        assert model_mse <= trial.value * (1 + 1e-4)  # the better execution is at most the mean
    assert [t.trial_id for t in tuner.oracle.get_best_trials(3)] == [str(t.number) for t in ranked]
    assert tuner.load_model(ranked[0]).count_params() == models[0].count_params()
    assert tuner.results_summary_text(2).count("| COMPLETE |") == 2


def test_a_kerastuner_project_directory_is_refused(tmp_path):
    project = tmp_path / "untitled_project"
    project.mkdir()
    (project / "oracle.json").write_text("{}")
    with pytest.raises(ValueError, match="is a KerasTuner project"):
        lt.Tuner(_tiny_lstm(), directory=tmp_path)


class _PruneFirstTwo(optuna.pruners.BasePruner):
    """Prunes trials 0 and 1 at their first report, lets the others run."""

    def prune(self, study, trial):
        return trial.number < 2


def test_pruned_trials_spend_the_budget(tmp_path, sine_windows):
    tuner = lt.Tuner(
        _TinyDense(),
        max_trials=3,
        directory=tmp_path,
        project_name="pr",
        seed=0,
        pruner=_PruneFirstTwo(),
    )
    _search(tuner, sine_windows, epochs=2)
    assert _states(tuner) == ["PRUNED", "PRUNED", "COMPLETE"]
    assert tuner.remaining_trials == 0
    _search(tuner, sine_windows, epochs=2)  # the budget is spent: nothing more runs
    assert len(tuner.study.trials) == 3


def test_hyperband_runs_max_trials_with_its_pruned_trials_counted(tmp_path, sine_windows):
    tuner = lt.Hyperband(
        _TinyDense(),
        objective="val_loss",
        max_epochs=3,
        factor=3,
        max_trials=5,
        directory=tmp_path,
        project_name="hb",
        seed=0,
    )
    assert isinstance(tuner.study.pruner, optuna.pruners.HyperbandPruner)
    _search(tuner, sine_windows)
    trials = tuner.study.trials
    assert len(trials) == 5 and {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    # the budget counts pruned trials: at least one was pruned (seeded), and none ran again
    assert [t.state.name for t in trials].count("PRUNED") >= 1, [t.state.name for t in trials]
    # every trial trained up to max_epochs unless the pruner stopped it
    for t in trials:
        epochs = len(t.intermediate_values)
        assert epochs == 3 if t.state == TrialState.COMPLETE else 1 <= epochs <= 3
    assert tuner.remaining_trials == 0


class ConditionalHyperModel(lt.HyperModel):
    """KerasTuner's conditional-scope pattern: the layer type decides which sizes exist."""

    def build(self, hp):
        kind = hp.Choice("kind", ["lstm", "dense"])
        with hp.conditional_scope("kind", ["lstm"]):
            lstm_units = hp.Int("lstm_units", 4, 8, step=4)
        with hp.conditional_scope("kind", ["dense"]):
            dense_units = hp.Int("dense_units", 2, 6, step=2)
        # the inactive branch's value is None, as in KerasTuner (a trial fails if not)
        assert (lstm_units is None, dense_units is None) == (kind == "dense", kind == "lstm")
        inputs = keras.Input((8, 1))
        if kind == "lstm":
            x = keras.layers.LSTM(lstm_units)(inputs)
        else:
            x = keras.layers.Dense(dense_units)(keras.layers.Flatten()(inputs))
        model = keras.Model(inputs, keras.layers.Dense(1)(x))
        model.compile("adam", "mse")
        return model


def test_conditional_scope_in_a_real_search(tmp_path, sine_windows):
    tuner = lt.Tuner(
        ConditionalHyperModel(), max_trials=4, directory=tmp_path, project_name="c", seed=0
    )
    for kind in ("lstm", "dense", "dense", "lstm"):
        tuner.study.enqueue_trial({"kind": kind})
    _search(tuner, sine_windows)
    trials = tuner.study.trials
    assert _states(tuner) == ["COMPLETE"] * 4
    for t in trials:
        # only the active branch's size is a parameter of the trial, for Optuna and in the results
        other = "dense_units" if t.params["kind"] == "lstm" else "lstm_units"
        own = "lstm_units" if t.params["kind"] == "lstm" else "dense_units"
        assert set(t.params) == {"kind", own} and other not in t.user_attrs["hyperparameters"]
    best_hp = tuner.get_best_hyperparameters()[0]
    model = tuner.get_best_models()[0]
    layer_kinds = {type(layer).__name__ for layer in model.layers}
    assert ("LSTM" in layer_kinds) == (best_hp.values["kind"] == "lstm")
    assert set(best_hp.values) == set(tuner.study.best_trial.params)


def test_a_custom_run_trial_saves_its_model_for_get_best_models(tmp_path, sine_windows):
    """KerasTuner 1.4.8's Tuner.save_model raises NotImplementedError; here it uploads the
    running trial's weights, so get_best_models works for a custom run_trial."""
    x, y, _, _ = sine_windows

    def build_model(hp):
        model = keras.Sequential(
            [keras.Input((8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")), loss="mse"
        )
        return model

    class MyTuner(lt.Tuner):
        def run_trial(self, trial, x, y):
            model = self.hypermodel.build(trial.hyperparameters)
            model.fit(x, y, epochs=1, verbose=0)
            self.save_model(trial.trial_id, model)
            with pytest.raises(ValueError, match="only the running trial"):
                self.save_model("99", model)
            return {"loss": float(model.evaluate(x, y, verbose=0))}

    tuner = MyTuner(
        build_model, objective="loss", max_trials=2, seed=0, directory=tmp_path, project_name="c"
    )
    tuner.search(x, y)
    best = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    assert float(model.evaluate(x, y, verbose=0)) == pytest.approx(best.score, rel=1e-5)
