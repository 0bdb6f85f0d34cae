"""pytest fixtures for real-browser tests.

Register with ``pytest_plugins = ["tests.harness.fixtures"]`` in
``tests/conftest.py``.  Session-scoped:

* ``fake_site`` -- the CA and the local HTTPS fake web (:class:`~.site.Site`).
* ``chromium_profile`` -- a Chromium user-data dir that visited LiveOps (with
  its trackers) and the unrelated news site, third-party cookies allowed.
* ``chromium_profile_default_settings`` -- the same visits on a profile with
  Chromium's own default (third-party cookies blocked in 156).
* ``firefox_profile`` -- a Firefox profile that made the same visits.

``pages_fixture(route)`` makes a module's own fixture for its extra pages.

These are shared: read them (through copies), never modify them.  Tests that
change a profile use the function-scoped factories ``make_chromium_profile``
and ``make_firefox_profile``, which build a fresh one in ``tmp_path``.

A missing browser skips the tests that need it, except when ``CI`` is set, where
it is an error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .chromium import CHROMIUM_BINARY, PageResult, running_chromium, visit_chromium
from .firefox import FIREFOX_BINARY, running_firefox, visit_firefox
from .site import (
    DEFAULT_VISIT,
    ExpectedCookie,
    Pages,
    Resource,
    Route,
    Site,
    expected_cookies,
    serve_pages,
    start_site,
)


def pages_fixture(route: Route):
    """A function-scoped fixture that serves ``route`` with :func:`~.site.serve_pages`
    (with the fake web's certificate) while a test runs; in a test module:
    ``pages = pages_fixture(_route)``."""

    @pytest.fixture
    def pages(fake_site: Site) -> Iterator[Pages]:
        with serve_pages(fake_site.certs, route) as served:
            yield served

    return pages


def _require(binary: str, what: str) -> None:
    if os.path.isfile(binary) and os.access(binary, os.X_OK):
        return
    if shutil.which(binary):
        return
    # Never a skip: a missing browser is an environment to fix, not a test to drop.
    pytest.fail(
        f"{what} not found at {binary!r}: run tests/run as root, which installs "
        "chromium, firefox-esr and libnss3-tools"
    )


def _urls(site: Site, pages: Sequence[Resource | str]) -> list[str]:
    return [p if isinstance(p, str) and "://" in p else site.url(p) for p in pages]


@dataclass
class ChromiumProfile:
    """A Chromium user-data dir written by the real browser."""

    site: Site
    user_data_dir: Path
    allow_third_party_cookies: bool | None
    visited: tuple[str, ...] = ()  # page ids (or URLs) in visiting order
    results: list[PageResult] = field(default_factory=list)

    @property
    def profile_dir(self) -> Path:
        """The ``Default`` profile folder."""
        return self.user_data_dir / "Default"

    @property
    def cookies_db(self) -> Path:
        return self.profile_dir / "Cookies"

    def expected_cookies(self) -> tuple[ExpectedCookie, ...]:
        pages = [p for p in self.visited if "://" not in p]
        return expected_cookies(
            "chromium", pages, allow_third_party_cookies=self.allow_third_party_cookies is True
        )

    def visit(self, pages: Sequence[Resource | str], **kw) -> list[PageResult]:
        """Start Chromium on this profile again, visit ``pages`` (Resources, ids or URLs), close."""
        kw.setdefault("allow_third_party_cookies", self.allow_third_party_cookies)
        results = visit_chromium(self.user_data_dir, _urls(self.site, pages), site=self.site, **kw)
        self.visited += _ids(pages)
        self.results.extend(results)
        return results

    @contextmanager
    def running(self, pages: Sequence[Resource | str] = (), **kw) -> Iterator:
        """Chromium running on this profile for the duration of the block."""
        kw.setdefault("allow_third_party_cookies", self.allow_third_party_cookies)
        self.visited += _ids(pages)
        with running_chromium(
            self.user_data_dir, _urls(self.site, pages), site=self.site, **kw
        ) as browser:
            yield browser


@dataclass
class FirefoxProfile:
    """A Firefox profile folder written by the real browser."""

    site: Site
    profile_dir: Path
    visited: tuple[str, ...] = ()
    results: list[PageResult] = field(default_factory=list)

    @property
    def cookies_db(self) -> Path:
        return self.profile_dir / "cookies.sqlite"

    @property
    def sessionstore(self) -> Path:
        return self.profile_dir / "sessionstore.jsonlz4"

    def expected_cookies(self) -> tuple[ExpectedCookie, ...]:
        return expected_cookies("firefox", [p for p in self.visited if "://" not in p])

    def visit(self, pages: Sequence[Resource | str], **kw) -> list[PageResult]:
        results = visit_firefox(self.profile_dir, _urls(self.site, pages), site=self.site, **kw)
        self.visited += _ids(pages)
        self.results.extend(results)
        return results

    @contextmanager
    def running(self, pages: Sequence[Resource | str] = (), **kw) -> Iterator:
        """Firefox running on this profile for the duration of the block."""
        self.visited += _ids(pages)
        with running_firefox(
            self.profile_dir, _urls(self.site, pages), site=self.site, **kw
        ) as browser:
            yield browser


def _ids(pages: Sequence[Resource | str]) -> tuple[str, ...]:
    return tuple(p.id if isinstance(p, Resource) else p for p in pages)


def new_chromium_profile(
    site: Site,
    user_data_dir: Path,
    pages: Sequence[Resource | str] = DEFAULT_VISIT,
    *,
    allow_third_party_cookies: bool | None = True,
    **kw,
) -> ChromiumProfile:
    _require(str(CHROMIUM_BINARY), "Chromium")
    profile = ChromiumProfile(site, Path(user_data_dir), allow_third_party_cookies, _ids(pages))
    profile.results = visit_chromium(
        profile.user_data_dir,
        _urls(site, pages),
        site=site,
        allow_third_party_cookies=allow_third_party_cookies,
        **kw,
    )
    return profile


def new_firefox_profile(
    site: Site,
    profile_dir: Path,
    pages: Sequence[Resource | str] = DEFAULT_VISIT,
    *,
    prefs: Mapping[str, object] | None = None,
    **kw,
) -> FirefoxProfile:
    _require(str(FIREFOX_BINARY), "Firefox ESR")
    profile = FirefoxProfile(site, Path(profile_dir), _ids(pages))
    profile.results = visit_firefox(
        profile.profile_dir, _urls(site, pages), site=site, prefs=prefs, **kw
    )
    return profile


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The local HTTPS fake web, with its CA; one per test session."""
    with start_site(tmp_path_factory.mktemp("fake-web")) as site:
        yield site


@pytest.fixture(scope="session")
def chromium_profile(fake_site: Site, tmp_path_factory) -> ChromiumProfile:
    """Chromium, third-party cookies allowed, after LiveOps and the news site. Read-only."""
    return new_chromium_profile(fake_site, tmp_path_factory.mktemp("chromium") / "user-data")


@pytest.fixture(scope="session")
def chromium_profile_default_settings(fake_site: Site, tmp_path_factory) -> ChromiumProfile:
    """Chromium with its default cookie settings (156: third-party cookies blocked). Read-only."""
    return new_chromium_profile(
        fake_site,
        tmp_path_factory.mktemp("chromium-default") / "user-data",
        allow_third_party_cookies=None,
    )


@pytest.fixture(scope="session")
def firefox_profile(fake_site: Site, tmp_path_factory) -> FirefoxProfile:
    """Firefox ESR after LiveOps and the news site. Read-only."""
    return new_firefox_profile(fake_site, tmp_path_factory.mktemp("firefox") / "profile")


@pytest.fixture
def make_chromium_profile(fake_site: Site, tmp_path: Path) -> Callable[..., ChromiumProfile]:
    """``make_chromium_profile(pages=DEFAULT_VISIT, *, allow_third_party_cookies=True)``:
    a fresh Chromium user-data dir in ``tmp_path`` that visited ``pages``
    (Resources, page ids or URLs; ``()`` = never started)."""
    count = 0

    def make(pages: Sequence[Resource | str] = DEFAULT_VISIT, **kw) -> ChromiumProfile:
        nonlocal count
        count += 1
        user_data_dir = tmp_path / f"chromium-{count}"
        if not pages:
            _require(str(CHROMIUM_BINARY), "Chromium")
            return ChromiumProfile(
                fake_site, user_data_dir, kw.get("allow_third_party_cookies", True)
            )
        return new_chromium_profile(fake_site, user_data_dir, pages, **kw)

    return make


@pytest.fixture
def make_firefox_profile(fake_site: Site, tmp_path: Path) -> Callable[..., FirefoxProfile]:
    """``make_firefox_profile(pages=DEFAULT_VISIT, *, prefs=None)``: a fresh Firefox
    profile in ``tmp_path`` that visited ``pages`` (``()`` = never started)."""
    count = 0

    def make(pages: Sequence[Resource | str] = DEFAULT_VISIT, **kw) -> FirefoxProfile:
        nonlocal count
        count += 1
        profile_dir = tmp_path / f"firefox-{count}"
        if not pages:
            _require(str(FIREFOX_BINARY), "Firefox ESR")
            return FirefoxProfile(fake_site, profile_dir)
        return new_firefox_profile(fake_site, profile_dir, pages, **kw)

    return make
