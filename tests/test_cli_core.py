"""The core's CLI commands: --help with examples, validate (no weights needed), ls, cache stats/verify/prune."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runner_support import tiny_registry, write_suite  # noqa: F401

from musebench.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", ["run", "validate", "ls", "cache"])
def test_help_shows_examples(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"musebench {command}" in out


def test_quickstart_validates_without_loading_weights(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["validate", "suites/quickstart.yaml"]) == 0
    assert capsys.readouterr().out.startswith("ok  suites/quickstart.yaml: 2 models, 4 sweep points, 300 prompts")


def test_validate_many_files_reports_each_bad_one(tmp_path, capsys, tiny_registry):
    good = write_suite(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("seed: 0", "sed: 0"))
    assert main(["validate", str(good), str(bad), "--deep"]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith(f"ok  {good}")
    assert captured.err.strip() == f"musebench: error: {bad}:3: unknown key 'sed' (did you mean 'seed'?); " \
        "known: version, name, description, seed, batch_size, device, models, prompts, metrics, gates, report"


def test_ls_lists_registries(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["ls"]) == 0
    out = capsys.readouterr().out
    for expected in ("suites:", "suites/quickstart.yaml  quickstart", "adapters:", "real", "metrics:", "oracle",
                     "sources:", "shapes", "models:"):
        assert expected in out


def test_cache_commands(tmp_path, capsys, tiny_registry):
    suite = write_suite(tmp_path, limit=2)
    cache = str(tmp_path / "cache")
    assert main(["run", str(suite), "--out", str(tmp_path / "run"), "--cache", cache, "--no-report"]) == 0
    capsys.readouterr()
    assert main(["cache", "stats", "--cache", cache, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["entries"] == 8 and stats["models"][0]["adapter"] == "tiny"
    assert main(["cache", "verify", "--cache", cache]) == 0
    assert "status: ok" in capsys.readouterr().out
    victim = next((tmp_path / "cache" / "images").rglob("*.png"))
    victim.write_bytes(b"not a png")
    assert main(["cache", "verify", "--cache", cache]) == 1
    assert "content differs from the index" in capsys.readouterr().out
    assert main(["cache", "prune", "--cache", cache, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"]["entries"] == 1
    assert main(["cache", "verify", "--cache", cache]) == 0
    # the next run regenerates exactly the pruned image
    assert main(["run", str(suite), "--out", str(tmp_path / "run2"), "--cache", cache, "--no-report"]) == 0
    assert json.loads((tmp_path / "run2" / "run.json").read_text())["cache"]["misses"] == 1


def test_the_executable_flushes_its_output_and_keeps_the_exit_code():
    """console_main skips interpreter teardown (os._exit); nothing printed may be lost on the way."""
    import subprocess
    import sys

    from musebench.cli.main import main

    listing = subprocess.run([sys.executable, "-m", "musebench", "ls", "adapters"], capture_output=True, text=True)
    assert listing.returncode == 0 and listing.stderr == ""
    assert "muse" in listing.stdout and listing.stdout.endswith("\n")
    bad = subprocess.run([sys.executable, "-m", "musebench", "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("musebench: error: unknown command 'nonsense'")
    assert main(["ls", "adapters"]) == 0  # in-process callers keep a normal return


def test_a_reader_that_stops_early_is_not_an_error():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "musebench", "ls"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `musebench ls | head -0`
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Traceback" not in err and "BrokenPipe" not in err
