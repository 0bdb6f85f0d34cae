"""--wait: a writing command waits for the browser to be closed, then plans afresh."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

from privacy_inspector.cli import main as cli


def _stand_in_browser(data_dir):
    """A live process that Chromium's SingletonLock of the demo names, as a browser's would."""
    assert cli.main(["profiles", "--demo", "--data-dir", str(data_dir)]) == 0
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.symlink(f"{socket.gethostname()}-{proc.pid}", data_dir / "demo" / "chromium" / "SingletonLock")
    return proc


def _clear(capsys, data_dir, *extra):
    code = cli.main(["clear", "--trackers", "--yes", "--format", "json", "--demo",
                     "--data-dir", str(data_dir), *extra])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def test_without_wait_a_running_browser_refuses(capsys, data_dir):
    proc = _stand_in_browser(data_dir)
    try:
        capsys.readouterr()
        code, doc, _ = _clear(capsys, data_dir)
        assert code == 3 and doc["deleted"] == []
        code, doc, err = _clear(capsys, data_dir, "--wait", "1")  # it does not close in time
        assert code == 3 and doc["deleted"] == [] and "Waiting up to 1 s for chromium" in err
    finally:
        proc.kill()
        proc.wait()


def test_wait_goes_on_once_the_browser_is_closed(capsys, data_dir):
    proc = _stand_in_browser(data_dir)
    capsys.readouterr()
    closer = threading.Timer(1.0, proc.kill)  # the user closes the browser a second later
    closer.start()
    try:
        code, doc, err = _clear(capsys, data_dir, "--wait", "30")
    finally:
        closer.cancel()
        proc.kill()
        proc.wait()
    assert code == 0, err
    assert len(doc["deleted"]) == 18 and doc["refused"] == []


def test_close_browser_never_signals_another_program(capsys, data_dir):
    proc = _stand_in_browser(data_dir)  # python, not chromium
    try:
        capsys.readouterr()
        code, doc, err = _clear(capsys, data_dir, "--close-browser", "--wait", "1")
        assert "Could not ask chromium" in err and code == 3
        assert proc.poll() is None  # still alive: not signalled
    finally:
        proc.kill()
        proc.wait()
