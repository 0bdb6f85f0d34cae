"""Whether a browser is running on a profile right now.

The contract's definition: Firefox holds its fcntl lock on ``.parentlock`` (on
Windows, ``parent.lock`` cannot be opened); Chromium's ``SingletonLock`` names
this host and a live process (on Windows, ``lockfile`` exists and is held).  A
leftover Firefox ``lock`` symlink or a stale ``SingletonLock`` is not a running
browser; a ``SingletonLock`` of another host is treated as running, since the
app cannot see that host's processes.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path

from privacy_inspector.core.records import Engine, Profile


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that has exited but was not yet reaped by its parent is not running."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] == b"Z"


def chromium_running(user_data_dir: Path, windows: bool | None = None) -> bool:
    windows = sys.platform == "win32" if windows is None else windows
    if windows:
        lockfile = user_data_dir / "lockfile"
        if not lockfile.exists():
            return False
        return _held_on_windows(lockfile)
    lock = user_data_dir / "SingletonLock"
    try:
        target = os.readlink(lock)
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            # A regular file where the symlink should be: not Chromium's format.
            return False
        return True
    host, _, pid_text = target.rpartition("-")
    try:
        pid = int(pid_text)
    except ValueError:
        return True  # unreadable lock: err on the side of not writing
    if host != socket.gethostname():
        return True
    return _pid_alive(pid)


def _held_on_windows(path: Path) -> bool:
    try:
        with open(path, "r+b"):
            return False
    except PermissionError:
        return True
    except FileNotFoundError:
        return False
    except OSError:
        return True


def firefox_running(profile_dir: Path, windows: bool | None = None) -> bool:
    windows = sys.platform == "win32" if windows is None else windows
    if windows:
        lock = profile_dir / "parent.lock"
        return lock.exists() and _held_on_windows(lock)
    import fcntl

    lock = profile_dir / ".parentlock"
    try:
        fd = os.open(lock, os.O_WRONLY)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return True
            raise
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def is_running(profile: Profile) -> bool:
    """Whether the profile's browser is running on it (Safari: never written, so False)."""
    if profile.engine == Engine.FIREFOX:
        return firefox_running(profile.path)
    if profile.engine == Engine.CHROMIUM:
        root = profile.root or profile.path.parent
        return chromium_running(root) or (root != profile.path and chromium_running(profile.path))
    return False


# --------------------------------------------------------------------------
# Asking a browser to close
# --------------------------------------------------------------------------

# What the executable of a browser process is called, by engine.
_EXECUTABLES = {Engine.CHROMIUM: ("chrom", "brave", "edge", "opera", "vivaldi"),
                Engine.FIREFOX: ("firefox", "librewolf", "waterfox")}


def browser_pid(profile: Profile) -> int | None:
    """The process id of the browser running on ``profile``, where its lock names it.

    Chromium's ``SingletonLock`` links to ``host-pid``; Firefox's ``lock``
    links to ``ip:+pid``.  None on Windows, for another host's lock, or when
    the lock does not name a live process.
    """
    if sys.platform == "win32":
        return None
    if profile.engine == Engine.CHROMIUM:
        root = profile.root or profile.path.parent
        try:
            host, _, pid_text = os.readlink(root / "SingletonLock").rpartition("-")
        except OSError:
            return None
        if host != socket.gethostname():
            return None
    elif profile.engine == Engine.FIREFOX:
        try:
            pid_text = os.readlink(profile.path / "lock").rpartition("+")[2]
        except OSError:
            return None
    else:
        return None
    try:
        pid = int(pid_text)
    except ValueError:
        return None
    return pid if _pid_alive(pid) else None


def _looks_like(pid: int, engine: str) -> bool:
    """Whether process ``pid`` is a browser of ``engine`` (never signal another program)."""
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe")).lower()
    except OSError:
        try:
            import subprocess

            exe = subprocess.run(["ps", "-o", "comm=", "-p", str(pid)], capture_output=True,
                                 text=True, timeout=5).stdout.strip().lower()
        except (OSError, subprocess.SubprocessError):
            return False
    return any(name in exe for name in _EXECUTABLES.get(engine, ()))


def request_close(profile: Profile) -> bool:
    """Politely ask the browser running on ``profile`` to quit; whether it was asked.

    On Linux and macOS that is SIGTERM, which both Chromium and Firefox answer
    with a normal shutdown (windows closed, data written).  Only a process
    whose lock names it and whose executable is that browser is signalled.
    Windows has no such request here: the user closes the browser.
    """
    import signal

    pid = browser_pid(profile)
    if pid is None or not _looks_like(pid, profile.engine):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    return True
