"""Bad suites and `musebench run` flags: each case is one line on stderr (file:line where it applies),
exit code 2, no traceback, nothing written (tests/test_bad_inputs.py runs them all)."""

from __future__ import annotations

from bad_inputs.case import Case, good_suite

GOOD = good_suite()


def _edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def _run(text: str | None, files: dict, extra: list[str], expect: str) -> Case:
    """`musebench run` on `text` as {tmp}/s.yaml (None: the good suite; "<nofile>": a missing file)."""
    suite = {None: "{suite}", "<nofile>": "{tmp}/nope.yaml"}.get(text, "{tmp}/s.yaml")
    written = {} if text in (None, "<nofile>") else {"s.yaml": text}
    argv = ("run", suite, "--out", "{tmp}/run", "--cache", "{tmp}/cache", *extra)
    return Case(argv=argv, expect=expect, files={**written, **files})


# id -> (suite text or None for the good suite, extra files, extra argv, expected text in the message)
_RUN_CASES = {
    "yaml_syntax": (_edit("  tiny:\n", "  tiny: [\n"), {}, [], "s.yaml:8: YAML syntax error: expected ',' or ']'"),
    "unknown_top_key": (GOOD + "modles: {}\n", {}, [], "s.yaml:18: unknown key 'modles' (did you mean 'models'?)"),
    "unknown_model_key": (_edit("    adapter: tiny\n", "    adapter: tiny\n    chekpoint: x\n"), {}, [],
                          "s.yaml:8: models.tiny.unknown key 'chekpoint' (did you mean 'checkpoint'?)"),
    "wrong_type": (_edit("limit: 2", "limit: many"), {}, [], "s.yaml:12: prompts.limit: expected int or null, got 'many'"),
    "missing_include": ("include: base.yaml\n" + GOOD, {}, [], "s.yaml:1: included file 'base.yaml' not found"),
    "include_cycle": ("include: a.yaml\n" + GOOD, {"a.yaml": "include: s.yaml\n"}, [], "include cycle: "),
    "empty_prompt_list": (_edit("{source: shapes, split: val, limit: 2, images_per_prompt: 2}", "{source: file, path: p.txt}"),
                          {"p.txt": "\n\n"}, [], "p.txt: no prompts in this file"),
    "unknown_adapter": (_edit("adapter: tiny", "adapter: muze"), {}, [], "s.yaml:7: models.tiny.adapter: unknown adapter 'muze' (did you mean 'muse'?)"),
    "unknown_metric": (_edit("  pixel_mean: {}", "  fld: {}"), {}, [], "unknown metric 'fld' (did you mean 'fid'?)"),
    "missing_checkpoint": (_edit("    adapter: tiny\n", "    adapter: tiny\n    checkpoint: /nowhere/ckpt\n"), {}, [],
                           "s.yaml:6: models.tiny: checkpoint '/nowhere/ckpt' not found"),
    "unreadable_prompt_file": (_edit("{source: shapes, split: val, limit: 2, images_per_prompt: 2}", "{source: file, path: bad.txt}"),
                               {"bad.txt": b"ok\n\xff\xfe\n"}, [], "bad.txt:2: not UTF-8"),
    "unwritable_out": (None, {"afile": "x"}, ["--out", "{tmp}/afile/run"], "cannot write there"),
    "missing_version": (GOOD.replace("version: 1\n", ""), {}, [], "s.yaml:1: missing 'version: 1'"),
    "wrong_version": (_edit("version: 1", "version: 2"), {}, [], "s.yaml:1: version: this musebench reads suite version 1, got 2"),
    "unknown_sampler_param": (_edit("params: {guidance: 1}", "params: {guidance: 1, stepz: 3}"), {}, [],
                              "s.yaml:8: models.tiny: adapter tiny has no sampler parameter 'stepz' (did you mean 'steps'?)"),
    "wrong_param_type": (_edit("steps: [1, 2]", "steps: [1, many]"), {}, [], "s.yaml:10: models.tiny: sampler parameter 'steps' must be int"),
    "set_unknown_model": (None, {}, ["--set", "models.tinny.params.steps=1"], "--set models.tinny.params.steps=1: no model 'tinny' in this suite (did you mean 'tiny'?)"),
    "set_without_equals": (None, {}, ["--set", "seed"], "--set seed: expected KEY=VALUE"),
    "set_wrong_type": (None, {}, ["--set", "seed=abc"], "--set seed=abc: seed: expected an integer"),
    "env_unset": (_edit("seed: 0", "seed: ${MB_SURELY_UNSET_VAR}"), {}, [], "s.yaml:3: environment variable MB_SURELY_UNSET_VAR is not set"),
    "duplicate_key": (_edit("seed: 0\n", "seed: 0\nseed: 1\n"), {}, [], "s.yaml:4: duplicate key 'seed' (first at line 3)"),
    "zip_lengths": (_edit("    params: {guidance: 1}\n    sweep:\n      grid: {steps: [1, 2]}", "    sweep:\n      zip: {steps: [1, 2], guidance: [1.0]}"), {}, [], "s.yaml:9: models.tiny.sweep.zip: lists must have equal lengths"),
    "zip_and_fixed": (_edit("grid: {steps: [1, 2]}", "grid: {guidance: [1.0, 2.0]}"), {}, [], "s.yaml:10: models.tiny.sweep.grid.guidance: also fixed in params"),
    "gate_unknown_model": (_edit("model: tiny, min", "model: tiniest, min"), {}, [], "gates[0].model: no model 'tiniest'"),
    "gate_no_bound": (_edit(", min: 0.0}", "}"), {}, [], "gate on 'pixel_mean/all' sets none of min, max, max_drop, max_rel_drop; it could never fail"),
    "gate_unknown_metric": (_edit("metric: pixel_mean/all", "metric: fid/probe"), {}, [], "gates[0].metric: 'fid/probe' is not computed by this suite's metrics"),
    "metric_option_key": (_edit("channel: r", "chanel: r"), {}, [], "s.yaml:15: metrics.pixel_red: unknown key 'chanel' (did you mean 'channel'?)"),
    "metric_option_value": (_edit("channel: r", "channel: x"), {}, [], "metrics.pixel_red.channel: expected one of 'r', 'g', 'b', 'all'"),
    "metric_post_init": (_edit("  pixel_mean: {}", "  pixel_mean: {scale: -1}"), {}, [], "s.yaml:14: metrics.pixel_mean: scale must be > 0"),
    "limit_zero": (None, {}, ["--limit", "0"], "--limit prompts.limit=0: prompts: limit must be >= 1"),
    "bad_shard": (None, {}, ["--shard", "2/2"], "--shard 2/2: expected I/N with 0 <= I < N"),
    "suite_not_found": ("<nofile>", {}, [], "nope.yaml: file not found"),
    "empty_suite": ("", {}, [], "s.yaml:1: the suite file is empty"),
    "suite_is_a_list": ("- a\n- b\n", {}, [], "s.yaml:1: a suite must be a mapping"),
    "sweep_value_not_scalar": (_edit("steps: [1, 2]", "steps: [1, [2]]"), {}, [], "s.yaml:10: models.tiny.sweep.grid.steps[1]: a sweep value must be a single value"),
    "unknown_source": (_edit("source: shapes", "source: shape"), {}, [], "prompts.source: expected one of 'shapes', 'coco', 'file', got 'shape' (did you mean 'shapes'?)"),
    "bad_split": (_edit("split: val", "split: vall"), {}, [], "vall"),
    "cache_is_a_file": (None, {"cachefile": "x"}, ["--cache", "{tmp}/cachefile"], "cachefile: exists and is not a directory"),
    "images_per_prompt_zero": (_edit("images_per_prompt: 2", "images_per_prompt: 0"), {}, [], "s.yaml:12: prompts: images_per_prompt must be >= 1"),
    "bad_device": (_edit("seed: 0", "seed: 0\ndevice: gpu"), {}, [], "s.yaml:4: device: expected cpu, cuda, cuda:N or mps, got 'gpu'"),
    "missing_cuda": (None, {}, ["--set", "device=cuda:7"], "device cuda:7: no such CUDA device here"),
    "metric_build_check": (_edit("  pixel_mean: {}", "  oracle: {confidence: 1.5}"), {}, [],
                           "s.yaml:14: metrics.oracle: oracle: confidence must be in (0, 1), got 1.5"),
    "real_needs_images": (_edit("{source: shapes, split: val, limit: 2, images_per_prompt: 2}", "{source: file, path: p.txt}"),
                          {"p.txt": "a red circle\n"}, [], "adapter real: prompt 0 of 'file:p.txt' has no image of its own"),
}


CASES: dict[str, Case] = {name: _run(*spec) for name, spec in _RUN_CASES.items()}
