"""Profile discovery on fake home folders laid out as on Linux, macOS and Windows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from privacy_inspector.platform import discovery


def _chromium_root(root: Path, profiles: dict[str, str], last_used: str = "Default",
                   cookies: bool = True) -> Path:
    root.mkdir(parents=True)
    info = {folder: {"name": name} for folder, name in profiles.items()}
    (root / "Local State").write_text(
        json.dumps({"profile": {"info_cache": info, "last_used": last_used}}))
    for folder in profiles:
        (root / folder).mkdir()
        if cookies:
            (root / folder / "Cookies").write_bytes(b"")
    return root


def _firefox_root(root: Path, ini: str, folders: list[str]) -> Path:
    root.mkdir(parents=True)
    (root / "profiles.ini").write_text(ini)
    for folder in folders:
        (root / folder).mkdir(parents=True)
        (root / folder / "prefs.js").write_text("")
    return root


FIREFOX_INI = """\
[Install4F96D1932A9F858E]
Default=Profiles/abcd1234.default-release
Locked=1

[InstallE7CF176E110C211B]
Default=Profiles/zzzz9999.esr

[Profile2]
Name=esr
IsRelative=1
Path=Profiles/zzzz9999.esr

[Profile1]
Name=default
IsRelative=1
Path=Profiles/efgh5678.default
Default=1

[Profile0]
Name=default-release
IsRelative=1
Path=Profiles/abcd1234.default-release

[Profile3]
Name=gone
IsRelative=1
Path=Profiles/missing.gone

[General]
StartWithLastProfile=1
Version=2
"""
FIREFOX_FOLDERS = ["Profiles/abcd1234.default-release", "Profiles/efgh5678.default",
                   "Profiles/zzzz9999.esr"]


def _summary(profiles, home: Path):
    return sorted(
        (p.browser, p.engine, str(p.path.relative_to(home)), p.name, p.default) for p in profiles
    )


def test_linux_native_flatpak_and_snap(tmp_path):
    home = tmp_path / "home"
    _chromium_root(home / ".config/google-chrome", {"Default": "Person 1", "Profile 1": "Work"},
                   last_used="Profile 1")
    _chromium_root(home / "snap/chromium/common/chromium", {"Default": "Your Chromium"})
    _chromium_root(home / ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser",
                   {"Default": "Brave"})
    _firefox_root(home / ".mozilla/firefox", FIREFOX_INI, FIREFOX_FOLDERS)
    _firefox_root(home / "snap/firefox/common/.mozilla/firefox",
                  "[Profile0]\nName=snappy\nIsRelative=1\nPath=s.default\nDefault=1\n", ["s.default"])
    _firefox_root(home / ".var/app/io.gitlab.librewolf-community/.librewolf",
                  "[Profile0]\nName=lw\nIsRelative=1\nPath=lw.default\n", ["lw.default"])
    # A Local State listing a profile whose folder is gone lists only what exists.
    profiles = discovery.discover(home=home, system="linux", env={})
    assert _summary(profiles, home) == [
        ("brave", "chromium", ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser/Default", "Brave", True),
        ("chrome", "chromium", ".config/google-chrome/Default", "Person 1", False),
        ("chrome", "chromium", ".config/google-chrome/Profile 1", "Work", True),
        ("chromium", "chromium", "snap/chromium/common/chromium/Default", "Your Chromium", True),
        ("firefox", "firefox", ".mozilla/firefox/Profiles/abcd1234.default-release", "default-release", True),
        ("firefox", "firefox", ".mozilla/firefox/Profiles/efgh5678.default", "default", False),
        ("firefox", "firefox", ".mozilla/firefox/Profiles/zzzz9999.esr", "esr", True),
        ("firefox", "firefox", "snap/firefox/common/.mozilla/firefox/s.default", "snappy", True),
        ("librewolf", "firefox", ".var/app/io.gitlab.librewolf-community/.librewolf/lw.default", "lw", False),
    ]
    chrome = [p for p in profiles if p.browser == "chrome"]
    assert {p.root for p in chrome} == {home / ".config/google-chrome"}


def test_linux_xdg_config_home_is_honoured(tmp_path):
    home = tmp_path / "home"
    xdg = tmp_path / "elsewhere"
    _chromium_root(xdg / "vivaldi", {"Default": "V"})
    _firefox_root(xdg / "mozilla/firefox", "[Profile0]\nName=new\nIsRelative=1\nPath=n.default\n",
                  ["n.default"])
    profiles = discovery.discover(home=home, system="linux", env={"XDG_CONFIG_HOME": str(xdg)})
    assert sorted((p.browser, p.path) for p in profiles) == [
        ("firefox", xdg / "mozilla/firefox/n.default"),
        ("vivaldi", xdg / "vivaldi/Default"),
    ]


def test_snap_revisions_are_globbed_and_a_current_symlink_is_not_doubled(tmp_path):
    home = tmp_path / "home"
    _chromium_root(home / "snap/brave/412/.config/BraveSoftware/Brave-Browser", {"Default": "B"})
    os.symlink("412", home / "snap/brave/current")
    profiles = discovery.discover(home=home, system="linux", env={})
    assert [(p.browser, p.name) for p in profiles] == [("brave", "B")]


def test_macos(tmp_path):
    home = tmp_path / "home"
    support = home / "Library/Application Support"
    _chromium_root(support / "Google/Chrome", {"Default": "Me"})
    _chromium_root(support / "Microsoft Edge", {"Default": "Edge"})
    _firefox_root(support / "Firefox", FIREFOX_INI, FIREFOX_FOLDERS)
    safari = home / "Library/Containers/com.apple.Safari/Data/Library/Cookies/Cookies.binarycookies"
    safari.parent.mkdir(parents=True)
    safari.write_bytes(b"cook")
    profiles = discovery.discover(home=home, system="macos", env={})
    summary = _summary(profiles, home)
    assert ("chrome", "chromium", "Library/Application Support/Google/Chrome/Default", "Me", True) in summary
    assert ("edge", "chromium", "Library/Application Support/Microsoft Edge/Default", "Edge", True) in summary
    assert ("safari", "safari", str(safari.relative_to(home)), "Safari", True) in summary
    assert sum(1 for s in summary if s[0] == "firefox") == 3
    # Linux and Windows locations are not looked at on macOS.
    assert discovery.discover(home=home, system="windows", env={}) == []


def test_windows(tmp_path):
    home = tmp_path / "home"
    local = home / "AppData/Local"
    roaming = home / "AppData/Roaming"
    _chromium_root(local / "Google/Chrome/User Data", {"Default": "Me", "Profile 3": "Kids"})
    _chromium_root(local / "Microsoft/Edge/User Data", {"Default": "Edge"})
    # Opera keeps its one profile in the user-data folder itself.
    opera = roaming / "Opera Software/Opera Stable"
    opera.mkdir(parents=True)
    (opera / "Local State").write_text("{}")
    (opera / "Network").mkdir()
    (opera / "Network/Cookies").write_bytes(b"")
    _firefox_root(roaming / "Mozilla/Firefox", FIREFOX_INI.replace("/", "\\"), FIREFOX_FOLDERS)
    msix = local / "Packages/Mozilla.Firefox_n80bbvh6b1yt2/LocalCache/Roaming/Mozilla/Firefox"
    _firefox_root(msix, "[Profile0]\nName=store\nIsRelative=1\nPath=Profiles\\m.default\n",
                  ["Profiles/m.default"])
    profiles = discovery.discover(home=home, system="windows", env={})
    summary = _summary(profiles, home)
    assert ("chrome", "chromium", "AppData/Local/Google/Chrome/User Data/Profile 3", "Kids", False) in summary
    assert ("edge", "chromium", "AppData/Local/Microsoft/Edge/User Data/Default", "Edge", True) in summary
    assert ("opera", "chromium", "AppData/Roaming/Opera Software/Opera Stable", "Opera Stable", True) in summary
    assert ("firefox", "firefox", "AppData/Roaming/Mozilla/Firefox/Profiles/abcd1234.default-release",
            "default-release", True) in summary
    assert ("firefox", "firefox", str((msix / "Profiles/m.default").relative_to(home)), "store", False) in summary
    # Environment variables win over the defaults under the home folder.
    moved = discovery.discover(home=home, system="windows", env={"LOCALAPPDATA": str(tmp_path / "x")})
    assert not any(p.browser == "chrome" for p in moved)


def test_browser_filter(tmp_path):
    home = tmp_path / "home"
    _chromium_root(home / ".config/chromium", {"Default": "C"})
    _firefox_root(home / ".mozilla/firefox", FIREFOX_INI, FIREFOX_FOLDERS)
    assert {p.browser for p in discovery.discover(home=home, system="linux", env={},
                                                  browsers=["firefox"])} == {"firefox"}


def test_a_damaged_local_state_falls_back_to_the_profile_folders(tmp_path):
    home = tmp_path / "home"
    root = _chromium_root(home / ".config/chromium", {"Default": "C", "Profile 2": "D"})
    (root / "Local State").write_text("{ not json")
    profiles = discovery.discover(home=home, system="linux", env={})
    assert sorted(p.path.name for p in profiles) == ["Default", "Profile 2"]


def test_an_unreadable_root_says_so_and_what_to_do(tmp_path, monkeypatch):
    home = tmp_path / "home"
    root = _chromium_root(home / ".config/chromium", {"Default": "C"})
    real_scandir = os.scandir

    def deny(path):
        if Path(path) == root:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(discovery.os, "scandir", deny)
    (profile,) = discovery.discover(home=home, system="linux", env={})
    assert profile.problem == f"{root} is not readable by this user (permission denied)"


def test_safari_without_full_disk_access(tmp_path, monkeypatch):
    home = tmp_path / "home"
    safari = home / "Library/Cookies/Cookies.binarycookies"
    safari.parent.mkdir(parents=True)
    safari.write_bytes(b"cook")
    real_open = open

    def deny(path, *args, **kwargs):
        if Path(path) == safari:
            raise PermissionError(1, "Operation not permitted")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    (profile,) = discovery.discover(home=home, system="macos", env={})
    assert profile.problem.startswith("macOS protects Safari's cookies: give Privacy Inspector Full Disk Access")


def test_resolve_user_data_folder_profile_folder_and_firefox_root(tmp_path):
    root = _chromium_root(tmp_path / "cr", {"Default": "A", "Profile 1": "B"})
    assert sorted(p.name for p in discovery.resolve(root)) == ["A", "B"]
    (default,) = discovery.resolve(root / "Default")
    assert (default.engine, default.root, default.name) == ("chromium", root, "A")
    ff = _firefox_root(tmp_path / "ff", FIREFOX_INI, FIREFOX_FOLDERS)
    assert len(discovery.resolve(ff)) == 3
    (one,) = discovery.resolve(ff / FIREFOX_FOLDERS[0])
    assert (one.engine, one.browser, one.root) == ("firefox", "firefox", ff)
    (safari,) = discovery.resolve(_touch(tmp_path / "Cookies.binarycookies"))
    assert safari.engine == "safari"


def _touch(path: Path) -> Path:
    path.write_bytes(b"cook")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such file or folder"),
        (lambda p: _mkdir(p / "empty"),
         "not a browser profile (no Cookies, cookies.sqlite, Local State or profiles.ini in it)"),
        (lambda p: _touch(p / "notes.txt"), "not a browser profile (a file the app does not know)"),
    ],
)
def test_resolve_refuses_what_is_not_a_profile(tmp_path, make, message):
    with pytest.raises(discovery.ProfileError) as info:
        discovery.resolve(make(tmp_path))
    assert str(info.value) == message


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_inside_a_flatpak_the_hosts_config_folder_is_searched(tmp_path):
    # Flatpak points XDG_CONFIG_HOME at the app's own folder; the browsers are the host's.
    env = {"FLATPAK_ID": "io.github.privacy_inspector.PrivacyInspector",
           "XDG_CONFIG_HOME": str(tmp_path / ".var" / "app" / "x" / "config")}
    assert discovery.expand("$XDG_CONFIG_HOME/chromium", tmp_path, env) == [
        tmp_path / ".config" / "chromium"]
    env["HOST_XDG_CONFIG_HOME"] = str(tmp_path / "elsewhere")
    assert discovery.expand("$XDG_CONFIG_HOME/chromium", tmp_path, env) == [
        tmp_path / "elsewhere" / "chromium"]
    del env["FLATPAK_ID"]
    assert discovery.expand("$XDG_CONFIG_HOME/chromium", tmp_path, env) == [
        tmp_path / ".var" / "app" / "x" / "config" / "chromium"]
