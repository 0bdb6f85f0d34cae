"""Timestamps of the browsers' stores, all rendered as ``YYYY-MM-DDTHH:MM:SSZ``.

A scan formats about three timestamps per cookie, so formatting is on the hot
path: the date part is cached per day and the time of day comes from a table of
two-digit strings (about three times faster than ``time.strftime``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

# Seconds from 1601-01-01 (Windows/Chromium epoch) to 1970-01-01.
WINDOWS_EPOCH_OFFSET = 11_644_473_600
# Seconds from 1970-01-01 to 2001-01-01 (Apple's Core Foundation epoch).
MAC_EPOCH_OFFSET = 978_307_200
# 9999-12-31T23:59:59Z: anything later is shown as that.
_MAX_UNIX = 253_402_300_799
_DAYS: dict[int, str] = {}
_TWO = tuple(f"{i:02d}" for i in range(60))
_CHROMIUM_OFFSET_MICROS = WINDOWS_EPOCH_OFFSET * 1_000_000


def iso_from_unix(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    s = int(seconds)
    if s > _MAX_UNIX:
        s = _MAX_UNIX
    elif s < 0:
        return None
    day, rem = divmod(s, 86_400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
    two = _TWO
    return f"{date}{two[rem // 3600]}:{two[rem // 60 % 60]}:{two[rem % 60]}Z"


def iso_column(seconds: Iterable[float | int | None]) -> list[str | None]:
    """``iso_from_unix`` over a whole column, without a call per value."""
    days, two, out = _DAYS, _TWO, []
    append = out.append
    for value in seconds:
        if value is None or value < 0:
            append(None)
            continue
        s = int(value) if value <= _MAX_UNIX else _MAX_UNIX
        day, rem = divmod(s, 86_400)
        date = days.get(day)
        if date is None:
            date = days[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
        append(f"{date}{two[rem // 3600]}:{two[rem // 60 % 60]}:{two[rem % 60]}Z")
    return out


def iso_from_chromium(micros: int | None) -> str | None:
    """Chromium times: microseconds since 1601-01-01 UTC; 0 means none."""
    if not micros:
        return None
    return iso_from_unix((micros - _CHROMIUM_OFFSET_MICROS) // 1_000_000)


def iso_from_unix_micros(micros: int | None) -> str | None:
    if not micros:
        return None
    return iso_from_unix(micros // 1_000_000)


def iso_from_mac(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return iso_from_unix(seconds + MAC_EPOCH_OFFSET)
