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
                              "s.yaml:8: models.tiny: does not take parameter 'stepz' (did you mean 'steps'?); accepted: guidance, steps"),
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


# Bounded parsing (issue 23 item 2): every case fails fast, in one line, without growing memory.
def _laughs(levels: int = 9) -> str:
    """A 'billion laughs' list: nine anchors, each ten aliases of the one before (10**9 values expanded)."""
    anchors = ["&a [x, x, x, x, x, x, x, x, x, x]"]
    anchors += [f"&{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]" for i in range(levels - 1)]
    return "[" + ", ".join(anchors) + "]"


def _flow_list() -> bytes:
    """The 7.5 MB flow-list suite of issue 23 (it hung the parser)."""
    return (GOOD + "description: [" + ", ".join(["1"] * 2_500_000) + "]\n").encode()


def _suite(text: str, expect: str, **files) -> Case:
    return Case(("run", "{tmp}/s.yaml", "--out", "{tmp}/run"), expect, files={"s.yaml": text, **files})


def _validate(text: str, expect: str, *extra: str, **files) -> Case:
    return Case(("validate", "{tmp}/s.yaml", *extra), expect, files={"s.yaml": text, **files})


_ORACLE = _edit("  pixel_mean: {}\n", "  pixel_mean: {}\n  oracle: {}\n")
_FAN_OUT = "include: [" + ", ".join(["b.yaml"] * 9) + "]\n"

BOUNDED: dict[str, Case] = {
    "alias_bomb_in_params": _suite(_edit("params: {guidance: 1}", "params: {guidance: 1, lol: " + _laughs() + "}"),
                                   "s.yaml:8: aliases (*name) expand this value to more than 10000 values"),
    "alias_bomb_as_limit": _validate(_edit("limit: 2", "limit: " + _laughs()), "expand this value to more than 10000 values"),
    "alias_bomb_merge_keys": _validate(GOOD + "description: {a: &a {x: 1, y: 2}, b: &b {<<: [*a, *a, *a]}, "
                                       + ", ".join(f"c{i}: &c{i} [" + ", ".join(["*b"] * 10) + "]" for i in range(1)) + "}\n",
                                       "s.yaml:18: "),
    "alias_recursive": _validate(_edit("params: {guidance: 1}", "params: {guidance: 1, me: &me [1, *me]}"),
                                 "alias *me refers to the value that contains it"),
    "flow_list_7_5_mb": _suite(_flow_list, "s.yaml: the suite file is larger than 1024 KiB (MAX_SUITE_BYTES)"),
    "too_many_values": _validate(GOOD + "description: [" + ", ".join(["1"] * 12_000) + "]\n",
                                 "more than 10000 values in one suite file (MAX_VALUES)"),
    "nested_flow_100k": _validate(_edit("limit: 2", "limit: " + "[" * 100_000 + "]" * 100_000),
                                  "s.yaml:12: nested deeper than 32 levels (MAX_DEPTH)"),
    "nested_block_40": _validate(GOOD + "description:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(40)),
                                 "nested deeper than 32 levels"),
    "include_fan_out": _validate(_FAN_OUT + GOOD, "more than 64 files (MAX_INCLUDED_FILES)",
                                 **{"b.yaml": _FAN_OUT.replace("b.yaml", "c.yaml"), "c.yaml": "seed: 1\n"}),
    "include_nul_byte": _validate('include: "base\\0.yaml"\n' + GOOD, "s.yaml:1: included file 'base\\x00.yaml' not found"),
    "include_a_directory": _validate("include: sub\n" + GOOD, "included file 'sub' not found", **{"sub/x.yaml": "seed: 1\n"}),
    "suite_is_a_directory": Case(("validate", "{tmp}/d"), "d: is a directory", files={"d/x": "1"}),
    "suite_not_utf8": _validate(b"version: 1\nname: caf\xe9\n", "s.yaml:2: not UTF-8 (byte 0xe9)"),
    "suite_binary": _validate(bytes(range(256)) * 4, "s.yaml:2: not UTF-8 (byte 0x80)"),
    "lone_surrogate": _validate(_edit("name: tiny", 'name: "ti\\ud800ny"'), "s.yaml:2: the string holds a lone surrogate"),
    "key_with_newline": _validate(_edit("seed: 0", '"se\\ned": 0'), "s.yaml:3: unknown key 'se\\ned'"),
    "huge_string_for_int": _validate(_edit("limit: 2", "limit: " + "x" * 200_000), "prompts.limit: expected int or null, got 'xxxx"),
    "huge_list_for_int": _validate(_edit("limit: 2", "limit: [" + ", ".join(["1"] * 5000) + "]"),
                                   "prompts.limit: expected int or null, got [1, 1, 1, 1, ...] (list)"),
    "nan_margin": _validate(GOOD + "report: {equivalence_margin: .nan}\n", "report.equivalence_margin: expected a finite number, got nan"),
    "inf_gate_bound": _validate(_edit("min: 0.0", "min: -.inf"), "gates[0].min: expected a finite number, got -inf"),
    "negative_seed": _validate(_edit("seed: 0", "seed: -3"), "s.yaml:3: seed: must be >= 0, got -3"),
    "negative_prompt_seed": _validate(_edit("limit: 2,", "limit: 2, seed: -1,"), "s.yaml:12: prompts.seed: must be >= 0"),
    "shapes_limit_1e9": _validate(_edit("limit: 2", "limit: 1000000000"), "s.yaml:12: prompts.limit: source shapes samples at most 100000"),
    "images_per_prompt_1e9": _validate(_edit("images_per_prompt: 2", "images_per_prompt: 1000000000"),
                                       "images_per_prompt must be >= 1 and <= 10000"),
    "version_huge": _validate(_edit("version: 1", "version: 99999999999999999999999999"), "reads suite version 1, got 99999999999999999999999999"),
    "python_tag": _validate(_edit("name: tiny", "name: !!python/object/apply:os.system [echo]"),
                            "s.yaml:2: YAML syntax error: could not determine a constructor"),
    "two_documents": _validate(GOOD + "---\nversion: 1\n", "s.yaml:18: YAML syntax error: but found another document"),
    "tab_indent": _validate(_edit("    adapter: tiny", "\tadapter: tiny"), "s.yaml:7: YAML syntax error"),
    "integer_key": _validate(_edit("seed: 0", "1: 0"), "s.yaml:3: key 1 must be a string; quote it"),
    "list_as_key": _validate(_edit("seed: 0", "? [1, 2]\n: 0"), "s.yaml:3: key [1, 2] must be a string"),
    "timestamp_name": _validate(_edit("name: tiny", "name: 2001-12-14"), "s.yaml:2: name: expected a string, got datetime.date"),
    "binary_name": _validate(_edit("name: tiny", "name: !!binary aGVsbG8="), "s.yaml:2: name: expected a string, got b'hello'"),
    "set_as_description": _validate(_edit("name: tiny", "name: tiny\ndescription: !!set {a, b}"), "s.yaml:3: description: expected a string, got {"),
    "param_is_mapping": _validate(_edit("params: {guidance: 1}", "params: {guidance: {deep: {er: 1}}}"),
                                  "s.yaml:8: models.tiny.params.guidance: a sampler parameter must be a single value, got {'deep': {'er': 1}}"),
    "metric_option_huge_list": _validate(_edit("channel: r", "channel: [" + ", ".join(["r"] * 3000) + "]"),
                                         "metrics.pixel_red.channel: expected one of 'r', 'g', 'b', 'all', got ['r', 'r', 'r', 'r', ...]"),
    # 60,000 levels: one argument of a real command line holds at most 128 KiB (MAX_ARG_STRLEN)
    "set_nested_60k": _validate(GOOD, "--set seed=[[[[[[", "--set", "seed=" + "[" * 60_000 + "]" * 60_000),
    "set_alias_bomb": _validate(GOOD, "expand this value to more than 10000 values", "--set", "description=" + _laughs()),
    "gate_oracle_bogus": _validate(_ORACLE.replace("metric: pixel_mean/all", "metric: oracle/bogus"),
                                   "gates[0].metric: 'oracle/bogus' is not a row of this suite's oracle metric"),
    "gate_oracle_typo": _validate(_ORACLE.replace("metric: pixel_mean/all", "metric: oracle/al_correct"),
                                  "(did you mean 'oracle/all_correct'?)"),
    "gate_oracle_attribute_typo": _validate(_ORACLE.replace("metric: pixel_mean/all", "metric: oracle/attribute/color"),
                                            "'oracle/attribute/color' is not a row"),
    "gate_fid_other_extractor": _validate(_edit("  pixel_mean: {}", "  pixel_mean: {}\n  fid: {extractor: probe, allow_small_n: true}")
                                          .replace("metric: pixel_mean/all", "metric: fid/inception"),
                                          "gates[0].metric: 'fid/inception' is not a row of this suite's fid metric"),
    "gate_latency_typo": _validate(_edit("  pixel_mean: {}", "  pixel_mean: {}\n  latency: {}").replace("metric: pixel_mean/all", "metric: latency/ratios"),
                                   "(did you mean 'latency/ratio'?)"),
    "oracle_over_txt_prompts": _suite(_ORACLE.replace("{source: shapes, split: val, limit: 2, images_per_prompt: 2}", "{source: file, path: p.txt}")
                                      .replace("  real: {adapter: real}\n", ""),
                                      "metrics.oracle: oracle: prompt 0 of source 'file:p.txt' has no shapes-world scene",
                                      **{"p.txt": "a red circle\na blue square\n"}),
}

CASES.update(BOUNDED)
