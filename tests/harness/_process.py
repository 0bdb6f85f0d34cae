"""Starting, watching and ending one browser process (and its children)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import websocket

T = TypeVar("T")

# Environment variables that would send a browser through a proxy.
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}


class BrowserError(RuntimeError):
    """A browser did not start, load, finish a page or shut down in time."""


def browser_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a browser: a private HOME and XDG folders, no proxies."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS}
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(k, None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_RUNTIME_DIR=str(home / ".runtime"),
    )
    (home / ".runtime").mkdir(parents=True, exist_ok=True)
    (home / ".runtime").chmod(0o700)
    if extra:
        env.update(extra)
    return env


class BrowserProcess:
    """A browser started in its own process group, its output in a log file."""

    _counter = 0
    _counter_lock = threading.Lock()

    def __init__(self, name: str, cmd: Sequence[str], env: dict[str, str], log_dir: Path):
        with BrowserProcess._counter_lock:
            BrowserProcess._counter += 1
            n = BrowserProcess._counter
        log_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.cmd = list(cmd)
        self.log_path = log_dir / f"{name}-{os.getpid()}-{n}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in _reap
        try:
            self.popen = subprocess.Popen(
                self.cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: we can end all of it
            )
        except BaseException:
            self._log.close()
            raise
        self.pid = self.popen.pid
        self.started = time.monotonic()

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        # Chromium logs many harmless D-Bus complaints (no bus in a test box).
        kept = [ln for ln in text.splitlines() if ln.strip() and "dbus/" not in ln]
        return "\n".join(kept[-lines:])

    def error(self, message: str) -> BrowserError:
        status = "running" if self.running else f"exited with code {self.popen.returncode}"
        return BrowserError(
            f"{self.name} (pid {self.pid}, {status}): {message}\n"
            f"--- last lines of {self.log_path} ---\n{self.tail()}"
        )

    def wait_for(
        self, what: str, predicate: Callable[[], T | None], timeout: float, interval: float = 0.05
    ) -> T:
        """Poll ``predicate`` until it returns something truthy; fail if the browser dies."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if not self.running:
                raise self.error(f"exited while waiting for {what}")
            if time.monotonic() > deadline:
                raise self.error(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def wait_exit(self, timeout: float) -> bool:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self._reap()
        return True

    def kill(self) -> None:
        """End the whole process group now (only processes this harness started)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._reap()

    def _reap(self) -> None:
        # Children (renderers, content processes) normally exit with the
        # browser; make sure none outlive it.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self._log.closed:
            self._log.close()


class JsonWebSocket:
    """A blocking JSON-over-WebSocket client for CDP and WebDriver BiDi."""

    def __init__(self, url: str, proc: BrowserProcess, timeout: float = 30):
        self.proc = proc
        self._next = 0
        try:
            self.ws = websocket.create_connection(
                url, timeout=timeout, suppress_origin=True, enable_multithread=True
            )
        except Exception as e:  # noqa: BLE001
            raise proc.error(f"cannot connect to {url}: {e!r}") from e

    def send(
        self,
        method: str,
        params: dict | None = None,
        *,
        session_id: str | None = None,
        timeout: float = 30,
        wait: bool = True,
    ) -> dict:
        self._next += 1
        msg_id = self._next
        msg: dict = {"id": msg_id, "method": method, "params": params or {}}
        if session_id:
            msg["sessionId"] = session_id
        try:
            self.ws.send(json.dumps(msg))
        except Exception as e:  # noqa: BLE001
            raise self.proc.error(f"{method}: cannot send: {e!r}") from e
        if not wait:
            return {}
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self.proc.error(f"{method}: no answer within {timeout:.0f} s")
            self.ws.settimeout(left)
            try:
                raw = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception as e:  # noqa: BLE001
                raise self.proc.error(f"{method}: connection lost: {e!r}") from e
            reply = json.loads(raw)
            if reply.get("id") != msg_id:
                continue  # an event, or a late answer
            if "error" in reply:
                err = reply["error"]
                text = err if isinstance(err, str) else json.dumps(err)
                raise self.proc.error(f"{method} failed: {text} {reply.get('message', '')}")
            return reply.get("result", {})

    def close(self) -> None:
        try:
            self.ws.close(timeout=1)
        except Exception:  # noqa: BLE001
            pass
