"""Fixtures for the window tests: a main window over the demo or a real profile.

Tasks run on a synchronous pool (Picard's FakeThreadPool), so a scan is done
when ``start()`` returns; the tests that prove the window stays responsive
use Qt's real thread pool instead.
"""

from __future__ import annotations

import pytest

from privacy_inspector.core import demo
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.gui.logview import MemoryLogHandler
from privacy_inspector.gui.mainwindow import Context, MainWindow
from privacy_inspector.gui.workers import SynchronousPool


@pytest.fixture
def log_handler():
    import logging

    handler = MemoryLogHandler()
    logger = logging.getLogger("privacy_inspector")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
def make_window(qtbot, data_dir, log_handler):
    def make(profiles=None, *, pool=None, demo_data=None, start=True):
        pool = pool if pool is not None else SynchronousPool()
        if profiles is None:
            profiles = demo.demo_profiles(data_dir)
            demo_data = True if demo_data is None else demo_data
        context = Context(data_dir=data_dir, classifier=Classifier(load_policy()),
                          profiles=list(profiles), demo=bool(demo_data), pool=pool,
                          log_handler=log_handler)
        window = MainWindow(context)
        qtbot.addWidget(window)
        window.show()
        if start:
            window.start()
        return window

    return make


@pytest.fixture
def demo_window(make_window):
    return make_window()
