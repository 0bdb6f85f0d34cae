"""Decrypting Chromium cookie values on demand, one value at a time.

The inventory shows no values; only ``--show-values`` (and later the GUI's
reveal) decrypts for showing.  A scan without it still decrypts what needs no
keyring (``values_without_prompt``) to measure ``identifier_like``, and then
drops the values.  browser-cookie3 does the cryptography and the key
look-up (Secret Service or KWallet on Linux, the Keychain on macOS, DPAPI on
Windows).  Its own ``load()`` fails the whole jar on one bad value and its key
look-up raises ``KeyError: 'DBUS_SESSION_BUS_ADDRESS'`` on a Linux machine
without a D-Bus session, so this module calls its per-value ``_decrypt`` and
contains whatever it raises: a value that cannot be decrypted is marked, and
the rest go on.  Nothing here ever puts a value into an exception or a log.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
import threading
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any

from privacy_inspector.core.records import ValueState

log = logging.getLogger(__name__)

# browser-cookie3 class per browser name; every other Chromium browser uses
# Chromium's key names.
_CLASS_NAMES = {
    "chrome": "Chrome",
    "chromium": "Chromium",
    "brave": "Brave",
    "edge": "Edge",
    "opera": "Opera",
    "vivaldi": "Vivaldi",
}
_PATCH_LOCK = threading.Lock()

Decrypted = tuple[str | None, str, str | None]


def _make_backend(browser: str, cookie_file: Path, local_state: Path | None) -> tuple[Any, str | None]:
    """A browser-cookie3 object holding the keys, and a note if the keyring failed."""
    import browser_cookie3

    cls = getattr(browser_cookie3, _CLASS_NAMES.get(browser, "Chromium"))
    kwargs = {"cookie_file": str(cookie_file)}
    if local_state is not None and local_state.is_file():
        kwargs["key_file"] = str(local_state)
    try:
        return cls(**kwargs), None
    except Exception as exc:  # noqa: BLE001 - anything the keyring stack raises
        note = f"the system keyring could not be used ({type(exc).__name__})"
        log.info("keyring look-up for %s failed: %s", browser, type(exc).__name__)
    if not sys.platform.startswith("linux"):
        return None, note
    # Without a keyring, Chromium on Linux uses its built-in "basic" password
    # for v10 values; v11 values need the keyring and stay undecryptable.
    manager = browser_cookie3._LinuxPasswordManager
    with _PATCH_LOCK:
        original = manager.get_password
        manager.get_password = lambda self, name: browser_cookie3.CHROMIUM_DEFAULT_PASSWORD
        try:
            return cls(**kwargs), note
        except Exception as exc:  # noqa: BLE001
            log.info("basic-password fallback failed: %s", type(exc).__name__)
            return None, note
        finally:
            manager.get_password = original


class ChromiumDecryptor:
    """Decrypts the values of one Chromium ``Cookies`` file."""

    def __init__(
        self,
        browser: str,
        cookie_file: Path,
        local_state: Path | None,
        hash_prefix: bool,
    ) -> None:
        self._browser = browser
        self._cookie_file = cookie_file
        self._local_state = local_state
        self._hash_prefix = hash_prefix
        self._backend: Any = None
        self._note: str | None = None
        self._ready = False

    def _load(self) -> None:
        self._ready = True
        try:
            self._backend, self._note = _make_backend(
                self._browser, self._cookie_file, self._local_state
            )
        except Exception as exc:  # noqa: BLE001 - e.g. browser-cookie3 missing a class
            self._backend, self._note = None, f"decryption is unavailable ({type(exc).__name__})"

    def decrypt(self, encrypted: bytes) -> Decrypted:
        """(value, value_state, note) for one ``encrypted_value``."""
        prefix = bytes(encrypted[:3])
        if prefix == b"v20":
            return (
                None,
                ValueState.UNAVAILABLE,
                "app-bound encryption (v20): only the browser itself can decrypt it",
            )
        if sys.platform != "win32" and prefix not in (b"v10", b"v11"):
            return None, ValueState.UNAVAILABLE, "unknown encryption format"
        if not self._ready:
            self._load()
        if self._backend is None:
            return None, ValueState.UNAVAILABLE, self._note or "decryption is unavailable"
        try:
            value = self._backend._decrypt("", bytes(encrypted), self._hash_prefix)
        except Exception as exc:  # noqa: BLE001 - contain per value, never fatal
            why = f"cannot decrypt ({type(exc).__name__})"
            if self._note:
                why = f"{why}; {self._note}"
            return None, ValueState.UNAVAILABLE, why
        if not isinstance(value, str):
            return None, ValueState.UNAVAILABLE, "cannot decrypt (unexpected result)"
        return value, ValueState.PLAIN, None


# --------------------------------------------------------------------------
# Measuring values the user did not ask to see
# --------------------------------------------------------------------------

# Chromium on Linux encrypts ``v10`` values with a password built into the
# browser ("peanuts"); only ``v11`` values use a key from the keyring.
_BASIC_KEY = hashlib.pbkdf2_hmac("sha1", b"peanuts", b"saltysalt", 1, 16)
_BASIC_IV = b" " * 16
_BLOCK = 16
_HASH_PREFIX = 32
_PADDING = tuple(bytes((n,)) * n for n in range(_BLOCK + 1))


def decrypt_basic(ciphertexts: Sequence[bytes], hash_prefix: bool) -> list[str | None]:
    """The ``v10`` values of a Linux profile, decrypted without asking any keyring.

    Each value is AES-128-CBC with the same key and IV.  A cipher object per
    value costs about 18 µs (1.8 s for 100,000 cookies), so the values are
    joined with the IV between them and decrypted in one CBC pass: the IV
    block before each value is exactly what CBC chains its first block with.
    Anything else (``v11``, a bad length, bad padding, text that is not UTF-8)
    is None.
    """
    from Cryptodome.Cipher import AES

    out: list[str | None] = [None] * len(ciphertexts)
    where = [
        i for i, c in enumerate(ciphertexts)
        if len(c) % _BLOCK == 3 and len(c) > 3 and c[:3] == b"v10"
    ]
    if not where:
        return out
    bodies = [ciphertexts[i][3:] for i in where]
    plain = AES.new(_BASIC_KEY, AES.MODE_CBC, _BASIC_IV).decrypt(
        _BASIC_IV + _BASIC_IV.join(bodies)
    )
    skip = _HASH_PREFIX if hash_prefix else 0
    ends = list(accumulate(len(body) + _BLOCK for body in bodies))
    for i, end, body in zip(where, ends, bodies, strict=True):
        pad = plain[end - 1]
        if 1 <= pad <= _BLOCK and plain[end - pad : end] == _PADDING[pad]:
            with contextlib.suppress(UnicodeDecodeError):
                out[i] = plain[end - len(body) + skip : end - pad].decode("utf-8")
    return out


def values_without_prompt(
    browser: str,
    cookie_file: Path,
    local_state: Path | None,
    hash_prefix: bool,
    ciphertexts: Sequence[bytes],
) -> list[str | None]:
    """The values that can be decrypted without the user being asked, else None.

    For measuring only (``identifier_like``); the caller drops them.  Linux:
    ``v10`` values, which use Chromium's built-in password (``v11`` would
    need the keyring, which may ask to be unlocked).  Windows: DPAPI, which
    never asks.  macOS: nothing, since the Keychain asks.
    """
    if sys.platform.startswith("linux"):
        return decrypt_basic(ciphertexts, hash_prefix)
    if sys.platform == "win32":
        decryptor = ChromiumDecryptor(browser, cookie_file, local_state, hash_prefix)
        return [decryptor.decrypt(c)[0] for c in ciphertexts]
    return [None] * len(ciphertexts)
