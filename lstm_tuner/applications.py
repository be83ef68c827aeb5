"""KerasTuner's ``applications`` (HyperResNet, HyperXception, ...): not shipped by lstm_tuner.

They are image-classification hypermodels; lstm_tuner tunes time-series models. Any name asked for
here raises one error that says what to use instead.
"""

from __future__ import annotations

from typing import Any

KERASTUNER_APPLICATIONS = ("HyperResNet", "HyperXception", "HyperImageAugment", "HyperEfficientNet")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise ImportError(
        f"lstm_tuner.applications.{name}: lstm_tuner ships no image hypermodels "
        f"({', '.join(KERASTUNER_APPLICATIONS)}); write a build_model(hp) function or a HyperModel, "
        "or use lstm_tuner.LSTMHyperModel for time series"
    )
