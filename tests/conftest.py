"""Shared test set-up.

Every test gets its own data folder and XDG folders, so no test ever touches
the real user's state; a test that logs a warning or worse fails unless it
expected that (``caplog.at_level``), as in qutebrowser's logfail.
"""

from __future__ import annotations

import logging
import os

import pytest

# Qt's windows render offscreen in tests (set before pytest-qt makes the
# QApplication); tests that need a real X server start Xvfb themselves.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["tests.harness.fixtures"]


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))


class _FailOnWarning(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _fail_on_logged_warnings(request):
    handler = _FailOnWarning()
    logger = logging.getLogger("privacy_inspector")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    if request.node.get_closest_marker("allow_warnings") is None and handler.records:
        lines = "; ".join(f"{r.levelname}: {r.getMessage()}" for r in handler.records)
        pytest.fail(f"unexpected log messages: {lines}")


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "state"
