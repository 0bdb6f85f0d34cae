"""Where each browser keeps its profiles, per operating system.

This is data: discovery expands these templates against a home folder and an
environment, so tests can point it at fake homes for all three systems.
``~`` is the home folder, ``$XDG_CONFIG_HOME`` defaults to ``~/.config``,
``%LOCALAPPDATA%`` to ``~/AppData/Local`` and ``%APPDATA%`` to
``~/AppData/Roaming``.  A ``*`` is a glob (Snap keeps one folder per revision).
"""

from __future__ import annotations

from typing import NamedTuple

LINUX = "linux"
MACOS = "macos"
WINDOWS = "windows"

MAC_SUPPORT = "~/Library/Application Support"


class Location(NamedTuple):
    browser: str
    engine: str
    system: str
    template: str
    # "flatpak" or "snap" where the browser runs in that sandbox, else None.
    sandbox: str | None = None


def _rows(browser: str, engine: str, linux: list[str], flatpak: list[str], snap: list[str],
          macos: list[str], windows: list[str]) -> list[Location]:
    rows = [Location(browser, engine, LINUX, t) for t in linux]
    rows += [Location(browser, engine, LINUX, t, "flatpak") for t in flatpak]
    rows += [Location(browser, engine, LINUX, t, "snap") for t in snap]
    rows += [Location(browser, engine, MACOS, f"{MAC_SUPPORT}/{t}") for t in macos]
    rows += [Location(browser, engine, WINDOWS, t) for t in windows]
    return rows


def _chromium(browser: str, **paths: list[str]) -> list[Location]:
    return _rows(browser, "chromium", **paths)


def _firefox(browser: str, **paths: list[str]) -> list[Location]:
    return _rows(browser, "firefox", **paths)


# Chromium family: user-data folders (the ones holding ``Local State``).
CHROMIUM_ROOTS: list[Location] = [
    *_chromium(
        "chrome",
        linux=["$XDG_CONFIG_HOME/google-chrome", "$XDG_CONFIG_HOME/google-chrome-beta",
               "$XDG_CONFIG_HOME/google-chrome-unstable"],
        flatpak=["~/.var/app/com.google.Chrome/config/google-chrome"],
        snap=[],
        macos=["Google/Chrome", "Google/Chrome Beta", "Google/Chrome Canary"],
        windows=["%LOCALAPPDATA%/Google/Chrome/User Data",
                 "%LOCALAPPDATA%/Google/Chrome Beta/User Data",
                 "%LOCALAPPDATA%/Google/Chrome SxS/User Data"],
    ),
    *_chromium(
        "chromium",
        linux=["$XDG_CONFIG_HOME/chromium"],
        flatpak=["~/.var/app/org.chromium.Chromium/config/chromium"],
        snap=["~/snap/chromium/common/chromium"],
        macos=["Chromium"],
        windows=["%LOCALAPPDATA%/Chromium/User Data"],
    ),
    *_chromium(
        "edge",
        linux=["$XDG_CONFIG_HOME/microsoft-edge", "$XDG_CONFIG_HOME/microsoft-edge-beta",
               "$XDG_CONFIG_HOME/microsoft-edge-dev"],
        flatpak=["~/.var/app/com.microsoft.Edge/config/microsoft-edge"],
        snap=[],
        macos=["Microsoft Edge", "Microsoft Edge Beta"],
        windows=["%LOCALAPPDATA%/Microsoft/Edge/User Data",
                 "%LOCALAPPDATA%/Microsoft/Edge Beta/User Data"],
    ),
    *_chromium(
        "brave",
        linux=["$XDG_CONFIG_HOME/BraveSoftware/Brave-Browser"],
        flatpak=["~/.var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser"],
        snap=["~/snap/brave/*/.config/BraveSoftware/Brave-Browser"],
        macos=["BraveSoftware/Brave-Browser"],
        windows=["%LOCALAPPDATA%/BraveSoftware/Brave-Browser/User Data"],
    ),
    *_chromium(
        "opera",
        linux=["$XDG_CONFIG_HOME/opera", "$XDG_CONFIG_HOME/opera-beta",
               "$XDG_CONFIG_HOME/opera-developer"],
        flatpak=["~/.var/app/com.opera.Opera/config/opera"],
        snap=["~/snap/opera/*/.config/opera"],
        macos=["com.operasoftware.Opera", "com.operasoftware.OperaGX"],
        windows=["%APPDATA%/Opera Software/Opera Stable",
                 "%APPDATA%/Opera Software/Opera GX Stable"],
    ),
    *_chromium(
        "vivaldi",
        linux=["$XDG_CONFIG_HOME/vivaldi", "$XDG_CONFIG_HOME/vivaldi-snapshot"],
        flatpak=["~/.var/app/com.vivaldi.Vivaldi/config/vivaldi"],
        snap=[],
        macos=["Vivaldi"],
        windows=["%LOCALAPPDATA%/Vivaldi/User Data"],
    ),
]

# Firefox family: profile roots (the ones holding ``profiles.ini``).
FIREFOX_ROOTS: list[Location] = [
    *_firefox(
        "firefox",
        linux=["~/.mozilla/firefox", "$XDG_CONFIG_HOME/mozilla/firefox"],
        flatpak=["~/.var/app/org.mozilla.firefox/.mozilla/firefox",
                 "~/.var/app/org.mozilla.firefox/config/mozilla/firefox"],
        snap=["~/snap/firefox/common/.mozilla/firefox"],
        macos=["Firefox"],
        windows=["%APPDATA%/Mozilla/Firefox",
                 "%LOCALAPPDATA%/Packages/Mozilla.Firefox_n80bbvh6b1yt2/LocalCache/Roaming/Mozilla/Firefox"],
    ),
    *_firefox(
        "librewolf",
        linux=["~/.librewolf", "$XDG_CONFIG_HOME/librewolf/librewolf"],
        flatpak=["~/.var/app/io.gitlab.librewolf-community/.librewolf"],
        snap=["~/snap/librewolf/common/.librewolf"],
        macos=["librewolf"],
        windows=["%APPDATA%/librewolf"],
    ),
    *_firefox(
        "waterfox",
        linux=["~/.waterfox"],
        flatpak=["~/.var/app/net.waterfox.waterfox/.waterfox"],
        snap=[],
        macos=["Waterfox"],
        windows=["%APPDATA%/Waterfox"],
    ),
]

# Safari: the cookie file itself (read-only in this app).
SAFARI_FILES: list[Location] = [
    Location("safari", "safari", MACOS,
             "~/Library/Containers/com.apple.Safari/Data/Library/Cookies/Cookies.binarycookies"),
    Location("safari", "safari", MACOS, "~/Library/Cookies/Cookies.binarycookies"),
]

ALL_LOCATIONS: list[Location] = CHROMIUM_ROOTS + FIREFOX_ROOTS + SAFARI_FILES

BROWSERS = ("chrome", "chromium", "edge", "brave", "opera", "vivaldi",
            "firefox", "librewolf", "waterfox", "safari")
