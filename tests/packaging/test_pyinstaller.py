"""The PyInstaller one-folder app: it builds from the spec, scans the demo, and opens its window.

The build goes to a temporary folder (never dist/ or build/ of the source
tree) and takes about a minute; the app then runs with nothing of the
source tree or of the test environment on its path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from privacy_inspector import __version__
from tests.packaging.common import DEMO_ENTRIES, PACKAGING, ROOT, run

pytestmark = pytest.mark.timeout(1200)

SPEC = PACKAGING / "pyinstaller" / "privacy-inspector.spec"
OFFSCREEN = {"QT_QPA_PLATFORM": "offscreen"}


@pytest.fixture(scope="module")
def frozen(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("pyinstaller")
    run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", work / "dist", "--workpath", work / "build", SPEC], cwd=work, timeout=1100)
    program = work / "dist" / "privacy-inspector" / "privacy-inspector"
    assert program.is_file()
    return program


def test_the_frozen_app_carries_the_resources_with_their_dot_files(frozen):
    bundled = frozen.parent / "_internal" / "privacy_inspector" / "resources"
    for name in ("policy/liveops-2016.toml", "knowledge/services.json", "demo/README.md"):
        assert (bundled / name).is_file(), name
    source = {p.relative_to(ROOT / "resources") for p in (ROOT / "resources" / "demo").rglob(".*")}
    assert source and all((bundled / p).is_file() for p in source)


def test_the_frozen_app_scans_the_demo(frozen, tmp_path):
    done = run([frozen, "scan", "--demo", "--data-dir", tmp_path / "state", "--format", "json"],
               cwd=tmp_path, env=OFFSCREEN)
    result = json.loads(done.stdout)
    assert len(result["entries"]) == DEMO_ENTRIES and result["errors"] == []


def test_the_frozen_app_says_its_version(frozen, tmp_path):
    done = run([frozen, "--version"], cwd=tmp_path)
    assert done.stdout.strip() == f"privacy-inspector {__version__}"


def test_the_frozen_app_opens_its_window_on_the_demo(frozen, tmp_path):
    shot = tmp_path / "window.png"
    run([frozen, "--demo", "--data-dir", tmp_path / "state", "--screenshot", shot],
        cwd=tmp_path, env=OFFSCREEN, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
