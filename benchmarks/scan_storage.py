"""Storage scan speed: 5,000 origins in Chromium's Local Storage and in Firefox's storage/.

Builds, in the browsers' real formats:

- a Chromium profile whose ``Local Storage/leveldb`` holds 5,000 origins x 20
  keys, written by the real LevelDB library through ``plyvel`` (Linux wheels;
  ``pip install plyvel``), with Chromium's key layout (``VERSION``,
  ``META:<origin>``, ``_<origin>\\x00<format byte><key>``);
- a Firefox profile with 5,000 ``storage/default/<origin>`` folders, each with
  an ``ls/data.sqlite`` of 20 keys in the schema Firefox ESR 153 wrote (taken
  from the bundled demo profile), its ``ls/usage`` and ``.metadata-v2``;

then times ``engine.scan(kinds=["local_storage"])`` on each and, in the same
run, a peer on the same files: for Chromium the ``chromium-reader`` package's
localStorage reader when it is installed (``pip install chromium-reader``), for Firefox the floor of any reader
(opening each ``data.sqlite`` directly with sqlite3 and fetching its rows).
Target (issue 3): each scan under 2 seconds.  Exits 1 if a target is missed.

Run: ``python benchmarks/scan_storage.py [--origins N] [--keys K] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_of  # noqa: E402
from privacy_inspector.core import engine, sites  # noqa: E402
from privacy_inspector.platform import discovery  # noqa: E402

DEMO_FIREFOX = ROOT / "resources/demo/firefox/demo.default-release"
REAL_ORIGIN_DIR = DEMO_FIREFOX / "storage/default/https+++www.liveops.com"
WINDOWS_EPOCH_OFFSET = 11_644_473_600


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def build_chromium(folder: Path, origins: int, keys: int) -> Path:
    try:
        import plyvel
    except ImportError:
        sys.exit("benchmarks/scan_storage.py needs plyvel to write a real LevelDB: pip install plyvel")
    profile = folder / "chromium" / "Default"
    db_path = profile / "Local Storage" / "leveldb"
    db_path.parent.mkdir(parents=True)
    (profile / "Preferences").write_text("{}")
    now = int((time.time() + WINDOWS_EPOCH_OFFSET) * 1_000_000)
    db = plyvel.DB(str(db_path), create_if_missing=True)
    with db.write_batch() as batch:
        batch.put(b"VERSION", b"1")
        for i in range(origins):
            origin = f"https://www.site{i}.example".encode()
            size = 0
            for k in range(keys):
                key = f"key_{k}".encode()
                value = f"value {i}-{k} {'x' * 24}".encode()
                batch.put(b"_" + origin + b"\x00\x01" + key, b"\x01" + value)
                size += len(key) + len(value)
            meta = b"\x08" + _varint(now) + b"\x10" + _varint(size)
            batch.put(b"META:" + origin, meta)
    db.close()
    return profile


def _metadata(real: bytes, group: str, origin: str) -> bytes:
    """A ``.metadata-v2`` for ``origin``: the real file's header and trailer
    around big-endian length-prefixed suffix (empty), group and origin."""
    (suffix_len,) = struct.unpack_from(">I", real, 17)
    at = 21 + suffix_len
    (group_len,) = struct.unpack_from(">I", real, at)
    at += 4 + group_len
    (origin_len,) = struct.unpack_from(">I", real, at)
    tail = real[at + 4 + origin_len :]
    return (real[:17] + struct.pack(">I", 0) + struct.pack(">I", len(group)) + group.encode()
            + struct.pack(">I", len(origin)) + origin.encode() + tail)


def build_firefox(folder: Path, origins: int, keys: int,
                  host_of: Callable[[int], str] | None = None) -> Path:
    """A Firefox profile of ``origins`` localStorage origins of ``keys`` keys each;
    ``host_of(i)`` names origin i's host (``www.site<i>.example`` by default)."""
    profile = folder / "firefox" / "bench.default"
    default = profile / "storage" / "default"
    default.mkdir(parents=True)
    for name in ("storage.sqlite", "times.json"):
        if (DEMO_FIREFOX / name).exists():
            shutil.copy2(DEMO_FIREFOX / name, profile / name)
    real_meta = (REAL_ORIGIN_DIR / ".metadata-v2").read_bytes()
    with sqlite3.connect(REAL_ORIGIN_DIR / "ls" / "data.sqlite") as real:
        schema = [row[0] for row in real.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")]
        (user_version,) = real.execute("PRAGMA user_version").fetchone()
    template = folder / "template.sqlite"
    with sqlite3.connect(template) as conn:
        conn.execute("PRAGMA page_size = 1024")
        for statement in schema:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {user_version}")
    template_bytes = template.read_bytes()
    now_us = int(time.time() * 1_000_000)
    for i in range(origins):
        host = host_of(i) if host_of is not None else f"www.site{i}.example"
        origin = f"https://{host}"
        origin_dir = default / f"https+++{host}"
        ls = origin_dir / "ls"
        ls.mkdir(parents=True)
        (origin_dir / ".metadata-v2").write_bytes(_metadata(real_meta, sites.registrable_domain(host), origin))
        data = ls / "data.sqlite"
        data.write_bytes(template_bytes)
        rows = [(f"key_{k}", f"value {i}-{k} {'x' * 24}") for k in range(keys)]
        usage = sum(len(k) + len(v) for k, v in rows)
        with sqlite3.connect(data) as conn:
            conn.execute("INSERT INTO database(origin, usage) VALUES (?, ?)", (origin, usage))
            conn.executemany(
                "INSERT INTO data(key, utf16_length, conversion_type, compression_type, "
                "last_access_time, value) VALUES (?, ?, 1, 0, ?, ?)",
                [(k, len(v), now_us, v.encode()) for k, v in rows],
            )
        (ls / "usage").write_bytes(b"\x42\x0a\x42\x0a" + struct.pack(">Q", usage))
    return profile


def peer_chromium(profile: Path):
    try:
        from chromium_reader import LocalStorageReader  # type: ignore[import-not-found]
    except ImportError:
        return None

    def read_all() -> int:
        with LocalStorageReader(profile / "Local Storage" / "leveldb") as reader:
            return sum(1 for _ in reader.records())
    return read_all


def peer_firefox(profile: Path):
    def read_all() -> int:
        count = 0
        for data in (profile / "storage" / "default").glob("*/ls/data.sqlite"):
            conn = sqlite3.connect(f"file:{data}?mode=ro", uri=True)
            count += len(conn.execute("SELECT key, value FROM data").fetchall())
            conn.close()
        return count
    return read_all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    expected = args.origins * args.keys
    failures = []
    with tempfile.TemporaryDirectory(prefix="pi-bench-storage-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        chromium = build_chromium(folder, args.origins, args.keys)
        firefox = build_firefox(folder, args.origins, args.keys)
        print(f"built {args.origins:,} origins x {args.keys} keys per browser in "
              f"{time.perf_counter() - t0:.1f} s")
        print(f"\nbest of {args.repeat} runs (median in brackets), seconds:")
        for label, profile_dir, peer_name, peer in (
            ("Chromium", chromium, "chromium-reader", peer_chromium(chromium)),
            ("Firefox", firefox, "sqlite3 floor", peer_firefox(firefox)),
        ):
            (profile,) = discovery.resolve(profile_dir)
            best, result = best_of(
                args.repeat, lambda p=profile: engine.scan([p], kinds=["local_storage"]))
            found = len(result.entries)
            line = f"{label:<9} local_storage scan {best:6.3f} ({best.median:.3f}), {found:,} entries"
            if result.errors:
                failures.append(f"{label}: errors {result.errors[:2]}")
            if found != expected:
                failures.append(f"{label}: {found:,} entries, expected {expected:,}")
            if best >= 2.0:
                failures.append(f"{label}: scan {best:.3f} s is not under 2 s")
            if peer is None:
                line += f"; {peer_name}: not installed"
            else:
                p_best, p_count = best_of(args.repeat, peer)
                line += f"; {peer_name} {p_best:6.3f} ({p_best.median:.3f}), {p_count:,} records"
            print(line)
    print()
    if failures:
        print("targets missed:\n  " + "\n  ".join(failures))
        return 1
    print("targets met: each storage scan under 2 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
