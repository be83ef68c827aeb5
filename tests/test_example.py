"""The README's Python example, run as written on a synthetic series (sine + noise)."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

_README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def _readme_example() -> str:
    """The first ```python block of README.md's "## Python" section."""
    with open(_README, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("\n## Python\n") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README.md: no python block under ## Python"
    return match.group(1)


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

    # The README's first Python block, read from README.md and run with two numbers shrunk (the
    # spec's 10 trials x 5 epochs become 2 x 1): any other edit of the README shows up here.
    code = _readme_example()
    for spec, tiny in (("max_trials=10,", "max_trials=2,"), ("epochs=5)", "epochs=1)")):
        assert spec in code, spec
        code = code.replace(spec, tiny)
    names = dict(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val)
    exec(compile(code, "README.md", "exec"), names)
    study, best_hp, model = names["study"], names["best_hp"], names["model"]

    assert len([t for t in study.trials if t.state.name == "COMPLETE"]) == 2
    assert set(best_hp.values) == {"hidden_size", "num_layers", "dropout", "lr", "batch_size"}
    prediction = model.predict(x_val, verbose=0)
    mse = float(np.mean((prediction - y_val) ** 2))
    assert mse == pytest.approx(study.best_value, rel=1e-4)
    # a tuned LSTM beats predicting the mean on a sine
    assert mse < float(np.var(y_val))
    out = capsys.readouterr().out
    assert "Search space summary" in out and "Results summary" in out
