"""The stacked-LSTM hypermodel: its parameter names and default space (``space``, no TensorFlow),
the model and ``LSTMHyperModel`` (``model``), the delta head's layers (``layers``), and what its
``fit`` accepts and fits the head to (``fit_inputs``)."""

from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE, LSTM_PARAM_NAMES

__all__ = ["DEFAULT_SEARCH_SPACE", "LSTM_PARAM_NAMES"]
