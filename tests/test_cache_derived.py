"""The derived store (musebench/cache/derived.py): the one key rule, entry names existing caches
still hit, round trips of every entry type, and a torn entry or a read-only store only costing speed."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from musebench.cache.derived import DerivedStore


def test_key_is_sha256_of_header_then_payloads():
    images = torch.arange(24, dtype=torch.uint8).reshape(1, 3, 2, 4)
    expected = hashlib.sha256(b"h|" + images.numpy().tobytes() + b"texts").hexdigest()[:32]
    assert DerivedStore.key("h|", images, b"texts") == expected
    assert DerivedStore.key("h|", images.permute(0, 1, 3, 2)) != DerivedStore.key("h|", images)  # layout is content


def test_entry_names_keep_the_existing_layout(tmp_path):
    store = DerivedStore.in_cache(tmp_path)
    assert store.path("probe-clean", "k", ".npy") == tmp_path / "features" / "probe-clean-k.npy"
    assert store.path("describe/", "k", ".json") == tmp_path / "features" / "describe" / "k.json"


def test_round_trips(tmp_path):
    store = DerivedStore(tmp_path)
    array = np.linspace(0, 1, 6).reshape(2, 3)
    store.put_npy("f", "a", array)
    store.put_npz("s", "a", {"mu": array[0], "n": np.array(2)})
    store.put_json("o", "a", [{"all_correct": True}])
    assert np.array_equal(store.get_npy("f", "a"), array)
    assert set(store.get_npz("s", "a")) == {"mu", "n"} and int(store.get_npz("s", "a")["n"]) == 2
    assert store.get_json("o", "a") == [{"all_correct": True}]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_torn_or_absent_entries_are_misses(tmp_path):
    store = DerivedStore(tmp_path)
    for suffix in (".npy", ".npz", ".json"):
        (tmp_path / f"x-torn{suffix}").write_bytes(b"\x93NUMPY" if suffix == ".npy" else b"PK\x03")
    assert store.get_npy("x", "torn") is None and store.get_npz("x", "torn") is None
    assert store.get_json("x", "torn") is None and store.get_npy("x", "absent") is None


def test_no_store_keeps_nothing():
    store = DerivedStore(None)
    store.put_npy("f", "a", np.zeros(2))
    assert store.path("f", "a", ".npy") is None and store.get_npy("f", "a") is None


def test_an_unwritable_store_only_costs_speed(tmp_path):
    (tmp_path / "file").write_text("not a folder")  # like a read-only or full disk: every write fails
    store = DerivedStore(tmp_path / "file" / "features")
    store.put_npy("f", "a", np.zeros(2))  # no error
    store.put_json("o", "a", [1])
    assert store.get_npy("f", "a") is None and store.get_json("o", "a") is None
