"""``watch`` follows a real browser while it visits LiveOps.

The CLI runs as a subprocess (``watch --format jsonl``) on a profile that
already exists (it visited the news site before); then the real browser
starts on the same profile and visits LiveOps, and the test waits, with a
generous bound, until the lines of LiveOps' cookies and localStorage and of
its trackers' cookies appear.

Firefox writes cookies to ``cookies.sqlite`` at once, localStorage about
5 s later and session cookies with the session (every 15 s), so everything
shows while it runs.  Chromium keeps cookies in
memory for up to 30 s: its localStorage must show while it runs, and its
cookies show once it is closed (which flushes them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.harness.site import EXAMPLE_NEWS_HOME, LIVEOPS_HOME

pytestmark = pytest.mark.real_browser

OWNER_COOKIES = {"lo_host", "lo_domain", "lo_strict", "lo_nosamesite", "lo_script", "lo_account"}
TRACKER_COOKIES = {"IDE", "_ga", "fr"}
OWNER_STORAGE = {"lo_ls_theme", "lo_ls_visitor"}
BOUND = 60  # seconds: generous, the browsers need about 5 (Firefox) and 30 (Chromium)


class Watch:
    """``privacy_inspector watch --format jsonl`` on one profile, its lines collected."""

    def __init__(self, profile_dir: Path, data_dir: Path, timeout: float = 90) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "privacy_inspector", "watch", "--format", "jsonl",
             "--profile", str(profile_dir), "--data-dir", str(data_dir),
             "--timeout", str(timeout), "--interval", "0.5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.events: list[tuple[float, dict]] = []
        self.stderr: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_out(self) -> None:
        for line in self.proc.stdout:
            with self._lock:
                self.events.append((time.monotonic(), json.loads(line)))

    def _read_err(self) -> None:
        for line in self.proc.stderr:
            with self._lock:
                self.stderr.append(line)

    def wait_started(self, bound: float = 30) -> None:
        self._wait(lambda: any(line.startswith("watching") for line in self.stderr), bound,
                   lambda: "that it started")

    def seen(self, event: str = "added") -> dict[tuple[str, str], float]:
        """(kind, name) -> when first reported, for events of ``event``."""
        with self._lock:
            out: dict[tuple[str, str], float] = {}
            for at, e in self.events:
                if e["event"] == event:
                    out.setdefault((e["entry"]["kind"], e["entry"]["name"]), at)
            return out

    def wait_for(self, wanted: set[tuple[str, str]], bound: float = BOUND) -> dict:
        self._wait(lambda: wanted <= set(self.seen()), bound,
                   lambda: f"the lines of {sorted(wanted - set(self.seen()))}")
        return self.seen()

    def _wait(self, ok, bound: float, what) -> None:
        end = time.monotonic() + bound
        while time.monotonic() < end:
            if ok():
                return
            if self.proc.poll() is not None and not ok():
                time.sleep(0.5)  # let the readers finish
                if ok():
                    return
                break
            time.sleep(0.1)
        pytest.fail(f"watch did not report {what()} within {bound:.0f} s "
                    f"(exit {self.proc.poll()}); stderr: {''.join(self.stderr)[-2000:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(10)
        for t in self._threads:
            t.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def _check_lines(watcher: Watch) -> None:
    for _, e in watcher.events:
        assert e["event"] in ("added", "changed", "removed"), e
        assert e["entry"]["value"] is None
        assert e["at"].endswith("Z")


def test_watch_follows_firefox(make_firefox_profile, tmp_path: Path):
    profile = make_firefox_profile([EXAMPLE_NEWS_HOME])
    watcher = Watch(profile.profile_dir, tmp_path / "state")
    try:
        watcher.wait_started()
        assert any("Firefox writes localStorage" in line for line in watcher.stderr)
        assert watcher.seen() == {}  # what the news visit left is the baseline
        with profile.running([]) as browser:
            browser.visit(profile.site.url(LIVEOPS_HOME))
            visited = time.monotonic()
            seen = watcher.wait_for(
                {("cookie", n) for n in OWNER_COOKIES | TRACKER_COOKIES | {"lo_session"}}
                | {("local_storage", n) for n in OWNER_STORAGE}
            )
        _check_lines(watcher)
        # While Firefox runs: cookies at once, localStorage about 5 s later.
        assert max(seen[("cookie", n)] for n in OWNER_COOKIES) - visited < 15
        assert max(seen[("local_storage", n)] for n in OWNER_STORAGE) - visited < 30
        # The session cookie comes with the session file, saved every 15 s.
        assert seen[("cookie", "lo_session")] - visited < 45
        ga = next(e for _, e in watcher.events if e["entry"]["name"] == "_ga")
        assert ga["entry"]["organization"] == "Google" and ga["entry"]["tracker"] is True
    finally:
        watcher.stop()


def test_watch_follows_chromium(make_chromium_profile, tmp_path: Path):
    profile = make_chromium_profile([EXAMPLE_NEWS_HOME])
    watcher = Watch(profile.profile_dir, tmp_path / "state")
    try:
        watcher.wait_started()
        assert any("Chromium keeps new cookies in memory" in line for line in watcher.stderr)
        assert watcher.seen() == {}
        with profile.running([]) as browser:
            browser.visit(profile.site.url(LIVEOPS_HOME))
            # localStorage reaches the disk within seconds, while Chromium runs.
            watcher.wait_for({("local_storage", n) for n in OWNER_STORAGE}, bound=40)
            assert browser.proc is not None and browser.proc.running
        # Closing flushes the cookies it kept in memory.
        seen = watcher.wait_for({("cookie", n) for n in OWNER_COOKIES | TRACKER_COOKIES | {
            "lo_session"}}, bound=40)
        _check_lines(watcher)
        ide = next(e for _, e in watcher.events if e["entry"]["name"] == "IDE")
        assert ide["entry"]["host"] == "doubleclick.net" and ide["entry"]["organization"] == "Google"
        assert len(seen) >= len(OWNER_COOKIES | TRACKER_COOKIES | OWNER_STORAGE)
    finally:
        watcher.stop()
