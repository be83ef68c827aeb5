"""What the command line shows besides the job's own lines: TensorFlow's start-up quieted, one line on
the devices, the grouped help, the version.

TensorFlow's C++ layer writes its start-up lines (no CUDA driver, ``failed call to cuInit`` on every
CPU machine, CPU instruction notes) straight to file descriptor 2, some before its log level is even
read. Unless the user set ``TF_CPP_MIN_LOG_LEVEL`` (then nothing is touched), the CLI sets it to 1
(warnings and errors) and, while TensorFlow is imported and finds its devices, sends descriptor 2 to
a temporary file and passes on every line but those known start-up notes.
"""

from __future__ import annotations

import contextlib
import logging as std_logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence

#: TensorFlow's start-up notes that say nothing to a user (matched per line).
STARTUP_NOISE = tuple(
    re.compile(p)
    for p in (
        r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
        r"cudart_stub\.cc.*Could not find cuda drivers",
        r"failed call to cuInit",
        r"Unable to register cu(DNN|FFT|BLAS) factory",
        r"computation placer already registered",
        r"TF-TRT Warning: Could not find TensorRT",
        r"This TensorFlow binary is optimized to use available CPU instructions",
        r"To enable the following instructions: .* rebuild TensorFlow",
        r"oneDNN custom operations are on",
        r"^\s*$",
    )
)


def quiet_tensorflow_by_default() -> bool:
    """Sets ``TF_CPP_MIN_LOG_LEVEL=1`` unless the user set it; returns whether the CLI filters."""
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return False
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "1"
    return True


@contextlib.contextmanager
def filtered_stderr(noise: Sequence[re.Pattern[str]] = STARTUP_NOISE) -> Iterator[None]:
    """Sends file descriptor 2 to a temporary file for the block, then writes back every line that
    is not ``noise`` (Python's own writes to ``sys.stderr`` included, in order)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for raw in captured:
                line = raw.decode("utf-8", "replace")
                if not any(p.search(line) for p in noise):
                    sys.stderr.write(line)
            sys.stderr.flush()


def start_tensorflow(filter_noise: bool) -> str:
    """Imports TensorFlow and finds its devices (quietly when ``filter_noise``); returns one line
    saying what will train, e.g. ``"no GPU found: training on CPU"``."""
    with filtered_stderr() if filter_noise else contextlib.nullcontext():
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    for name in ("matplotlib", "PIL"):  # font cache and image plug-in notes at INFO
        std_logging.getLogger(name).setLevel(std_logging.WARNING)
    std_logging.getLogger("tensorflow").addFilter(_Retracing())
    from absl import logging

    logging.get_absl_handler().addFilter(_LibraryInfo())
    if not gpus:
        return "no GPU found: training on CPU"
    return f"training on {len(gpus)} GPU{'s' if len(gpus) > 1 else ''}"


class _Retracing(std_logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning: the models of a search differ
    in shape by design, and each is traced once (docs/benchmarks.md)."""

    def filter(self, record: std_logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


class _LibraryInfo(std_logging.Filter):
    """Drops INFO records that TensorFlow and Keras send through absl's handler (SavedModel writing:
    "Writing fingerprint", "Sharding callback duration", renamed resources): their details, not the
    job's. Their warnings and errors pass."""

    _PACKAGES = (f"{os.sep}tensorflow{os.sep}", f"{os.sep}keras{os.sep}")

    def filter(self, record: std_logging.LogRecord) -> bool:
        library = any(p in record.pathname for p in self._PACKAGES)
        return not (library and record.levelno < std_logging.WARNING)


#: The CLI's flags in the order and groups --helpshort shows them.
HELP_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What to search", ("config", "study_name", "n_trials", "seed", "override")),
    ("Where results go", ("output_dir", "storage", "artifact_store", "overwrite", "no_plots")),
    ("How it runs", ("strategy", "workers", "worker_index", "verbose")),
    ("After the search", ("retrain_epochs",)),
    ("lstm-tuner forecast", ("model", "csv", "output", "backtest")),
)


def short_help(flag_values: object, version: str) -> str:
    """``--helpshort``: lstm_tuner's own flags, grouped (absl's ``--helpfull`` lists all of them)."""
    lines = [
        f"lstm-tuner {version}: hyperparameter search for stacked-LSTM time-series models",
        "",
        "usage: lstm-tuner --config FILE [--study-name NAME] [flags]",
        "       lstm-tuner forecast --model RUN_OR_EXPORT_DIR --csv FILE [--backtest]",
    ]
    for title, names in HELP_GROUPS:
        lines += ["", f"{title}:"]
        for name in names:
            flag = flag_values[name]  # type: ignore[index]
            default = "" if flag.default in (None, [], False) else f" (default: {flag.default})"
            lines.append(f"  --{name}: {flag.help}{default}")
    lines += ["", "--flagfile FILE reads flags from a file; --helpfull lists absl's own flags too."]
    return "\n".join(lines)
