"""The preferences dialog (privacy_inspector.gui.preferences), driven with qtbot.

The dialog is shown, never exec()'d, so no test blocks on a modal loop; list
imports run on a synchronous pool so no test waits for a thread.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
)

from privacy_inspector.core import imports
from privacy_inspector.core.settings import OPTIONS, Settings
from privacy_inspector.gui.preferences import WARNING_SIGN, PreferencesDialog
from privacy_inspector.gui.workers import SynchronousPool

pytestmark = pytest.mark.gui

LISTS = Path(__file__).resolve().parents[1] / "fixtures" / "lists"


@pytest.fixture
def settings(data_dir):
    return Settings.load(data_dir)


@pytest.fixture
def dialog(qtbot, settings, data_dir):
    dlg = PreferencesDialog(settings, data_dir, pool=SynchronousPool())
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def _control(dlg, key, kind):
    return dlg.findChild(kind, f"option_{key}")


def _ok(qtbot, dlg):
    qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)


def test_every_option_has_an_accessible_control_with_help(dialog):
    for option in OPTIONS:
        control = dialog.findChild(object, f"option_{option.key}")
        assert control is not None, option.key
        assert control.accessibleName() == option.label
        assert control.toolTip() == option.help


def test_the_dialog_shows_the_stored_values(qtbot, settings, data_dir):
    settings.set("theme", "dark")
    settings.set("include_stale", False)
    settings.set("confirm_reveal", True)
    settings.set("owner_sites", ["example.org", "example.net"])
    settings.set("policy_file", "/somewhere/policy.toml")
    dlg = PreferencesDialog(settings, data_dir, pool=SynchronousPool())
    qtbot.addWidget(dlg)
    assert _control(dlg, "theme", QComboBox).currentData() == "dark"
    assert _control(dlg, "include_stale", QCheckBox).isChecked() is False
    assert _control(dlg, "confirm_reveal", QCheckBox).isChecked() is True
    assert _control(dlg, "owner_sites", QPlainTextEdit).toPlainText() == "example.org\nexample.net"
    assert _control(dlg, "policy_file", QLineEdit).text() == "/somewhere/policy.toml"


def test_ok_saves_the_theme_and_owner_sites(qtbot, dialog, data_dir):
    theme = _control(dialog, "theme", QComboBox)
    theme.setCurrentIndex(theme.findData("light"))
    _control(dialog, "owner_sites", QPlainTextEdit).setPlainText(
        " Example.ORG \n\nliveops.co.uk\nexample.org\n")
    with qtbot.waitSignal(dialog.settings_changed) as changed:
        _ok(qtbot, dialog)
    assert sorted(changed.args[0]) == ["owner_sites", "theme"]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()
    stored = Settings.load(data_dir)
    assert stored.get("theme") == "light"
    assert stored.get("owner_sites") == ("example.org", "liveops.co.uk")
    assert stored.get("include_stale") is True


def test_ok_without_changes_emits_nothing(qtbot, dialog):
    with qtbot.assertNotEmitted(dialog.settings_changed):
        _ok(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_an_invalid_site_keeps_the_dialog_open_with_a_warning(qtbot, dialog, data_dir):
    theme = _control(dialog, "theme", QComboBox)
    theme.setCurrentIndex(theme.findData("dark"))
    _control(dialog, "owner_sites", QPlainTextEdit).setPlainText("example.org\nco.uk")
    with qtbot.assertNotEmitted(dialog.settings_changed):
        _ok(qtbot, dialog)
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted
    error = dialog.findChild(QLabel, "error_owner_sites")
    assert error.isVisible()
    assert error.text().startswith(WARNING_SIGN)
    assert "co.uk" in error.text()
    assert dialog.findChild(QLabel, "error_theme").isHidden()
    # Nothing was written, not even the valid theme.
    assert Settings.load(data_dir).get("theme") == "system"

    _control(dialog, "owner_sites", QPlainTextEdit).setPlainText("example.org")
    _ok(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert Settings.load(data_dir).values()["owner_sites"] == ("example.org",)


def test_a_policy_file_load_policy_rejects_keeps_the_dialog_open(qtbot, dialog, tmp_path, data_dir):
    bad = tmp_path / "bad.toml"
    bad.write_text("format = 1\n[owner]\nname = 'X'\n", encoding="utf-8")
    _control(dialog, "policy_file", QLineEdit).setText(str(bad))
    _ok(qtbot, dialog)
    assert dialog.isVisible()
    error = dialog.findChild(QLabel, "error_policy_file")
    assert error.isVisible() and error.text().startswith(WARNING_SIGN)
    assert Settings.load(data_dir).get("policy_file") == ""


def test_a_valid_policy_file_is_saved(qtbot, dialog, data_dir):
    from privacy_inspector import bundled

    good = bundled.path("policy", "liveops-2016.toml")
    _control(dialog, "policy_file", QLineEdit).setText(str(good))
    _ok(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert Settings.load(data_dir).get("policy_file") == str(good)


def test_restore_defaults_changes_only_the_form_until_ok(qtbot, settings, data_dir):
    settings.set("theme", "dark")
    dlg = PreferencesDialog(settings, data_dir, pool=SynchronousPool())
    qtbot.addWidget(dlg)
    dlg.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    assert _control(dlg, "theme", QComboBox).currentData() == "system"
    assert Settings.load(data_dir).get("theme") == "dark"
    dlg.accept()
    assert Settings.load(data_dir).get("theme") == "system"


def test_importing_a_list_adds_a_row(qtbot, dialog, monkeypatch, data_dir):
    model = dialog.lists_model
    assert model.rowCount() == 0
    dialog.tabs.setCurrentIndex(1)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("filter-list"))
    chosen = str(LISTS / "easyprivacy.txt")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (chosen, "")))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert model.rowCount() == 1
    (info,) = imports.sources(data_dir)
    assert model.index(0, 0).data() == info.source
    assert model.index(0, 1).data() == "filter-list"
    assert model.index(0, 2).data() == info.domains > 0
    assert not model.item(0, 0).isEditable()
    assert dialog.import_button.isEnabled()


def test_a_bad_list_file_shows_the_error(qtbot, dialog, tmp_path):
    bad = tmp_path / "tds.json"
    bad.write_text("{not json", encoding="utf-8")
    dialog.import_list(bad, "duckduckgo")
    box = dialog.findChild(QMessageBox, "import_error")
    assert box is not None and box.isVisible()
    assert "is not JSON" in box.informativeText()
    assert dialog.lists_model.rowCount() == 0
    box.close()
