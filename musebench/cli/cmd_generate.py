"""`musebench generate`: images for a prompts.jsonl with any model adapter (render -> generate -> score)."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from reference_model.sampler_choices import GUIDANCE_SCHEDULES

DESCRIPTION = (
    "Generate one image per line of a prompts.jsonl with one model, writing DIR/00000.png ... and "
    "DIR/prompts.jsonl in the format `musebench shapes score` reads (each input line copied through, "
    "plus 'file' and 'seed'). The model is a shipped name or a checkpoint directory; its config.json "
    "key 'adapter' picks the adapter (a directory with model_index.json is a diffusers pipeline). "
    "It runs through the same plan, seeds and cache as `musebench run`: each image's seed derives "
    "from (--seed, prompt, k) where k counts earlier lines with the same prompt, so an image equals "
    "the one `run` makes with suite seed --seed, never depends on --batch-size, and is served from "
    "the cache when either command made it before."
)

EPILOG = """examples:
  musebench shapes render --split val --n 600 --out /tmp/val
  musebench generate --model muse-shapes --prompts /tmp/val/prompts.jsonl --out /tmp/gen
  musebench shapes score /tmp/gen
  musebench generate --model muse-shapes --prompts p.jsonl --out /tmp/g8 --steps 8 --guidance 3 \\
      --guidance-schedule linear --temperature 2 --negative-prompt "a blue square"
  musebench generate --model ldm-shapes --prompts p.jsonl --out /tmp/ldm --scheduler ddim --steps 25
  musebench generate --model muse-shapes --prompts p.jsonl --out /tmp/g --cache /tmp/musebench-cache

prompts.jsonl: one JSON object per line with a non-empty "prompt"; other keys (tag, scene, ...) are
copied to the output. Sampler flags not given keep the model's defaults; a flag the model does not
take is an error. Exit codes: 0 ok, 2 bad input (one line on stderr).
"""

# CLI flag (argparse dest) -> sampler parameter name in the adapter's defaults()
SAMPLER_FLAGS = {
    "steps": "steps",
    "guidance": "guidance",
    "guidance_schedule": "guidance_schedule",
    "temperature": "temperature",
    "scheduler": "scheduler",
    "negative_prompt": "negative_prompt",
}


MAX_BATCH = 4096  # images per forward; more is a typo, not a throughput setting


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="NAME_OR_DIR", help="shipped name or checkpoint dir")
    parser.add_argument("--prompts", required=True, type=Path, metavar="FILE.jsonl")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory (new or empty)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per forward batch (default 64)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--force", action="store_true", help="overwrite a non-empty --out")
    parser.add_argument("--cache", default=None, metavar="DIR",
                        help="generation cache shared with `musebench run` (default: $MUSEBENCH_CACHE or ~/.cache/musebench)")
    sampler = parser.add_argument_group("sampler parameters (default: the model's own)")
    sampler.add_argument("--steps", type=int, default=None, help="decoding / denoising steps")
    sampler.add_argument("--guidance", type=float, default=None, help="classifier-free guidance scale w, 1 = off, for every model (docs/suites.md 'Guidance')")
    sampler.add_argument("--guidance-schedule", choices=GUIDANCE_SCHEDULES, default=None)
    sampler.add_argument("--temperature", type=float, default=None, help="Muse: initial choice temperature")
    sampler.add_argument("--scheduler", default=None, help="diffusion models: sampler name")
    sampler.add_argument("--negative-prompt", default=None, help="replaces the unconditional input")


def read_prompt_lines(path: Path) -> list[dict]:
    from musebench.errors import MusebenchError
    from musebench.text_file import jsonl_lines

    if not path.is_file():
        raise MusebenchError(f"--prompts {path}: file not found; give a prompts.jsonl (e.g. from `musebench shapes render`)")
    entries = []
    for lineno, entry in jsonl_lines(path):
        prompt = entry.get("prompt") if isinstance(entry, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            raise MusebenchError(f"{path}:{lineno}: needs a non-empty string \"prompt\"")
        entries.append(entry)
    if not entries:
        raise MusebenchError(f"{path}: no prompts; nothing to generate")
    return entries


def load_model(name_or_dir: str, device: str):
    """Checkpoint name/dir -> adapter instance (musebench.models.registry.load_model)."""
    from musebench.models.registry import load_model as load

    return load(name_or_dir, device)


def sampler_params(args: argparse.Namespace, declared, model_name: str) -> dict:
    """The sampler flags the user gave, typed and checked by the model's Declared params
    (models/declared.py): before the model is loaded, and again by the loaded adapter."""
    params = {}
    for dest, name in SAMPLER_FLAGS.items():
        value = getattr(args, dest)
        if value is not None:
            params[name] = declared.typed(name, value, f"--{dest.replace('_', '-')}: model '{model_name}'")
    return params


def check_flags_early(args: argparse.Namespace) -> None:
    """The sampler flags against the checkpoint's declaration (registry.declared_for_model), before
    the model and torch are loaded; a diffusers pipeline's parameters are known only once loaded."""
    from musebench.models.registry import declared_for_model

    declared = declared_for_model(args.model)
    if declared is not None:
        sampler_params(args, declared, args.model)


def load_checked(args: argparse.Namespace):
    """The model loaded and the flags checked by its own declaration: (adapter, params given)."""
    from musebench.models.declared import of_adapter
    from musebench.models.param_check import check_with_adapter

    model = load_model(args.model, args.device)
    params = sampler_params(args, of_adapter(model), args.model)
    check_with_adapter(model, {**model.defaults(), **params})
    return model, params


def check_flag_bounds(args: argparse.Namespace) -> None:
    """Each sampler flag given inside its documented bound (models/param_check.py), by name."""
    from musebench.models.param_check import check_value

    for dest, name in SAMPLER_FLAGS.items():
        value = getattr(args, dest)
        if value is not None:
            check_value(name, value, "--" + dest.replace("_", "-"))


def check_out_dir(out: Path, force: bool) -> None:
    from musebench.errors import MusebenchError

    if out.exists() and not out.is_dir():
        raise MusebenchError(f"--out {out} is a file; give a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise MusebenchError(f"--out {out} is not empty; choose a new directory or pass --force to overwrite")


def run(args: argparse.Namespace) -> int:
    from musebench.cache.location import resolve_cache_dir
    from musebench.errors import MusebenchError

    if not 1 <= args.batch_size <= MAX_BATCH:
        raise MusebenchError(f"--batch-size {args.batch_size}: must be 1 to {MAX_BATCH}")
    check_flag_bounds(args)  # before the model (and torch) is loaded
    entries = read_prompt_lines(args.prompts)
    check_out_dir(args.out, args.force)
    cache_dir = resolve_cache_dir(args.cache)
    check_flags_early(args)
    model, params = load_checked(args)  # before --out is touched
    outcome = _generate_cached(model, entries, params, args, cache_dir)
    _write_folder(entries, outcome, args.out)
    print(f"wrote {len(entries)} images and {args.out / 'prompts.jsonl'} "
          f"({outcome.stats.hits} from the cache {cache_dir}, {outcome.stats.misses} generated)")
    return 0


def _generate_cached(model, entries: list[dict], params: dict, args: argparse.Namespace, cache_dir: Path):
    """The run's plan, seeds, cache and generation loop for one model (runner/single.py)."""
    from musebench.prompts.base import PromptRecord
    from musebench.runner.models import loaded_model
    from musebench.runner.single import generate_single, single_plan
    from musebench.suite.schema import ModelSpec, SweepSpec

    spec = ModelSpec(name=args.model, adapter=model.name, checkpoint=str(getattr(model, "directory", args.model)),
                     params=params, sweep=SweepSpec(), batch_size=args.batch_size, loc="--model")
    records = [PromptRecord(prompt=e["prompt"], source=f"file:{args.prompts}", index=i) for i, e in enumerate(entries)]
    loaded = loaded_model(spec, model, args.batch_size)
    return generate_single(loaded, single_plan(args.model, records, args.seed, params), cache_dir)


def _write_folder(entries: list[dict], outcome, out: Path) -> None:
    """The cached PNGs copied byte for byte into --out, then prompts.jsonl (written last: a folder
    without it is an interrupted one)."""
    from musebench.cache.atomic import write_atomic, write_atomic_text

    out.mkdir(parents=True, exist_ok=True)
    (out / "prompts.jsonl").unlink(missing_ok=True)
    lines = []
    for pos, (entry, request, source) in enumerate(zip(entries, outcome.requests, outcome.files)):
        name = f"{pos:05d}.png"
        write_atomic(out / name, source.read_bytes(), "--out")
        lines.append(json.dumps({**entry, "file": name, "seed": request.seed}))
    write_atomic_text(out / "prompts.jsonl", "".join(line + "\n" for line in lines))
