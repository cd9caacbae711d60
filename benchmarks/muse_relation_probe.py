"""Which words of a position caption does the reference Muse use? A loss probe.

Position prompts ("a red circle to the left of a blue star") score far below every other category
(issue 3). This probe asks the model directly: on position images of its training set, with every
token masked (the state the sampler starts from), how much worse does it predict the image's
tokens when the caption is edited? An edit the model ignores costs ~0 nats; an edit it understands
costs a lot. Edits, each a wrong description of the image except `converse`:
- swap_objects: "B left of A"            (needs word order)
- invert_relation: "A right of B"        (needs the relation's direction)
- other_axis: "A above B"                (needs only the relation's axis)
- converse: "B right of A"               (the same picture: should cost ~0)
- subject_invert: "A right of something" vs "A left of something" (direction with one named object)
- empty: ""                              (how much the caption helps at all)
Each is reported for captions with "left of"/"above" and with "right of"/"below" separately.

    python benchmarks/muse_relation_probe.py                      # the shipped muse-shapes
    python benchmarks/muse_relation_probe.py --checkpoint DIR --name mine
    python benchmarks/muse_relation_probe.py --state runs/muse-shapes-train/relations/1-order/state.pt --name order

Needs the training work dir of the checkpoint (train_set.pt, tokens.pt). Writes
benchmarks/results/muse_relation_probe_NAME.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # recipes/ (the training code) is not installed: import it from this checkout

from recipes.muse_shapes_data import recaption  # noqa: E402
AXIS_SWAP = {"left of": "above", "right of": "below", "above": "left of", "below": "right of"}
GROUPS = {"left of/above": ("left of", "above"), "right of/below": ("right of", "below")}


def edits() -> dict:
    from recipes.muse_shapes_data import INVERSE_RELATION

    return {
        "swap_objects": lambda s: replace(s, objects=s.objects[::-1]),
        "invert_relation": lambda s: replace(s, relation=INVERSE_RELATION[s.relation]),
        "other_axis": lambda s: replace(s, relation=AXIS_SWAP[s.relation]),
        "converse": lambda s: replace(s, objects=s.objects[::-1], relation=INVERSE_RELATION[s.relation]),
    }


def inverted_subject(text: str) -> str:
    """"A <relation> B" -> "A <inverse relation> something"."""
    from recipes.muse_shapes_data import subject_caption

    return subject_caption(recaption(text, edits()["invert_relation"]))


@torch.no_grad()
def full_mask_loss(transformer, encoder, target: torch.Tensor, texts: list[str]) -> float:
    """Mean cross-entropy (nats/token) of target (B, N) ids from an all-[MASK] input, given texts."""
    hidden, mask = encoder(texts)
    ids = torch.full_like(target, transformer.config.mask_id)
    logits = transformer(ids, transformer.text_context(hidden, mask))  # (B, N, K)
    return F.cross_entropy(logits.flatten(0, 1), target.flatten()).item()


def probe(transformer, encoder, tokens: torch.Tensor, captions: list[str], per_group: int) -> dict:
    from musebench.shapes.captions import parse_caption
    from recipes.muse_shapes_data import subject_caption

    relations = [parse_caption(c).relation for c in captions]
    out = {}
    for name, group in GROUPS.items():
        rows = [i for i, r in enumerate(relations) if r in group][:per_group]
        target, texts = tokens[rows].long(), [captions[i] for i in rows]
        base = full_mask_loss(transformer, encoder, target, texts)
        row = {"n": len(rows), "loss_true_caption": round(base, 4)}
        for edit_name, edit in edits().items():
            row[edit_name] = round(full_mask_loss(transformer, encoder, target, [recaption(t, edit) for t in texts]) - base, 4)
        subject = full_mask_loss(transformer, encoder, target, [subject_caption(t) for t in texts])
        row["subject_invert"] = round(full_mask_loss(transformer, encoder, target, [inverted_subject(t) for t in texts]) - subject, 4)
        row["empty"] = round(full_mask_loss(transformer, encoder, target, [""] * len(texts)) - base, 4)
        out[name] = row
    return out


def load_state(transformer, path: Path, text_length: int):
    """The checkpoint's transformer with the weights of a training state.pt (a refiner added if it has one)."""
    from reference_model.transformer import with_text_refiner

    weights = torch.load(path, map_location="cpu", weights_only=True)["model"]
    layers = len({k.split(".")[1] for k in weights if k.startswith("text_blocks.")})
    if layers and not transformer.config.text_layers:
        transformer = with_text_refiner(transformer, layers, text_length)
    transformer.load_state_dict(weights)
    return transformer.eval()


def _relative(path: Path) -> str:
    """`path` as typed from the repository root when it lies under it (the recorded command reruns there)."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="muse-shapes", help="shipped name or checkpoint dir")
    p.add_argument("--name", default="shipped", help="names the results file")
    p.add_argument("--work", type=Path, default=ROOT / "runs" / "muse-shapes-train", help="the training work dir")
    p.add_argument("--state", type=Path, default=None,
                   help="probe the transformer of a training state.pt instead (e.g. one phase of the relations stage)")
    p.add_argument("--per-group", type=int, default=256, help="position images per relation group")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from musebench.models.checkpoints import resolve_checkpoint
    from recipes import muse_shapes_data as data_mod
    from reference_model.pipeline import MusePipeline

    t0 = time.perf_counter()
    pipeline = MusePipeline.from_dir(resolve_checkpoint(args.checkpoint))
    if args.state is not None:
        pipeline.transformer = load_state(pipeline.transformer, args.state, pipeline.config.text_encoder.max_length)
    captions = data_mod.load(args.work / "train_set.pt")["captions"]
    tokens = data_mod.load(args.work / "tokens.pt")["tokens"]
    work, state = _relative(args.work), None if args.state is None else _relative(args.state)
    result = {
        "benchmark": "muse_relation_probe",
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": f"python benchmarks/muse_relation_probe.py --checkpoint {args.checkpoint} --name {args.name} "
                   f"--work {work} --per-group {args.per_group}" + (f" --state {state}" if state else ""),
        "work": work,
        "checkpoint": str(args.checkpoint),
        "state": state,
        "unit": "extra nats per token vs the true caption, all tokens masked (0: the edit is ignored)",
        "groups": probe(pipeline.transformer, pipeline.text_encoder, tokens, captions, args.per_group),
        "wall_s": round(time.perf_counter() - t0, 1),
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": args.threads},
    }
    path = ROOT / "benchmarks" / "results" / f"muse_relation_probe_{args.name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["groups"], indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
