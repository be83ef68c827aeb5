"""What a run found, for people: ``summary`` (``summary.md``), ``search_plots`` and ``model_plots``
(PNG files). It reads the study and the evaluation; it never trains."""

from lstm_tuner.reporting.summary import RunInfo, summary_markdown

__all__ = ["RunInfo", "summary_markdown"]
