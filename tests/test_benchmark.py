"""scripts/benchmark.py keeps working: its smallest mode runs and writes every section."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "scripts", "benchmark.py")


@pytest.mark.slow
def test_smoke_run_writes_every_section(tmp_path):
    output = tmp_path / "benchmark.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, _SCRIPT, "--smoke", f"--output={output}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(output.read_text())
    for section in ("environment", "overhead", "pipeline", "memory", "search", "pruning"):
        assert section in results, section
    assert results["environment"]["mode"] == "smoke"
    assert results["overhead"]["bare_fit_s"] > 0 and results["overhead"]["tuner_trial_s"] > 0
    assert results["pipeline"]["gather_batch64_windows_per_s"] > 0
    assert set(results["pipeline"]["memory"]) == {"gather", "materialized"}
    assert len(results["memory"]["rss_after_trial_mb"]) == results["search"]["n_trials"]
    methods = {row["method"] for row in results["search"]["summary"]}
    assert {"default", "random", "median"} <= methods
    for row in results["search"]["summary"]:
        assert row["median_best_val_mse"] is not None and row["total_epochs"] > 0
    assert "| dataset | method | median best val MSE" in proc.stdout
