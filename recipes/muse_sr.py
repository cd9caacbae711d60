"""Train the shipped `muse-sr` checkpoint (Muse's super-resolution stage, 32 -> 64 px): one command.

    python -m recipes.muse_sr --work runs/muse-sr-train --out musebench/checkpoints/muse-sr --procs 2

Stages, each resumable (a finished stage's output is reused; an interrupted training resumes from its
last state): data (the training scenes rendered at 32 and 64 px) -> vq (the 64 px tokenizer,
fine-tuned from the base model's 32 px tokenizer: the same convolutions, 16x16 tokens at 64 px) ->
tokens (base tokens of the 32 px renders, 64 px tokens, caption encodings) -> sr (the masked
transformer of reference_model/super_res.py) -> eval (oracle accuracy at 64 px: the tokenizer's
ceiling, the stage on real low-res tokens, the cascade and bicubic upsampling of the base model) ->
package (checkpoint + CARD.md). `--until STAGE` stops after that stage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from musebench.errors import MusebenchError
from recipes.muse_shapes import _finished, record_time

STAGES = ("data", "vq", "tokens", "sr", "eval", "package")
BASE = "musebench/checkpoints/muse-shapes"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m recipes.muse_sr", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=Path("runs/muse-sr-train"), help="stage outputs and logs")
    p.add_argument("--out", type=Path, default=Path("musebench/checkpoints/muse-sr"), help="checkpoint dir")
    p.add_argument("--base", type=Path, default=Path(BASE), help="the base Muse checkpoint whose tokens it upsamples")
    p.add_argument("--until", choices=STAGES, default="package", help="stop after this stage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    p.add_argument("--procs", type=int, default=1, help="data-parallel processes (2 on a 2-core machine)")
    p.add_argument("--images", type=int, default=40_000, help="training scenes, rendered once at each size")
    p.add_argument("--vq-steps", type=int, default=600, help="fine-tuning steps of the 64 px tokenizer")
    p.add_argument("--vq-batch", type=int, default=16)
    p.add_argument("--vq-lr", type=float, default=3e-4)
    p.add_argument("--steps", type=int, default=3000, help="super-resolution transformer steps")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--lowres-layers", type=int, default=2)
    p.add_argument("--sr-steps", type=int, default=8, help="shipped sampler default: decoding steps of the stage")
    p.add_argument("--temperature", type=float, default=1.0, help="shipped sampler default choice temperature")
    p.add_argument("--token-temperature", type=float, default=1.0,
                   help="shipped sampler default temperature of the token draw (0: argmax); changing a sampler "
                        "default on a finished run re-evaluates and repackages, nothing is retrained")
    p.add_argument("--eval-prompts", type=int, default=500, help="val prompts of the final eval")
    return p.parse_args(argv)


def model_config(args: argparse.Namespace, base_config):
    from dataclasses import replace

    from reference_model.config import LowResConfig, SamplerConfig, SuperResConfig, TransformerConfig

    vq = replace(base_config.vq, image_size=2 * base_config.vq.image_size)
    text = base_config.text_encoder
    transformer = TransformerConfig(vocab_size=vq.codebook_size, grid=vq.grid, width=args.width, depth=args.depth,
                                    heads=args.heads, text_dim=text.hidden_size)
    lowres = LowResConfig(vocab_size=base_config.vq.codebook_size, grid=base_config.vq.grid, layers=args.lowres_layers)
    sampler = SamplerConfig(steps=args.sr_steps, guidance=0.0, temperature=args.temperature,
                            token_temperature=args.token_temperature)
    config = SuperResConfig(vq=vq, text_encoder=text, transformer=transformer, lowres=lowres, sampler=sampler)
    config.check("recipes.muse_sr")
    return config


def stage_data(args, size: int) -> dict:
    from recipes import muse_shapes_data as data_mod

    return data_mod.render_training_set(args.work / f"train_set_{size}.pt", args.images, args.seed, size)


def stage_vq(args, config, base_vq, images):
    from reference_model.tokenizer import VQModel
    from reference_model.vq_training import VQTrainConfig, train_vq

    vq = VQModel(config.vq)
    vq.load_state_dict(base_vq.state_dict())  # the same convolutions: start from the base tokenizer
    train_config = VQTrainConfig(steps=args.vq_steps, batch_size=args.vq_batch, lr=args.vq_lr, warmup=50,
                                 seed=args.seed, checkpoint_every=100, procs=args.procs)
    return train_vq(vq, images, train_config, args.work / "vq")


def stage_tokens(args, base_vq, vq, encoder, low: dict, high: dict) -> dict:
    from recipes import muse_shapes_data as data_mod

    path = args.work / "tokens.pt"
    if path.is_file():
        return data_mod.load(path)
    if low["captions"] != high["captions"]:
        raise MusebenchError("the 32 px and 64 px training sets have different captions; delete both and rerun")
    torch.set_num_threads(max(args.threads, args.procs))  # one process here: every core the training uses
    tokens = {"lowres": data_mod.tokenize_images(base_vq, low["images"]),
              "tokens": data_mod.tokenize_images(vq, high["images"]), **data_mod.encode_captions(encoder, low["captions"])}
    data_mod._save(tokens, path)
    torch.set_num_threads(args.threads)
    return tokens


def stage_sr(args, config, tokens: dict):
    from reference_model.super_res import SuperResTransformer
    from reference_model.training import TokenData, TrainConfig, train_transformer

    torch.manual_seed(args.seed + 1)  # module init only
    model = SuperResTransformer(config)
    data = TokenData(tokens=tokens["tokens"], caption_index=tokens["index"], text_hidden=tokens["hidden"],
                     text_mask=tokens["mask"], empty_index=tokens["empty_index"], lowres_tokens=tokens["lowres"])
    train_config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                               procs=args.procs)
    return train_transformer(model, data, train_config, args.work / "sr")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command_line = sys.argv if argv is None else ["muse_sr", *argv]
    torch.set_num_threads(args.threads)
    if args.procs * args.threads > (os.cpu_count() or 1):
        print(f"muse_sr: warning: --procs {args.procs} x --threads {args.threads} oversubscribes this machine",
              file=sys.stderr)
    from reference_model.checkpoint import load_checkpoint
    from reference_model.text_encoder import FrozenTextEncoder

    base_config, base_vq, base_transformer = load_checkpoint(args.base)
    config = model_config(args, base_config)
    args.work.mkdir(parents=True, exist_ok=True)
    last = STAGES.index(args.until)

    def timed(stage: str, fn, done: bool = False):
        t = time.perf_counter()
        out = fn()
        if not done:
            record_time(args.work, stage, time.perf_counter() - t)
        return out

    work, low_size = args.work, base_config.vq.image_size
    files_done = all((work / f"train_set_{s}.pt").is_file() for s in (low_size, 2 * low_size))
    low, high = timed("data", lambda: (stage_data(args, low_size), stage_data(args, 2 * low_size)), done=files_done)
    if last < 1:
        return 0
    vq = timed("vq", lambda: stage_vq(args, config, base_vq, high["images"]),
               done=_finished(work / "vq" / "vq_state.pt", args.vq_steps))
    if last < 2:
        return 0
    encoder = FrozenTextEncoder(config.text_encoder)
    tokens = timed("tokens", lambda: stage_tokens(args, base_vq, vq, encoder, low, high),
                   done=(work / "tokens.pt").is_file())
    if last < 3:
        return 0
    sr = timed("sr", lambda: stage_sr(args, config, tokens), done=_finished(work / "sr" / "state.pt", args.steps))
    if last < 4:
        return 0
    from recipes import muse_sr_eval
    from reference_model.pipeline import MusePipeline

    base = MusePipeline(base_config, base_vq, base_transformer, encoder)
    metrics = timed("eval", lambda: muse_sr_eval.final_eval(base, config, vq, sr, work / "metrics.json",
                                                            args.eval_prompts),
                    done=muse_sr_eval.evaluated(work / "metrics.json", config))
    if last < 5:
        return 0
    from recipes import muse_sr_card

    muse_sr_card.package(args, config, vq, sr, metrics, command_line)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MusebenchError as exc:
        print(f"muse_sr: error: {exc}", file=sys.stderr)
        sys.exit(2)
