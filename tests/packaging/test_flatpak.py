"""The Flatpak manifest: well-formed, built from the sdist, and with the permissions the app needs.

It is not built here (that needs the KDE runtime from Flathub); flatpak-builder
parses it and the tests check what it grants: every browser profile folder
the app looks in on Linux, read-write (deleting writes), and no network.
"""

from __future__ import annotations

import json
import re
import tomllib

from privacy_inspector import __version__
from privacy_inspector.platform.locations import ALL_LOCATIONS, LINUX
from tests.packaging.common import APP_ID, PACKAGING, ROOT, run

FLATPAK = PACKAGING / "flatpak"
MANIFEST = FLATPAK / f"{APP_ID}.json"


def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def grants() -> list[str]:
    return [a.split("=", 1)[1] for a in manifest()["finish-args"] if a.startswith("--filesystem=")]


def test_flatpak_builder_reads_the_manifest_without_complaint(tmp_path):
    done = run(["flatpak-builder", "--show-manifest", MANIFEST], cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr and "Unknown property" not in done.stderr, done.stderr
    assert json.loads(done.stdout)["id"] == APP_ID


def test_the_manifest_runs_the_installed_command_under_the_apps_id():
    m = manifest()
    assert m["id"] == APP_ID
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert m["command"] in scripts


def test_the_app_never_gets_the_network_or_the_whole_home_folder():
    args = manifest()["finish-args"]
    assert not [a for a in args if a.startswith("--share=network")]
    assert not [g for g in grants() if g.split(":")[0] in ("home", "host", "~", "/")]
    assert {"--share=ipc", "--socket=wayland", "--socket=fallback-x11"} <= set(args)


def test_every_linux_profile_folder_the_app_looks_in_is_granted_read_write():
    granted = [g for g in grants()]
    assert all(":" not in g or g.endswith(":rw") for g in granted), "profile folders need rw"
    folders = [g.split(":")[0].rstrip("/") for g in granted]
    missing = []
    for location in ALL_LOCATIONS:
        if location.system != LINUX:
            continue
        path = location.template.replace("$XDG_CONFIG_HOME", "~/.config")
        if not any(path == f or path.startswith(f + "/") for f in folders):
            missing.append(path)
    assert not missing, f"not reachable from the Flatpak: {missing}"


def test_the_app_is_built_from_this_versions_sdist_with_its_desktop_files():
    module = next(m for m in manifest()["modules"] if isinstance(m, dict)
                  and m["name"] == "privacy-inspector")
    paths = [s["path"] for s in module["sources"]]
    assert paths[0] == f"../../dist/privacy_inspector-{__version__}.tar.gz"
    assert module["sources"][0]["type"] == "archive"
    for path in paths[1:]:
        assert (FLATPAK / path).exists(), path
    commands = "\n".join(module["build-commands"])
    for target in (f"share/applications/{APP_ID}.desktop", f"share/metainfo/{APP_ID}.metainfo.xml",
                   f"share/icons/hicolor/scalable/apps/{APP_ID}.svg"):
        assert target in commands


def test_the_python_dependencies_are_pinned_files_with_hashes():
    included = [m for m in manifest()["modules"] if isinstance(m, str)]
    assert included == ["python3-dependencies.json"]
    module = json.loads((FLATPAK / included[0]).read_text(encoding="utf-8"))
    files = [s["url"].rsplit("/", 1)[1] for s in module["sources"]]
    for source in module["sources"]:
        assert source["url"].startswith("https://files.pythonhosted.org/")
        assert re.fullmatch(r"[0-9a-f]{64}", source["sha256"])
    # Every dependency of pyproject.toml but PySide6, which the base app provides.
    canonical = {re.sub(r"[-_.]+", "_", f.split("-")[0]).lower() for f in files}
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "_", re.split(r"[<>=!~ \[;]", requirement)[0]).lower()
        if not name.startswith("pyside6"):
            assert name in canonical, f"{requirement} is not in {included[0]}"
