"""One version everywhere: the package, the command line, the About box and the metadata."""

from __future__ import annotations

import re
import sys
from importlib.metadata import version

import pytest

from privacy_inspector import __version__
from tests.packaging.common import ROOT, run


def test_the_version_is_a_release_number_and_the_distributions_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?", __version__)
    assert version("privacy-inspector") == __version__


def test_privacy_inspector_version_prints_it(tmp_path):
    done = run([sys.executable, "-m", "privacy_inspector", "--version"], cwd=ROOT)
    assert done.stdout.strip() == f"privacy-inspector {__version__}"


@pytest.mark.gui
def test_the_about_box_shows_it(qtbot, data_dir):
    from privacy_inspector.core.classify import Classifier
    from privacy_inspector.core.policy import load_policy
    from privacy_inspector.gui.mainwindow import Context, MainWindow
    from privacy_inspector.gui.workers import SynchronousPool

    context = Context(data_dir=data_dir, classifier=Classifier(load_policy()), profiles=[],
                      demo=False, pool=SynchronousPool(), log_handler=None)
    window = MainWindow(context)
    qtbot.addWidget(window)
    assert window.about_text().startswith(f"# Privacy Inspector {__version__}\n")
