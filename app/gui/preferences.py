"""The preferences dialog, generated from ``core.settings.OPTIONS``.

Nothing here knows a setting by name except where a kind needs it: each
:class:`~privacy_inspector.core.settings.Option` becomes one row of a form
(bool: check box, choice: combo box, path: line edit and Browse…, sites: one
site per line), so declaring an option in core is enough to show it (house
style 5.7).  A second tab lists the tracker lists the user imported and
imports another.

Values are checked before anything is written: a policy file that
``load_policy`` rejects or an invalid site is shown under its field (red,
and prefixed with ⚠ so colour is not the only signal) and the dialog stays
open.  Only on success does OK write through ``Settings.set`` and emit
``settings_changed`` with the keys that changed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from privacy_inspector.core import imports
from privacy_inspector.core.policy import PolicyError, load_policy
from privacy_inspector.core.settings import OPTIONS, Option, Settings, SettingsError, normalize_site
from privacy_inspector.gui.workers import Pool, run_task

log = logging.getLogger(__name__)

WARNING_SIGN = "\u26a0"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate looks for
    return text


# Words for the values of choice options; a value not listed is shown as it is.
CHOICE_LABELS = {
    "system": QT_TRANSLATE_NOOP("PreferencesDialog", "Same as the system"),
    "light": QT_TRANSLATE_NOOP("PreferencesDialog", "Light"),
    "dark": QT_TRANSLATE_NOOP("PreferencesDialog", "Dark"),
}
FORMAT_LABELS = {
    "ghostery": QT_TRANSLATE_NOOP("PreferencesDialog", "Ghostery TrackerDB (trackerdb.json)"),
    "disconnect": QT_TRANSLATE_NOOP("PreferencesDialog", "Disconnect (services.json)"),
    "duckduckgo": QT_TRANSLATE_NOOP("PreferencesDialog", "DuckDuckGo blocklist (tds.json)"),
    "ocd": QT_TRANSLATE_NOOP("PreferencesDialog", "Open Cookie Database (CSV)"),
    "filter-list": QT_TRANSLATE_NOOP("PreferencesDialog", "Filter list (EasyPrivacy style)"),
}
FORMAT_FILTERS = {
    "ghostery": QT_TRANSLATE_NOOP("PreferencesDialog", "JSON files (*.json)"),
    "disconnect": QT_TRANSLATE_NOOP("PreferencesDialog", "JSON files (*.json)"),
    "duckduckgo": QT_TRANSLATE_NOOP("PreferencesDialog", "JSON files (*.json)"),
    "ocd": QT_TRANSLATE_NOOP("PreferencesDialog", "CSV files (*.csv)"),
    "filter-list": QT_TRANSLATE_NOOP("PreferencesDialog", "Filter lists (*.txt)"),
}
LIST_HEADERS = (
    QT_TRANSLATE_NOOP("PreferencesDialog", "Source"),
    QT_TRANSLATE_NOOP("PreferencesDialog", "Format"),
    QT_TRANSLATE_NOOP("PreferencesDialog", "Domains"),
    QT_TRANSLATE_NOOP("PreferencesDialog", "Imported at"),
    QT_TRANSLATE_NOOP("PreferencesDialog", "Licence"),
)


def _option_text(text: str) -> str:
    """An Option's label or help, translated (core marks them under the "Option" context)."""
    return QCoreApplication.translate("Option", text)


class PreferencesDialog(QDialog):
    """Edits the declared settings and the imported tracker lists of one data folder."""

    settings_changed = Signal(list)

    def __init__(self, settings: Settings, data_dir: Path, parent: QWidget | None = None,
                 *, pool: Pool | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PreferencesDialog")
        self.setWindowTitle(self.tr("Preferences"))
        self._settings = settings
        self._data_dir = Path(data_dir)
        self._pool = pool
        self._controls: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._message_box: QMessageBox | None = None
        self._import_task: Any = None

        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_general(), self.tr("General"))
        self.tabs.addTab(self._build_lists(), self.tr("Tracker lists"))

        self.general_error = self._error_label("general")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        defaults = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        defaults.setToolTip(self.tr("Put every field back to its default; nothing is saved "
                                    "until you press OK"))
        defaults.clicked.connect(self.restore_defaults)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)

        self._show_values(settings.values())
        self.refresh_lists()

    def __repr__(self) -> str:
        return f"<PreferencesDialog {self._data_dir}>"

    # --- the General tab ----------------------------------------------------------

    def _build_general(self) -> QWidget:
        page = QWidget(self)
        self.form = QFormLayout(page)
        for option in OPTIONS:
            label_text = _option_text(option.label)
            control, field = self._build_control(option)
            control.setObjectName(f"option_{option.key}")
            control.setAccessibleName(label_text)
            control.setAccessibleDescription(_option_text(option.help))
            control.setToolTip(_option_text(option.help))
            label = QLabel(label_text + ":", page)
            label.setBuddy(control)
            label.setToolTip(_option_text(option.help))
            self.form.addRow(label, field)
            error = self._error_label(option.key)
            self.form.addRow("", error)
            self._controls[option.key] = control
            self._errors[option.key] = error
        return page

    def _build_control(self, option: Option) -> tuple[QWidget, QWidget]:
        """The control that holds the value, and the widget to put in the form."""
        if option.kind == "bool":
            box = QCheckBox(self)
            return box, box
        if option.kind == "choice":
            combo = QComboBox(self)
            for value in option.choices:
                combo.addItem(self.tr(CHOICE_LABELS.get(value, value)), value)
            return combo, combo
        if option.kind == "path":
            field = QWidget(self)
            row = QHBoxLayout(field)
            row.setContentsMargins(0, 0, 0, 0)
            edit = QLineEdit(field)
            edit.setPlaceholderText(self.tr("Bundled LiveOps policy (2016)"))
            edit.setClearButtonEnabled(True)
            browse = QPushButton(self.tr("Browse…"), field)
            browse.setObjectName(f"browse_{option.key}")
            browse.setAccessibleName(self.tr("Browse for {label}").format(
                label=_option_text(option.label)))
            browse.clicked.connect(lambda: self._browse_policy(edit))
            row.addWidget(edit, 1)
            row.addWidget(browse)
            return edit, field
        if option.kind == "sites":
            text = QPlainTextEdit(self)
            text.setPlaceholderText(self.tr("example.com\nexample.co.uk"))
            text.setTabChangesFocus(True)
            text.setFixedHeight(text.fontMetrics().lineSpacing() * 5 + 12)
            return text, text
        raise ValueError(f"no control for option kind {option.kind!r}")

    def _error_label(self, key: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(f"error_{key}")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        label.setStyleSheet(f"color: {'#ff6b6b' if dark else '#b00020'};")
        label.hide()
        return label

    def _browse_policy(self, edit: QLineEdit) -> None:
        current = edit.text().strip()
        start = str(Path(current).expanduser().parent) if current else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a privacy policy file"), start,
            self.tr("Policy files (*.toml);;All files (*)"))
        if path:
            edit.setText(path)

    def _show_values(self, values: dict[str, Any]) -> None:
        for option in OPTIONS:
            control = self._controls[option.key]
            value = values[option.key]
            if isinstance(control, QCheckBox):
                control.setChecked(bool(value))
            elif isinstance(control, QComboBox):
                control.setCurrentIndex(max(0, control.findData(value)))
            elif isinstance(control, QLineEdit):
                control.setText(str(value))
            elif isinstance(control, QPlainTextEdit):
                control.setPlainText("\n".join(value))

    def restore_defaults(self) -> None:
        """Show every default in the form (saved only by OK, like any other edit)."""
        self._show_values({o.key: o.default for o in OPTIONS})
        self._clear_errors()

    def _read_control(self, option: Option) -> Any:
        control = self._controls[option.key]
        if isinstance(control, QCheckBox):
            return control.isChecked()
        if isinstance(control, QComboBox):
            return control.currentData()
        if isinstance(control, QLineEdit):
            return control.text().strip()
        if isinstance(control, QPlainTextEdit):
            return [line.strip() for line in control.toPlainText().splitlines() if line.strip()]
        raise TypeError(type(control).__name__)  # pragma: no cover - _build_control covers all

    # --- checking and saving ------------------------------------------------------

    def _clear_errors(self) -> None:
        for label in (*self._errors.values(), self.general_error):
            label.clear()
            label.hide()

    def _show_error(self, key: str, text: str) -> None:
        label = self._errors.get(key, self.general_error)
        label.setText(f"{WARNING_SIGN} {text}")
        label.setAccessibleName(self.tr("Problem: {text}").format(text=text))
        label.show()

    def _check(self, option: Option, value: Any) -> str | None:
        """What is wrong with ``value`` for ``option``, in words, or None."""
        if option.kind == "path" and value:
            try:
                load_policy(Path(value).expanduser())
            except PolicyError as e:
                shown = list(e.problems[:3])
                if len(e.problems) > 3:
                    shown.append(self.tr("…and {n} more").format(n=len(e.problems) - 3))
                return self.tr("This policy file cannot be used:") + "\n" + "\n".join(
                    f"• {p}" for p in shown)
        if option.kind == "sites":
            problems = []
            for line in value:
                try:
                    normalize_site(line)
                except SettingsError as e:
                    problems.append(self._site_problem(line, e))
            if problems:
                return "\n".join(problems)
        return None

    def _site_problem(self, line: str, error: SettingsError) -> str:
        texts = {
            "invalid_host": self.tr("“{site}” is not a domain name; write only the domain, "
                                    "e.g. example.com"),
            "public_suffix": self.tr("“{site}” is a public suffix (shared by many owners), "
                                     "not a site"),
            "not_registrable": self.tr("“{site}” is part of a site; write the registrable "
                                       "domain instead ({error})"),
        }
        return texts.get(error.code, "{error}").format(site=line, error=error)

    def accept(self) -> None:
        """Save what changed and close, or show what is wrong and stay open."""
        self._clear_errors()
        new: dict[str, Any] = {}
        first_bad: QWidget | None = None
        for option in OPTIONS:
            value = self._read_control(option)
            problem = self._check(option, value)
            if problem is not None:
                self._show_error(option.key, problem)
                first_bad = first_bad or self._controls[option.key]
                continue
            new[option.key] = value
        if first_bad is not None:
            self.tabs.setCurrentIndex(0)
            first_bad.setFocus()
            return
        changed: list[str] = []
        for option in OPTIONS:
            value = new[option.key]
            if option.kind == "sites":
                value = tuple(dict.fromkeys(normalize_site(s) for s in value))
            if value == self._settings.get(option.key):
                continue
            try:
                self._settings.set(option.key, value)
            except SettingsError as e:
                self._show_error(option.key, str(e))
                self._emit_changed(changed)
                return
            changed.append(option.key)
        self._emit_changed(changed)
        super().accept()

    def _emit_changed(self, changed: list[str]) -> None:
        if changed:
            log.info("preferences: changed %s", ", ".join(changed))
            self.settings_changed.emit(changed)

    # --- the Tracker lists tab ----------------------------------------------------

    def _build_lists(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        intro = QLabel(self.tr(
            "Tracker lists you imported. They are kept only in your data folder, "
            "each fact with its source."), page)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.lists_model = QStandardItemModel(0, len(LIST_HEADERS), self)
        self.lists_model.setHorizontalHeaderLabels([self.tr(h) for h in LIST_HEADERS])
        self.lists_view = QTreeView(page)
        self.lists_view.setObjectName("tracker_lists")
        self.lists_view.setAccessibleName(self.tr("Imported tracker lists"))
        self.lists_view.setModel(self.lists_model)
        self.lists_view.setRootIsDecorated(False)
        self.lists_view.setUniformRowHeights(True)
        self.lists_view.setSortingEnabled(True)
        self.lists_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lists_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(self.lists_view, 1)

        self.lists_status = QLabel(page)
        self.lists_status.setObjectName("lists_status")
        self.lists_status.setWordWrap(True)
        layout.addWidget(self.lists_status)

        row = QHBoxLayout()
        format_label = QLabel(self.tr("Format:"), page)
        self.format_combo = QComboBox(page)
        self.format_combo.setObjectName("list_format")
        self.format_combo.setAccessibleName(self.tr("Format of the list to import"))
        self.format_combo.setToolTip(self.tr("Which project's file format the list is in"))
        for fmt in imports.FORMATS:
            self.format_combo.addItem(self.tr(FORMAT_LABELS.get(fmt, fmt)), fmt)
        format_label.setBuddy(self.format_combo)
        self.import_button = QPushButton(self.tr("Import list…"), page)
        self.import_button.setObjectName("import_list")
        self.import_button.setAccessibleName(self.tr("Import a tracker list"))
        self.import_button.setToolTip(self.tr(
            "Read a list file you downloaded; importing the same source again replaces it"))
        self.import_button.clicked.connect(self._choose_and_import)
        row.addWidget(format_label)
        row.addWidget(self.format_combo, 1)
        row.addWidget(self.import_button)
        layout.addLayout(row)
        return page

    def refresh_lists(self) -> None:
        """Reload the imported sources from the data folder into the list."""
        self.lists_model.removeRows(0, self.lists_model.rowCount())
        try:
            found = imports.sources(self._data_dir)
        except imports.ListImportError as e:
            self.lists_status.setText(f"{WARNING_SIGN} {e}")
            return
        for info in found:
            cells = [info.source, info.format, info.domains, info.imported_at, info.licence or ""]
            items = []
            for value in cells:
                item = QStandardItem()
                item.setData(value, Qt.ItemDataRole.DisplayRole)
                item.setEditable(False)
                items.append(item)
            items[0].setToolTip(info.file)
            items[2].setToolTip(self.tr("{owners} same-owner domains, {cookies} cookie names")
                                .format(owners=info.owners, cookies=info.cookies))
            self.lists_model.appendRow(items)
        for column in range(self.lists_model.columnCount()):
            self.lists_view.resizeColumnToContents(column)
        if not found:
            self.lists_status.setText(self.tr("No tracker list imported yet."))

    def _choose_and_import(self) -> None:
        fmt = self.format_combo.currentData()
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Import a tracker list"), str(Path.home()),
            self.tr(FORMAT_FILTERS.get(fmt, "")) + ";;" + self.tr("All files (*)"))
        if path:
            self.import_list(Path(path), fmt)

    def import_list(self, path: Path, fmt: str) -> None:
        """Import ``path`` as ``fmt`` in the background, then refresh the list."""
        data_dir = self._data_dir
        self.import_button.setEnabled(False)
        self.lists_status.setText(self.tr("Importing {name}…").format(name=path.name))
        self._import_task = run_task(
            "import-list",
            lambda control: imports.import_file(path, fmt, data_dir),
            self._import_done, self._import_failed, pool=self._pool)

    def _import_done(self, summary: imports.ImportSummary) -> None:
        self.import_button.setEnabled(True)
        self.refresh_lists()
        self.lists_status.setText(self.tr("Imported {source}: {domains} domains, {cookies} cookie "
                                          "names.").format(source=summary.source,
                                                           domains=summary.domains,
                                                           cookies=summary.cookies))

    def _import_failed(self, exc: BaseException) -> None:
        self.import_button.setEnabled(True)
        self.lists_status.clear()
        if isinstance(exc, imports.ListImportError):
            text = str(exc)
        else:
            text = self.tr("The list could not be imported ({kind}).").format(
                kind=type(exc).__name__)
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Import failed"),
                          self.tr("The list was not imported."), QMessageBox.StandardButton.Ok,
                          self)
        box.setObjectName("import_error")
        box.setInformativeText(text)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._message_box = box
        box.open()  # window-modal and non-blocking
