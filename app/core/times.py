"""Timestamps of the browsers' stores, all rendered as ``YYYY-MM-DDTHH:MM:SSZ``."""

from __future__ import annotations

import time

# Seconds from 1601-01-01 (Windows/Chromium epoch) to 1970-01-01.
WINDOWS_EPOCH_OFFSET = 11_644_473_600
# Seconds from 1970-01-01 to 2001-01-01 (Apple's Core Foundation epoch).
MAC_EPOCH_OFFSET = 978_307_200
# 9999-12-31T23:59:59Z: anything later is shown as that.
_MAX_UNIX = 253_402_300_799


def iso_from_unix(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    s = int(seconds)
    if s > _MAX_UNIX:
        s = _MAX_UNIX
    elif s < 0:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))


def iso_from_chromium(micros: int | None) -> str | None:
    """Chromium times: microseconds since 1601-01-01 UTC; 0 means none."""
    if not micros:
        return None
    return iso_from_unix(micros / 1_000_000 - WINDOWS_EPOCH_OFFSET)


def iso_from_unix_micros(micros: int | None) -> str | None:
    if not micros:
        return None
    return iso_from_unix(micros / 1_000_000)


def iso_from_mac(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return iso_from_unix(seconds + MAC_EPOCH_OFFSET)
