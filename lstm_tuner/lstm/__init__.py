"""The stacked-LSTM hypermodel: its parameter names and default space (``space``, no TensorFlow),
the model and ``LSTMHyperModel`` (``model``), and what its ``fit`` accepts (``fit_inputs``)."""

from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE, LSTM_PARAM_NAMES

__all__ = ["DEFAULT_SEARCH_SPACE", "LSTM_PARAM_NAMES"]
