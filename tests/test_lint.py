"""The lint gate: `ruff check` over the whole repository, with the rules of pyproject's [tool.ruff].

ruff comes with the test extra (pinned there), so this runs wherever the tests run: the README's
test command and CI both gate on it. Fix with `.venv/bin/ruff check . --fix` and by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_passes() -> None:
    # --no-cache: no .ruff_cache left in the work tree; the whole check takes about a second.
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", str(ROOT)],
        cwd=ROOT, capture_output=True, check=False, text=True, timeout=300,
    )
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"
