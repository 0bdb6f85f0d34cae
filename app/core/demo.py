"""The bundled demo profiles, used through a private copy in the data folder.

The first use copies ``resources/demo`` to ``<data-dir>/demo``; later runs use
that copy, so a scan and a later command see the same data, and nothing
shipped is ever modified.  ``reset`` copies them afresh.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from privacy_inspector import bundled, paths
from privacy_inspector.core.records import Profile
from privacy_inspector.platform import discovery

DEMO_FOLDER = "demo"
# What the demo holds, relative to its folder: (path, browser).
DEMO_ROOTS = (("chromium", "chromium"), ("firefox", "firefox"))


def ensure_copy(data_dir: Path, reset: bool = False) -> Path:
    target = data_dir / DEMO_FOLDER
    if reset and target.exists():
        shutil.rmtree(target)
    if not target.exists():
        staging = data_dir / f".{DEMO_FOLDER}.partial"
        if staging.exists():
            shutil.rmtree(staging)
        bundled.copy_tree(bundled.path(DEMO_FOLDER), staging)
        paths.make_tree_private(staging)
        staging.rename(target)
    return target


def demo_profiles(data_dir: Path, reset: bool = False) -> list[Profile]:
    folder = ensure_copy(data_dir, reset)
    profiles: list[Profile] = []
    for rel, browser in DEMO_ROOTS:
        for profile in discovery.resolve(folder / rel):
            profiles.append(
                Profile(profile.path, browser, profile.engine, f"Demo {profile.name}",
                        root=profile.root, default=profile.default)
            )
    return profiles
