"""Drive Debian's Chromium (headless) over the DevTools protocol on a given user-data dir.

The browser gets a private HOME whose ``.pki/nssdb`` trusts the test CA (no
``--ignore-certificate-errors``), every host name resolves to 127.0.0.1
(``--host-resolver-rules``), and background networking is off.  It is closed
with DevTools ``Browser.close``: Chromium writes its cookies to disk only at a
clean shutdown in a short session.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ._process import BrowserError, BrowserProcess, JsonWebSocket, browser_env
from .ca import ca_fingerprint, import_ca_into_nssdb
from .site import Site

CHROMIUM_BINARY = os.environ.get("PI_TEST_CHROMIUM", "/usr/lib/chromium/chromium")
PROFILE_NAME = "Default"

# profile.cookie_controls_mode (CookieControlsMode): 0 = off (allow third-party
# cookies), 1 = block third-party cookies, 2 = block them in Incognito only.
COOKIE_CONTROLS_ALLOW = 0
COOKIE_CONTROLS_BLOCK = 1

# Waits are doubled on CI, whose machine may be busier than a developer's.
_SCALE = 2.0 if os.environ.get("CI") else 1.0
START_TIMEOUT = 30.0 * _SCALE
PAGE_TIMEOUT = 30.0 * _SCALE
CLOSE_TIMEOUT = 30.0 * _SCALE

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-features=Translate,OptimizationHints,OptimizationHintsFetching,"
    "OptimizationGuideModelDownloading,MediaRouter,DialMediaRouteProvider,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,"
    "InterestFeedContentSuggestions,NetworkTimeServiceQuerying,SafeBrowsingEnhancedProtection",
    "--disable-field-trial-config",
    "--no-service-autorun",
    "--metrics-recording-only",
    "--no-pings",
    "--no-proxy-server",
    "--password-store=basic",  # v10 cookie values with the well-known key
    "--host-resolver-rules=MAP * 127.0.0.1",
    "--remote-debugging-port=0",
)


@dataclass(frozen=True)
class PageResult:
    """What a visited page reported (``window.__harness``)."""

    url: str
    title: str
    errors: tuple[str, ...]
    report: dict
    frames: dict
    seconds: float


def seed_preferences(profile_dir: Path, allow_third_party_cookies: bool | None) -> None:
    """Set ``profile.cookie_controls_mode`` in ``<profile>/Preferences`` (browser closed).

    ``None`` leaves the file alone (a fresh profile then has Chromium's default,
    which in 156 blocks third-party cookies).
    """
    if allow_third_party_cookies is None:
        return
    profile_dir.mkdir(parents=True, exist_ok=True)
    path = profile_dir / "Preferences"
    prefs = json.loads(path.read_text("utf-8")) if path.exists() else {}
    mode = COOKIE_CONTROLS_ALLOW if allow_third_party_cookies else COOKIE_CONTROLS_BLOCK
    prefs.setdefault("profile", {})["cookie_controls_mode"] = mode
    path.write_text(json.dumps(prefs), "utf-8")


def chromium_home(site: Site) -> Path:
    """A HOME whose NSS database (``.pki/nssdb``) trusts the site's CA."""
    home = site.home_dir / "chromium"
    marker = home / ".pki" / "nssdb" / ".pi-test-ca"
    fingerprint = ca_fingerprint(site.certs.ca_cert)
    if not marker.exists() or marker.read_text() != fingerprint:
        import_ca_into_nssdb(home / ".pki" / "nssdb", site.certs.ca_cert)
        marker.write_text(fingerprint)
    return home


def is_profile_locked(user_data_dir: str | Path) -> bool:
    """True if ``SingletonLock`` points at a live process on this host."""
    link = Path(user_data_dir) / "SingletonLock"
    try:
        target = os.readlink(link)
    except OSError:
        return False
    host, _, pid = target.rpartition("-")
    if host != os.uname().nodename or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Chromium:
    """One running Chromium.  Prefer :func:`visit_chromium` / :func:`running_chromium`."""

    def __init__(
        self,
        user_data_dir: str | Path,
        *,
        site: Site,
        allow_third_party_cookies: bool | None = True,
        extra_args: Sequence[str] = (),
    ):
        self.user_data_dir = Path(user_data_dir).resolve()
        self.profile_dir = self.user_data_dir / PROFILE_NAME
        self.site = site
        self.allow_third_party_cookies = allow_third_party_cookies
        self.extra_args = tuple(extra_args)
        self.proc: BrowserProcess | None = None
        self.cdp: JsonWebSocket | None = None
        self.session_id: str | None = None
        self.results: list[PageResult] = []  # of the urls given to running_chromium

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = START_TIMEOUT) -> Chromium:
        if is_profile_locked(self.user_data_dir):
            raise BrowserError(
                f"{self.user_data_dir} is in use by another Chromium (SingletonLock)"
            )
        self.user_data_dir.mkdir(parents=True, exist_ok=True)
        seed_preferences(self.profile_dir, self.allow_third_party_cookies)
        port_file = self.user_data_dir / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        home = chromium_home(self.site)
        cmd = [
            CHROMIUM_BINARY,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.user_data_dir}",
            *self.extra_args,
            "about:blank",
        ]
        self.proc = BrowserProcess("chromium", cmd, browser_env(home), self.site.work_dir / "logs")
        try:

            def endpoint():
                try:
                    lines = port_file.read_text().split()
                except OSError:
                    return None
                return lines if len(lines) >= 2 else None

            port, path = self.proc.wait_for("DevToolsActivePort", endpoint, timeout)
            self.cdp = JsonWebSocket(f"ws://127.0.0.1:{port}{path}", self.proc)
            pages = self.proc.wait_for(
                "a page target",
                lambda: [
                    t
                    for t in self.cdp.send("Target.getTargets")["targetInfos"]
                    if t["type"] == "page"
                ],
                timeout,
                interval=0.1,
            )
            self.session_id = self.cdp.send(
                "Target.attachToTarget", {"targetId": pages[0]["targetId"], "flatten": True}
            )["sessionId"]
        except BaseException:
            self.kill()
            raise
        return self

    def evaluate(self, expression: str, timeout: float = 10):
        result = self.cdp.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session_id=self.session_id,
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise self.proc.error(f"script failed: {json.dumps(result['exceptionDetails'])[:500]}")
        return result["result"].get("value")

    def new_tab(self) -> None:
        """Open a blank tab and make it the one :meth:`visit` drives."""
        target = self.cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session_id = self.cdp.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]

    def visit(
        self, url: str, *, timeout: float = PAGE_TIMEOUT, check_errors: bool = True
    ) -> PageResult:
        """Load ``url`` and wait until the page says it is done (title ``done``)."""
        t0 = time.monotonic()
        nonce = uuid.uuid4().hex
        self.evaluate(f"window.__harnessOldPage = {json.dumps(nonce)}")
        nav = self.cdp.send(
            "Page.navigate", {"url": url}, session_id=self.session_id, timeout=timeout
        )
        if nav.get("errorText"):
            raise self.proc.error(f"cannot load {url}: {nav['errorText']}")
        probe = (
            f"window.__harnessOldPage === {json.dumps(nonce)} ? null : "
            "(document.title.startsWith('done') ? document.title : null)"
        )

        def finished():
            try:
                return self.evaluate(probe, timeout=5)
            except BrowserError as e:
                # A navigation can destroy the context mid-call; retry.
                if "context" in str(e).lower() or "navigat" in str(e).lower():
                    return None
                raise

        try:
            title = self.proc.wait_for(f"{url} to finish", finished, timeout, interval=0.05)
        except BrowserError as e:
            state = self._page_state()
            raise BrowserError(f"{e}\n--- page state ---\n{state}") from None
        return _page_result(
            url,
            title,
            self.evaluate("JSON.stringify(window.__harness)"),
            time.monotonic() - t0,
            check_errors,
        )

    def _page_state(self) -> str:
        try:
            return str(
                self.evaluate(
                    "JSON.stringify({url: location.href, title: document.title, h: window.__harness})",
                    timeout=3,
                )
            )
        except Exception as e:  # noqa: BLE001
            return f"(unavailable: {e!r})"

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close cleanly (``Browser.close``) and wait for the process to exit."""
        if self.proc is None:
            return
        proc = self.proc
        try:
            if proc.running and self.cdp is not None:
                try:
                    self.cdp.send("Browser.close", timeout=timeout)
                except BrowserError:
                    pass  # the connection may drop before the answer
            if not proc.wait_exit(timeout):
                err = proc.error(
                    f"did not exit within {timeout:.0f} s of Browser.close; killed "
                    "(its cookies are probably not on disk)"
                )
                proc.kill()
                raise err
        finally:
            if self.cdp is not None:
                self.cdp.close()
            self.cdp = None
            self.proc = None

    def kill(self) -> None:
        """End the browser at once (no clean shutdown)."""
        if self.cdp is not None:
            self.cdp.close()
            self.cdp = None
        if self.proc is not None:
            self.proc.kill()
            self.proc = None


def _page_result(url, title, raw, seconds, check_errors) -> PageResult:
    h = json.loads(raw) if raw else {}
    result = PageResult(
        url, title, tuple(h.get("errors", ())), h.get("report", {}), h.get("frames", {}), seconds
    )
    if check_errors and result.errors:
        raise BrowserError(f"{url} reported errors: {list(result.errors)}")
    return result


@contextmanager
def running_chromium(
    user_data_dir: str | Path,
    urls: Sequence[str] = (),
    *,
    site: Site,
    allow_third_party_cookies: bool | None = True,
    extra_args: Sequence[str] = (),
    check_errors: bool = True,
    tab_per_url: bool = True,
) -> Iterator[Chromium]:
    """Start Chromium on ``user_data_dir``, visit ``urls``, and keep it running in the block.

    While the block runs, ``<user_data_dir>/SingletonLock`` points at the
    browser.  On leaving, the browser is closed cleanly (or killed if that fails).
    """
    browser = Chromium(
        user_data_dir,
        site=site,
        allow_third_party_cookies=allow_third_party_cookies,
        extra_args=extra_args,
    )
    browser.start()
    try:
        for i, url in enumerate(urls):
            if i and tab_per_url:
                browser.new_tab()
            browser.results.append(browser.visit(url, check_errors=check_errors))
        yield browser
    finally:
        try:
            browser.close()
        except BaseException:
            browser.kill()
            raise


def visit_chromium(
    user_data_dir: str | Path,
    urls: Sequence[str],
    *,
    site: Site,
    allow_third_party_cookies: bool | None = True,
    extra_args: Sequence[str] = (),
    check_errors: bool = True,
    tab_per_url: bool = True,
) -> list[PageResult]:
    """Start Chromium on ``user_data_dir`` (new or existing), visit ``urls`` in order, close it.

    ``allow_third_party_cookies``: ``True`` seeds ``profile.cookie_controls_mode``
    0 in ``Default/Preferences``, ``False`` seeds 1 (block), ``None`` leaves the
    profile as it is.  Each URL after the first opens in a new tab
    (``tab_per_url``).  Returns what each page reported; raises
    :class:`BrowserError` (with the browser's output) on any failure or timeout.
    """
    with running_chromium(
        user_data_dir,
        urls,
        site=site,
        allow_third_party_cookies=allow_third_party_cookies,
        extra_args=extra_args,
        check_errors=check_errors,
        tab_per_url=tab_per_url,
    ) as browser:
        results = browser.results
    return results
