"""The presenter's walk-through, on the demo profiles (written by real browsers)."""

from __future__ import annotations

import pytest

from privacy_inspector.core import demo, engine, walkthrough
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    classifier = Classifier(load_policy())
    profiles = demo.demo_profiles(tmp_path_factory.mktemp("state"))
    return engine.scan(profiles, classifier=classifier).entries, classifier


def test_owner_first_then_companies_by_size(scanned):
    entries, classifier = scanned
    steps = walkthrough.steps(entries, classifier)
    assert [s.title for s in steps] == ["What liveops.com left behind", "LiveOps' own entries",
                                        "Google", "Meta"]
    by_id = {e.id: e for e in entries}
    assert {by_id[i].party for i in steps[1].entry_ids} == {"first_party"}
    assert {by_id[i].organization for i in steps[2].entry_ids} == {"Google"}
    # Every entry of the owner's context is in the first step; no unrelated one anywhere.
    in_context = {e.id for e in entries if e.party != "unrelated" and not e.stale}
    assert steps[0].entry_ids == in_context
    assert all(by_id[i].party != "unrelated" for s in steps for i in s.entry_ids)
    # The clauses come in the policy's order, with its words.
    ids = [cid for cid, _, _ in steps[2].clauses]
    order = list(classifier.policy.clause_ids)
    assert ids == sorted(ids, key=order.index) and "interest-based-ads" in ids
    assert all(text for _, _, text in steps[2].clauses)


def test_values_never_appear(scanned, tmp_path):
    entries, classifier = scanned
    secret = "s3cr3t-value-do-not-show"
    revealed = [e._replace(value=secret) for e in entries]
    text = repr(walkthrough.steps(revealed, classifier))
    assert secret not in text


def test_focus_on_an_unrelated_site(scanned):
    entries, classifier = scanned
    steps = walkthrough.steps(entries, classifier, "example-news.org")
    by_id = {e.id: e for e in entries}
    assert steps[0].title == "What example-news.org left behind"
    assert {by_id[i].site for i in steps[0].entry_ids} == {"example-news.org"}
    assert walkthrough.steps(entries, classifier, "nowhere.example")[0].entry_ids == frozenset()
