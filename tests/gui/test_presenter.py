"""Presenter mode on the demo: hidden values, large type, high contrast, focus, steps."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette

from privacy_inspector.gui.detail import MASK
from privacy_inspector.gui.models.entries import RecordRole

pytestmark = pytest.mark.gui


def _shown(window) -> list:
    return [window.proxy.index(r, 0).data(RecordRole) for r in range(window.proxy.rowCount())]


def test_presenter_mode_walks_through_the_owner_and_its_third_parties(demo_window):
    window = demo_window
    assert any(e.party == "unrelated" for e in _shown(window))
    zoom = window.zoom_factor
    window.presenter_action.trigger()
    assert window.presenting and window.zoom_factor >= 1.5 > zoom
    assert window.palette().color(QPalette.ColorRole.Base).name() == "#000000"
    assert not window.reveal_action.isEnabled()
    assert window.presenter.isVisible() and not window.detail.isVisible()
    assert window.presenter.width() > 300  # given room in the splitter, not squeezed to nothing

    panel = window.presenter
    titles = [s.title for s in panel.steps]
    assert titles == ["What liveops.com left behind", "LiveOps' own entries", "Google", "Meta"]
    assert panel.focus.currentText() == "liveops.com"
    # Step 1: everything of LiveOps' context, nothing unrelated.
    first = _shown(window)
    assert first and not any(e.party == "unrelated" for e in first)
    assert {e.site for e in first} == {"liveops.com", "doubleclick.net", "facebook.com"}
    # Next: LiveOps' own, clause by clause in the policy's words.
    panel.next.click()
    assert {e.party for e in _shown(window)} == {"first_party"}
    assert "What LiveOps' privacy policy says" in panel.text.toPlainText()
    # No policy text without its source.
    assert "web.archive.org" in panel.text.toHtml() and "archived 2016-06-06" in panel.text.toPlainText()
    panel.next.click()
    google = _shown(window)
    assert {e.organization for e in google} == {"Google"}
    text = panel.text.toPlainText()
    assert "(interest-based-ads)" in text
    assert "partitioned" in text
    panel.next.click()
    assert not panel.next.isEnabled() and panel.back.isEnabled()
    assert {e.organization for e in _shown(window)} == {"Meta"}


def test_values_stay_hidden_in_presenter_mode(demo_window):
    window = demo_window
    window.table.selectRow(0)
    entry = window.detail.entry
    window.presenter_action.trigger()
    window.reveal(entry)
    assert window.detail.value_text.text() == MASK
    assert "Values stay hidden" in window.status.text()
    window.detail.show_value(entry)  # even a value that arrives is not shown
    assert window.detail.value_text.text() == MASK
    window.presenter_action.trigger()
    assert not window.presenting and window.reveal_action.isEnabled()
    assert window.detail.isVisible() and not window.presenter.isVisible()
    assert any(e.party == "unrelated" for e in _shown(window))
    assert window.zoom_factor == 1.0


def test_focus_on_another_site(demo_window):
    window = demo_window
    window.presenter_action.trigger()
    panel = window.presenter
    # The customer's other browsing is not named on a shared screen...
    listed = [panel.focus.itemText(i) for i in range(panel.focus.count())]
    assert listed == ["liveops.com", "doubleclick.net", "facebook.com", "another site (1)"]
    index = panel.focus.findData("example-news.org")
    assert index == 3
    panel.show_names.setChecked(True)  # ...unless the presenter asks for it
    assert panel.focus.itemText(3) == "example-news.org"
    panel.show_names.setChecked(False)
    panel.focus.setCurrentIndex(index)
    panel.focus.activated.emit(index)
    assert panel.steps[0].title == "What example-news.org left behind"
    # An unrelated site in focus: its own entries are what is shown.
    shown = _shown(window)
    assert shown and {e.site for e in shown} == {"example-news.org"}
