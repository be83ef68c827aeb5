"""The SavedModel: written by ``export`` (both exports of a run) and read back by ``forecast`` (the
``forecast`` command). ``export`` imports TensorFlow; the names here do not."""

from lstm_tuner.serving.forecast import forecast_csv

__all__ = ["forecast_csv"]
