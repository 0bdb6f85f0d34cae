"""The wheel and sdist that ``python -m build`` makes: complete, and working once installed.

The build runs on a copy of the source tree without tests/ (a release must
not need them), makes the sdist, and then the wheel from that sdist, as
``python -m build`` does; so the wheel proves the sdist is complete too.
"""

from __future__ import annotations

import json
import shutil
import site
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from privacy_inspector import __version__
from tests.packaging.common import DEMO_ENTRIES, ROOT, run

pytestmark = pytest.mark.timeout(900)

NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     "*.pyc", ".pytest_cache", "tests", "benchmarks")


def source_files(folder: str) -> set[str]:
    """Every file under a folder of the source tree, relative to it (dot-files too)."""
    base = ROOT / folder
    return {p.relative_to(base).as_posix() for p in base.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("dists")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    out = work / "out"
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source], cwd=work,
        timeout=600)
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    assert f"-{__version__}" in wheels[0].name and f"-{__version__}" in sdists[0].name
    return {"wheel": wheels[0], "sdist": sdists[0], "work": work}


def test_the_wheel_carries_every_module_and_every_resource(dists):
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    # Every module of app/, so no package was left out of pyproject's list.
    missing = {f"privacy_inspector/{n}" for n in source_files("app") if n.endswith(".py")} - names
    assert not missing, f"modules missing from the wheel: {sorted(missing)}"
    # Every data file: policy, knowledge base, demo profiles, with their dot-files.
    resources = {f"privacy_inspector/resources/{n}" for n in source_files("resources")}
    assert not resources - names, f"resources missing: {sorted(resources - names)}"
    assert any(n.endswith("/.metadata-v2") for n in names)
    assert "privacy_inspector/resources/knowledge/services.json" in names
    assert "privacy_inspector/resources/policy/liveops-2016.toml" in names
    assert not any(n.startswith("tests/") for n in names)
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(dists["wheel"]).read(info).decode()
    assert "privacy-inspector = privacy_inspector.cli.main:main" in entry_points


def test_the_sdist_carries_the_sources_and_resources(dists):
    with tarfile.open(dists["sdist"]) as archive:
        names = {"/".join(n.split("/")[1:]) for n in archive.getnames()}
    assert {"pyproject.toml", "README.md"} <= names
    assert not {f"app/{n}" for n in source_files("app") if n.endswith(".py")} - names
    assert not {f"resources/{n}" for n in source_files("resources")} - names


@pytest.fixture(scope="module")
def venv(dists) -> Path:
    """A fresh virtual environment outside the source tree with only the wheel installed.

    The dependencies (PySide6 alone is hundreds of megabytes) are borrowed
    from the environment running the tests through a .pth file, which adds
    its site-packages to the end of sys.path without running its .pth files,
    so the editable install of the source tree stays switched off there.
    """
    env = dists["work"] / "venv"
    run([sys.executable, "-m", "venv", env], cwd=dists["work"])
    python = env / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                  cwd=dists["work"]).stdout.strip()
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"),
                *site.getsitepackages()}
    (Path(purelib) / "borrowed-dependencies.pth").write_text(
        "".join(f"{p}\n" for p in sorted(borrowed)), encoding="utf-8")
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
         "-q", dists["wheel"]], cwd=dists["work"], timeout=600)
    return env


def test_the_installed_package_is_the_wheels_copy_in_the_venv(venv, dists):
    done = run([venv / "bin" / "python", "-c",
                "import privacy_inspector, privacy_inspector.bundled as b;"
                "print(privacy_inspector.__file__); print(b.root())"], cwd=dists["work"])
    module, resources = done.stdout.split("\n")[:2]
    assert Path(module).resolve().is_relative_to(venv.resolve()), module
    assert Path(resources).resolve().is_relative_to(venv.resolve()), resources
    assert not Path(module).resolve().is_relative_to(ROOT)


def test_the_installed_command_scans_the_demo(venv, dists, tmp_path):
    command = venv / "bin" / "privacy-inspector"
    done = run([command, "scan", "--demo", "--data-dir", tmp_path / "state", "--format", "json"],
               cwd=dists["work"])
    result = json.loads(done.stdout)
    assert len(result["entries"]) == DEMO_ENTRIES and result["errors"] == []
    assert len(result["profiles"]) == 2
    version = run([command, "--version"], cwd=dists["work"]).stdout.strip()
    assert version == f"privacy-inspector {__version__}"
