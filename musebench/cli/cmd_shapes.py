"""`musebench shapes render|score`: render shapes-world prompt sets; score any model's images."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DESCRIPTION = (
    "The shapes world, musebench's embedded benchmark (docs/shapes.md). `render` writes a prompt "
    "set of a split as DIR/00000.png ... and DIR/prompts.jsonl (file, prompt, tag, scene), optionally "
    "GenEval metadata JSONL. `score` reads a folder of images with its prompts.jsonl and prints the "
    "oracle's accuracy per GenEval category and per attribute, as GenEval does with its detector."
)

EPILOG = """examples:
  musebench shapes render --split val --n 600 --seed 0 --out /tmp/val
  musebench shapes render --split holdout --n 200 --size 64 --out /tmp/ho --geneval /tmp/ho.jsonl
  musebench shapes score /tmp/val                          # the renders themselves: 100 %
  musebench generate --model muse-shapes --prompts /tmp/val/prompts.jsonl --out /tmp/gen
  musebench shapes score /tmp/gen --json /tmp/gen/oracle.json

splits: train, val, test (disjoint random streams), holdout (only the held-out combinations).
exit codes: 0 ok, 2 bad input (one line on stderr: the file, line or value and the fix)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="{render,score}")
    render = sub.add_parser("render", help="render a prompt set of a split to PNGs + prompts.jsonl",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    render.add_argument("--split", required=True, choices=("train", "val", "test", "holdout"))
    render.add_argument("--n", type=int, required=True, help="number of prompts/images")
    render.add_argument("--seed", type=int, default=0, help="prompt-set seed (default 0)")
    render.add_argument("--size", type=int, default=32, help="image side in px (default 32; 64, 256 also fine)")
    render.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory (new or empty)")
    render.add_argument("--force", action="store_true", help="overwrite a non-empty --out")
    render.add_argument("--geneval", type=Path, default=None, metavar="FILE",
                        help="also write GenEval metadata JSONL (tag, include, prompt) to FILE")
    score = sub.add_parser("score", help="score a folder of images against its prompts.jsonl",
                           epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("folder", type=Path, metavar="DIR", help="folder with PNGs and prompts.jsonl")
    score.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the numbers as JSON")


MAX_RENDER = 1_000_000  # ~1 GB of 32 px PNGs; more is a typo


def _render(args: argparse.Namespace) -> int:
    from musebench.errors import MusebenchError
    from musebench.shapes.folder import render_folder
    from musebench.shapes.geneval import export_geneval_jsonl

    if not 1 <= args.n <= MAX_RENDER:
        raise MusebenchError(f"--n {args.n}: render 1 to {MAX_RENDER:,} prompts")
    records = render_folder(args.split, args.n, args.seed, args.size, args.out, force=args.force)
    if args.geneval is not None:
        export_geneval_jsonl(records, args.geneval)
    print(f"wrote {len(records)} images and {args.out / 'prompts.jsonl'}")
    return 0


def _score(args: argparse.Namespace) -> int:
    from musebench.cache.atomic import write_atomic_text
    from musebench.errors import MusebenchError
    from musebench.shapes.folder import format_table, score_folder, summarise

    if not args.folder.is_dir():
        raise MusebenchError(f"{args.folder} is not a directory; give the folder written by `musebench shapes render` or `musebench generate`")
    summary = summarise(score_folder(args.folder))
    print(format_table(summary))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        write_atomic_text(args.json, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    return _render(args) if args.action == "render" else _score(args)
