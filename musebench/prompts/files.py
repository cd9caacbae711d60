"""Prompt files: plain text, PartiPrompts TSV, DrawBench CSV / JSON, GenEval JSONL.

`load_prompt_file(path, format=None) -> list[PromptRecord]`; the format comes from the extension
(`FORMAT_BY_EXTENSION`) or an explicit `format=` (one of `FORMATS`). Each loader reads the real
upstream layout (the files in ../shared/data/, see its README for the traps):

- txt       one prompt per line (T2I-CompBench, GenEval generation_prompts, DALL-E 3 eval lists);
            CRLF, LF and CR mixed in one file, no final newline; blank lines skipped; duplicate
            lines kept (they are positions in the list: openai/dalle3-eval-samples 8k_coco has 84).
- parti     google-research/parti PartiPrompts.tsv: header `Prompt\\tCategory\\tChallenge\\tNote`,
            split on tabs with no quoting (csv's default quoting strips the leading `"` of the
            `"G I G G L E"` prompt); tag = Category; Challenge and Note kept in `meta`.
- drawbench the Imagen DrawBench Google-Sheet export (`Prompts,Category`): a real CSV (prompts
            contain commas and quotes). Category names are stripped: the sheet has one with a
            trailing space, and HEIM's draw_bench_scenario matches categories by prefix, so the
            space carries no meaning; keeping it would split one category in two.
- dreambench a JSON array of prompt strings (nousr/dream-bench prompts/drawbench.json); no tags.
- geneval   djghosh13/geneval prompts/evaluation_metadata.jsonl: one object per line with `tag`,
            `include`, optional `exclude`, `prompt`; tag = `tag`; the whole row minus `prompt` is
            kept in `meta` (GenEval's evaluator reads exactly these fields from metadata.jsonl).

Every prompt is stripped of surrounding whitespace (10 Parti prompts have stray spaces at either
end; a tokenizer ignores them, but they would split the generation cache); inner text is kept
byte-exact. `index` is the 0-based position among the prompts kept, so it is stable under the
blank-line skipping. Bad input (missing or unreadable file, no prompts, bad row) raises
MusebenchError naming file:line and the fix.

A GenEval line may carry "scene" (what `musebench shapes render --geneval` writes): it is checked
and kept as the record's scene, so the oracle metric scores prompts read from such a file.

Reading is bounded: a prompt file (COCO captions included) is at most MAX_PROMPT_FILE_BYTES, and
JSON nested too deeply to parse, numbers too long to convert and strings holding a lone UTF-16
surrogate (`"\ud800"`, which no file or cache key can encode) are one-line errors.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import reprlib
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.text_file import decode_utf8, read_capped
from musebench.prompts.base import PromptRecord

FORMATS = ("txt", "parti", "drawbench", "dreambench", "geneval")
FORMAT_BY_EXTENSION = {
    ".txt": "txt",
    ".tsv": "parti",
    ".csv": "drawbench",
    ".json": "dreambench",
    ".jsonl": "geneval",
}
PARTI_HEADER = ("Prompt", "Category", "Challenge", "Note")
DRAWBENCH_HEADER = ("Prompts", "Category")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")  # not str.splitlines: it also splits on \x0c, \u2028, ...
# 256 MiB: COCO's largest captions file (captions_train2014.json, 414,113 captions) is about 66 MB;
# the other benchmark prompt files are under 1 MB (../shared/data).
MAX_PROMPT_FILE_BYTES = 256 << 20


def load_prompt_file(path: str | Path, format: str | None = None) -> list[PromptRecord]:
    """Read a prompt file into PromptRecords (format from the extension unless given)."""
    path = Path(path)
    fmt = detect_format(path) if format is None else _check_format(format, path)
    text = read_text(path)
    records = _LOADERS[fmt](path, text)
    if not records:
        raise MusebenchError(f"{path}: no prompts in this file; give a file with one prompt or more")
    return records


def detect_format(path: Path) -> str:
    fmt = FORMAT_BY_EXTENSION.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(f"{ext} ({name})" for ext, name in FORMAT_BY_EXTENSION.items())
        raise MusebenchError(
            f"{path}: unknown prompt-file extension '{path.suffix}'; use one of {known} "
            f"or name the format explicitly (format: one of {', '.join(FORMATS)})"
        )
    return fmt


def _check_format(fmt: str, path: Path) -> str:
    if fmt not in FORMATS:
        raise MusebenchError(f"{path}: unknown prompt-file format '{fmt}'; use one of {', '.join(FORMATS)}")
    return fmt


def read_text(path: Path) -> str:
    """The file as text (UTF-8, a BOM dropped), or a one-line error saying why it cannot be read."""
    if not path.exists():
        raise MusebenchError(f"{path}: file not found; check the path (relative paths start at the working directory)")
    if not path.is_file():
        raise MusebenchError(f"{path}: not a regular file; give the path of the prompt file itself")
    data = read_capped(path, str(path), MAX_PROMPT_FILE_BYTES,
                       f"larger than {MAX_PROMPT_FILE_BYTES >> 20} MiB (MAX_PROMPT_FILE_BYTES); "
                       "no prompt or captions file is that large: check the path, or split the file")
    return decode_utf8(data, str(path), "re-save the file as UTF-8", encoding="utf-8-sig")


def parse_json(text: str, path: Path, fix: str, line: int = 1, what: str = "bad JSON") -> object:
    """json.loads, with every failure one line at path:line (`line`: where `text` starts in the file)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MusebenchError(f"{path}:{line + exc.lineno - 1}: {what} ({exc.msg} at column {exc.colno}); {fix}") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise MusebenchError(f"{path}:{line}: {what} ({' '.join(str(exc).split())[:120]}); {fix}") from None
    except RecursionError:
        raise MusebenchError(f"{path}:{line}: {what} (nested too deeply to read); {fix}") from None


def check_encodable(text: str, where: str) -> str:
    """text, if it can be written as UTF-8 (a JSON escape can make a lone surrogate, which cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MusebenchError(f"{where}: the text holds a lone surrogate {text[exc.start]!r}, which is not a character; "
                             "fix the \\u escape in the file") from None
    return text


def split_lines(text: str) -> list[str]:
    """Lines of `text` with any mix of CRLF / LF / CR endings; no empty last item for a final newline."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _record(path: Path, prompt: str, index: int, tag: str | None = None, meta: dict | None = None) -> PromptRecord:
    return PromptRecord(prompt=prompt, source=f"file:{path.name}", index=index, tag=tag, meta=meta)


def load_txt(path: Path, text: str) -> list[PromptRecord]:
    prompts = [line.strip() for line in split_lines(text)]
    return [_record(path, p, i) for i, p in enumerate(p for p in prompts if p)]


def load_parti(path: Path, text: str) -> list[PromptRecord]:
    lines = split_lines(text)
    header = tuple(lines[0].split("\t")) if lines else ()
    if header != PARTI_HEADER:
        raise MusebenchError(
            f"{path}:1: PartiPrompts header must be {'<TAB>'.join(PARTI_HEADER)}, got {lines[0][:80] if lines else ''!r}; "
            "use the file from google-research/parti or format: txt for one prompt per line"
        )
    records: list[PromptRecord] = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")  # no quoting: a prompt may start with a double quote
        if len(fields) != len(PARTI_HEADER):
            raise MusebenchError(
                f"{path}:{lineno}: expected {len(PARTI_HEADER)} tab-separated fields "
                f"({', '.join(PARTI_HEADER)}), got {len(fields)}; fix that row"
            )
        prompt, category, challenge, note = (f.strip() for f in fields)
        if not prompt:
            raise MusebenchError(f"{path}:{lineno}: empty Prompt field; fill it in or delete the row")
        meta = {"challenge": challenge, "note": note}
        records.append(_record(path, prompt, len(records), tag=category or None, meta=meta))
    return records


def load_drawbench(path: Path, text: str) -> list[PromptRecord]:
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = tuple(h.strip() for h in next(rows, []))
        if header[:2] != DRAWBENCH_HEADER:
            raise MusebenchError(
                f"{path}:1: DrawBench CSV header must start with {','.join(DRAWBENCH_HEADER)}, got "
                f"{','.join(header)[:80]!r}; export the sheet as CSV or use format: txt"
            )
        records: list[PromptRecord] = []
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 2:
                raise MusebenchError(
                    f"{path}:{rows.line_num}: expected 2 columns (Prompts,Category), got {len(row)}; "
                    "quote prompts that contain commas"
                )
            prompt, category = row[0].strip(), row[1].strip()  # one sheet category ends in a space
            if not prompt:
                raise MusebenchError(f"{path}:{rows.line_num}: empty prompt; fill it in or delete the row")
            records.append(_record(path, prompt, len(records), tag=category or None))
    except csv.Error as exc:
        raise MusebenchError(f"{path}:{rows.line_num}: bad CSV ({exc}); fix the quoting of that row") from None
    return records


def load_dreambench(path: Path, text: str) -> list[PromptRecord]:
    data = parse_json(text, path, "the file must be a JSON array of strings")
    if not isinstance(data, list):
        raise MusebenchError(f"{path}: expected a JSON array of prompt strings, got a {type(data).__name__}")
    records: list[PromptRecord] = []
    for position, item in enumerate(data):
        if not isinstance(item, str) or not item.strip():
            raise MusebenchError(
                f"{path}: item {position} of the JSON array is {reprlib.repr(item)}; every item must be a non-empty string"
            )
        records.append(_record(path, check_encodable(item.strip(), f"{path}: item {position}"), len(records)))
    return records


def load_geneval(path: Path, text: str) -> list[PromptRecord]:
    records: list[PromptRecord] = []
    for lineno, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        row = parse_json(line, path, "fix or delete it", lineno, what="bad JSON line")
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), str) or not row["prompt"].strip():
            raise MusebenchError(
                f"{path}:{lineno}: each line must be a JSON object with a non-empty \"prompt\" string "
                "(GenEval evaluation_metadata.jsonl layout)"
            )
        tag = row.get("tag")
        if tag is not None and not isinstance(tag, str):
            raise MusebenchError(f"{path}:{lineno}: \"tag\" must be a string, got {reprlib.repr(tag)}")
        prompt = check_encodable(row["prompt"].strip(), f"{path}:{lineno}")
        meta = {key: value for key, value in row.items() if key not in ("prompt", "scene")}
        record = _record(path, prompt, len(records), tag=tag, meta=meta)
        if "scene" in row:
            record = dataclasses.replace(record, scene=_scene(row["scene"], f"{path}:{lineno}"))
        records.append(record)
    return records


def _scene(data: object, where: str) -> dict:
    """A GenEval line's "scene" (shapes world), checked: the canonical scene dict, or a one-line error."""
    from musebench.shapes.scene import scene_from_dict, scene_to_dict

    try:
        return scene_to_dict(scene_from_dict(data))
    except (MusebenchError, TypeError, ValueError) as exc:
        problem = " ".join(str(exc).split())
        shown = problem if len(problem) <= 160 else problem[:157] + "..."
        raise MusebenchError(f"{where}: bad \"scene\" ({shown}); write it with `musebench shapes render --geneval` "
                             "or drop the key") from None


_LOADERS = {
    "txt": load_txt,
    "parti": load_parti,
    "drawbench": load_drawbench,
    "dreambench": load_dreambench,
    "geneval": load_geneval,
}
