"""What the packaging tests share: where things are, and the app id."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
APP_ID = "io.github.privacy_inspector.PrivacyInspector"
DEMO_ENTRIES = 44  # what the bundled demo profiles hold (tests/unit/test_demo.py)


def run(args, *, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a program, and on failure fail the test with everything it said."""
    environment = dict(os.environ)
    environment.pop("PYTHONPATH", None)  # nothing of the source tree may leak in
    environment.update(env or {})
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=timeout)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {done.returncode}\n"
                    f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}")
    return done
