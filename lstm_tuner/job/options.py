"""Where a run keeps its state: the run's options, and its storage and artifact store, opened once.

Nothing here imports TensorFlow: the CLI opens both before the slow import, so that a bad
``--storage`` or ``--artifact_store`` costs a second, not ten.
"""

from __future__ import annotations

import dataclasses
import os

import optuna

from lstm_tuner.config.schema import StudyConfig
from lstm_tuner.errors import ConfigError
from lstm_tuner.storage import artifacts
from lstm_tuner.storage import study as study_lib


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How and where to run; everything about *what* to run is in the config.

    Attributes:
        study_name: The Optuna study's name.
        output_dir: The run directory.
        storage: An Optuna storage URL; default ``sqlite:///<output_dir>/study.db``.
        overwrite: Delete the study and start afresh.
        strategy: ``auto``, ``default``, ``mirrored`` or ``one_device``.
        verbose: Keras ``fit`` verbosity (0 quiet, 1 progress bar, 2 one line per epoch).
        plots: Write PNG plots to ``<output_dir>/plots/`` (skipped with a warning without matplotlib).
        artifact_store: ``--artifact_store``: a directory or ``s3://bucket/prefix`` (default the
            config's ``study.artifact_store``, else ``<output_dir>/artifacts``).
        worker_index: 0 for the process that writes the run directory; ``k >= 1`` for worker ``k``
            of ``--workers``, which only runs trials and offsets the sampler's seed by ``k`` so that
            workers draw different values.
        progress: Show each model's training as it runs (the CLI does).
    """

    study_name: str
    output_dir: str
    storage: str | None = None
    overwrite: bool = False
    strategy: str = "auto"
    verbose: int = 0
    plots: bool = True
    artifact_store: str | None = None
    worker_index: int = 0
    progress: bool = False

    @property
    def storage_url(self) -> str:
        """The storage's URL: ``--storage``, or the run directory's SQLite file."""
        if self.storage is not None:
            return self.storage
        return "sqlite:///" + os.path.abspath(os.path.join(self.output_dir, "study.db"))


def open_backends(
    study: StudyConfig, options: RunOptions
) -> tuple[optuna.storages.BaseStorage, artifacts.ArtifactLocation]:
    """Opens the storage and the artifact store once, before anything is written.

    ``study`` is the config's ``study`` section: the default artifact store, the heartbeat and the
    retries.

    A storage given by URL is opened first, so that a bad URL leaves no trace; the run directory's
    own store and SQLite file are created only once the other checks passed.

    Raises:
        ConfigError: the storage cannot be opened, or the artifact store cannot be used.
    """
    storage = None
    if options.storage is not None:
        storage = _open_storage(study, options)
    location = artifacts.open_store(
        options.artifact_store or study.artifact_store,
        os.path.join(options.output_dir, "artifacts"),
    )
    if storage is not None and not options.overwrite:
        artifacts.check_store(storage, options.study_name, location)
    if storage is None:
        os.makedirs(options.output_dir, exist_ok=True)
        storage = _open_storage(study, options)
    return storage, location


def _open_storage(study: StudyConfig, options: RunOptions) -> optuna.storages.BaseStorage:
    try:
        return study_lib.open_storage(
            options.storage_url,
            heartbeat_interval_s=study.heartbeat_interval_s,
            grace_period_s=study.grace_period_s,
            max_retries=study.max_retries,
        )
    except ValueError as e:
        raise ConfigError(f"--storage: {e}") from None
