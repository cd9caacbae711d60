"""Training loop of the latent diffusion denoiser on precomputed tensors.

Inputs are plain tensors: latents of the training images (reference_model.ldm.latents) and the
frozen text encoder's hidden states of each unique caption (computed once, stored fp16). Rules:
- x_t = a_t x_0 + s_t eps at a uniform random t (DDPM's forward process, diffusers add_noise);
- target v = a_t eps - s_t x_0 (Salimans & Ho 2022, diffusers get_velocity): v-prediction keeps
  the x_0 estimate well-conditioned at high noise, which few-step samplers rely on;
- Min-SNR-5 loss weighting (Hang et al. 2023; diffusers' train_text_to_image recipe): weight
  min(SNR, 5) / (SNR + 1) for v, which the paper reports converges ~3x faster;
- 10 % of captions replaced by the empty caption: classifier-free dropout (Ho & Salimans 2022),
  the same rate Muse trains with;
- AdamW, linear warm-up then cosine decay (reference_model.lr_schedule, shared with Muse);
- EMA of the weights (diffusers EMAModel, with warm-up) is what gets exported and sampled.
With the codebook head (DenoiserConfig.head == "codes", CDCD, Dieleman et al. 2022) x_0 is the
scaled code of each position, the loss is cross-entropy of the logits against the code ids (no
label smoothing, no SNR weight: CDCD's score-interpolation objective) and t stays uniform.
Every batch (rows, dropout, t, noise) is drawn from a generator seeded with (seed, step), so a
resumed run sees exactly the batches an uninterrupted one would. State is saved atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler
from diffusers.training_utils import EMAModel, compute_snr
from tqdm import tqdm

from reference_model import training_log
from reference_model.atomic_file import write_atomic_via
from reference_model.errors import ReferenceModelError
from reference_model.ldm.config import NoiseConfig
from reference_model.ldm.denoiser import CodeHeadDenoiser, predict
from reference_model.lr_schedule import warmup_cosine


@dataclass(frozen=True)
class LatentData:
    latents: torch.Tensor  # (N, C, g, g) float32: scaled latents of the training images
    caption_index: torch.Tensor  # (N,) long: row of each image's caption in text_hidden
    text_hidden: torch.Tensor  # (U, L, D) fp16: encoder states of each unique caption
    text_mask: torch.Tensor  # (U, L) bool, True = real token
    empty_index: int  # row of the empty caption "" (the unconditional input)
    ids: torch.Tensor | None = None  # (N, g, g) long: code ids of the latents (codebook head only)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 3000  # optimizer steps (the cosine decay ends here)
    batch_size: int = 64  # = Muse's
    lr: float = 5e-4  # peak learning rate
    warmup: int = 100  # linear warm-up steps
    weight_decay: float = 0.01  # on matrices only (nanoGPT's split)
    betas: tuple[float, float] = (0.9, 0.99)
    text_dropout: float = 0.1  # classifier-free dropout, = Muse's
    snr_gamma: float = 5.0  # Min-SNR weighting (0: plain MSE)
    ema_decay: float = 0.999  # upper bound; EMAModel warms it up from 0
    grad_clip: float = 1.0
    seed: int = 0
    max_wall_s: float = 3600.0  # stop (and save) when the run's wall time passes this
    log_every: int = 20
    checkpoint_every: int = 100
    eval_every: int = 0  # steps between evaluate() calls (0: never)


@dataclass(frozen=True)
class Batch:
    noisy: torch.Tensor  # (B, C, g, g) x_t
    timesteps: torch.Tensor  # (B,) long
    target: torch.Tensor  # (B, C, g, g) v or eps
    hidden: torch.Tensor  # (B, L, D)
    mask: torch.Tensor  # (B, L) bool
    weight: torch.Tensor  # (B,) loss weight
    ids: torch.Tensor | None = None  # (B, g, g) clean code ids: the cross-entropy target of the codebook head
    self_cond: torch.Tensor | None = None  # (B,) bool: rows that get the model's own x0 estimate as input


def noise_scheduler(noise: NoiseConfig) -> DDPMScheduler:
    return DDPMScheduler.from_config(noise.scheduler_config())


def draw_batch(data: LatentData, config: TrainConfig, sched: DDPMScheduler, step: int) -> Batch:
    """The batch of `step`, reproducible from (seed, step) alone."""
    g = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
    rows = torch.randint(0, data.latents.shape[0], (config.batch_size,), generator=g)
    x0 = data.latents[rows].float()  # (B, C, g, g)
    caption = data.caption_index[rows]
    drop = torch.rand(config.batch_size, generator=g) < config.text_dropout
    caption = torch.where(drop, torch.full_like(caption, data.empty_index), caption)
    t = torch.randint(0, sched.config.num_train_timesteps, (config.batch_size,), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    noisy = sched.add_noise(x0, eps, t)
    kind = sched.config.prediction_type
    v = kind == "v_prediction"
    target = sched.get_velocity(x0, eps, t) if v else (x0 if kind == "sample" else eps)
    ids = data.ids[rows] if data.ids is not None else None
    if config.snr_gamma > 0 and kind != "sample":
        snr = compute_snr(sched, t)  # (B,) alpha_bar / (1 - alpha_bar)
        weight = torch.clamp(snr, max=config.snr_gamma) / (snr + 1 if v else snr)
    else:
        weight = torch.ones(config.batch_size)
    self_cond = torch.rand(config.batch_size, generator=g) < 0.5  # drawn last: earlier draws are unchanged
    return Batch(noisy, t, target, data.text_hidden[caption].float(), data.text_mask[caption], weight, ids, self_cond)


def diffusion_loss(denoiser: torch.nn.Module, batch: Batch) -> torch.Tensor:
    if isinstance(denoiser, CodeHeadDenoiser):
        if batch.ids is None:
            raise ReferenceModelError("the codebook head trains on code ids; give LatentData.ids")
        x0_prev = None
        if denoiser.self_condition:  # Analog Bits §3.2: half the rows see the model's own estimate
            x0_prev = torch.zeros_like(batch.noisy)
            rows = batch.self_cond
            if rows.any():
                with torch.no_grad():
                    x0_prev[rows] = denoiser(batch.noisy[rows], batch.timesteps[rows], batch.hidden[rows], batch.mask[rows])
        logits = denoiser.logits(batch.noisy, batch.timesteps, batch.hidden, batch.mask, x0_prev)  # (B, K, g, g)
        return F.cross_entropy(logits, batch.ids)
    out = predict(denoiser, batch.noisy, batch.timesteps, batch.hidden, batch.mask)
    per_example = F.mse_loss(out, batch.target, reduction="none").mean(dim=(1, 2, 3))  # (B,)
    return (per_example * batch.weight).mean()


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


def save_state(path: Path, model, optimizer, ema: EMAModel, step: int, wall_s: float, cpu_s: float) -> None:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "ema": ema.state_dict(),
             "step": step, "wall_s": wall_s, "cpu_s": cpu_s}
    write_atomic_via(path, lambda tmp: torch.save(state, tmp))


def load_state(path: Path, model, optimizer, ema: EMAModel) -> tuple[int, float, float]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        ema.load_state_dict(state["ema"])
    except Exception as exc:
        raise ReferenceModelError(
            f"{path}: cannot resume ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); delete it to start over"
        ) from None
    return int(state["step"]), float(state["wall_s"]), float(state.get("cpu_s", 0.0))


def ema_weights(model: torch.nn.Module, ema: EMAModel) -> dict[str, torch.Tensor]:
    """The EMA state dict of `model` (model's own weights untouched)."""
    ema.store(model.parameters())
    ema.copy_to(model.parameters())
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    ema.restore(model.parameters())
    return weights


def train_denoiser(
    model: torch.nn.Module,
    data: LatentData,
    noise: NoiseConfig,
    config: TrainConfig,
    out_dir: Path,
    evaluate: Callable[[dict[str, torch.Tensor], int], dict[str, float]] | None = None,
) -> tuple[dict[str, torch.Tensor], int, float]:
    """Train (or resume from out_dir/state.pt) -> (EMA weights, steps done, wall seconds)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    state_path, loss_csv, eval_csv = out_dir / "state.pt", out_dir / "loss.csv", out_dir / "eval.csv"
    sched = noise_scheduler(noise)
    optimizer = make_optimizer(model, config)
    ema = EMAModel(model.parameters(), decay=config.ema_decay, use_ema_warmup=True)
    step, wall, cpu = (0, 0.0, 0.0)
    if state_path.exists():
        step, wall, cpu = load_state(state_path, model, optimizer, ema)
    training_log.truncate_after(loss_csv, step)
    training_log.truncate_after(eval_csv, step)
    model.train()
    bar = tqdm(total=config.steps, initial=step, desc="ldm denoiser", mininterval=10)
    t0 = time.perf_counter() - wall
    c0 = time.process_time() - cpu  # CPU seconds: comparable across runs sharing the cores
    while step < config.steps and time.perf_counter() - t0 < config.max_wall_s:
        lr = warmup_cosine(step, config.steps, config.warmup, config.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = diffusion_loss(model, draw_batch(data, config, sched, step))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        ema.step(model.parameters())
        step += 1
        bar.update(1)
        if step % config.log_every == 0 or step == config.steps:
            training_log.append_row(loss_csv, {"step": step, "wall_s": time.perf_counter() - t0,
                                               "cpu_s": time.process_time() - c0, "lr": lr, "loss": loss.item()})
            bar.set_postfix(loss=f"{loss.item():.4f}")
        if evaluate is not None and config.eval_every and step % config.eval_every == 0:
            metrics = evaluate(ema_weights(model, ema), step)
            training_log.append_row(eval_csv, {"step": step, "wall_s": time.perf_counter() - t0, **metrics})
        if step % config.checkpoint_every == 0 or step == config.steps:
            save_state(state_path, model, optimizer, ema, step, time.perf_counter() - t0, time.process_time() - c0)
            training_log.plot(loss_csv, out_dir / "loss.png", ["loss", "lr"], "latent diffusion denoiser")
    wall = time.perf_counter() - t0
    save_state(state_path, model, optimizer, ema, step, wall, time.process_time() - c0)
    training_log.plot(loss_csv, out_dir / "loss.png", ["loss", "lr"], "latent diffusion denoiser")
    bar.close()
    model.eval()
    return ema_weights(model, ema), step, wall
