"""Take snapshot and Compare snapshots, from the window, on the demo."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QDialog

from privacy_inspector.core import snapshots
from privacy_inspector.gui.compare import NOW, CompareDialog, SnapshotDialog

pytestmark = pytest.mark.gui


def _label(text):
    def answer(dialog):
        assert isinstance(dialog, SnapshotDialog)
        dialog.label.setText(text)
        return QDialog.DialogCode.Accepted
    return answer


def test_snapshot_then_compare_with_now(make_window, data_dir):
    seen = []

    def compare(dialog):
        seen.append(dialog)
        assert isinstance(dialog, CompareDialog)
        assert dialog.first.currentText().startswith('snapshot 1 "before"')
        assert dialog.second.currentData() == NOW
        dialog.compare_button.click()
        return QDialog.DialogCode.Rejected

    answers = [_label("before"), compare]
    window = make_window(start=False)
    window.context.confirm = lambda d: answers.pop(0)(d)
    window.start()
    window.snapshot_action.trigger()
    assert 'Snapshot 1 "before" recorded: 44 entries' in window.status.text()
    (info,) = snapshots.list_snapshots(data_dir)
    assert info.label == "before" and info.count == 44

    # The site deletes IDE in the Chromium demo profile.
    with sqlite3.connect(data_dir / "demo" / "chromium" / "Default" / "Cookies") as conn:
        conn.execute("DELETE FROM cookies WHERE name = 'IDE'")
    window.compare_action.trigger()
    dialog = seen[0]
    assert "0 added, 1 removed, 0 changed, 43 the same" in dialog.summary.text()
    top = dialog.tree.topLevelItem(0)
    assert top.text(0) == "Google (1)"
    child = top.child(0)
    assert child.text(1) == "removed" and child.text(0).startswith("IDE @ doubleclick.net")
    dialog.tree.setCurrentItem(child)
    assert "DoubleClick" in dialog.detail.toPlainText()


def test_a_label_in_use_is_refused(make_window, data_dir, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(a[2]))
    answers = [_label("same"), _label("same")]
    window = make_window(start=False)
    window.context.confirm = lambda d: answers.pop(0)(d)
    window.start()
    window.snapshot_action.trigger()
    window.snapshot_action.trigger()
    assert len(snapshots.list_snapshots(data_dir)) == 1
    assert warned and "same" in warned[0]


def test_compare_without_snapshots_says_what_to_do(make_window):
    seen = []
    window = make_window(start=False)
    window.context.confirm = lambda d: seen.append(d) or QDialog.DialogCode.Rejected
    window.start()
    window.compare_action.trigger()
    assert not seen[0].compare_button.isEnabled()
    assert "Take a snapshot first" in seen[0].summary.text()


@pytest.mark.parametrize("fmt, suffix, marker", [
    ("html", ".html", b"<!DOCTYPE html>"), ("csv", ".csv", b"\xef\xbb\xbfid,browser,"),
    ("json", ".json", b'{\n  "generated"'),
    ("netscape", ".txt", b"# Netscape HTTP Cookie File"), ("pdf", ".pdf", b"%PDF"),
])
def test_export_report(make_window, tmp_path, fmt, suffix, marker):
    from privacy_inspector import reports

    window = make_window()
    target = tmp_path / f"report{suffix}"
    desc = reports.FILE_TYPES[fmt][0]
    window.save_file_name = lambda *a: (str(target), f"{desc} (*{suffix})")
    window.export_action.trigger()
    data = target.read_bytes()
    assert data.startswith(marker)
    assert (target.stat().st_mode & 0o777) == 0o600
    assert "Report written to" in window.status.text()
