"""Bad sampler parameters, in a suite, through --set and on `musebench generate`/`bench`: every value
typed and inside its documented bounds (musebench/models/param_check.py), refused at the suite's
line before any model runs (issue 23: `guidance: .nan` was a traceback, `--guidance inf` exited 0,
`steps: 1e9` hung)."""

from __future__ import annotations

from bad_inputs.case import Case, good_suite


def _suite(old: str, new: str, expect: str) -> Case:
    text = good_suite()
    assert old in text, old
    return Case(argv=("run", "{tmp}/s2.yaml", "--out", "{tmp}/run"), expect=expect, files={"s2.yaml": text.replace(old, new, 1)})


def _set(assignment: str, expect: str) -> Case:
    return Case(argv=("run", "{suite}", "--out", "{tmp}/run", "--set", assignment), expect=expect)


def _generate(*flags: str, expect: str) -> Case:
    return Case(argv=("generate", "--model", "muse-shapes", "--prompts", "{tmp}/p.jsonl", "--out", "{tmp}/gen", *flags),
                expect=expect, files={"p.jsonl": '{"prompt": "a red circle"}\n'}, tiny_registry=False)


MUSE_SUITE = """version: 1
name: m
models:
  muse: {{adapter: muse, checkpoint: muse-shapes, params: {{{params}}}}}
prompts: {{source: shapes, split: val, limit: 2}}
metrics:
  oracle: {{}}
"""


def _muse(params: str, expect: str) -> Case:
    return Case(argv=("run", "{tmp}/m.yaml", "--out", "{tmp}/run"), expect=expect,
                files={"m.yaml": MUSE_SUITE.format(params=params)}, tiny_registry=False)


CASES: dict[str, Case] = {
    "guidance_nan": _suite("params: {guidance: 1}", "params: {guidance: .nan}", "s2.yaml:8: models.tiny.params.guidance: "),
    "guidance_inf": _suite("params: {guidance: 1}", "params: {guidance: .inf}", "s2.yaml:8: models.tiny.params.guidance: "),
    "guidance_negative_inf": _suite("params: {guidance: 1}", "params: {guidance: -.inf}", "s2.yaml:8: models.tiny.params.guidance: "),
    "guidance_negative": _suite("params: {guidance: 1}", "params: {guidance: -2}", "s2.yaml:8: models.tiny: guidance=-2 is outside [0, 100]"),
    "guidance_huge": _suite("params: {guidance: 1}", "params: {guidance: 1.0e+300}", "is outside [0, 100] (guidance scale)"),
    "steps_huge": _suite("steps: [1, 2]", "steps: [1, 1000000000]", "s2.yaml:10: models.tiny: steps=1000000000 is outside [1, 1000]"),
    "steps_exponent_string": _suite("steps: [1, 2]", "steps: [1, 1e9]", "sampler parameter 'steps' must be int like its default 2, got '1e9'"),
    "steps_zero": _suite("steps: [1, 2]", "steps: [0, 2]", "steps=0 is outside [1, 1000]"),
    "steps_negative": _suite("steps: [1, 2]", "steps: [-3, 2]", "steps=-3 is outside [1, 1000]"),
    "steps_float": _suite("steps: [1, 2]", "steps: [1.5, 2]", "s2.yaml:10: models.tiny: steps=1.5 must be an integer"),
    "steps_bool": _suite("steps: [1, 2]", "steps: [true, 2]", "sampler parameter 'steps' must be int"),
    "guidance_string": _suite("params: {guidance: 1}", "params: {guidance: high}", "sampler parameter 'guidance' must be float"),
    "guidance_list": _suite("params: {guidance: 1}", "params: {guidance: [1, 2]}", "guidance"),
    "set_guidance_nan": _set("models.tiny.params.guidance=.nan", "models.tiny.params.guidance: expected a finite number, got nan"),
    "set_steps_huge": _set("models.tiny.sweep.grid.steps=[1,99999]", "steps=99999 is outside [1, 1000]"),
    "muse_temperature_inf": _muse("temperature: .inf", "m.yaml:4: models.muse.params.temperature: "),
    "muse_schedule_unknown": _muse("guidance_schedule: cosine", "m.yaml:4: models.muse: unknown guidance_schedule 'cosine'; choose one of: constant, linear"),
    "muse_negative_prompt_huge": _muse("negative_prompt: " + "x" * 10_001, "negative_prompt must be 0 to 10000 characters long"),
    "generate_guidance_inf": _generate("--guidance", "inf", expect="--guidance: guidance=inf must be finite"),
    "generate_guidance_nan": _generate("--guidance", "nan", expect="--guidance: guidance=nan must be finite"),
    "generate_steps_huge": _generate("--steps", "1000000000", expect="--steps: steps=1000000000 is outside [1, 1000]"),
    "generate_temperature_negative": _generate("--temperature", "-1", expect="--temperature: temperature=-1.0 is outside"),
    "generate_batch_zero": _generate("--batch-size", "0", expect="--batch-size 0: must be 1 to 4096"),
    "generate_batch_huge": _generate("--batch-size", "10000000", expect="--batch-size 10000000: must be 1 to 4096"),
    "generate_scheduler_on_muse": _generate("--scheduler", "ddim", expect="--scheduler: model 'muse-shapes': does not take parameter 'scheduler'"),
    "generate_steps_not_int": _generate("--steps", "ten", expect="argument --steps: invalid int value: 'ten'"),
}
