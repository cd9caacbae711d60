"""Train the shipped `ldm-shapes` checkpoint: the matched latent diffusion baseline of muse-shapes.

    python -m recipes.ldm_shapes --work runs/ldm-shapes-train \
        --out musebench/checkpoints/ldm-shapes

Same data, text encoder, tokenizer and per-step compute as muse-shapes (reference_model/ldm):
- training set and caption encodings: the Muse run's own (`--muse-work`), reused when that run
  has written them, else rendered/encoded here with the very same functions and seed;
- latents: the Muse VQ encoder's pre-quantisation output (from the shipped muse-shapes
  checkpoint when it exists, else the Muse run's finished tokenizer state);
- denoiser width/depth/heads and text length read from the Muse config.
Stages, each resumable: data -> latents -> denoiser (stops at --steps or --minutes of wall time)
-> eval (oracle accuracy per scheduler x steps, then per category at the best) -> package
(checkpoint + CARD.md + loss curve). Re-running the command continues where it stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from musebench.cache.atomic import write_atomic_via
from musebench.errors import MusebenchError

STAGES = ("data", "latents", "denoiser", "eval", "package")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m recipes.ldm_shapes", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=Path("runs/ldm-shapes-train"), help="stage outputs and logs")
    p.add_argument("--out", type=Path, default=Path("musebench/checkpoints/ldm-shapes"), help="checkpoint dir")
    p.add_argument("--muse-work", type=Path, default=Path("runs/muse-shapes-train"),
                   help="the muse_shapes work dir: its run_config.json, training set and caption encodings")
    p.add_argument("--tokenizer", default=None,
                   help="Muse checkpoint dir or vq_state.pt (default: shipped muse-shapes, else MUSE_WORK/vq/vq_state.pt)")
    p.add_argument("--until", choices=STAGES, default="package", help="stop after this stage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (cores are shared)")
    p.add_argument("--steps", type=int, default=1000, help="optimizer steps (cosine decay length)")
    p.add_argument("--minutes", type=float, default=55.0, help="wall-time budget of the denoiser stage")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (= Muse's)")
    p.add_argument("--head", choices=("noise", "codes"), default="noise",
                   help="noise: predict --prediction per latent channel; codes: logits over the VQ codebook "
                        "trained with cross-entropy, x0 = their expectation over the codes (CDCD)")
    p.add_argument("--self-condition", action="store_true",
                   help="codes head only: feed the previous x0 estimate back as an input (Analog Bits)")
    p.add_argument("--prediction", choices=("v_prediction", "epsilon"), default="v_prediction",
                   help="target of the noise head (the codes head predicts x0)")
    p.add_argument("--latent-std", type=float, default=1.0,
                   help="std of the training latents (1: unit variance, SD's scaling_factor); below 1 lowers every t's SNR")
    p.add_argument("--snr-gamma", type=float, default=5.0, help="Min-SNR-gamma loss weighting (0: plain MSE on the target)")
    p.add_argument("--eval-every", type=int, default=500, help="steps between accuracy-curve points (0: none)")
    p.add_argument("--curve-prompts", type=int, default=120, help="val prompts per curve point (ddim, 20 steps, guidance 3)")
    p.add_argument("--sweep-prompts", type=int, default=48, help="val prompts per scheduler x steps point")
    p.add_argument("--eval-prompts", type=int, default=300, help="val prompts of the final eval")
    return p.parse_args(argv)


def muse_config(muse_work: Path):
    from reference_model.config import muse_config_from_dict

    path = muse_work / "run_config.json"
    if not path.is_file():
        raise MusebenchError(f"{path}: missing; run `python -m recipes.muse_shapes --work {muse_work} --until vq` first")
    return muse_config_from_dict(json.loads(path.read_text())["model"], f"{path}:model")


def load_vq(source: str | None, muse_work: Path, vq_config):
    """The Muse tokenizer: a Muse checkpoint dir (its vq.* weights) or a finished vq_state.pt."""
    from reference_model.checkpoint_files import load_part, read_weights as _read_weights
    from reference_model.tokenizer import VQModel

    from musebench.models.checkpoints import SHIPPED_DIR

    vq = VQModel(vq_config)
    if source is None:
        shipped = SHIPPED_DIR / "muse-shapes"
        source = str(shipped) if (shipped / "model.safetensors").is_file() else str(muse_work / "vq" / "vq_state.pt")
    path = Path(source)
    if path.is_dir():
        load_part(vq, _read_weights(path / "model.safetensors"), "vq.", path / "model.safetensors")
    elif path.is_file():
        state = torch.load(path, map_location="cpu", weights_only=True)
        wanted = json.loads((muse_work / "run_config.json").read_text())["vq_steps"]
        if int(state["step"]) < wanted:
            raise MusebenchError(f"{path}: the Muse tokenizer is at step {state['step']} of {wanted}; "
                                 "wait for its training to finish (or pass --tokenizer)")
        vq.load_state_dict(state["model"])
    else:
        raise MusebenchError(f"--tokenizer {path}: neither a Muse checkpoint dir nor a vq_state.pt; train the Muse tokenizer first")
    return vq.eval(), shown_path(path)


def shown_path(path: Path) -> str:
    """`path` as the card records it: relative to the working directory (the repository root) when it
    lies inside it, so no card or config names the machine's checkout."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def save(obj: dict, path: Path) -> None:
    write_atomic_via(path, lambda tmp: torch.save(obj, tmp))


def stage_data(args) -> tuple[dict, dict]:
    """(training set {images, captions}, caption encodings {hidden, mask, index, empty_index})."""
    from recipes import muse_shapes_data as data_mod
    from reference_model.text_encoder import FrozenTextEncoder

    config = muse_config(args.muse_work)
    set_path = args.muse_work / "train_set.pt"
    if not set_path.is_file():
        set_path = args.work / "train_set.pt"
    images = data_mod.render_training_set(set_path, json.loads((args.muse_work / "run_config.json").read_text())["images"],
                                          args.seed, config.vq.image_size)
    tokens = args.muse_work / "tokens.pt"
    mine = args.work / "captions.pt"
    key = {"text_encoder": dataclasses.asdict(config.text_encoder), "set": str(set_path), "n": len(images["captions"])}
    if tokens.is_file():
        text = {k: v for k, v in data_mod.load(tokens).items() if k in ("hidden", "mask", "index", "empty_index")}
    elif mine.is_file() and data_mod.load(mine).get("key") == key:
        text = data_mod.load(mine)
    else:  # the Muse run's own function on its own captions: the same states its transformer sees
        text = {**data_mod.encode_captions(FrozenTextEncoder(config.text_encoder), images["captions"]), "key": key}
        save(text, mine)
    if text["hidden"].shape[1] != config.text_encoder.max_length:
        raise MusebenchError(f"caption encodings have {text['hidden'].shape[1]} tokens but the Muse config says "
                             f"max_length={config.text_encoder.max_length}; delete {mine} and rerun")
    return images, text


@torch.no_grad()
def stage_latents(args, vq, images: dict) -> torch.Tensor:
    """Unit-norm pre-quantisation latents (N, C, g, g) of the training set, cached."""
    from reference_model.ldm.latents import encode_images

    path = args.work / "latents.pt"
    key = vq_hash(vq)
    if path.is_file():
        cached = torch.load(path, map_location="cpu", weights_only=True)
        if cached.get("vq_sha256") == key:
            return cached["latents"]
        print(f"{path}: made with another tokenizer; recomputing", file=sys.stderr)
    out = [encode_images(vq, images["images"][i:i + 256], 1.0)
           for i in tqdm(range(0, images["images"].shape[0], 256), desc="latents", mininterval=10)]
    latents = torch.cat(out)
    save({"latents": latents, "vq_sha256": key}, path)
    return latents


def vq_hash(vq) -> str:
    """sha256 over the tokenizer's tensors: which tokenizer the latents came from."""
    digest = hashlib.sha256()
    for name, tensor in sorted(vq.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


@torch.no_grad()
def snap_to_codes(vq, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit latents (N, C, g, g) -> (code ids (N, g, g), the unit codes themselves (N, C, g, g)):
    the codebook head diffuses the tokens Muse is trained on, not the encoder's raw output."""
    ids = torch.cat([vq.quantizer.lookup(latents[i:i + 4096]) for i in range(0, latents.shape[0], 4096)])
    return ids, vq.quantizer.embed(ids)


def stage_denoiser(args, config, vq, latents: torch.Tensor, text: dict, ids: torch.Tensor | None):
    from recipes.ldm_shapes_eval import curve_evaluator
    from reference_model.ldm.denoiser import CodeHeadDenoiser, new_denoiser
    from reference_model.ldm.training import LatentData, TrainConfig, train_denoiser

    torch.manual_seed(args.seed + 2)  # module init only; every later draw takes an explicit generator
    model = new_denoiser(config.denoiser)
    if isinstance(model, CodeHeadDenoiser):
        model.codes.copy_(vq.quantizer.codes().detach() * config.latent.scale)  # (K, C), as the latents are scaled
    data = LatentData(latents=latents * config.latent.scale, caption_index=text["index"], text_hidden=text["hidden"],
                      text_mask=text["mask"], empty_index=int(text["empty_index"]), ids=ids)
    train_config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                               snr_gamma=args.snr_gamma, max_wall_s=args.minutes * 60, eval_every=args.eval_every)
    curve = curve_evaluator(config, vq, args.curve_prompts) if args.eval_every else None
    return train_denoiser(model, data, config.noise, train_config, args.work / "denoiser", curve)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from reference_model.ldm.config import matched_config
    from reference_model.ldm.latents import latent_scale

    args.work.mkdir(parents=True, exist_ok=True)
    last = STAGES.index(args.until)
    t0 = time.perf_counter()
    images, text = stage_data(args)
    if last < 1:
        return 0
    muse = muse_config(args.muse_work)
    vq, vq_source = load_vq(args.tokenizer, args.muse_work, muse.vq)
    latents, ids = stage_latents(args, vq, images), None
    if args.head == "codes":
        ids, latents = snap_to_codes(vq, latents)
    config = matched_config(muse, scale=args.latent_std * latent_scale(latents), head=args.head,
                            self_condition=args.self_condition, prediction=args.prediction)
    config.check("command-line arguments")
    print(f"data + latents: {time.perf_counter() - t0:.0f} s; latent scale {config.latent.scale:.3f}", file=sys.stderr)
    if last < 2:
        return 0
    weights, steps_done, wall = stage_denoiser(args, config, vq, latents, text, ids)
    from recipes import ldm_shapes_eval as eval_mod

    checkpoint = args.work / "checkpoint"
    eval_mod.export(checkpoint, config, vq, weights,
                    {"steps": steps_done, "wall_s": wall, "vq_source": vq_source, "vq_sha256": vq_hash(vq)})
    if last < 3:
        return 0
    metrics = eval_mod.evaluate(checkpoint, args.work / "metrics.json", args.sweep_prompts, args.eval_prompts)
    if last < 4:
        return 0
    eval_mod.package(args, checkpoint, metrics, sys.argv)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MusebenchError as exc:
        print(f"ldm_shapes: error: {exc}", file=sys.stderr)
        sys.exit(2)
