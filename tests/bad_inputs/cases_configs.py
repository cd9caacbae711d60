"""Bad values deep in a checkpoint's config.json: every field typed (reference_model/strict_json.py),
so a string where a width belongs is one line naming `config.json:model.transformer.width`, never a
TypeError inside torch (issue 23). Each case copies a shipped checkpoint into {tmp}/ck with one
edit and runs `musebench generate --model {tmp}/ck`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bad_inputs.case import Case

CHECKPOINTS = Path(__file__).resolve().parents[2] / "musebench" / "checkpoints"


def _edited(name: str, edit: Callable[[dict], None]) -> dict:
    def config() -> bytes:
        document = json.loads((CHECKPOINTS / name / "config.json").read_text())
        edit(document["model"])
        return json.dumps(document).encode()

    return {"ck/config.json": config, "ck/model.safetensors": lambda: (CHECKPOINTS / name / "model.safetensors").read_bytes(),
            "p.jsonl": '{"prompt": "a red circle"}\n'}


def _case(name: str, edit: Callable[[dict], None], expect: str) -> Case:
    return Case(argv=("generate", "--model", "{tmp}/ck", "--prompts", "{tmp}/p.jsonl", "--out", "{tmp}/gen"),
                expect=expect, files=_edited(name, edit), tiny_registry=False)


def _set(section: str, key: str, value):
    return lambda model: model[section].__setitem__(key, value)


CASES: dict[str, Case] = {
    "muse_width_string": _case("muse-shapes", _set("transformer", "width", "big"),
                               "config.json:model.transformer.width: expected a whole number in [0, 1048576], got 'big'"),
    "muse_channels_item_string": _case("muse-shapes", _set("vq", "channels", [32, "x", 128]),
                                       "config.json:model.vq.channels[1]: expected a whole number"),
    "muse_image_size_null": _case("muse-shapes", _set("vq", "image_size", None), "model.vq.image_size: expected a whole number"),
    "muse_width_huge": _case("muse-shapes", _set("transformer", "width", 10**12), "model.transformer.width: expected a whole number in [0, 1048576]"),
    "muse_depth_negative": _case("muse-shapes", _set("transformer", "depth", -1), "model.transformer.depth: expected a whole number"),
    "muse_beta_nan": _case("muse-shapes", _set("vq", "beta", float("nan")), "model.vq.beta: expected a finite number"),
    "muse_sampler_steps_float": _case("muse-shapes", _set("sampler", "steps", 1e9), "model.sampler.steps: expected a whole number"),
    "muse_schedule_number": _case("muse-shapes", _set("sampler", "guidance_schedule", 3), "model.sampler.guidance_schedule: expected a string"),
    "muse_section_list": _case("muse-shapes", lambda m: m.__setitem__("vq", [1, 2]), "model.vq: expected a JSON object for VQConfig"),
    "muse_channels_not_list": _case("muse-shapes", _set("vq", "channels", 32), "model.vq.channels: expected a list, got 32"),
    "muse_channels_not_groupable": _case("muse-shapes", _set("vq", "channels", [32, 18, 128]),
                                         "vq.channels entry 18 is not divisible into its 4 GroupNorm groups"),
    "ldm_channels_not_groupable": _case("ldm-shapes", _set("vq", "channels", [32, 64, 129]),
                                        "vq.channels entry 129 is not divisible into its 32 GroupNorm groups"),
    "ldm_steps_string": _case("ldm-shapes", _set("sampler", "steps", "ten"), "model.sampler.steps: expected a whole number"),
}
