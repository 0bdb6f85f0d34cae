"""Does a value look like a unique identifier?  Measured, never kept.

In the spirit of Privacy Badger's estimate (``estimateMaxEntropy``): a value
could have been drawn from the alphabet it uses, so ``length x log2(distinct
characters)`` bits is the most it can carry.  A value that can carry at least
33 bits (enough to single out one browser among eight billion), holds a digit
(random ids, hex, Base64 and UUIDs almost always do; words and yes/no flags
do not) and outlives the session looks like an identifier.  Only the first
256 characters are measured, as Privacy Badger does, so a large JSON blob
costs no more than a cookie.

This runs on every value of a scan, including those the user never sees, so
it is written for speed: about a microsecond per value.
"""

from __future__ import annotations

import math

BITS = 33
MIN_LENGTH = 8
MEASURED = 256
# log2 of the number of distinct characters, for every count a measured value can have.
_LOG2 = (0.0, *(math.log2(n) for n in range(1, MEASURED + 1)))
_DIGITS = frozenset("0123456789")


def identifier_like(value: str | None, persistent: bool) -> bool | None:
    """True or False; None where the value could not be read."""
    if value is None:
        return None
    if not persistent or len(value) < MIN_LENGTH:
        return False
    measured = value[:MEASURED]
    chars = set(measured)
    return (
        len(chars) >= 6
        and not _DIGITS.isdisjoint(chars)
        and len(measured) * _LOG2[len(chars)] >= BITS
    )
