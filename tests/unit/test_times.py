"""Timestamp rendering: the cached formatter must equal time.strftime everywhere."""

from __future__ import annotations

import random
import time

import pytest

from privacy_inspector.core import times

REFERENCE = "%Y-%m-%dT%H:%M:%SZ"


def _reference(seconds: int) -> str:
    return time.strftime(REFERENCE, time.gmtime(seconds))


def test_matches_strftime_on_random_instants():
    rng = random.Random(1601)
    for _ in range(50_000):
        s = rng.randint(0, times._MAX_UNIX)
        assert times.iso_from_unix(s) == _reference(s)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (86_399.999, "1970-01-01T23:59:59Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (10**15, "9999-12-31T23:59:59Z"),
        (-1, None),
        (None, None),
    ],
)
def test_edges(value, expected):
    assert times.iso_from_unix(value) == expected


def test_each_epoch():
    assert times.iso_from_chromium(0) is None
    assert times.iso_from_chromium(13_000_000_000_000_000) == "2012-12-14T23:06:40Z"
    assert times.iso_from_chromium(11_644_473_600_000_000) == "1970-01-01T00:00:00Z"
    assert times.iso_from_unix_micros(1_700_000_000_123_456) == "2023-11-14T22:13:20Z"
    assert times.iso_from_mac(0) == "2001-01-01T00:00:00Z"
    assert times.iso_from_mac(-978_307_201) is None


def test_the_column_form_equals_the_single_form():
    rng = random.Random(2001)
    values = [rng.randint(-10, times._MAX_UNIX + 10) for _ in range(20_000)]
    values += [None, 0, -1, 1.5, 86_399.9, 10**15]
    assert times.iso_column(values) == [times.iso_from_unix(v) for v in values]
