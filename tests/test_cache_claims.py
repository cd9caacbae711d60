"""Shared work: runs on one cache divide the generation (musebench/cache/claims.py).

A claim is an flock the kernel drops when its holder dies; a run skips keys another live run
holds, waits for them at the end, and takes over those whose claimant died. Two concurrent runs
generate each image once in total, counted by the adapter itself (tests/counting_cli.py), and
write the results a lone run writes.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest
from runner_support import TESTS, TINY_SUITE, tiny_registry, write_suite  # noqa: F401

from musebench.cache import ImageCache, decode_png
from musebench.cache import maintenance
from musebench.cache.claims import claim, claims_dir, release, remove_stale
from musebench.cache.store import ImageMeta
from musebench.models.registry import ADAPTERS
from musebench.runner import RunOptions, run_suite

COUNTING_CLI = TESTS / "counting_cli.py"


def _start(args: list[str], env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.Popen([sys.executable, str(COUNTING_CLI), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]


def _entries(cache_dir) -> int:
    try:
        with sqlite3.connect(cache_dir / "index.sqlite", timeout=10) as db:
            return db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _wait_for_entries(cache_dir, n: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while _entries(cache_dir) < n and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _entries(cache_dir) == n and proc.poll() is None, "the run should be waiting for the held keys"


def _rows(run_dir):
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


def _cache_info(run_dir) -> dict:
    return json.loads((run_dir / "run.json").read_text())["cache"]


def _reference(tmp_path, suite):
    """A lone run on its own cache, and its cache's keys in a stable order."""
    ref = run_suite(RunOptions(str(suite), out=str(tmp_path / "reference"), cache=str(tmp_path / "ref-cache")))
    cache = ImageCache(tmp_path / "ref-cache")
    keys = sorted(k for (k,) in cache.db.execute("SELECT key FROM images"))
    return ref, cache, keys


def _hold(root, keys, ready, stop) -> None:
    held = [claim(root, key) for key in keys]
    assert all(held)
    ready.set()
    stop.wait(300)


def test_claim_excludes_until_release_or_death(tmp_path):
    ImageCache(tmp_path).close()  # creates claims/
    first = claim(tmp_path, "k")
    assert first is not None and claim(tmp_path, "k") is None  # a second open file conflicts, even in one process
    release(first)
    release(first)  # twice: a no-op
    assert not (claims_dir(tmp_path) / "k.lock").exists()
    ctx = mp.get_context("fork")
    ready, stop = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(tmp_path, ["k"], ready, stop))
    holder.start()
    assert ready.wait(60) and claim(tmp_path, "k") is None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(60)
    assert (claims_dir(tmp_path) / "k.lock").exists()  # a killed holder leaves its file, unlocked
    taken = claim(tmp_path, "k")
    assert taken is not None
    release(taken)
    kept = claim(tmp_path, "kept")
    os.close(claim(tmp_path, "dropped").fd)  # as a killed run leaves it: the file stays, unlocked
    assert remove_stale(tmp_path) == 1  # removes "dropped", not "kept" (held)
    assert sorted(p.name for p in claims_dir(tmp_path).iterdir()) == ["kept.lock"]
    release(kept)


def test_run_waits_for_a_held_key_and_uses_the_holders_image(tmp_path, tiny_registry):
    suite = write_suite(tmp_path, batch_size=2, limit=4)
    ref, ref_cache, keys = _reference(tmp_path, suite)
    cache_dir, held_keys = tmp_path / "cache", keys[:3]
    cache = ImageCache(cache_dir)
    held = [claim(cache_dir, key) for key in held_keys]  # this test is "another run" generating them
    proc = _start(["run", str(suite), "--out", str(tmp_path / "run"), "--cache", str(cache_dir), "--no-report"])
    _wait_for_entries(cache_dir, len(keys) - len(held_keys), proc)
    rows = {k: ref_cache.db.execute("SELECT * FROM images WHERE key = ?", (k,)).fetchone() for k in held_keys}
    cache.put_many([(k, decode_png(ref_cache.path_for(k).read_bytes()), ImageMeta(*rows[k][4:11])) for k in held_keys])
    for item in held:
        release(item)
    _finish(proc)
    assert _rows(tmp_path / "run") == ref.rows
    assert _cache_info(tmp_path / "run")["misses"] == len(keys) - len(held_keys)
    assert _cache_info(tmp_path / "run")["hits"] == len(held_keys)
    assert list(claims_dir(cache_dir).iterdir()) == []


def test_run_takes_over_the_keys_of_a_killed_claimant(tmp_path, tiny_registry):
    suite = write_suite(tmp_path, batch_size=2, limit=4)
    ref, _, keys = _reference(tmp_path, suite)
    cache_dir = tmp_path / "cache"
    ImageCache(cache_dir).close()
    ctx = mp.get_context("fork")
    ready, stop = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(cache_dir, keys[:3], ready, stop))
    holder.start()
    assert ready.wait(60)
    proc = _start(["run", str(suite), "--out", str(tmp_path / "run"), "--cache", str(cache_dir), "--no-report"])
    _wait_for_entries(cache_dir, len(keys) - 3, proc)
    os.kill(holder.pid, signal.SIGKILL)  # dies holding 3 claims, having written nothing
    holder.join(60)
    _finish(proc)
    assert _rows(tmp_path / "run") == ref.rows
    assert _cache_info(tmp_path / "run") | {"dir": None} == {"hits": 0, "misses": len(keys), "dir": None}
    assert list(claims_dir(cache_dir).iterdir()) == []


def test_two_concurrent_runs_generate_each_image_once(tmp_path, tiny_registry, monkeypatch):
    suite = tmp_path / "counting.yaml"
    suite.write_text(TINY_SUITE.format(batch_size=2, limit=8).replace("adapter: tiny", "adapter: counting"))
    count_file, meet = tmp_path / "generated.txt", tmp_path / "meet"
    meet.mkdir()
    env = {"MUSEBENCH_TEST_COUNT": str(count_file), "MUSEBENCH_TEST_RENDEZVOUS": f"{meet}:2"}
    procs = [_start(["run", str(suite), "--out", str(tmp_path / f"run{i}"), "--cache", str(tmp_path / "cache"),
                     "--no-report"], env) for i in range(2)]
    for proc in procs:
        _finish(proc)
    lines = count_file.read_text().splitlines()
    per_pid = Counter(line.split(" ", 1)[0] for line in lines)
    images = Counter(line.split(" ", 1)[1] for line in lines)  # (seed, prompt); steps 1 and 2 share seeds
    distinct = 8 * 2 * 2  # prompts x images per prompt x sweep points
    assert len(lines) == distinct and max(images.values()) == 2  # once per sweep point, no more
    misses = sorted(_cache_info(tmp_path / f"run{i}")["misses"] for i in range(2))
    assert sorted(per_pid.values()) == misses and misses[0] > 0  # both worked, as they reported
    assert all(_cache_info(tmp_path / f"run{i}")["hits"] + _cache_info(tmp_path / f"run{i}")["misses"] == distinct
               for i in range(2))
    assert _rows(tmp_path / "run0") == _rows(tmp_path / "run1")
    cache = ImageCache(tmp_path / "cache")
    report = maintenance.verify(cache)
    cache.close()
    assert report.bad == [] and report.entries == distinct and not report.orphans and not report.temps
    monkeypatch.setitem(ADAPTERS, "counting", "counting_cli:CountingAdapter")
    monkeypatch.setenv("MUSEBENCH_TEST_COUNT", str(tmp_path / "alone.txt"))
    alone = run_suite(RunOptions(str(suite), out=str(tmp_path / "alone"), cache=str(tmp_path / "other")))
    assert _rows(tmp_path / "run0") == alone.rows
