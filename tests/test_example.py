"""The README's Python example, run as written on a synthetic series (sine + noise)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    # 300 points (270 windows): the example's code is the README's, its data as small as it can be
    series = (np.sin(np.arange(300) * 2 * np.pi / 50) + 0.1 * rng.normal(size=300)).astype(
        "float32"
    )
    windows = np.lib.stride_tricks.sliding_window_view(series[:-1], 30)[..., None]
    targets = series[30:, None]
    x_train, y_train = windows[:210], targets[:210]
    x_val, y_val = windows[210:], targets[210:]

    # --- the README example, verbatim ---
    import lstm_tuner as lt

    tuner = lt.Tuner(
        lt.LSTMHyperModel(window_size=30, num_features=1),
        objective="val_loss",
        max_trials=10,
        directory="runs",
        project_name="demo",
        seed=42,
    )
    tuner.search_space_summary()
    tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=5)
    tuner.results_summary()
    best_hp = tuner.get_best_hyperparameters(1)[0]  # best_hp.values -> {"hidden_size": 128, ...}
    model = tuner.get_best_models(1)[0]  # a trained keras.Model
    study = tuner.study  # the optuna.Study behind it
    # --- end of the example ---

    assert len([t for t in study.trials if t.state.name == "COMPLETE"]) == 10
    assert set(best_hp.values) == {"hidden_size", "num_layers", "dropout", "lr", "batch_size"}
    prediction = model.predict(x_val, verbose=0)
    mse = float(np.mean((prediction - y_val) ** 2))
    assert mse == pytest.approx(study.best_value, rel=1e-4)
    # a tuned LSTM beats predicting the mean on a sine
    assert mse < float(np.var(y_val))
    out = capsys.readouterr().out
    assert "Search space summary" in out and "Results summary" in out
