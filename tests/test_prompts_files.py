"""Prompt-file loaders on the real upstream files in ../shared/data (see its README for the traps)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from musebench.errors import MusebenchError
from musebench.prompts.files import FORMATS, load_prompt_file

PARTI_CATEGORIES = {
    "Abstract": 51, "Animals": 314, "Artifacts": 287, "Arts": 66, "Food & Beverage": 74,
    "Illustrations": 124, "Indoor Scenes": 40, "Outdoor Scenes": 131, "People": 177,
    "Produce & Plants": 50, "Vehicles": 104, "World Knowledge": 214,
}
GENEVAL_TAGS = {"single_object": 80, "two_object": 99, "counting": 80, "colors": 94, "position": 100, "color_attr": 100}
T2I_FILES = ["3d_spatial", "color", "complex", "non_spatial", "numeracy", "shape", "spatial", "texture"]


# --- PartiPrompts TSV -------------------------------------------------------------------------

def test_parti_counts_categories_and_the_quoted_prompt(shared_data: Path) -> None:
    records = load_prompt_file(shared_data / "parti" / "PartiPrompts.tsv")
    assert len(records) == 1632
    assert Counter(r.tag for r in records) == PARTI_CATEGORIES
    assert len({r.meta["challenge"] for r in records}) == 11
    giggle = [r for r in records if "G I G G L E" in r.prompt]
    assert len(giggle) == 1
    # csv's default quoting would strip the leading quote and swallow the tab-separated fields
    assert giggle[0].prompt == (
        '"G I G G L E" painted in thick colorful lettering as graffiti on a faded red brick wall '
        "with a splotch of exploding white paint."
    )
    assert giggle[0].tag == "Illustrations" and giggle[0].meta["challenge"] == "Writing & Symbols"
    assert [r.index for r in records] == list(range(1632))
    assert records[0].prompt == "bond" and records[0].source == "file:PartiPrompts.tsv"
    assert all(r.prompt == r.prompt.strip() and r.prompt for r in records)  # 10 had stray spaces


def test_parti_is_split_on_tabs_not_csv_quoting(shared_data: Path) -> None:
    raw = (shared_data / "parti" / "PartiPrompts.tsv").read_text(encoding="utf-8").split("\n")[1:]
    expected = [line.split("\t")[0].strip() for line in raw if line]
    assert [r.prompt for r in load_prompt_file(shared_data / "parti" / "PartiPrompts.tsv")] == expected
    with open(shared_data / "parti" / "PartiPrompts.tsv", newline="", encoding="utf-8") as f:
        quoted = [row["Prompt"].strip() for row in csv.DictReader(f, delimiter="\t")]
    assert quoted != expected  # the trap the loader avoids is real


def test_parti_bad_row_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_text("Prompt\tCategory\tChallenge\tNote\na cat\tAnimals\tBasic\t\na dog\tAnimals\n", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"p\.tsv:3: expected 4 tab-separated fields"):
        load_prompt_file(path)
    path.write_text("prompt,category\n", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"p\.tsv:1: PartiPrompts header must be"):
        load_prompt_file(path)


# --- GenEval JSONL ----------------------------------------------------------------------------

def test_geneval_tags_and_include_kept(shared_data: Path) -> None:
    records = load_prompt_file(shared_data / "geneval" / "geneval_evaluation_metadata.jsonl")
    assert len(records) == 553
    assert Counter(r.tag for r in records) == GENEVAL_TAGS
    first = records[0]
    assert (first.prompt, first.tag) == ("a photo of a bench", "single_object")
    assert first.meta == {"tag": "single_object", "include": [{"class": "bench", "count": 1}]}
    position = next(r for r in records if r.prompt == "a photo of a dog right of a teddy bear")
    assert position.meta["include"][1] == {"class": "dog", "count": 1, "position": ["right of", 0]}
    counting = [r for r in records if r.tag == "counting"]
    assert all("exclude" in r.meta for r in counting)
    assert not any("exclude" in r.meta for r in records if r.tag != "counting")
    # the generation-prompts text file lists the same prompts in the same order
    txt = load_prompt_file(shared_data / "geneval" / "geneval_generation_prompts.txt")
    assert [r.prompt for r in txt] == [r.prompt for r in records]


def test_geneval_bad_json_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "meta.jsonl"
    good = json.dumps({"tag": "counting", "include": [], "prompt": "two cats"})
    path.write_text(f"{good}\n\n{good}\n{{\"tag\": \"colors\", prompt\n", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"meta\.jsonl:4: bad JSON line"):
        load_prompt_file(path)
    path.write_text(f"{good}\n{json.dumps({'tag': 'x'})}\n", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"meta\.jsonl:2: each line must be a JSON object with a non-empty \"prompt\""):
        load_prompt_file(path)


# --- T2I-CompBench text (mixed CRLF / LF, no final newline) -----------------------------------

@pytest.mark.parametrize("name", T2I_FILES)
def test_t2i_compbench_300_clean_lines(shared_data: Path, name: str) -> None:
    path = shared_data / "t2i_compbench" / f"{name}_val.txt"
    records = load_prompt_file(path)
    assert len(records) == 300
    assert all("\r" not in r.prompt and "\n" not in r.prompt and r.prompt for r in records)
    raw = path.read_bytes().decode("utf-8")
    assert records[-1].prompt == raw.replace("\r\n", "\n").rstrip("\n").split("\n")[-1].strip()


def test_t2i_compbench_color_first_lines(shared_data: Path) -> None:
    records = load_prompt_file(shared_data / "t2i_compbench" / "color_val.txt")
    assert [r.prompt for r in records[:2]] == ["a green bench and a blue bowl", "a blue bench and a green bowl"]


def test_txt_mixed_endings_blank_lines_and_no_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes("\ufeffa red cube\r\nblue ball\n\n  \r\nunicode caf\u00e9 \u2028 ok\rlast one".encode("utf-8"))
    prompts = [r.prompt for r in load_prompt_file(path)]
    assert prompts == ["a red cube", "blue ball", "unicode caf\u00e9 \u2028 ok", "last one"]


def test_dalle3_coco_list_keeps_duplicates_skips_blanks(shared_data: Path) -> None:
    path = shared_data / "coco" / "openai_dalle3_eval_8k_coco_captions.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 8213 and sum(not line.strip() for line in lines) == 21
    records = load_prompt_file(path)
    assert len(records) == 8213 - 21  # blank lines are skipped, duplicates are kept
    assert len(records) - len({r.prompt for r in records}) == 64  # 84 duplicate lines minus 20 blanks


# --- DrawBench ----------------------------------------------------------------------------------

def test_dreambench_json_array(shared_data: Path) -> None:
    records = load_prompt_file(shared_data / "drawbench" / "drawbench_prompts_dream-bench.json")
    assert len(records) == 200
    assert records[0].prompt == "A red colored car." and records[0].tag is None
    txt = load_prompt_file(shared_data / "drawbench" / "drawbench_prompts_openai_dalle3_eval.txt")
    assert len(txt) == 200
    assert sum(a.prompt != b.prompt for a, b in zip(records, txt)) >= 2  # README: two prompts differ


def test_drawbench_sheet_csv_layout(tmp_path: Path) -> None:
    path = tmp_path / "drawbench.csv"
    rows = [
        ("Prompts", "Category"),
        ("A red colored car.", "Colors"),
        ("A storefront with 'Hello, World' written on it.", "Text"),
        ('A sign that says "Deep Learning".', "Text"),
        ("A panda making latte art.", "Gary Marcus et al. "),  # the sheet's trailing space
        ("Tcennis rpacket.", "Misspellings"),
    ]
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    records = load_prompt_file(path)
    assert [r.prompt for r in records] == [p for p, _ in rows[1:]]
    assert [r.tag for r in records] == ["Colors", "Text", "Text", "Gary Marcus et al.", "Misspellings"]
    assert records[1].prompt == "A storefront with 'Hello, World' written on it."


def test_drawbench_wrong_header(tmp_path: Path) -> None:
    path = tmp_path / "db.csv"
    path.write_text("prompt;category\nx;y\n", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"db\.csv:1: DrawBench CSV header must start with Prompts,Category"):
        load_prompt_file(path)


# --- format selection and file errors --------------------------------------------------------

def test_explicit_format_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "prompts.list"
    path.write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"unknown prompt-file extension '\.list'.*format"):
        load_prompt_file(path)
    assert [r.prompt for r in load_prompt_file(path, format="txt")] == ["one", "two"]
    with pytest.raises(MusebenchError, match=r"unknown prompt-file format 'yaml'; use one of " + ", ".join(FORMATS)):
        load_prompt_file(path, format="yaml")


def test_missing_empty_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(MusebenchError, match=r"nope\.txt: file not found"):
        load_prompt_file(tmp_path / "nope.txt")
    with pytest.raises(MusebenchError, match=r"not a regular file"):
        load_prompt_file(tmp_path, format="txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \r\n", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"empty\.txt: no prompts in this file"):
        load_prompt_file(empty)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"ok\ncaf\xe9\n")
    with pytest.raises(MusebenchError, match=r"latin\.txt:2: not UTF-8 \(byte 0xe9\)"):
        load_prompt_file(latin)


def test_error_messages_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{\n", encoding="utf-8")
    with pytest.raises(MusebenchError) as info:
        load_prompt_file(path)
    assert "\n" not in str(info.value)
