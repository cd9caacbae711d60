"""Oracle evaluation of the super-resolution stage after training (the card's numbers).

On `n` val prompts (seed EVAL_SEED, one seed per prompt: its index), all scored by the oracle:
- real: the 64 px renders (the oracle's own ceiling) and their 64 px tokenizer reconstructions (the
  ceiling of any generator on these tokens);
- stage on real tokens: the base tokenizer's tokens of the 32 px renders, upsampled by the stage;
- the cascade: the base model's tokens (its shipped sampler, 12 steps), upsampled by the stage, beside
  the base model's own 32 px images and their bicubic 2x upsampling.
The suite `suites/cascade_sr.yaml` is the measurement with intervals; this is the training's check.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from recipes.muse_shapes_eval import EVAL_SEED, EVAL_STEPS, oracle_accuracy, reconstruct, render_records, write_json


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.float() - b.float()).pow(2).mean().item()
    return 10 * torch.log10(torch.tensor(255.0**2 / max(mse, 1e-12))).item()


def per_image_psnr(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """uint8 (N, 3, H, W) pairs -> (N,) PSNR in dB on [0, 255] (capped at 100 dB for identical images)."""
    mse = (a.double() - b.double()).pow(2).flatten(1).mean(1).clamp(min=255.0**2 * 1e-10)
    return (10 * torch.log10(255.0**2 / mse)).numpy()


def mean_ci(x: np.ndarray) -> dict:
    """Mean with a 95 % percentile bootstrap interval (scipy.stats.bootstrap, 2,000 resamples, seed 0)."""
    from scipy import stats

    ci = stats.bootstrap((x,), np.mean, n_resamples=2000, method="percentile", random_state=0).confidence_interval
    return {"mean": float(x.mean()), "ci95": [float(ci.low), float(ci.high)], "n": int(x.size)}


def sampler_record(config) -> dict:
    s = config.sampler
    return {"steps": s.steps, "temperature": s.temperature, "token_temperature": s.token_temperature}


def evaluated(path: Path, config) -> bool:
    """Whether metrics.json holds this sampler's evaluation (the card never reports another sampler's)."""
    return path.is_file() and json.loads(path.read_text()).get("sr_sampler") == sampler_record(config)


def final_eval(base, config, vq, sr, path: Path, n: int, batch_size: int = 64) -> dict:
    """The evaluation of this sampler; an earlier one of other sampler defaults is kept beside it as
    metrics_steps<S>_t<T>_tt<TT>.json."""
    if evaluated(path, config):
        return json.loads(path.read_text())
    if path.is_file():
        old = json.loads(path.read_text()).get("sr_sampler", {})
        path.replace(path.with_name(f"metrics_steps{old.get('steps')}_t{old.get('temperature')}_tt{old.get('token_temperature', 1.0)}.json"))
    from musebench.shapes import sample_prompts
    from reference_model.cascade import CascadePipeline, bicubic
    from reference_model.sampler import params_from_config

    records = sample_prompts("val", n, EVAL_SEED)
    cascade = CascadePipeline(base, config, vq, sr)
    sr_params = params_from_config(config.sampler)
    base_params = params_from_config(base.config.sampler, EVAL_STEPS)
    real64, real32 = render_records(records, config.vq.image_size), render_records(records, base.config.vq.image_size)
    parts: dict[str, list[torch.Tensor]] = {"on_real": [], "base": [], "cascade": []}
    for i in tqdm(range(0, n, batch_size), desc="sr eval", mininterval=10):
        chunk = records[i : i + batch_size]
        prompts, seeds = [r.prompt for r in chunk], [r.index for r in chunk]
        true_low = base.encode_ids(real32[i : i + batch_size])
        parts["on_real"].append(cascade.ids_to_images(cascade.upsample_ids(true_low, prompts, seeds, sr_params)))
        low = base.decode_ids(base.all_masked(len(chunk)), prompts, seeds, base_params)
        parts["base"].append(base.ids_to_images(low))
        parts["cascade"].append(cascade.ids_to_images(cascade.upsample_ids(low, prompts, seeds, sr_params)))
    images = {k: torch.cat(v) for k, v in parts.items()}
    recon = reconstruct(vq, real64)
    result = {
        "n": n, "base_steps": EVAL_STEPS, "sr_sampler": sampler_record(config),
        "real_64": oracle_accuracy(real64, records),
        "reconstruction_64": oracle_accuracy(recon, records),
        "reconstruction_64_psnr_db": _psnr(recon, real64),
        "stage_on_real_tokens": oracle_accuracy(images["on_real"], records),
        "stage_on_real_tokens_psnr_db": _psnr(images["on_real"], real64),
        "bicubic_of_real_32_psnr_db": _psnr(bicubic(real32), real64),
        # per image, paired: the stage's upsampling of the real 32 px render's tokens and bicubic 2x of that
        # render, each against the real 64 px render (the only images with a 64 px ground truth)
        "psnr_db_per_image": {
            "stage_on_real_tokens": mean_ci(stage_psnr := per_image_psnr(images["on_real"], real64)),
            "bicubic_of_real_32": mean_ci(bicubic_psnr := per_image_psnr(bicubic(real32), real64)),
            "stage_minus_bicubic": mean_ci(stage_psnr - bicubic_psnr),
        },
        "base_32": oracle_accuracy(images["base"], records),
        "cascade_64": oracle_accuracy(images["cascade"], records),
        "bicubic_64": oracle_accuracy(bicubic(images["base"]), records),
    }
    write_json(path, result)
    return result
