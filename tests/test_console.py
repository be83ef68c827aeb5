"""What the command line shows: no TensorFlow start-up noise, one device line, live progress on a
terminal and plain lines elsewhere, --version and a grouped --helpshort."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from test_cli import SCRIPT

import lstm_tuner

ARGS = ["--config", "tiny.yaml", "--study-name", "c", "--n_trials", "1", "--no_plots"]
ARGS += ["--override", "training.epochs=2", "--override", "export.enabled=false"]
#: What TensorFlow's C++ layer prints on a CPU machine: lines that name a C++ source file
#: ("E0000 00:00:... cuda_platform.cc:52] failed call to cuInit ...") and absl's pre-init note.
TF_NOISE = re.compile(r"\.cc:\d+\]|cuInit|cuda drivers|absl::InitializeLog")


def _env() -> dict[str, str]:
    # COLUMNS/LINES would override the pseudo-terminal's size (pytest-xdist's workers export
    # COLUMNS=80, and tqdm then cuts the line before the search's state)
    drop = {"TF_CPP_MIN_LOG_LEVEL", "COLUMNS", "LINES"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "CUDA_VISIBLE_DEVICES": ""}


def _run_in_terminal(cwd: Path, args: list[str], timeout_s: float = 300) -> str:
    """Runs the CLI with its stdout and stderr on a pseudo-terminal; returns what it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 120 x 24
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], timeout_s)
        if not ready:
            proc.kill()
            raise AssertionError("no output for too long")
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower side closed: the process ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_a_terminal_shows_the_running_trial_live_and_no_tensorflow_noise(workdir: Path):
    out = _run_in_terminal(workdir, ARGS)
    # tqdm redraws the trial's line in place: carriage returns, the epoch and batch, the search
    assert "\r" in out
    assert re.search(
        r"trial 0 .*epoch [12]/2, batch \d+/\d+, loss [\d.e-]+ \| 0 of 1 trials done", out
    )
    assert "no GPU found: training on CPU" in out
    assert not TF_NOISE.search(out.replace("\r", "\n")), TF_NOISE.search(out.replace("\r", "\n"))


@pytest.mark.slow
def test_without_a_terminal_one_line_per_epoch_and_no_control_characters(workdir: Path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *ARGS],
        cwd=workdir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    epochs = re.findall(r"trial 0: epoch (\d)/2, loss=[\d.e-]+, val_loss=", proc.stderr)
    assert epochs == ["1", "2"]
    assert not re.search(r"[\r\x1b]", proc.stderr + proc.stdout)
    assert proc.stderr.count("no GPU found: training on CPU") == 1
    assert not TF_NOISE.search(proc.stderr), proc.stderr[:2000]


def test_the_users_own_log_level_is_respected(monkeypatch: pytest.MonkeyPatch):
    from lstm_tuner.job import console

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    assert console.quiet_tensorflow_by_default() is False
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")
    assert console.quiet_tensorflow_by_default() is True
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"


def test_the_filter_drops_the_startup_notes_and_keeps_everything_else(capfd):
    from lstm_tuner.job import console

    with console.filtered_stderr():
        os.write(2, b"W0000 00:00:1.0 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n")
        os.write(2, b"E0000 00:00:2.0 some_op.cc:10] an error that matters\n")
        sys.stderr.write("a Python warning\n")
    err = capfd.readouterr().err
    assert "cuInit" not in err
    assert "an error that matters" in err and "a Python warning" in err


def test_version_and_grouped_short_help(tmp_path: Path):
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, str(SCRIPT), *a], capture_output=True, text=True, timeout=120, env=_env()
    )
    version = run("--version")
    assert (
        version.returncode == 0 and version.stdout.strip() == f"lstm-tuner {lstm_tuner.__version__}"
    )
    helped = run("--helpshort")
    assert helped.returncode == 0
    text = helped.stdout
    groups = ["What to search:", "Where results go:", "How it runs:", "After the search:"]
    positions = [text.index(g) for g in groups + ["lstm-tuner forecast:"]]
    assert positions == sorted(positions)
    for flag in ("--config", "--storage", "--artifact_store", "--workers", "--retrain_epochs"):
        assert flag in text
    assert "--pdb" not in text and "--only_check_args" not in text  # absl's own: in --helpfull
