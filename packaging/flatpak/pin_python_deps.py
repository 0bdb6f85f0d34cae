"""Write python3-dependencies.json: the app's Python dependencies as a Flatpak module.

    python packaging/flatpak/pin_python_deps.py

Flatpak builds run without network, so every dependency is a source with a
URL and a sha256, installed by pip from those files alone. The versions are
pinned in PINS below; this script downloads each file once (pip download,
for the runtime's Python and each architecture), hashes it, and writes the
module. PySide6 is not among them: the manifest's base application,
io.qt.PySide.BaseApp, provides it built against the KDE runtime's Qt.

Run it again after changing PINS, PYTHON or the runtime in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "python3-dependencies.json"
PYTHON = "3.12"  # the Python of the KDE 6.9 runtime (freedesktop-sdk 24.08)
ARCHES = {"x86_64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
          "aarch64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64")}
# pyproject's dependencies and theirs, without PySide6 (from the base app) and
# pip (sqlite-utils lists it for its plugin installer, which the app never uses).
PINS = [
    "browser-cookie3==0.20.1", "jeepney==0.9.0", "pycryptodomex==3.24.2", "lz4==4.4.5",
    "sqlite-utils==4.2.1", "click==8.4.0", "click-default-group==1.2.4", "sqlite-fts4==1.0.3",
    "tabulate==0.10.0", "python-dateutil==2.9.0.post0", "six==1.17.0", "pluggy==1.6.0",
    "platformdirs==4.14.8", "publicsuffixlist==1.1.2.20261023", "orjson==3.13.0",
    "cramjam==2.14.0",
]


def download(pin: str, target: Path, platforms: tuple[str, ...]) -> Path:
    """One wheel for the runtime's Python on these platforms, or else the sdist."""
    target.mkdir(parents=True, exist_ok=True)
    before = set(target.iterdir())
    wheel = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--dest", str(target),
             "--only-binary=:all:", "--python-version", PYTHON, "--implementation", "cp"]
    for platform in platforms:
        wheel += ["--platform", platform]
    if subprocess.run([*wheel, pin], capture_output=True).returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--dest",
                        str(target), "--no-binary=:all:", pin], check=True)
    (new,) = set(target.iterdir()) - before
    return new


def url(file: Path) -> str:
    """PyPI's stable address of a file, which redirects to where it is stored."""
    if file.name.endswith(".whl"):
        project, python_tag = file.name.split("-")[0], file.name.split("-")[-3]
        return f"https://files.pythonhosted.org/packages/{python_tag}/{project[0]}/{project}/{file.name}"
    project = file.name.rsplit("-", 1)[0]
    return f"https://files.pythonhosted.org/packages/source/{project[0]}/{project}/{file.name}"


def main() -> int:
    sources: list[dict] = []
    seen: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch, platforms in ARCHES.items():
            for pin in PINS:
                file = download(pin, Path(tmp) / arch, platforms)
                if file.name in seen:  # pure Python: one file serves every architecture
                    continue
                source = {"type": "file", "url": url(file),
                          "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}
                if "manylinux" in file.name:
                    source["only-arches"] = [arch]
                seen[file.name] = source
                sources.append(source)
    names = " ".join(pin.split("==")[0] for pin in PINS)
    module = {
        "name": "python3-dependencies",
        "buildsystem": "simple",
        "build-commands": [
            "pip3 install --verbose --exists-action=i --no-index --find-links=\"file://${PWD}\" "
            f"--prefix=${{FLATPAK_DEST}} --no-build-isolation --no-deps {names}"
        ],
        "sources": sources,
    }
    OUTPUT.write_text(json.dumps(module, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.name}: {len(sources)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
