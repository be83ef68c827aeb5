"""The series: CSV reading (``csv_file``), the split and scaled series (``series``, ``scaler``), its
windows and ``tf.data`` pipelines (``windows``), its ``season``, the free ``baselines`` with the
metrics every forecast is judged by, and the ``statistical`` models. Nothing here imports the search engine or the job; TensorFlow is
imported only when a dataset is built."""

from lstm_tuner.timeseries.season import anchor_lags, detect_season
from lstm_tuner.timeseries.series import SeriesData, load_data

__all__ = ["SeriesData", "anchor_lags", "detect_season", "load_data"]
