"""Bad prompt files (txt, Parti tsv, DrawBench csv, dream-bench json, GenEval jsonl) and COCO captions
files, read through a suite's `prompts:` (validate reads the prompts without generating). Each case is
one line naming the file (file:line where a line is to blame), exit 2, nothing written."""

from __future__ import annotations

import json

from bad_inputs.case import Case, Sparse, good_suite

# The good suite without the `real` model (it needs an image per prompt) and with a file source.
_BASE = good_suite().replace("  real: {adapter: real}\n", "")
_SHAPES = "{source: shapes, split: val, limit: 2, images_per_prompt: 2}"
assert _SHAPES in _BASE


def _file(name: str, content, expect: str, prompts: str = "", command: str = "validate") -> Case:
    """`musebench validate` (or run) of a suite whose prompts come from {tmp}/name holding content."""
    source = f"{{source: file, path: {name}{prompts}}}"
    files = {"s.yaml": _BASE.replace(_SHAPES, source)}
    if content is not None:
        files[name] = content
    argv = ("validate", "{tmp}/s.yaml") if command == "validate" else ("run", "{tmp}/s.yaml", "--out", "{tmp}/run")
    return Case(argv, expect, files=files)


def _coco(content, expect: str, prompts: str = "") -> Case:
    files = {"s.yaml": _BASE.replace(_SHAPES, f"{{source: coco, path: c.json{prompts}}}"), "c.json": content}
    return Case(("validate", "{tmp}/s.yaml"), expect, files=files)


_COCO_OK = {"images": [{"id": 1, "file_name": "COCO_val2014_1.jpg"}], "annotations": [{"id": 5, "image_id": 1, "caption": "a cat"}]}
_SCENE = {"category": "colors", "objects": [{"shape": "circle", "colour": "red"}]}

CASES: dict[str, Case] = {
    # plain text
    "txt_empty": _file("p.txt", "", "p.txt: no prompts in this file"),
    "txt_blank_lines": _file("p.txt", "\n \r\n\t\r", "p.txt: no prompts in this file"),
    "txt_not_utf8": _file("p.txt", b"a red circle\nun caf\xe9\n", "p.txt:2: not UTF-8 (byte 0xe9)"),
    "txt_utf16": _file("p.txt", "a red circle\n".encode("utf-16"), "p.txt:1: not UTF-8 (byte 0xff)"),
    "txt_binary": _file("p.txt", bytes(range(128, 256)) * 8, "p.txt:1: not UTF-8 (byte 0x80)"),
    "txt_missing": _file("p.txt", None, "p.txt: file not found"),
    "txt_is_a_directory": Case(("validate", "{tmp}/s.yaml"), "d.txt: not a regular file",
                               files={"s.yaml": _BASE.replace(_SHAPES, "{source: file, path: d.txt}"), "d.txt/x": "a"}),
    "txt_over_256_mib": _file("p.txt", Sparse((256 << 20) + 1), "p.txt: larger than 256 MiB (MAX_PROMPT_FILE_BYTES)"),
    "txt_8_gib_sparse": _file("p.txt", Sparse(8 << 30), "p.txt: larger than 256 MiB"),
    "unknown_extension": _file("p.yaml", "a red circle\n", "p.yaml: unknown prompt-file extension '.yaml'"),
    "unknown_format": _file("p.txt", "a red circle\n", "unknown prompt-file format 'xml'", ", format: xml"),
    "format_as_list": _file("p.txt", "a red circle\n", "prompts.format: expected str or null, got [", ", format: [txt]"),
    # PartiPrompts tsv
    "parti_header": _file("p.tsv", "Prompt,Category\nx,y\n", "p.tsv:1: PartiPrompts header must be"),
    "parti_field_count": _file("p.tsv", "Prompt\tCategory\tChallenge\tNote\na cat\tAnimals\n", "p.tsv:2: expected 4 tab-separated fields"),
    "parti_empty_prompt": _file("p.tsv", "Prompt\tCategory\tChallenge\tNote\n \tAnimals\tBasic\t\n", "p.tsv:2: empty Prompt field"),
    "parti_only_header": _file("p.tsv", "Prompt\tCategory\tChallenge\tNote\n", "p.tsv: no prompts in this file"),
    # DrawBench csv
    "drawbench_header": _file("p.csv", "Prompt,Cat\na,b\n", "p.csv:1: DrawBench CSV header must start with Prompts,Category"),
    "drawbench_one_column": _file("p.csv", "Prompts,Category\na red circle\n", "p.csv:2: expected 2 columns"),
    "drawbench_empty_prompt": _file("p.csv", "Prompts,Category\n ,Colors\n", "p.csv:2: empty prompt"),
    "drawbench_huge_field": _file("p.csv", "Prompts,Category\n" + "x" * 200_000 + ",Colors\n", "p.csv:2: bad CSV (field larger than field limit"),
    # dream-bench json
    "json_syntax": _file("p.json", '["a red circle",\n "a blue', "p.json:2: bad JSON (Unterminated string"),
    "json_object": _file("p.json", '{"prompts": ["a"]}', "p.json: expected a JSON array of prompt strings, got a dict"),
    "json_number_item": _file("p.json", '["a red circle", 5]', "p.json: item 1 of the JSON array is 5"),
    "json_blank_item": _file("p.json", '["a red circle", "  "]', "p.json: item 1 of the JSON array is '  '"),
    "json_nested_100k": _file("p.json", "[" * 100_000 + "]" * 100_000, "p.json:1: bad JSON (nested too deeply to read)"),
    "json_5000_digit_number": _file("p.json", "[" + "7" * 5000 + "]", "p.json:1: bad JSON (Exceeds the limit"),
    "json_lone_surrogate": _file("p.json", '["a red \\ud800 circle"]', "p.json: item 0: the text holds a lone surrogate"),
    "json_huge_item_shown_short": _file("p.json", "[" + json.dumps([0] * 50_000) + "]", "item 0 of the JSON array is [0, 0, 0, 0, 0, 0, ...]"),
    # GenEval jsonl
    "jsonl_bad_line": _file("p.jsonl", '{"prompt": "a"}\n{"prompt": \n', "p.jsonl:2: bad JSON line"),
    "jsonl_not_object": _file("p.jsonl", '{"prompt": "a"}\n["b"]\n', "p.jsonl:2: each line must be a JSON object"),
    "jsonl_tag_number": _file("p.jsonl", '{"prompt": "a", "tag": 3}\n', 'p.jsonl:1: "tag" must be a string, got 3'),
    "jsonl_prompt_missing": _file("p.jsonl", '{"tag": "colors"}\n', 'p.jsonl:1: each line must be a JSON object with a non-empty "prompt"'),
    "jsonl_bad_scene": _file("p.jsonl", json.dumps({"prompt": "a", "scene": {"category": "colors"}}) + "\n",
                             'p.jsonl:1: bad "scene" (shapes scene'),
    "jsonl_scene_wrong_vocab": _file("p.jsonl", json.dumps({"prompt": "a", "scene": {**_SCENE, "objects": [{"shape": "dragon"}]}}) + "\n",
                                     'p.jsonl:1: bad "scene"'),
    "jsonl_scene_is_list": _file("p.jsonl", json.dumps({"prompt": "a", "scene": [1, 2]}) + "\n", 'p.jsonl:1: bad "scene"'),
    "jsonl_lone_surrogate": _file("p.jsonl", '{"prompt": "x\\udfff"}\n', "p.jsonl:1: the text holds a lone surrogate"),
    "jsonl_binary": _file("p.jsonl", b'{"prompt": "a"}\n\x00\xff\xfe\n', "p.jsonl:2: not UTF-8 (byte 0xff)"),
    "oracle_over_jsonl_without_scene": Case(("run", "{tmp}/s.yaml", "--out", "{tmp}/run"),
                                            "metrics.oracle: oracle: prompt 0 of source 'file:p.jsonl' has no shapes-world scene",
                                            files={"s.yaml": _BASE.replace(_SHAPES, "{source: file, path: p.jsonl}")
                                                   .replace("  pixel_mean: {}\n", "  pixel_mean: {}\n  oracle: {}\n"),
                                                   "p.jsonl": '{"prompt": "a red circle", "tag": "colors"}\n'}),
    # COCO captions
    "coco_not_coco": _coco('{"annotations": []}', "c.json: not a COCO captions file (needs 'images' and 'annotations' lists)"),
    "coco_bad_json": _coco('{"images": [', "c.json:1: bad JSON"),
    "coco_nested_100k": _coco("[" * 100_000, "c.json:1: bad JSON (nested too deeply to read)"),
    "coco_image_without_id": _coco(json.dumps({**_COCO_OK, "images": [{"file_name": "a.jpg"}]}), "c.json: images[0] needs an integer 'id'"),
    "coco_image_id_list": _coco(json.dumps({**_COCO_OK, "annotations": [{"id": 5, "image_id": [1], "caption": "a cat"}]}),
                                "c.json: annotations[0] needs an integer 'image_id'"),
    "coco_unknown_image": _coco(json.dumps({**_COCO_OK, "annotations": [{"id": 5, "image_id": 2, "caption": "a cat"}]}),
                                "refers to image_id 2 which is not in 'images'"),
    "coco_empty_caption": _coco(json.dumps({**_COCO_OK, "annotations": [{"id": 5, "image_id": 1, "caption": " \n"}]}),
                                "c.json: annotations[0] (id 5) has an empty caption"),
    "coco_caption_surrogate": _coco(json.dumps({**_COCO_OK, "annotations": [{"id": 5, "image_id": 1, "caption": "a \ud800"}]}),
                                    "c.json: annotations[0]: the text holds a lone surrogate"),
    "coco_selection_too_large": _coco(json.dumps(_COCO_OK), "COCO selection asks for n=10 captions but the file has 1",
                                      ", selection: heim, limit: 10"),
    "coco_images_dir_missing": _coco(json.dumps(_COCO_OK), "is not a directory", ", images_dir: nowhere"),
    "coco_over_256_mib": _coco(Sparse(300 << 20), "c.json: larger than 256 MiB"),
}
