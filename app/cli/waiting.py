"""``--wait`` and ``--close-browser`` for the writing commands.

The contract refuses to write while a browser runs on a profile (exit 3).
Cleaners' users ask for the next step (CCleaner and BleachBit offer to close
the browser, and to clean when it closes): with ``--close-browser`` the app
asks the browser to quit (SIGTERM to the process its lock names, only if
that is the browser; the window's "Ask the browser to close" does the same),
and with ``--wait S`` it waits up to S seconds for it to be closed.  Then the
command plans afresh, since the browser may have written while closing.
Still running at the end means exit 3, as before.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable

from privacy_inspector.core.records import Profile
from privacy_inspector.platform import locks

# How long --close-browser alone waits for the browser to finish closing.
CLOSE_WAIT = 30.0
POLL = 0.5


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=float, metavar="S",
                        help="if a browser runs on a profile to be written, wait up to S seconds "
                             "for it to be closed (then plan again) instead of refusing")
    parser.add_argument("--close-browser", action="store_true",
                        help="if a browser runs on a profile to be written, ask it to quit "
                             "(it closes as if you quit it), then wait for it")


def wanted(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "wait", None) or getattr(args, "close_browser", False))


def until_closed(args: argparse.Namespace, profiles: Iterable[Profile],
                 running: Callable[[Profile], bool] = locks.is_running,
                 sleep: Callable[[float], None] = time.sleep) -> bool:
    """Ask (with --close-browser) and wait (--wait S) until no browser runs on
    ``profiles``; whether none does.  Progress goes to stderr."""
    busy = [p for p in profiles if running(p)]
    if not busy:
        return True
    if getattr(args, "close_browser", False):
        for profile in busy:
            asked = locks.request_close(profile)
            print(f"{'Asked' if asked else 'Could not ask'} {profile.browser} on {profile.name} "
                  f"to close{'' if asked else ' (close it yourself)'}.", file=sys.stderr)
    seconds = getattr(args, "wait", None) or (CLOSE_WAIT if args.close_browser else 0.0)
    names = ", ".join(sorted({p.browser for p in busy}))
    print(f"Waiting up to {seconds:g} s for {names} to close\u2026", file=sys.stderr)
    deadline = time.monotonic() + seconds
    while True:
        busy = [p for p in busy if running(p)]
        if not busy:
            return True
        if time.monotonic() >= deadline:
            return False
        sleep(POLL)
