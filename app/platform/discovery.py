"""Finding browser profiles: on this machine, or in a folder the user names.

``discover()`` expands the location table against a home folder, a system
name and an environment, so every path is data and tests can use fake homes
for Linux, macOS and Windows.  ``resolve()`` turns a ``--profile PATH`` into
profiles by looking at the files in it.
"""

from __future__ import annotations

import configparser
import glob
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from privacy_inspector import APP_ID
from privacy_inspector.core.records import Engine, Profile
from privacy_inspector.platform import locations
from privacy_inspector.platform.locations import LINUX, MACOS, WINDOWS, Location


class ProfileError(Exception):
    """A ``--profile`` path that names no usable profile; the message is for the user."""


def current_system() -> str:
    if sys.platform == "win32":
        return WINDOWS
    if sys.platform == "darwin":
        return MACOS
    return LINUX


def expand(template: str, home: Path, env: Mapping[str, str]) -> list[Path]:
    """The folders a location template stands for (several where it has a glob)."""
    # Inside a Flatpak, XDG_CONFIG_HOME is the app's own folder under ~/.var/app;
    # the browsers' profiles are in the host's.
    if env.get("FLATPAK_ID"):
        xdg = env.get("HOST_XDG_CONFIG_HOME") or str(home / ".config")
    else:
        xdg = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    local = env.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
    roaming = env.get("APPDATA") or str(home / "AppData" / "Roaming")
    text = template
    for name, value in (
        ("$XDG_CONFIG_HOME", xdg),
        ("%LOCALAPPDATA%", local),
        ("%APPDATA%", roaming),
    ):
        if text.startswith(name):
            text = value + text[len(name) :]
    if text.startswith("~"):
        text = str(home) + text[1:]
    if "*" in text:
        return sorted(Path(p) for p in glob.glob(text))
    return [Path(text)]


def _access_problem(path: Path, sandbox: str | None, browser: str, system: str) -> str | None:
    """Why the app may not read ``path``, and what the user can do; None if it may."""
    try:
        if path.is_dir():
            with os.scandir(path) as entries:
                next(entries, None)
        else:
            with open(path, "rb"):
                pass
    except PermissionError:
        pass
    except OSError:
        return None
    else:
        return None
    if browser == "safari":
        return (
            "macOS protects Safari's cookies: give Privacy Inspector Full Disk Access in "
            "System Settings > Privacy & Security > Full Disk Access, then scan again"
        )
    if Path("/.flatpak-info").exists():
        return (
            f"this copy of Privacy Inspector runs in a Flatpak sandbox that cannot see {path}; "
            f"allow it with: flatpak override --user --filesystem={path} {APP_ID} "
            "(read-write, so that deleting and blocking work too)"
        )
    if sandbox == "snap":
        return f"{path} belongs to a Snap package and is not readable by this user"
    if system == WINDOWS:
        return f"{path} cannot be opened: close {browser} and scan again"
    return f"{path} is not readable by this user (permission denied)"


def _chromium_profiles(root: Path, browser: str, sandbox: str | None, system: str) -> list[Profile]:
    problem = _access_problem(root, sandbox, browser, system)
    if problem:
        return [Profile(root, browser, Engine.CHROMIUM, root.name, root=root, problem=problem)]
    local_state = root / "Local State"
    folders: dict[str, str] = {}
    last_used = None
    try:
        state = json.loads(local_state.read_text(encoding="utf-8"))
        info = state.get("profile", {})
        cache = info.get("info_cache", {})
        if isinstance(cache, dict):
            for folder, meta in cache.items():
                name = meta.get("name") if isinstance(meta, dict) else None
                folders[folder] = name or folder
        last_used = info.get("last_used")
    except (OSError, ValueError, AttributeError):
        # No usable Local State: fall back to the folders Chromium names itself.
        for child in sorted(root.glob("Profile *")) + [root / "Default"]:
            if child.is_dir():
                folders[child.name] = child.name
    profiles = []
    for folder, display in folders.items():
        path = root / folder
        if not path.is_dir():
            continue
        profiles.append(
            Profile(
                path, browser, Engine.CHROMIUM, display, root=root,
                default=(folder == (last_used or "Default")),
            )
        )
    # Opera keeps a single profile in the user-data folder itself.
    if not profiles and ((root / "Cookies").is_file() or (root / "Network" / "Cookies").is_file()):
        profiles.append(Profile(root, browser, Engine.CHROMIUM, root.name, root=root, default=True))
    return profiles


def read_profiles_ini(root: Path) -> list[tuple[Path, str, bool]]:
    """(folder, name, is default) for every profile that ``profiles.ini`` lists.

    ``[Install…]`` sections name the default profile of each installation and
    win over ``Default=1``; there may be several of them.
    """
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(root / "profiles.ini", encoding="utf-8")
    install_defaults = {
        parser[s].get("Default", "").replace("\\", "/")
        for s in parser.sections()
        if s.startswith("Install")
    }
    install_defaults.discard("")
    found = []
    for section in parser.sections():
        if not section.startswith("Profile"):
            continue
        sec = parser[section]
        rel = sec.get("Path", "").replace("\\", "/")
        if not rel:
            continue
        relative = sec.get("IsRelative", "1") != "0"
        folder = (root / rel) if relative else Path(rel)
        if install_defaults:
            is_default = rel in install_defaults or str(folder) in install_defaults
        else:
            is_default = sec.get("Default", "0") == "1"
        found.append((folder, sec.get("Name", folder.name), is_default))
    return found


def _firefox_profiles(root: Path, browser: str, sandbox: str | None, system: str) -> list[Profile]:
    problem = _access_problem(root, sandbox, browser, system)
    if problem:
        return [Profile(root, browser, Engine.FIREFOX, root.name, root=root, problem=problem)]
    try:
        listed = read_profiles_ini(root)
    except (OSError, configparser.Error, UnicodeDecodeError):
        listed = [(p.parent, p.parent.name, False) for p in sorted(root.glob("*/prefs.js"))]
    profiles = []
    for folder, name, is_default in listed:
        if folder.is_dir():
            profiles.append(Profile(folder, browser, Engine.FIREFOX, name, root=root, default=is_default))
    return profiles


def _from_location(loc: Location, path: Path, system: str) -> list[Profile]:
    if loc.engine == Engine.CHROMIUM:
        if (path / "Local State").is_file() or path.is_dir():
            return _chromium_profiles(path, loc.browser, loc.sandbox, system)
    elif loc.engine == Engine.FIREFOX:
        if (path / "profiles.ini").is_file():
            return _firefox_profiles(path, loc.browser, loc.sandbox, system)
    elif loc.engine == Engine.SAFARI and path.exists():
        problem = _access_problem(path, None, "safari", system)
        return [Profile(path, "safari", Engine.SAFARI, "Safari", problem=problem, default=True)]
    return []


def discover(
    home: Path | None = None,
    system: str | None = None,
    env: Mapping[str, str] | None = None,
    browsers: Iterable[str] | None = None,
) -> list[Profile]:
    """Every profile of every known browser under ``home`` on ``system``."""
    home = Path.home() if home is None else home
    system = current_system() if system is None else system
    env = os.environ if env is None else env
    wanted = set(browsers) if browsers else None
    seen: set[Path] = set()
    profiles: list[Profile] = []
    for loc in locations.ALL_LOCATIONS:
        if loc.system != system or (wanted is not None and loc.browser not in wanted):
            continue
        for path in expand(loc.template, home, env):
            if not path.exists():
                continue
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            profiles.extend(_from_location(loc, path, system))
    return profiles


def browser_for(path: Path, engine: str, home: Path | None = None,
                system: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The browser whose install location holds ``path``; else the engine's own name."""
    home = Path.home() if home is None else home
    system = current_system() if system is None else system
    env = os.environ if env is None else env
    real = path.resolve()
    for loc in locations.ALL_LOCATIONS:
        if loc.system != system or loc.engine != engine:
            continue
        for root in expand(loc.template, home, env):
            try:
                if real == root.resolve() or real.is_relative_to(root.resolve()):
                    return loc.browser
            except OSError:
                continue
    return "chromium" if engine == Engine.CHROMIUM else engine


def _looks_chromium_profile(path: Path) -> bool:
    return any(
        (path / name).exists()
        for name in ("Cookies", "Network/Cookies", "Preferences", "Local Storage", "IndexedDB")
    )


def _looks_firefox_profile(path: Path) -> bool:
    return any(
        (path / name).exists()
        for name in ("cookies.sqlite", "prefs.js", "times.json", "sessionstore.jsonlz4", "storage")
    )


def resolve(path: Path) -> list[Profile]:
    """The profiles a ``--profile PATH`` names; ProfileError if it names none."""
    path = path.expanduser()
    if not path.exists():
        raise ProfileError("no such file or folder")
    path = path.absolute()
    system = current_system()
    if path.is_file():
        if path.name.endswith(".binarycookies"):
            return [Profile(path, "safari", Engine.SAFARI, "Safari")]
        if path.name in ("Cookies", "cookies.sqlite"):
            return resolve(path.parent if path.parent.name != "Network" else path.parent.parent)
        raise ProfileError("not a browser profile (a file the app does not know)")
    if (path / "Local State").is_file():
        browser = browser_for(path, Engine.CHROMIUM)
        profiles = _chromium_profiles(path, browser, None, system)
        if not profiles:
            raise ProfileError("a Chromium user-data folder with no profiles in it")
        return profiles
    if (path / "profiles.ini").is_file():
        browser = browser_for(path, Engine.FIREFOX)
        profiles = _firefox_profiles(path, browser, None, system)
        if not profiles:
            raise ProfileError("a Firefox profiles folder with no profiles in it")
        return profiles
    if _looks_chromium_profile(path):
        parent = path.parent
        root = parent if (parent / "Local State").is_file() else None
        name = path.name
        if root is not None:
            name = next((p.name for p in _chromium_profiles(root, "chromium", None, system)
                         if p.path == path), path.name)
        browser = browser_for(path, Engine.CHROMIUM)
        return [Profile(path, browser, Engine.CHROMIUM, name, root=root)]
    if _looks_firefox_profile(path):
        # profiles.ini sits beside the profile or above a Profiles/ folder.
        root = next((p for p in (path.parent, path.parent.parent) if (p / "profiles.ini").is_file()),
                    None)
        browser = browser_for(path, Engine.FIREFOX)
        return [Profile(path, browser, Engine.FIREFOX, path.name, root=root)]
    raise ProfileError(
        "not a browser profile (no Cookies, cookies.sqlite, Local State or profiles.ini in it)"
    )
