"""musebench adapter `ldm` on a tiny randomly initialised checkpoint saved in the test."""

from __future__ import annotations

import pytest
import torch

from musebench.errors import MusebenchError
from musebench.models.registry import load_adapter
from reference_model.ldm.flops import count_flops, ldm_step_flops
from test_ldm_model import build_tiny_checkpoint

PROMPTS = ["a red circle", "two blue squares", "a green star above a yellow cross"]


@pytest.fixture(scope="module")
def ldm(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-ldm")
    build_tiny_checkpoint(directory)
    return load_adapter("ldm", str(directory))


def test_defaults_name_every_sampler_parameter(ldm):
    assert ldm.defaults() == {"scheduler": "dpmpp", "steps": 20, "guidance": 3.0, "negative_prompt": None}
    assert ldm.resolution() == 32


def test_generate_is_seeded_per_image(ldm):
    params = {"scheduler": "ddpm", "steps": 2}
    first = ldm.generate(PROMPTS, [0, 1, 2], params)
    assert first.shape == (3, 3, 32, 32) and first.dtype == torch.uint8
    assert torch.equal(first, ldm.generate(PROMPTS, [0, 1, 2], params))
    assert torch.equal(first[2:], ldm.generate(PROMPTS[2:], [2], params))
    other = ldm.pipe.generate_latents(PROMPTS[:1], [5], ldm.sample_params(params)[0])
    assert not torch.allclose(other, ldm.pipe.generate_latents(PROMPTS[:1], [0], ldm.sample_params(params)[0]))


def test_describe_counts_one_denoiser_call_per_step(ldm):
    d2, d4 = ldm.describe({"steps": 2, "scheduler": "ddim"}), ldm.describe({"steps": 4, "scheduler": "ddim"})
    step = ldm_step_flops(ldm.pipe.denoiser, ldm.pipe.config.denoiser, ldm.pipe.config.text_encoder.max_length)
    assert d2["denoiser_calls_per_image"] == 2 and d4["denoiser_calls_per_image"] == 4
    # guided: unconditional + conditional rows, which share one timestep embedding (computed once per
    # distinct timestep, reference_model/batch_invariance.py)
    guided = 2 * step - _timestep_embedding_flops(ldm)
    assert d2["denoiser_flops_per_call"] == guided
    assert d4["flops_per_image"] - d2["flops_per_image"] == 2 * guided
    unguided = ldm.describe({"steps": 2, "scheduler": "ddim", "guidance": 1.0})
    assert unguided["denoiser_flops_per_call"] == step
    assert d2["parameters"] == sum(d2["parameters_by_component"].values())


def _timestep_embedding_flops(ldm) -> int:
    """PixArt's AdaLayerNormSingle for one row: what a second row with the same timestep saves."""
    pixart = getattr(ldm.pipe.denoiser, "transformer", ldm.pipe.denoiser)
    with torch.no_grad():
        return count_flops(lambda: pixart.adaln_single(torch.tensor([500]), {"resolution": None, "aspect_ratio": None},
                                                       batch_size=1, hidden_dtype=torch.float32))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"scheduler": "heun"}, "unknown scheduler 'heun'; choose one of: ddpm, ddim, dpmpp, euler"),
        ({"steps": 0}, "steps=0 is outside [1, 1000]"),
        ({"temperature": 1.0}, "does not take parameter 'temperature'"),
    ],
)
def test_bad_params_are_one_line_errors(ldm, params, message):
    with pytest.raises(MusebenchError) as info:
        ldm.generate(PROMPTS[:1], [0], params)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_checkpoint_is_one_line_error(tmp_path):
    with pytest.raises(MusebenchError, match="not found: give a directory with config.json"):
        load_adapter("ldm", str(tmp_path / "nope"))


def test_cli_generate_bad_input_exits_2(ldm, tmp_path, capsys):
    cmd = pytest.importorskip("musebench.cli.cmd_generate")  # written by the Muse helper
    from musebench.cli.main import main

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "a red circle"}\n')
    for flags in (["--scheduler", "heun"], ["--steps", "0"], ["--temperature", "2"]):
        code = main(["generate", "--model", str(ldm.directory), "--prompts", str(prompts), "--out", str(tmp_path / "o"), *flags])
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if "musebench: error:" in line]  # after any progress bar
        assert code == 2 and len(errors) == 1 and "Traceback" not in err, (cmd, err)
        assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())  # nothing half-written
