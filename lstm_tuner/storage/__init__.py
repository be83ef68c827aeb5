"""The Optuna state every worker shares: the storage, sampler, pruner and heartbeat (``study``), and
the artifact store that holds each trial's weights and the run's results (``artifacts``)."""

from lstm_tuner.storage.artifacts import ArtifactLocation, open_store
from lstm_tuner.storage.study import make_pruner, make_sampler, open_storage

__all__ = ["ArtifactLocation", "make_pruner", "make_sampler", "open_storage", "open_store"]
