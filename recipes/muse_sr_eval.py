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

import torch
from tqdm import tqdm

from recipes.muse_shapes_eval import EVAL_SEED, EVAL_STEPS, oracle_accuracy, reconstruct, render_records, write_json


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.float() - b.float()).pow(2).mean().item()
    return 10 * torch.log10(torch.tensor(255.0**2 / max(mse, 1e-12))).item()


def final_eval(base, config, vq, sr, path: Path, n: int, batch_size: int = 64) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    from musebench.shapes import sample_prompts
    from reference_model.cascade import CascadePipeline, bicubic
    from reference_model.sampler import SampleParams

    records = sample_prompts("val", n, EVAL_SEED)
    cascade = CascadePipeline(base, config, vq, sr)
    s = config.sampler
    sr_params = SampleParams(steps=s.steps, guidance=s.guidance, guidance_schedule=s.guidance_schedule,
                             temperature=s.temperature)
    b = base.config.sampler
    base_params = SampleParams(steps=EVAL_STEPS, guidance=b.guidance, guidance_schedule=b.guidance_schedule,
                               temperature=b.temperature)
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
        "n": n, "base_steps": EVAL_STEPS, "sr_sampler": {"steps": s.steps, "temperature": s.temperature},
        "real_64": oracle_accuracy(real64, records),
        "reconstruction_64": oracle_accuracy(recon, records),
        "reconstruction_64_psnr_db": _psnr(recon, real64),
        "stage_on_real_tokens": oracle_accuracy(images["on_real"], records),
        "stage_on_real_tokens_psnr_db": _psnr(images["on_real"], real64),
        "bicubic_of_real_32_psnr_db": _psnr(bicubic(real32), real64),
        "base_32": oracle_accuracy(images["base"], records),
        "cascade_64": oracle_accuracy(images["cascade"], records),
        "bicubic_64": oracle_accuracy(bicubic(images["base"]), records),
    }
    write_json(path, result)
    return result
