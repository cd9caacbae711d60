"""The run memo (cache/run_memo.py): an identical run is served from the cache without loading a
model; any changed input, --recompute or a sharded run computes."""

from __future__ import annotations

import json
import subprocess
import sys

from runner_support import TESTS, tiny_registry, write_suite  # noqa: F401

from musebench.runner import RunOptions, run_suite


def _run(tmp_path, out: str, **kwargs):
    suite = kwargs.pop("suite", None) or write_suite(tmp_path)
    return run_suite(RunOptions(str(suite), out=str(tmp_path / out), cache=str(tmp_path / "cache"), **kwargs))


def test_identical_run_is_served_from_the_memo(tmp_path, tiny_registry):
    first = _run(tmp_path, "a")
    assert not first.memo and first.misses > 0
    second = _run(tmp_path, "b")
    assert second.memo and (second.hits, second.misses) == (first.hits + first.misses, 0)
    a, b = tmp_path / "a", tmp_path / "b"
    assert (a / "results.jsonl").read_bytes() == (b / "results.jsonl").read_bytes()
    assert sorted(p.relative_to(a).as_posix() for p in (a / "images").rglob("*")) == \
        sorted(p.relative_to(b).as_posix() for p in (b / "images").rglob("*"))
    info, made = json.loads((b / "run.json").read_text()), json.loads((a / "run.json").read_text())
    assert info["memo"]["results_made"] == made["finished"] and info["models"] == made["models"]
    assert info["cache"]["misses"] == 0 and second.rows == [json.loads(x) for x in (a / "results.jsonl").read_text().splitlines()]


def test_changed_input_recompute_or_shard_computes(tmp_path, tiny_registry):
    _run(tmp_path, "a")
    assert not _run(tmp_path, "seed", overrides=("seed=1",)).memo  # another input: another key
    assert not _run(tmp_path, "limit", limit=4).memo
    again = _run(tmp_path, "re", recompute=True)
    assert not again.memo and again.misses == 0  # images still come from the image cache
    assert _run(tmp_path, "after").memo  # --recompute refreshed the memo rather than dropping it
    assert not list((tmp_path / "cache" / "runs").glob(".tmp-*"))  # no staging folder left


def test_changed_prompt_file_misses(tmp_path, tiny_registry):
    prompts = tmp_path / "p.txt"
    prompts.write_text("a red circle\na blue square\n")
    suite = tmp_path / "f.yaml"
    suite.write_text(write_suite(tmp_path).read_text().replace(
        "prompts: {source: shapes, split: val, limit: 6, images_per_prompt: 2}",
        "prompts: {source: file, path: p.txt, images_per_prompt: 1}").replace(
        "  real: {adapter: real}\n", ""))
    assert not _run(tmp_path, "a", suite=suite).memo
    assert _run(tmp_path, "b", suite=suite).memo
    prompts.write_text("a red circle\na green square\n")
    assert not _run(tmp_path, "c", suite=suite).memo


def test_a_memo_hit_imports_no_torch(tmp_path):
    suite = write_suite(tmp_path)
    argv = ["run", str(suite), "--out", str(tmp_path / "a"), "--cache", str(tmp_path / "cache"), "--no-report"]
    check = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); import tiny_cli; "
             f"code = tiny_cli.main({argv!r}); print('TORCH', 'torch' in sys.modules); sys.exit(code)")
    first = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    check = check.replace(str(tmp_path / "a"), str(tmp_path / "b"))
    second = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "TORCH True" in first.stdout and "TORCH False" in second.stdout and "identical earlier run" in second.stdout


def test_a_memo_needs_its_images_in_the_cache(tmp_path, tiny_registry):
    """Results are served only while every image they were computed from is cached: a removed image
    makes the run compute again, regenerating exactly it."""
    _run(tmp_path, "a")
    victim = next((tmp_path / "cache" / "images").rglob("*.png"))
    victim.write_bytes(b"not a png")  # the size no longer matches the index: not an entry
    again = _run(tmp_path, "b")
    assert not again.memo and again.misses == 1
    assert _run(tmp_path, "c").memo


def test_a_memo_stored_first_by_a_concurrent_run_wins(tmp_path, monkeypatch):
    """Two runs of the same inputs finish together: the second one's rename lands on the first one's
    (non-empty) memo folder, ENOTEMPTY on Linux. The first memo is kept, the second run's staging removed."""
    import os

    from musebench.cache import run_memo

    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").write_text('{"metric": "m"}\n')
    root = tmp_path / "cache" / run_memo.MEMO_DIR
    real_rename = os.rename

    def racing_rename(src, dst):  # the other run renames its memo in just before ours
        (root / "k").mkdir(parents=True, exist_ok=True)
        (root / "k" / "results.jsonl").write_text("theirs\n")
        real_rename(src, dst)

    monkeypatch.setattr(run_memo.os, "rename", racing_rename)
    run_memo.store(tmp_path / "cache", "k", out, ["a"])
    assert (root / "k" / "results.jsonl").read_text() == "theirs\n"
    assert [p.name for p in root.iterdir()] == ["k"]  # no staging folder left behind
