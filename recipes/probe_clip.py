"""Train the probe CLIP on shapes-world (image, caption) pairs: `python -m recipes.probe_clip`.

open_clip's `CLIP` model class and `ClipLoss` (the symmetric InfoNCE of Radford et al. 2021) on
`musebench.shapes.ShapesDataset("train")`; AdamW with linear warm-up and cosine decay as in
open_clip's training/scheduler.py. Batch i is items [i*B, (i+1)*B) of the dataset, and the model is
initialised under a local seed, so a run is a pure function of its arguments (single thread).
Writes OUT/config.json, OUT/model.safetensors and OUT/CARD.md atomically (temp dir, then rename).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

from musebench.metrics.probe_model import CONFIG_FILE, WEIGHTS_FILE, ProbeConfig, build_clip, normalise, save_config, tokenizer

DEFAULT_OUT = Path("musebench/checkpoints/probe-clip")  # the shipped probe-clip, from the repository root


def _lr(step: int, steps: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    return 0.5 * base * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def train(cfg: ProbeConfig, steps: int, batch: int, lr: float, seed: int, log_every: int) -> tuple[torch.nn.Module, list]:
    import open_clip
    from tqdm import tqdm

    from musebench.shapes import ShapesDataset

    with torch.random.fork_rng():  # open_clip initialises with the global RNG: scope a local seed
        torch.manual_seed(seed)
        model = build_clip(cfg)
    data = ShapesDataset("train", size=cfg.image_size, seed=seed, length=steps * batch)
    tok, loss_fn = tokenizer(cfg), open_clip.ClipLoss()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=lr)
    log = []
    model.train()
    for step in tqdm(range(steps), desc="probe-clip", file=sys.stderr, mininterval=10):
        items = [data[step * batch + i] for i in range(batch)]
        images = normalise(torch.stack([im for im, _ in items]), cfg)  # (B, 3, S, S)
        texts = tok([c for _, c in items])  # (B, context_length)
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, lr, warmup=max(1, steps // 20))
        img_f, txt_f, scale = model(images, texts)
        loss = loss_fn(img_f, txt_f, scale)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():  # open_clip clamps the learned temperature at 100 (training/train.py)
            model.logit_scale.clamp_(0, math.log(100))
        if step % log_every == 0 or step == steps - 1:
            log.append({"step": step, "loss": round(loss.item(), 4)})
    return model.eval(), log


def write_card(out: Path, argv: list[str], info: dict, name: str = "probe-clip") -> None:
    ev = info["val"]
    zs = "\n".join(f"| {k.split('/')[1]} | {v:.3f} | {ev[k + '_n']} |" for k, v in ev.items() if k.startswith("zero_shot/") and not k.endswith("_n"))
    out.joinpath("CARD.md").write_text(
        f"""# {name}

A small CLIP (open_clip.model.CLIP: ViT image tower, causal text tower, open_clip BPE tokenizer)
trained with open_clip.ClipLoss on shapes-world (image, caption) pairs at {info['config']['image_size']} px.
Used by musebench for in-domain FID/KID features (`extractor: probe`{_weights_words(info)}, {info['config']['embed_dim']}-d image
embeddings) and CLIP score (`model: probe`). It knows only the shapes world.

- command: `python -m recipes.probe_clip {' '.join(argv)}`
- seed: {info['seed']}; steps: {info['steps']}; batch: {info['batch']}; lr: {info['lr']}; pairs seen: {info['steps'] * info['batch']}
- threads: 1; wall time: {info['wall_s'] / 60:.1f} min on a shared 2-core CPU; parameters: {info['parameters']}
- final training loss: {info['log'][-1]['loss']} (log(batch) = {math.log(info['batch']):.2f} at chance)

## Validation (shapes val split, N = {ev['n']}, seed 0; recipes/probe_clip_eval.py)

Retrieval recall@1 among {ev['n']} pairs: image->text {ev['recall@1_i2t']:.3f}, text->image {ev['recall@1_t2i']:.3f}
(chance {1 / ev['n']:.3f}). Captions of different scenes can coincide (e.g. "two red stars"), which caps R@1 below 1.

Zero-shot attribute accuracy (pick the right caption among variants differing only in that attribute):

| attribute | accuracy | n |
|---|---|---|
{zs}
""")


def _weights_words(info: dict) -> str:
    """How a suite names this probe: the default one needs no weights line, another size does."""
    size = info["config"]["image_size"]
    return "" if size == ProbeConfig.image_size else f" with `extractor_weights: probe-clip-{size}`"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m recipes.probe_clip", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="checkpoint directory (default: the shipped probe-clip)")
    parser.add_argument("--steps", type=int, default=1400)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-n", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    parser.add_argument("--size", type=int, default=ProbeConfig.image_size,
                        help="image side in px (64 with --patch 16: the probe-clip-64 features of 64 px images)")
    parser.add_argument("--patch", type=int, default=ProbeConfig.patch_size, help="ViT patch side in px")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = ProbeConfig(image_size=args.size, patch_size=args.patch)
    start = time.time()
    model, log = train(cfg, args.steps, args.batch, args.lr, args.seed, log_every=50)
    wall = time.time() - start
    from recipes.probe_clip_eval import evaluate

    val = evaluate(model, cfg, n=args.val_n, seed=0)
    info = {"seed": args.seed, "steps": args.steps, "batch": args.batch, "lr": args.lr, "wall_s": round(wall, 1),
            "parameters": sum(p.numel() for p in model.parameters()), "log": log, "val": val, "config": cfg.__dict__}
    _write(args.out, model, cfg, info, list(argv if argv is not None else sys.argv[1:]))
    print(json.dumps(val, indent=2))
    return 0


def _write(out: Path, model, cfg: ProbeConfig, info: dict, argv: list[str]) -> None:
    from safetensors.torch import save_model

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    save_model(model, str(tmp / WEIGHTS_FILE))
    save_config(cfg, tmp / CONFIG_FILE, {k: v for k, v in info.items() if k != "config"})
    write_card(tmp, argv, info, out.name)
    tmp.chmod(0o755)
    for f in tmp.iterdir():
        f.chmod(0o644)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)  # a folder swap (rename of a directory), not a file write: atomic_file does files


if __name__ == "__main__":
    sys.exit(main())
