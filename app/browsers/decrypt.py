"""Decrypting Chromium cookie values on demand, one value at a time.

The inventory keeps values encrypted; only ``--show-values`` (and later the
GUI's reveal) decrypts.  browser-cookie3 does the cryptography and the key
look-up (Secret Service or KWallet on Linux, the Keychain on macOS, DPAPI on
Windows).  Its own ``load()`` fails the whole jar on one bad value and its key
look-up raises ``KeyError: 'DBUS_SESSION_BUS_ADDRESS'`` on a Linux machine
without a D-Bus session, so this module calls its per-value ``_decrypt`` and
contains whatever it raises: a value that cannot be decrypted is marked, and
the rest go on.  Nothing here ever puts a value into an exception or a log.
"""

from __future__ import annotations

import logging
import sys
import threading
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
