"""The inventory's models: Qt's model tester, and real sorting and filtering."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from privacy_inspector.core import demo, engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.gui.models.entries import (
    COL_EXPIRES,
    COL_NAME,
    COL_SIZE,
    EntryFilter,
    EntryProxyModel,
    EntryTableModel,
    RecordRole,
)
from privacy_inspector.gui.models.groups import BY_ORGANIZATION, BY_SITE, GroupTableModel

pytestmark = pytest.mark.gui


@pytest.fixture
def entries(data_dir):
    result = engine.scan(demo.demo_profiles(data_dir), classifier=Classifier(load_policy()))
    assert not result.errors and len(result.entries) > 30
    return result.entries


@pytest.fixture
def models(entries):
    model = EntryTableModel()
    model.set_rows(entries)
    proxy = EntryProxyModel()
    proxy.setSourceModel(model)
    return model, proxy


def _column(proxy, column, role=Qt.ItemDataRole.DisplayRole):
    return [proxy.index(row, column).data(role) for row in range(proxy.rowCount())]


def test_the_models_pass_qts_model_tester(qtmodeltester, models, entries):
    model, proxy = models
    qtmodeltester.check(model)
    proxy.set_filter(EntryFilter(trackers_only=True))
    proxy.sort(COL_SIZE, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(proxy)
    groups = GroupTableModel()
    groups.set_rows(entries, BY_ORGANIZATION)
    qtmodeltester.check(groups)


def test_sorting_uses_real_values_not_text(models):
    _, proxy = models
    proxy.sort(COL_SIZE, Qt.SortOrder.AscendingOrder)
    sizes = [e.size or 0 for e in (proxy.index(r, 0).data(RecordRole) for r in range(proxy.rowCount()))]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    # As text "1.2 KB" would sort before "900 B"; as numbers it must not.
    proxy.sort(COL_SIZE, Qt.SortOrder.DescendingOrder)
    assert _column(proxy, COL_SIZE, RecordRole)[0].size == max(sizes)
    proxy.sort(COL_EXPIRES, Qt.SortOrder.AscendingOrder)
    records = _column(proxy, COL_EXPIRES, RecordRole)
    cookies = [e for e in records if e.kind == "cookie"]
    sessions = [i for i, e in enumerate(cookies) if not e.persistent]
    dated = [e.expires for e in cookies if e.persistent]
    assert sessions == list(range(len(sessions))), "session cookies sort first"
    assert dated == sorted(dated)


def test_filters_combine_and_search_matches_every_word(models, entries):
    model, proxy = models
    proxy.set_filter(EntryFilter(trackers_only=True))
    assert proxy.rowCount() == sum(1 for e in entries if e.tracker) > 0
    proxy.set_filter(EntryFilter(text="google analytics"))
    names = set(_column(proxy, COL_NAME))
    assert names == {"_ga", "_gid"}
    proxy.set_filter(EntryFilter(parties=frozenset({"first_party"}), kinds=frozenset({"cookie"})))
    records = _column(proxy, 0, RecordRole)
    assert records and all(e.party == "first_party" and e.kind == "cookie" for e in records)
    proxy.set_filter(EntryFilter(organization="Meta", browsers=frozenset({"firefox"})))
    assert {(e.organization, e.browser) for e in _column(proxy, 0, RecordRole)} == {("Meta", "firefox")}
    proxy.set_filter(EntryFilter(text="no-such-thing"))
    assert proxy.rowCount() == 0 and not proxy.hasChildren()
    # Back to everything, in scan order.
    proxy.set_filter(EntryFilter())
    assert _column(proxy, 0, RecordRole) == list(entries)
    assert proxy.mapFromSource(model.index(5, 2)).row() == 5


def test_groups_count_entries_and_trackers(entries):
    groups = GroupTableModel()
    groups.set_rows(entries, BY_ORGANIZATION)
    rows = {groups.group(r).label: groups.group(r) for r in range(groups.rowCount())}
    google = rows["Google"]
    assert google.entries == sum(1 for e in entries if e.organization == "Google")
    assert google.trackers == sum(1 for e in entries if e.organization == "Google" and e.tracker)
    assert "liveops.com" in google.others and "doubleclick.net" in google.others
    assert groups.headerData(0, Qt.Orientation.Horizontal) == "Organisation"
    groups.set_rows(entries, BY_SITE)
    sites = {groups.group(r).label for r in range(groups.rowCount())}
    assert {"liveops.com", "doubleclick.net", "facebook.com"} <= sites
    assert groups.headerData(0, Qt.Orientation.Horizontal) == "Site"
