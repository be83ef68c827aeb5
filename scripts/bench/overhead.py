"""Overhead: one fixed configuration trained by a bare ``model.fit`` and as a one-trial search."""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from bench.common import fixed_space, load_series, make_epoch_timer
from bench.common import median as _median


def bench_overhead(settings: dict[str, Any]) -> dict[str, Any]:
    """Bare ``model.fit`` against a one-trial ``Tuner.search`` of the same fixed configuration."""
    import gc

    import keras

    from lstm_tuner.engine.tuner import Tuner
    from lstm_tuner.lstm.model import LSTMHyperModel

    config = dict(hidden_size=64, num_layers=2, dropout=0.1, lr=1e-3, batch_size=64)
    epochs = settings["overhead_epochs"]
    data = load_series(settings["overhead_points"], 30)
    bare_s, tuner_s, setup_s, build_s, trace_s, epoch_s = [], [], [], [], [], []
    tuner_trace_s: list[float] = []
    for repeat in range(settings["overhead_repeats"]):
        keras.backend.clear_session()
        gc.collect()
        keras.utils.set_random_seed(repeat)
        timer = make_epoch_timer()
        start = time.perf_counter()
        model = _build(config)
        built = time.perf_counter()
        model.fit(
            data.train.to_dataset(config["batch_size"], shuffle=True, seed=repeat),
            validation_data=data.validation.to_dataset(config["batch_size"], shuffle=False),
            epochs=epochs,
            verbose=0,
            callbacks=[timer],
        )
        bare_s.append(time.perf_counter() - start)
        steady = statistics.median(timer.epoch_s[1:]) if len(timer.epoch_s) > 1 else 0.0
        build_s.append(built - start)
        trace_s.append(max(0.0, timer.epoch_s[0] - steady))
        epoch_s.append(steady)
        setup_s.append(build_s[-1] + trace_s[-1])

        with tempfile.TemporaryDirectory() as tmp:
            tuner = Tuner(
                LSTMHyperModel(30, 1, search_space=fixed_space(config)),
                max_trials=1,
                directory=tmp,
                project_name="overhead",
                seed=repeat,
            )
            start = time.perf_counter()
            trial_timer = make_epoch_timer()  # the tuner's copy of it shares `epoch_s`
            tuner.search(
                data.train,
                validation_data=data.validation,
                epochs=epochs,
                verbose=0,
                callbacks=[trial_timer],
            )
            tuner_s.append(time.perf_counter() - start)
            trial_steady = statistics.median(trial_timer.epoch_s[1:]) if epochs > 1 else 0.0
            tuner_trace_s.append(max(0.0, trial_timer.epoch_s[0] - trial_steady))
            del tuner
    bare, tuned = _median(bare_s), _median(tuner_s)
    executions = steps_per_execution(settings, data, config)
    return {
        "steps_per_execution": executions,
        "config": config,
        "epochs": epochs,
        "train_windows": len(data.train),
        "repeats": settings["overhead_repeats"],
        "bare_fit_s": bare,
        "tuner_trial_s": tuned,
        "tuner_over_bare": tuned / bare if bare else None,
        # Each repeat is one A/B pair (bare fit, then the trial): the spread of the pairs' ratios.
        "tuner_over_bare_per_repeat": _spread(
            [t / b for t, b in zip(tuner_s, bare_s, strict=True)]
        ),
        "build_s": _median(build_s),
        "first_epoch_tracing_s": _median(trace_s),
        "steady_epoch_s": _median(epoch_s),
        "setup_share_of_trial": _median(setup_s) / bare if bare else None,
        # The tuner builds the optimizer before the first trace (one trace instead of two).
        "trial_first_epoch_tracing_s": _median(tuner_trace_s),
        "trial_setup_share": _median(tuner_trace_s) / tuned if tuned else None,
        "raw": {"bare_fit_s": bare_s, "tuner_trial_s": tuner_s, "setup_s": setup_s},
    }


def steps_per_execution(settings: dict[str, Any], data: Any, config: dict[str, Any]) -> dict:
    """Keras ``steps_per_execution``: one bare ``fit`` per batch size with 1 and with K batches per
    ``tf.function`` call, interleaved (the order alternates per repeat), the same seed for both, so
    that machine drift falls on both alike. Per batch size: the steady epoch time (the median of the
    epochs after the first) of each, min/median/max over repeats, and the final validation loss."""
    import gc

    import keras

    k = settings["steps_per_execution"]
    repeats = settings["overhead_repeats"]
    epochs = max(2, settings["overhead_epochs"])
    runs: dict[tuple[int, int], dict[str, list[float]]] = {}
    for repeat in range(repeats):
        for batch in settings["batch_sizes"]:
            for steps in (1, k) if repeat % 2 == 0 else (k, 1):
                keras.backend.clear_session()
                gc.collect()
                keras.utils.set_random_seed(repeat)
                model = _build(config)
                model.compile(optimizer=model.optimizer, loss="mse", steps_per_execution=steps)
                timer = make_epoch_timer()
                history = model.fit(
                    data.train.to_dataset(batch, shuffle=True, seed=repeat),
                    validation_data=data.validation.to_dataset(batch, shuffle=False),
                    epochs=epochs,
                    verbose=0,
                    callbacks=[timer],
                )
                run = runs.setdefault((batch, steps), {"epoch_s": [], "val_loss": []})
                run["epoch_s"].append(statistics.median(timer.epoch_s[1:]))
                run["val_loss"].append(float(history.history["val_loss"][-1]))
    out: dict[str, Any] = {"k": k, "repeats": repeats, "epochs": epochs, "batch_sizes": {}}
    for batch in settings["batch_sizes"]:
        one, many = runs[(batch, 1)], runs[(batch, k)]
        ratios = [a / b for a, b in zip(one["epoch_s"], many["epoch_s"], strict=True)]
        out["batch_sizes"][str(batch)] = {
            "epoch_s_1": _spread(one["epoch_s"]),
            f"epoch_s_{k}": _spread(many["epoch_s"]),
            "speedup": _spread(ratios),
            "val_loss_1": _median(one["val_loss"]),
            f"val_loss_{k}": _median(many["val_loss"]),
        }
    return out


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": _median(values), "max": max(values)}


def _build(config: dict[str, Any]) -> Any:
    """The fixed configuration's model on windows of 30 steps of one feature."""
    from lstm_tuner.lstm.model import build_lstm_model

    return build_lstm_model(
        30,
        1,
        hidden_size=config["hidden_size"],
        num_layers=config["num_layers"],
        dropout=config["dropout"],
        lr=config["lr"],
    )
