"""Is the browser running on a profile?  The contract's definition, case by case.

Real browsers holding these locks are tested in tests/real; here are the
leftovers and hosts that a test cannot make a real browser produce on demand.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from privacy_inspector.core.records import Profile
from privacy_inspector.platform import locks


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_chromium_without_singleton_lock_is_not_running(tmp_path):
    assert locks.chromium_running(tmp_path, windows=False) is False


def test_chromium_lock_of_a_live_process_on_this_host(tmp_path):
    os.symlink(f"{socket.gethostname()}-{os.getpid()}", tmp_path / "SingletonLock")
    assert locks.chromium_running(tmp_path, windows=False) is True


def test_a_stale_chromium_lock_is_not_a_running_browser(tmp_path):
    os.symlink(f"{socket.gethostname()}-{_dead_pid()}", tmp_path / "SingletonLock")
    assert locks.chromium_running(tmp_path, windows=False) is False


def test_a_chromium_lock_of_another_host_counts_as_running(tmp_path):
    os.symlink("some-other-machine.example-4242", tmp_path / "SingletonLock")
    assert locks.chromium_running(tmp_path, windows=False) is True


def test_a_hostname_with_dashes_is_split_on_the_last_one(tmp_path, monkeypatch):
    monkeypatch.setattr(locks.socket, "gethostname", lambda: "my-laptop-01")
    os.symlink(f"my-laptop-01-{os.getpid()}", tmp_path / "SingletonLock")
    assert locks.chromium_running(tmp_path, windows=False) is True


def test_windows_chromium_lockfile(tmp_path, monkeypatch):
    assert locks.chromium_running(tmp_path, windows=True) is False
    (tmp_path / "lockfile").write_bytes(b"")
    # A lockfile that opens is a leftover, not a running browser.
    assert locks.chromium_running(tmp_path, windows=True) is False

    def held(*args, **kwargs):
        raise PermissionError(32, "The process cannot access the file")

    monkeypatch.setattr("builtins.open", held)
    assert locks.chromium_running(tmp_path, windows=True) is True


def test_firefox_without_parentlock_is_not_running(tmp_path):
    assert locks.firefox_running(tmp_path, windows=False) is False


def test_a_leftover_lock_symlink_is_not_a_running_firefox(tmp_path):
    (tmp_path / ".parentlock").write_bytes(b"")
    os.symlink(f"127.0.1.1:+{_dead_pid()}", tmp_path / "lock")
    assert locks.firefox_running(tmp_path, windows=False) is False


def test_firefox_parentlock_held_by_another_process(tmp_path):
    lock = tmp_path / ".parentlock"
    lock.write_bytes(b"")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import fcntl, os, sys, time
            fd = os.open({str(lock)!r}, os.O_WRONLY)
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("locked", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert locks.firefox_running(tmp_path, windows=False) is True
        # Checking must not take the lock away or leave it taken.
        assert locks.firefox_running(tmp_path, windows=False) is True
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()
    assert locks.firefox_running(tmp_path, windows=False) is False


def test_windows_firefox_parent_lock(tmp_path, monkeypatch):
    (tmp_path / "parent.lock").write_bytes(b"")
    assert locks.firefox_running(tmp_path, windows=True) is False

    def held(*args, **kwargs):
        raise PermissionError(32, "sharing violation")

    monkeypatch.setattr("builtins.open", held)
    assert locks.firefox_running(tmp_path, windows=True) is True


@pytest.mark.parametrize("engine", ["chromium", "firefox", "safari"])
def test_is_running_dispatches_on_the_engine(tmp_path, engine):
    root = tmp_path / "root"
    path = root / "Default"
    path.mkdir(parents=True)
    profile = Profile(path, engine, engine, "x", root=root)
    assert locks.is_running(profile) is False
    if engine == "chromium":
        os.symlink(f"{socket.gethostname()}-{os.getpid()}", root / "SingletonLock")
        assert locks.is_running(profile) is True


def test_the_chromium_lock_covers_every_profile_of_the_user_data_folder(tmp_path):
    root = tmp_path
    os.symlink(f"{socket.gethostname()}-{os.getpid()}", root / "SingletonLock")
    for name in ("Default", "Profile 1"):
        (root / name).mkdir()
        assert locks.is_running(Profile(Path(root / name), "chrome", "chromium", name, root=root))


def test_a_process_that_exited_but_was_not_reaped_is_not_running():
    import subprocess
    import time

    from privacy_inspector.platform.locks import _pid_alive

    child = subprocess.Popen(["sleep", "0.1"])
    try:
        assert _pid_alive(child.pid)
        deadline = time.monotonic() + 10
        while _pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Exited; not yet reaped (a zombie), as a browser whose parent has not waited for it.
        assert not _pid_alive(child.pid)
        with open(f"/proc/{child.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] == "Z"
    finally:
        child.wait()
