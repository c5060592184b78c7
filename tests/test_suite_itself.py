"""The suite's own rules (#16 item 19): tests that need ../shared skip locally with one
summary line per missing resource, and fail under CI=true, where nothing may skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_without_samples(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "QCODE_REFI_SAMPLES": str(tmp_path / "absent"),
           "CI": "true" if ci else "false"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         "tests/test_refi_samples.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_a_missing_resource_is_one_skip_reason_locally(tmp_path):
    result = run_without_samples(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout[-2000:]
    reasons = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(reasons) == 1, reasons
    assert "REFI-QDA sample files" in reasons[0] and str(tmp_path / "absent") in reasons[0]
    assert "$QCODE_REFI_SAMPLES" in reasons[0]


def test_under_ci_a_missing_resource_fails(tmp_path):
    result = run_without_samples(tmp_path, ci=True)
    assert result.returncode == 1
    assert " skipped" not in result.stdout.splitlines()[-1]
    assert "under CI=true tests that need it fail instead of skipping" in result.stdout
