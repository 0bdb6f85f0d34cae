"""Scan speed on 100,000 cookies, against browser-cookie3 on the same files in the same run.

Builds a Chromium ``Cookies`` file (schema 24, every value v10-encrypted with
the SHA-256 host prefix, as Debian's Chromium writes with the basic password
store) and a Firefox ``cookies.sqlite`` (schema 17), each from the schema a
real browser wrote (tests/fixtures/schemas), then times:

- ``engine.scan`` of each profile (what the GUI and every command call),
- the whole CLI, ``privacy-inspector scan --format json``, in a child process,
- ``browser_cookie3.chrome(cookie_file=...)`` and ``browser_cookie3.firefox(...)``
  on the same files; browser-cookie3 decrypts every value, and its keyring
  look-up is handed the basic v10 password where no keyring exists.

Run: ``python benchmarks/scan_cookies.py [--cookies N] [--repeat R]``.
Prints the best of R runs for each and checks the targets of issue 2:
each scan under 1 s; Chromium at least 5 times faster than browser-cookie3;
Firefox no slower than it.  Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_of  # noqa: E402
from privacy_inspector.core import engine  # noqa: E402
from privacy_inspector.platform import discovery  # noqa: E402
from tests.fixtures.cookie_dbs import chromium_cookies_db, firefox_cookies_db  # noqa: E402

SAME_SITES = ("unspecified", "none", "lax", "strict")


def make_cookies(count: int, seed: int = 2016) -> list[dict]:
    rng = random.Random(seed)
    now = time.time()
    cookies = []
    for i in range(count):
        site = f"site{i % 5000}.example{'' if i % 3 else '.co.uk'}"
        host = f".{site}" if i % 2 else f"www.{site}"
        cookies.append({
            "host": host,
            "name": f"cookie_{i}",
            "value": f"{rng.getrandbits(128):032x}",
            "path": "/" if i % 4 else "/account",
            "expires": None if i % 10 == 0 else now + rng.randint(3600, 400 * 86400),
            "secure": bool(i % 2),
            "http_only": bool(i % 3 == 0),
            "same_site": SAME_SITES[i % 4],
            "partition": "https://liveops.com" if i % 7 == 0 else "",
            "origin_attributes": "^partitionKey=%28https%2Cliveops.com%29" if i % 7 == 0 else "",
            "created": now - rng.randint(0, 86400 * 30),
        })
    return cookies


def time_cli(profile_path: Path, data_dir: Path, repeat: int) -> tuple[float, int]:
    """The whole command, start-up included, writing its JSON to a file."""
    output = data_dir.parent / "scan.json"

    def run() -> None:
        with open(output, "wb") as out:
            subprocess.run(
                [sys.executable, "-m", "privacy_inspector", "scan", "--profile", str(profile_path),
                 "--format", "json", "--data-dir", str(data_dir)],
                stdout=out, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
            )

    seconds, _ = best_of(repeat, run)
    return seconds, len(json.loads(output.read_bytes())["entries"])


def bc3_chrome(cookie_file: Path):
    import browser_cookie3

    manager = browser_cookie3._LinuxPasswordManager
    original = manager.get_password
    # No keyring on this machine: hand browser-cookie3 the basic password,
    # which is what Chromium used to encrypt these v10 values.
    manager.get_password = lambda self, name: browser_cookie3.CHROMIUM_DEFAULT_PASSWORD
    try:
        return browser_cookie3.chrome(cookie_file=str(cookie_file))
    finally:
        manager.get_password = original


def bc3_firefox(cookie_file: Path):
    import browser_cookie3

    return browser_cookie3.firefox(cookie_file=str(cookie_file))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cookies", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pi-bench-") as tmp:
        tmp_path = Path(tmp)
        cookies = make_cookies(args.cookies)
        t0 = time.perf_counter()
        chrome_file = chromium_cookies_db(tmp_path / "chromium" / "Default" / "Cookies", cookies, version=24)
        # Firefox keeps session cookies out of cookies.sqlite: every row there has an expiry.
        persistent = [{**c, "expires": c["expires"] or time.time() + 86400} for c in cookies]
        firefox_file = firefox_cookies_db(tmp_path / "firefox" / "bench.default" / "cookies.sqlite", persistent)
        # The scans should not share the process with 200,000 dicts of input.
        del cookies, persistent
        print(f"built {args.cookies:,} cookies per file in {time.perf_counter() - t0:.1f} s "
              f"(Cookies {chrome_file.stat().st_size / 1e6:.1f} MB, "
              f"cookies.sqlite {firefox_file.stat().st_size / 1e6:.1f} MB)")

        (chrome_profile,) = discovery.resolve(chrome_file.parent)
        (firefox_profile,) = discovery.resolve(firefox_file.parent)

        rows = []
        for label, profile, bc3, cookie_file in (
            ("Chromium", chrome_profile, bc3_chrome, chrome_file),
            ("Firefox", firefox_profile, bc3_firefox, firefox_file),
        ):
            ours, result = best_of(args.repeat, lambda p=profile: engine.scan([p]))
            assert not result.errors, result.errors
            assert len(result.entries) == args.cookies, len(result.entries)
            cli, count = time_cli(profile.path, tmp_path / "state", args.repeat)
            assert count == args.cookies
            theirs, jar = best_of(args.repeat, lambda f=cookie_file, fn=bc3: fn(f))
            rows.append((label, ours, cli, theirs, len(jar)))

    print()
    print(f"best of {args.repeat} runs (median in brackets), seconds:")
    print(f"{'store':<10}{'engine scan':>18}{'CLI scan --format json':>26}{'browser-cookie3':>20}"
          f"{'speed-up':>10}")
    for label, ours, cli, theirs, jar_size in rows:
        print(f"{label:<10}{ours:>8.3f} ({ours.median:.3f}){cli:>16.3f} ({cli.median:.3f})"
              f"{theirs:>12.3f} ({theirs.median:.3f}){theirs / ours:>8.1f}x"
              f"   (browser-cookie3 returned {jar_size:,} cookies)")

    failures = []
    for label, ours, *_ in rows:
        if ours >= 1.0:
            failures.append(f"{label}: engine scan {ours:.3f} s is not under 1 s")
    chromium_row, firefox_row = rows
    if chromium_row[3] / chromium_row[1] < 5:
        failures.append(f"Chromium: only {chromium_row[3] / chromium_row[1]:.1f}x faster than browser-cookie3")
    if firefox_row[1] > firefox_row[3]:
        failures.append("Firefox: slower than browser-cookie3")
    print()
    if failures:
        print("targets missed:\n  " + "\n  ".join(failures))
        return 1
    print("targets met: each scan under 1 s; Chromium >= 5x browser-cookie3; Firefox no slower")
    return 0


if __name__ == "__main__":
    sys.exit(main())
