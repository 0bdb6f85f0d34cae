"""The Chromium service worker writer, on a ``Service Worker`` folder the real Chromium 156 wrote.

The folder (``Database`` and the two ``ScriptCache`` body files, embedded
below) is what tests/real/test_real_chromium_delete_sw.py makes: LiveOps
(``/app/``) and a DoubleClick frame partitioned under LiveOps (``/ads/``) each
registered a worker.  Cases Chromium will not produce on demand (a record set
again, keys of another layout, Chromium's purge of the bodies) are made by
appending batches as LevelDB would.  The real browser proves the round trip in
tests/real/test_real_chromium_delete_sw.py.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_sw_write as sw
from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers import leveldb_write as lw
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.chromium_workers import read_service_workers
from privacy_inspector.browsers.writers import WriteError
from privacy_inspector.core.records import Profile

_FIXTURE = (
    "eNrtV1mPo8oZ/SvRvHYSAzZuE+k+VEGxmcIuNhteIhab1cYrW5T/nsLdPUtnbtJzc6NI0SAVxkWtX51zvsPfPknh"
    "LYzC627CjNf0z1WdfvrLHz5Js2UHyxIAgsDnqx1vSPE8XXaHmv5Dge3yuocs6CF575Se78mCbXnmmraRLE/QLYA6"
    "YJm6U1auhWSXeAIilbCxPN2xXWEFHN2WMnc3aRGEX2bSHneL/brfyvIyd8vqssVUjifrdM5q7VRvc2TfaRvIbkXn"
    "Zvi97RKICWK/Xq9Hn13Pk7eMYNtuojvFqU5Uq42HujGmyTTp+Wu4DapoCgfjYDaRUzN4cNuVvQDAtmzLjeehajGx"
    "iudGL9Ae8T1SKi7YCG3c80XEMXNTwiyWygZI4g6QFKBc/+AcQharoFFy86PtB/ruHPcALMeTcvJmsV6yxXrSyIzY"
    "Aa8GfppqAGooUXU22BQWVPKzqOQDLZk4BWAHRAD842IRbfDkabHNAQIHWs60XAES7ylSRIAIgCnsaR1DC7BkGodE"
    "t2TBdVhh7ZaVaruzOYb8R2MJIfuKJwle6QpsjcuYRIXDKl80tOfUOHSn5OA1NM53nxNuq4IMpgN4Y2rSd6dBMRDU"
    "SjAzGRPhAnSmEzOWI0tk0DhzIDNLkkVcaO3K0WU8pFNcYg4jbYoH1JuOp5gORBj5vSUFsuWULS5ShrguZyKXBSDw"
    "3NJzVgUAsIIU23iO0W6fPE1sin/8BbIPnkBdpvgcPo4jrM/gY8+HD+6Zk9tYXIQ/GiNKqBo4AK6Wk3ZxeTlfQuO2"
    "SWEuAorLlOL46FWhiVC4rLXQwFq4REYM4IyyEeb7obv5w+S522mAiD4tNS0tIMs5IL4GLAAUoNJ3EgEErnTBesIp"
    "gPTf2yU+7uQtniN2qu/y22UE2sakvKwQcJYtPguVCzQotb9ZH/oP6UMqmx/WB04ujYPVJBv9GmzMa7gxL8aBrxLp"
    "Mx93WPlyRu90AQCne68fWSDyZTT18kjxCtq+CHv+HmzJZw3ZFvCr+b89byApJdUXiHLvR9aYBSqmGhP8SJ83nYEv"
    "OlOIp+bw4zqzfzoKl99BZ5zg9zqTNx3qgCQ3dH5b/4qT/obcA0Vg/UNX+TT2Pne9RweP+d9oEfqiRRt0J+LIDLR9"
    "r0Xr91r0H2IWhwQ+4rL5gbjQOeN+Ef6WWGoAvWgWXh6eoh/XrMl8z31cs8Avn/74hy92CANTk5Ht/Onhi9jRE1Xb"
    "nu9sbfREIeUojU1X+jkv7rZWlXDVELhU27cwiw8yE001CnIsUk/z7biia1nIdMbxHFde2S7VIJbcsARaWjox/eXR"
    "3o4v+ekmhnG2m3BxvGCSMIrnwp5fRPO/MmNvLHf9qbvdniat/KKstKi6Y01exBGD00BXeDAOchmgcbU84yjVkCge"
    "VRWt1rnqHk+tLFLaoyGCOrDLdO3M0pjzrkHODyFXtR4nnxKlugd9elo61+XruyxQLJmqzz1B3YmOUdHT65dikvlT"
    "i6qSzAR2fNXErFraQFjnsDKOSRZuLS86WqdIzEZ1q+jzmA2v/qa6LcXyI+Mfgq1VhOI3Yz/v7fJZvGVQChI5mlyY"
    "RxzMlXoSvqQLIKVjjCTobsSvXOZLWtrOF12TT4yvmoPlGEOoebJFjAHdsQ16ejqpw1yBy3k9XVu/yqHob83Kli3X"
    "FRetUfipq1ZMqAh3Y8B37KC72ULkU3TQtk6ymV01SeM1xDdJPo6ncZoEKOpRtyrcnuql6dGEGXE8M56V4Vl8rLhz"
    "TbWqnUqa8CBzdL4iPlRt8nU7t6PxSZhQqlPsxFOAzMznssoY0Xi0+ohr55rCN8bWpKjUqy8JFJaURABrmuhLIiXU"
    "JgWtBkGque5xNskaFN9WTAM9v4wvTTTMMlMr6lZMfW1ZB9pQMIi2b60CpRjOFMC6SEzbravqIwaKnQ316Gi2VGlG"
    "NqQUd0Oi4k4rQApT04MAY8WDPXVGFDdlam/4IaaZL1GEXpOtKp6SlDCoVbPYxIXfYUebYYnQX7fbvNUVGv+5rgAh"
    "ttJWTn3JI0SSwHcdebtxgAPT+JyVxWpNNAjT9PUZQ9ialLWO2xidMn2OwtIUBXLpl0BQhKkfQTY23JbvZv7kej/Z"
    "IbeKNvtbH8XRk5gl7ZnfeSh+TkR1Zpq7RSt763ofkzolS8l26pm6wJrKY9COsUoQ/eKZtESkFrKVxjVbzBoQdQKp"
    "HIF0BzDEj3Y6IRiDWhHFqwKIK8OWvtEUaYyhaiG0l+A8Tb+3V05U1If7PEaccIwU9+Zv+CwaMboxX5yor9m/psZp"
    "Bh9jBvQsg43eRLR+dBppZr3Ub7OMqt01sFn6nNDxhD6Yaca7NahQXYwZqVXJY48rCH0kmxN7mm5978CKF4VNut3m"
    "fkfKenmb0t0tHvvWWuJjGAJ5aZfEr6dcMiyb2vBt5lDOobMOu857ictZsfFMoHgSAVMCmj1FjYjN2WxUy/dSn6sk"
    "YjRPIB8EXOa5zfE81KKny6Hwp/AZPBEtA/r1PI/rw1y9LYe+41LSbbXYOa1mQlrPkGhFnKEvOqA8SxduzK4jXxLS"
    "pqnM1+O8RBNlhTUo2okytR2zupNFxJ5FcugkIT69XyddY0e5v3vhQY1l9ld4oI48sAZsa60GXnENK0I1gPM3JtWS"
    "UcNhRXW3iXPoBpTjGjIh5eNWcjSOalC/ohpDf1ns1a91Wr9yPtf91/n77/lG9Nw7B4ZMk/bJn08EqbnIegjAAFnE"
    "ok5QV3FnwmJeWEk/X7l16TUnpy5O2x7CBXbXzeWUbO1yOcfKusMun6lKAYKacVsyAPuFJxiC/QKJEk34lGMgRTQ/"
    "PvacSC88HLUMZgVIHu3JDMkpcU9LC+bFPpji81N6yww7dGoZCxdVdt/roGQT0FopxdKylZSM3JjJRSni9owjk9dt"
    "9aR2UMaqvKWIn6N8ue038h7kCNwWQnrj6afhvk/zkPOjMyvng17zPZPfp7xlrXW5j3GvK6+fUplJVbscn6j+xXcs"
    "zmjuGR2fxJ7Jqw+AzCPrjblu+zRcgmaiRUMRuMfsGm2q6y42orY4Js5JYYL+uF3l+2fv6egTwm2tzWQuAPzoHsV7"
    "sgbuW1b8J2cyiyOGnT4LXMQK83DK/wtnIod75al+cSbkpzP5iDOZ8CvhpzP56Ux+OpOfzuSnM/npTP7fnEk4C/t4"
    "smAmKyUJZ3A1YeuJx+xup9U5NzpWbyFvT6OdumGad86EHoxzzr5xJn//B7ChrAs="
)

DC_KEY = b"https://ad.doubleclick.net:43509/^0https://liveops.com"
LO_KEY = b"https://www.liveops.com:43509/"
DC_GONE = {b"REG:" + DC_KEY + b"\x001", b"REGID_TO_ORIGIN:1", b"RES:1\x001",
           b"INITDATA_UNIQUE_ORIGIN:" + DC_KEY}
DC_BODY = "4cb013792b196a35_0"  # SHA-1("1"), resource 1
LO_BODY = "2cc80dabc69f58b6_0"  # SHA-1("0"), resource 0


class _Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.payload: dict | None = None

    def save(self, payload: dict) -> None:
        self.payload = json.loads(json.dumps(payload))

    def load(self) -> dict:
        assert self.payload is not None
        return json.loads(json.dumps(self.payload))

    def files(self) -> Path:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        return self.folder


def _profile(tmp_path: Path) -> Profile:
    path = tmp_path / "Default"
    files = json.loads(zlib.decompress(base64.b64decode("".join(_FIXTURE))))
    for name, data in files.items():
        target = path / "Service Worker" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
    (path / "Service Worker" / "Database" / "LOCK").touch()  # empty, as Chromium leaves it
    return Profile(path, "chromium", "chromium", "Default", root=tmp_path)


def _db(profile: Profile) -> Path:
    return profile.path / "Service Worker" / "Database"


def _records(profile: Profile) -> dict[bytes, bytes]:
    return leveldb.read_records(_db(profile))


def _entries(profile: Profile) -> dict[str, str]:
    options = ReadOptions()
    entries = read_service_workers(profile, options)
    assert options.problems == []
    return {e.id: e.origin for e in entries}


def _dc(profile: Profile) -> str:
    (dc,) = [i for i, origin in _entries(profile).items() if "doubleclick" in origin]
    return dc


def _delete(profile: Profile, ids: list[str], journal: _Journal) -> list[str]:
    entries = [e for e in read_service_workers(profile, ReadOptions()) if e.id in ids]
    writer = sw.writer_for(profile, "service_worker", "Service Worker/Database")
    assert writer is not None
    return writer.delete(entries, journal)


def _restore(profile: Profile, journal: _Journal):
    return sw.ServiceWorkerWriter(profile).restore(journal)


def test_the_fixture_is_chromiums_layout(tmp_path):
    profile = _profile(tmp_path)
    records = _records(profile)
    assert records[b"INITDATA_DB_VERSION"] == b"2"
    assert DC_GONE <= set(records)
    assert sw.script_files(1)[0] == DC_BODY and sw.script_files(0)[0] == LO_BODY
    assert len(_entries(profile)) == 2


def test_writer_for_serves_the_service_worker_database_only(tmp_path):
    profile = _profile(tmp_path)
    assert isinstance(sw.writer_for(profile, "service_worker", "Service Worker/Database"),
                      sw.ServiceWorkerWriter)
    assert sw.writer_for(profile, "cache_storage", "Service Worker/Database") is None
    assert sw.writer_for(profile, "service_worker", "Service Worker/Other") is None
    firefox = Profile(profile.path, "firefox", "firefox", "x", root=tmp_path)
    assert sw.writer_for(firefox, "service_worker", "Service Worker/Database") is None


def test_delete_removes_what_delete_registration_removes(tmp_path):
    profile = _profile(tmp_path)
    before = _records(profile)
    dc = _dc(profile)
    journal = _Journal(tmp_path / "journal")
    assert _delete(profile, [dc], journal) == [dc]
    after = _records(profile)
    assert after == {**{k: v for k, v in before.items() if k not in DC_GONE}, b"PRES:1": b""}
    assert dc not in _entries(profile) and len(_entries(profile)) == 1
    saved = {base64.b64decode(r["key"]): base64.b64decode(r["value"])
             for r in journal.load()["removed"]}
    assert saved == {k: before[k] for k in DC_GONE}
    assert journal.load()["ids"] == [dc]
    # The body stays for Chromium to purge; the journal holds a copy.
    body = profile.path / "Service Worker" / "ScriptCache" / DC_BODY
    assert (journal.files() / "ScriptCache" / DC_BODY).read_bytes() == body.read_bytes()


def test_undo_before_chromium_runs_is_byte_exact(tmp_path):
    profile = _profile(tmp_path)
    before = _records(profile)
    dc = _dc(profile)
    journal = _Journal(tmp_path / "journal")
    _delete(profile, [dc], journal)
    assert _restore(profile, journal) == ([dc], [])
    assert _records(profile) == before
    assert _dc(profile) == dc


def test_undo_after_chromium_purged_the_body_puts_the_copy_back(tmp_path):
    profile = _profile(tmp_path)
    before = _records(profile)
    body = profile.path / "Service Worker" / "ScriptCache" / DC_BODY
    data = body.read_bytes()
    dc = _dc(profile)
    journal = _Journal(tmp_path / "journal")
    _delete(profile, [dc], journal)
    # What Chromium does at the next change to its storage.
    body.unlink()
    lw.append_batch(_db(profile), [(b"PRES:1", None)])
    assert _restore(profile, journal) == ([dc], [])
    assert _records(profile) == before
    assert body.read_bytes() == data


def test_undo_without_a_copy_of_a_purged_body_is_skipped(tmp_path):
    profile = _profile(tmp_path)
    body = profile.path / "Service Worker" / "ScriptCache" / DC_BODY
    dc = _dc(profile)
    journal = _Journal(tmp_path / "journal")
    _delete(profile, [dc], journal)
    body.unlink()
    lw.append_batch(_db(profile), [(b"PRES:1", None)])
    (journal.files() / "ScriptCache" / DC_BODY).unlink()
    now = _records(profile)
    assert _restore(profile, journal) == ([], [(dc, sw.BODIES_GONE)])
    assert _records(profile) == now and not body.exists()


def test_undo_leaves_a_record_set_again(tmp_path):
    profile = _profile(tmp_path)
    dc = _dc(profile)
    journal = _Journal(tmp_path / "journal")
    _delete(profile, [dc], journal)
    lw.append_batch(_db(profile), [(b"REGID_TO_ORIGIN:1", b"https://other.example/")])
    now = _records(profile)
    assert _restore(profile, journal) == ([], [(dc, sw.SET_AGAIN)])
    assert _records(profile) == now


def test_undo_leaves_a_scope_registered_again(tmp_path):
    profile = _profile(tmp_path)
    before = _records(profile)
    dc = _dc(profile)
    journal = _Journal(tmp_path / "journal")
    _delete(profile, [dc], journal)
    # The frame registered /ads/ again: registration 2, version 2, resource 2.
    value = before[b"REG:" + DC_KEY + b"\x001"].replace(b"\x08\x01", b"\x08\x02", 1)
    lw.append_batch(_db(profile), [(b"REG:" + DC_KEY + b"\x002", value),
                                   (b"REGID_TO_ORIGIN:2", DC_KEY),
                                   (b"INITDATA_UNIQUE_ORIGIN:" + DC_KEY, b"")])
    now = _records(profile)
    assert _restore(profile, journal) == ([], [(dc, sw.REGISTERED_AGAIN)])
    assert _records(profile) == now


def test_deleting_both_and_undo(tmp_path):
    profile = _profile(tmp_path)
    before = _records(profile)
    ids = sorted(_entries(profile))
    journal = _Journal(tmp_path / "journal")
    assert _delete(profile, ids, journal) == ids
    after = _records(profile)
    assert not any(k.startswith((b"REG", b"RES:", b"INITDATA_UNIQUE_ORIGIN:")) for k in after)
    assert {k for k in after if k.startswith(b"PRES:")} == {b"PRES:0", b"PRES:1"}
    assert _entries(profile) == {}
    assert _restore(profile, journal) == (ids, [])
    assert _records(profile) == before


def test_an_entry_already_gone_is_left_out(tmp_path):
    profile = _profile(tmp_path)
    dc = _dc(profile)
    entries = [e for e in read_service_workers(profile, ReadOptions()) if e.id == dc]
    writer = sw.ServiceWorkerWriter(profile)
    assert writer.delete(entries, _Journal(tmp_path / "j1")) == [dc]
    journal = _Journal(tmp_path / "j2")
    assert writer.delete(entries, journal) == [] and journal.payload is None


@pytest.mark.parametrize("change, why", [
    ([(b"SOMETHING_NEW:x", b"1")], "does not know"),
    ([(b"INITDATA_DB_VERSION", b"3")], "schema version is 3"),
    ([(b"REGID_TO_ORIGIN:1", b"https://elsewhere/")], "no matching"),
    ([(b"RES:1\x001", b"\x08\x07")], "does not match its key"),
])
def test_refuses_a_layout_it_does_not_know_with_nothing_changed(tmp_path, change, why):
    profile = _profile(tmp_path)
    dc = _dc(profile)
    entries = [e for e in read_service_workers(profile, ReadOptions()) if e.id == dc]
    lw.append_batch(_db(profile), change)
    before = _records(profile)
    log = {p.name: p.read_bytes() for p in _db(profile).iterdir()}
    journal = _Journal(tmp_path / "journal")
    with pytest.raises(WriteError, match=why):
        sw.ServiceWorkerWriter(profile).delete(entries, journal)
    assert _records(profile) == before and journal.payload is None
    assert {p.name: p.read_bytes() for p in _db(profile).iterdir()} == log


def test_refuses_while_chromium_holds_the_lock(tmp_path):
    profile = _profile(tmp_path)
    dc = _dc(profile)
    entries = [e for e in read_service_workers(profile, ReadOptions()) if e.id == dc]
    before = _records(profile)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys; f = open(sys.argv[1], 'r+'); fcntl.lockf(f, fcntl.LOCK_EX); "
         "print('locked', flush=True); sys.stdin.read()", str(_db(profile) / "LOCK")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    journal = _Journal(tmp_path / "journal")
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WriteError, match="in use by another program"):
            sw.ServiceWorkerWriter(profile).delete(entries, journal)
    finally:
        holder.communicate("", timeout=30)
    assert _records(profile) == before and journal.payload is None


def test_restore_refuses_a_journal_of_another_format(tmp_path):
    profile = _profile(tmp_path)
    journal = _Journal(tmp_path / "journal")
    journal.save({"format": "something else", "version": 1})
    with pytest.raises(WriteError, match="not in a format"):
        _restore(profile, journal)


def test_undo_puts_back_a_body_chromium_began_to_purge(tmp_path):
    # The body file gone but the PRES: record still there (Chromium stopped mid-purge).
    profile = _profile(tmp_path)
    before = _records(profile)
    body = profile.path / "Service Worker" / "ScriptCache" / DC_BODY
    data = body.read_bytes()
    dc = _dc(profile)
    journal = _Journal(tmp_path / "journal")
    _delete(profile, [dc], journal)
    body.unlink()
    assert _restore(profile, journal) == ([dc], [])
    assert _records(profile) == before and body.read_bytes() == data
