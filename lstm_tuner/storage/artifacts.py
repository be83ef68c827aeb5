"""Where trial weights and run results live: an Optuna artifact store, found through the study.

Every COMPLETE trial uploads its best-epoch weights with ``optuna.artifacts.upload_artifact``; the bytes
go to the artifact store and the metadata to the study's storage, so any process that opens the study
(another worker, another host, ``optuna-dashboard --artifact-dir``) finds them. One code path serves one
machine and many: the default store is a ``FileSystemArtifactStore`` under the run directory; a shared
directory (NFS) or ``s3://bucket/prefix`` (any S3-compatible server, through boto3) serves several hosts.

Optuna does not record which store a study uses, so the store's address is kept in the study's user
attribute ``artifact_store`` (never credentials: boto3 reads those from its usual environment), and a
process that brings another store is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import uuid
from typing import Any, BinaryIO

import optuna
from optuna.artifacts import (
    FileSystemArtifactStore,
    download_artifact,
    get_all_artifact_meta,
    upload_artifact,
)

from lstm_tuner.errors import ConfigError, FailedTrialError

WEIGHTS_FILENAME = "best.weights.h5"
STORE_ATTR = "artifact_store"
RESULTS_ATTR = "results"


class _PrefixedStore:
    """An artifact store whose keys live under a prefix (Optuna's boto3 store has none)."""

    def __init__(self, store: Any, prefix: str) -> None:
        self._store, self._prefix = store, prefix.strip("/") + "/" if prefix.strip("/") else ""

    def open_reader(self, artifact_id: str) -> BinaryIO:
        return self._store.open_reader(self._prefix + artifact_id)

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        self._store.write(self._prefix + artifact_id, content_body)

    def remove(self, artifact_id: str) -> None:
        self._store.remove(self._prefix + artifact_id)


@dataclasses.dataclass(frozen=True)
class ArtifactLocation:
    """An artifact store and its address (``file:///abs/path`` or ``s3://bucket/prefix``)."""

    url: str
    store: Any


def open_store(location: str | os.PathLike | None, default_dir: str, *, check: bool = True):
    """Opens the artifact store at ``location`` (default: ``default_dir``).

    Args:
        location: A directory, or ``s3://bucket/prefix``; ``None`` for ``default_dir``.
        default_dir: The run's own store.
        check: Write and remove a probe object, so that a store that cannot be written is refused
            before anything trains.

    Raises:
        ConfigError: boto3 is missing for ``s3://``, or the store cannot be reached or written.
    """
    text = os.fspath(location) if location is not None else os.path.abspath(default_dir)
    if text.startswith("s3://"):
        bucket, _, prefix = text[len("s3://") :].partition("/")
        if not bucket:
            raise ConfigError(f"--artifact_store {text!r}: an s3:// store needs a bucket name")
        try:
            import boto3
        except ImportError:
            raise ConfigError(
                f"--artifact_store {text!r}: boto3 is not installed; install it with "
                "pip install 'lstm_tuner[s3]'"
            ) from None
        store: Any = optuna.artifacts.Boto3ArtifactStore(bucket, client=boto3.client("s3"))
        location = ArtifactLocation(f"s3://{bucket}/{prefix.strip('/')}".rstrip("/"), store)
        location = dataclasses.replace(location, store=_PrefixedStore(store, prefix))
    elif "://" in text and not text.startswith("file://"):
        raise ConfigError(f"--artifact_store {text!r}: must be a directory or s3://bucket/prefix")
    else:
        path = os.path.abspath(text[len("file://") :] if text.startswith("file://") else text)
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as e:
            raise ConfigError(
                f"--artifact_store {path!r}: cannot be created: {e.strerror}"
            ) from None
        location = ArtifactLocation(f"file://{path}", FileSystemArtifactStore(path))
    if check:
        _probe(location)
    return location


def _probe(location: ArtifactLocation) -> None:
    """Writes and removes one small object; any failure means the store cannot be used."""
    import io

    key = f"lstm_tuner-probe-{uuid.uuid4().hex}"
    try:
        location.store.write(key, io.BytesIO(b"probe"))
        location.store.remove(key)
    except Exception as e:  # noqa: BLE001 - OSError, botocore's errors, ...: all "cannot write"
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(
            f"--artifact_store {location.url!r}: cannot write to it: {reason}"
        ) from None


def check_store(
    storage: optuna.storages.BaseStorage, study_name: str, location: ArtifactLocation
) -> None:
    """Refuses, before anything runs, a store other than the one an existing study records.

    Raises:
        ConfigError: the study keeps its artifacts elsewhere.
    """
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return  # a new study: it will record this store
    bind_store(study, location, record=False)


def bind_store(study: optuna.Study, location: ArtifactLocation, record: bool = True) -> None:
    """Records the study's store, or refuses a process that brings another one.

    Raises:
        ConfigError: the study already keeps its artifacts elsewhere.
    """
    recorded = study.user_attrs.get(STORE_ATTR)
    if recorded is None:
        if record:
            study.set_user_attr(STORE_ATTR, location.url)
    elif recorded != location.url:
        raise ConfigError(
            f"--artifact_store: study {study.study_name!r} keeps its artifacts in {recorded}, "
            f"not in {location.url}; give every worker the same --artifact_store"
        )


def find(
    study_or_trial: Any, filename: str, storage: optuna.storages.BaseStorage | None = None
) -> list[optuna.artifacts.ArtifactMeta]:
    """The artifacts of a study or trial uploaded under ``filename``."""
    metas = get_all_artifact_meta(study_or_trial, storage=storage)
    return [m for m in metas if m.filename == filename]


class StoreUnavailableError(FailedTrialError):
    """The artifact store could not take a trial's weights (gone, full, refused)."""


def upload_weights(location: ArtifactLocation, trial: optuna.Trial, model: Any) -> str:
    """Saves ``model``'s weights and uploads them as the trial's one weights artifact.

    The trial records the artifact only after the store took the whole file (Optuna writes the
    file, then the trial's reference to it), so a failed upload leaves no weights on record.

    Raises:
        StoreUnavailableError: the store failed to take the file; the reason names the store.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, WEIGHTS_FILENAME)
        model.save_weights(path)
        try:
            return upload_artifact(
                artifact_store=location.store, file_path=path, study_or_trial=trial
            )
        except Exception as e:  # noqa: BLE001 - OSError, botocore's errors: the store failed
            detail = str(e).splitlines()[0] if str(e) else ""
            raise StoreUnavailableError(
                f"artifact store {location.url} unavailable: {type(e).__name__}: {detail}"
            ) from e


def download_weights(
    location: ArtifactLocation,
    trial: optuna.trial.FrozenTrial,
    storage: optuna.storages.BaseStorage,
    directory: str,
) -> str:
    """Downloads a COMPLETE trial's weights into ``directory``; returns the file's path.

    Raises:
        FileNotFoundError: the trial has no weights artifact.
    """
    metas = find(trial, WEIGHTS_FILENAME, storage)
    if not metas:
        raise FileNotFoundError(f"trial {trial.number} has no weights artifact in the study")
    from optuna.artifacts.exceptions import ArtifactNotFound

    path = os.path.join(directory, f"trial_{trial.number:04d}.{WEIGHTS_FILENAME}")
    if not os.path.exists(path):
        try:
            download_artifact(
                artifact_store=location.store, artifact_id=metas[-1].artifact_id, file_path=path
            )
        except ArtifactNotFound:
            raise FileNotFoundError(
                f"trial {trial.number}'s weights (artifact {metas[-1].artifact_id}) are not in "
                f"{location.url}"
            ) from None
    return path


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_result(
    location: ArtifactLocation, study: optuna.Study, path: str, results: dict[str, Any]
) -> str:
    """Uploads one file of the run's results to the study, unless the same bytes are there already.

    Args:
        results: The study's user attribute ``results`` (each file name to its latest artifact id
            and hash), read once by the caller and updated here; the caller writes it back once.
    """
    name, digest = os.path.basename(path), _sha256(path)
    known = results.get(name)
    if known and known.get("sha256") == digest:
        return known["artifact_id"]
    artifact_id = upload_artifact(
        artifact_store=location.store, file_path=path, study_or_trial=study
    )
    results[name] = {"artifact_id": artifact_id, "sha256": digest}
    return artifact_id


def remove_all(
    location: ArtifactLocation, study: optuna.Study, storage: optuna.storages.BaseStorage
) -> None:
    """Removes every artifact of a study (its trials' and its own) from the store."""
    from optuna.artifacts.exceptions import ArtifactNotFound

    metas = get_all_artifact_meta(study)
    for trial in study.get_trials(deepcopy=False):
        metas += get_all_artifact_meta(trial, storage=storage)
    for meta in metas:
        try:
            location.store.remove(meta.artifact_id)
        except (ArtifactNotFound, FileNotFoundError):
            pass
