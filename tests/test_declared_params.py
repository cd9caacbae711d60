"""Each adapter's sampler parameters are declared once, torch-free (musebench/models/declared.py).

The declaration registry.ADAPTER_PARAMS reads from a checkpoint's files equals what the loaded
adapter runs with; the run's preflight refuses a bad parameter with the words the loaded runner
would use, and before torch is imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from runner_support import tiny_registry  # noqa: F401  (a fixture)

from musebench.errors import MusebenchError
from musebench.models.declared import Declared, Param, of_adapter
from musebench.models.registry import ADAPTER_PARAMS, declared_params, load_adapter
from musebench.prompts.registry import load_prompts
from musebench.runner.early_models import check_models
from musebench.runner.prepare import prepare_run
from musebench.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
MUSE_SUITE = """version: 1
name: m
seed: 0
models:
  muse: {{adapter: muse, checkpoint: muse-shapes, params: {{{params}}}}}
prompts: {{source: shapes, split: val, limit: 2}}
metrics:
  oracle: {{}}
"""


@pytest.mark.parametrize(("adapter", "checkpoint"), [("muse", "muse-shapes"), ("muse-cascade", "muse-sr"), ("ldm", "ldm-shapes"),
                                                    ("real", None)])
def test_declared_equals_the_loaded_adapter(adapter, checkpoint):
    """Conformance: the torch-free declaration is the loaded adapter's, defaults and choices."""
    declared = declared_params(adapter, checkpoint)
    loaded = load_adapter(adapter, checkpoint)
    assert of_adapter(loaded) == declared
    assert dict(loaded.defaults()) == declared.defaults()


def test_every_shipped_adapter_declares_or_says_unknown():
    assert set(ADAPTER_PARAMS) == {"muse", "muse-cascade", "ldm", "real"}  # diffusers: its pipeline's signature, once loaded
    assert declared_params("diffusers", "anything") is None


def test_tiny_declaration_equals_the_tiny_adapter(tiny_registry):
    assert of_adapter(load_adapter("tiny", None)) == declared_params("tiny", None)


def test_choice_lists_are_the_samplers():
    from reference_model.ldm.schedulers import SCHEDULERS
    from reference_model.sampler import GUIDANCE_SCHEDULES
    from reference_model.sampler_choices import LDM_SCHEDULERS
    from reference_model.sampler_choices import GUIDANCE_SCHEDULES as DECLARED

    assert tuple(SCHEDULERS) == LDM_SCHEDULERS and GUIDANCE_SCHEDULES is DECLARED


def test_values_are_typed_bounded_and_chosen():
    declared = Declared("x", (Param("steps", 2), Param("guidance", 1.0), Param("scheduler", "ddim", ("ddim", "ddpm"))))
    assert declared.merged({"guidance": 2}, "w") == {"steps": 2, "guidance": 2.0, "scheduler": "ddim"}
    assert isinstance(declared.merged({"guidance": 2}, "w")["guidance"], float)
    cases = [({"steps": True}, "w: sampler parameter 'steps' must be int like its default 2, got True"),
             ({"steps": "1e9"}, "w: sampler parameter 'steps' must be int like its default 2, got '1e9'"),
             ({"steps": 0}, "w: steps=0 is outside [1, 1000] (decoding / denoising steps)"),
             ({"scheduler": "ddmp"}, "w: unknown scheduler 'ddmp' (did you mean 'ddpm'?); choose one of: ddim, ddpm"),
             ({"stepz": 1}, "w: does not take parameter 'stepz' (did you mean 'steps'?); accepted: guidance, scheduler, steps")]
    for params, message in cases:
        with pytest.raises(MusebenchError) as info:
            declared.merged(params, "w")
        assert str(info.value) == message


def test_early_and_late_refusals_say_the_same(tmp_path):
    """The torch-free preflight and the loaded runner word a bad choice identically."""
    path = tmp_path / "m.yaml"
    path.write_text(MUSE_SUITE.format(params="guidance_schedule: cosine"))
    suite = load_suite(str(path), (), None)
    records = load_prompts(suite.prompts, suite.seed)
    with pytest.raises(MusebenchError) as early:
        check_models(suite, records)
    with pytest.raises(MusebenchError) as late:
        prepare_run(suite, records, "cpu", None, with_metrics=False)
    assert str(early.value) == str(late.value) == f"{path}:5: models.muse: unknown guidance_schedule 'cosine'; choose one of: constant, linear"


@pytest.mark.parametrize("command", ["run", "generate"])
def test_a_bad_parameter_is_refused_before_torch(tmp_path, command):
    """Exit 2 with torch never imported: a subprocess, so this test's own torch does not count."""
    (tmp_path / "m.yaml").write_text(MUSE_SUITE.format(params="steps: 1e9"))
    (tmp_path / "p.jsonl").write_text('{"prompt": "a red circle"}\n')
    argv = (["run", "m.yaml", "--out", "out"] if command == "run" else
            ["generate", "--model", "muse-shapes", "--prompts", "p.jsonl", "--out", "gen", "--scheduler", "ddim"])
    code = ("import sys; from musebench.cli.main import main; code = main(sys.argv[1:]); "
            "print('torch' in sys.modules, code)")
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "MUSEBENCH_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"})
    assert done.stdout.split() == ["False", "2"], done.stderr
    assert "does not take parameter 'scheduler'" in done.stderr or "must be int like its default" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.yaml", "p.jsonl"]
