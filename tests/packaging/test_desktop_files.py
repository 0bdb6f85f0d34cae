"""The desktop entry and the AppStream metainfo: valid, and consistent with the app."""

from __future__ import annotations

import configparser
import tomllib
import xml.etree.ElementTree as ET

from privacy_inspector import __version__
from tests.packaging.common import APP_ID, PACKAGING, ROOT, run

DESKTOP = PACKAGING / "linux" / f"{APP_ID}.desktop"
METAINFO = PACKAGING / "linux" / f"{APP_ID}.metainfo.xml"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_desktop_file_passes_desktop_file_validate():
    done = run(["desktop-file-validate", DESKTOP], cwd=ROOT, check=False)
    said = (done.stdout + done.stderr).strip()
    # Hints are advice; errors and warnings are failures.
    problems = [line for line in said.splitlines() if ": hint: " not in line]
    assert done.returncode == 0 and not problems, said


def test_the_desktop_file_starts_the_installed_command_with_the_apps_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(DESKTOP, encoding="utf-8")
    group = entry["Desktop Entry"]
    assert group["Type"] == "Application"
    assert group["Icon"] == APP_ID
    assert group["Exec"].split()[0] in pyproject()["project"]["scripts"]
    assert group["Terminal"] == "false"


def test_the_window_says_it_belongs_to_this_desktop_file():
    # Wayland compositors and docks match a window to its .desktop file by this name.
    import privacy_inspector

    assert privacy_inspector.APP_ID == APP_ID
    source = (ROOT / "app" / "gui" / "app.py").read_text(encoding="utf-8")
    assert "app.setDesktopFileName(APP_ID)" in source
    # The window's icon ships in the data package, under the same name.
    from privacy_inspector import bundled

    shipped = bundled.path("icons", f"{APP_ID}.svg").read_bytes()
    assert shipped == (ROOT / "packaging" / "icons" / f"{APP_ID}.svg").read_bytes()


def test_the_metainfo_passes_appstreamcli_validate():
    done = run(["appstreamcli", "validate", "--no-net", "--no-color", METAINFO], cwd=ROOT,
               check=False)
    said = (done.stdout + done.stderr).strip()
    problems = [line for line in said.splitlines() if line.startswith(("E:", "W:"))]
    assert done.returncode == 0 and not problems, said


def test_the_metainfo_names_the_app_its_licence_and_this_release():
    component = ET.parse(METAINFO).getroot()
    assert component.get("type") == "desktop-application"
    assert component.findtext("id") == APP_ID
    launchable = component.find("launchable")
    assert launchable.get("type") == "desktop-id" and launchable.text == DESKTOP.name
    assert component.findtext("project_license") == pyproject()["project"]["license"]["text"]
    assert component.find("content_rating").get("type").startswith("oars-")
    assert component.findtext("provides/binary") in pyproject()["project"]["scripts"]
    releases = component.findall("releases/release")
    assert releases and releases[0].get("version") == __version__, (
        "the newest <release> in the metainfo must be privacy_inspector.__version__")
    for url in component.iterfind("url"):
        assert url.text.startswith("https://")
    for image in component.iterfind("screenshots/screenshot/image"):
        assert image.text.startswith("https://")
