"""Oracle evaluation of the reference Muse during and after training on the shapes world.

- tokenizer ceiling: oracle accuracy of VQ reconstructions of real renders (no generator on these
  tokens can do better), plus PSNR and codebook usage;
- curve: all-correct accuracy on a small fixed val set at each eval step (accuracy vs time);
- final: 12-step generations on >= 1,000 val prompts and the compositional holdout, per category.
Seeds are the prompt indices, so every number is reproducible.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import torch
from tqdm import tqdm

from musebench.cache.atomic import write_atomic_text
from musebench.prompts.base import PromptRecord

EVAL_SEED = 0  # prompt stream seed of val/holdout evaluations
EVAL_STEPS = 12  # the target is at 12 decoding steps


def write_json(path: Path, obj: dict) -> None:
    write_atomic_text(path, json.dumps(obj, indent=2) + "\n")


def oracle_accuracy(images: torch.Tensor, records: list[PromptRecord]) -> dict[str, float]:
    """uint8 (N, 3, H, W) images vs their prompts' scenes -> all_correct overall and per category."""
    from musebench.shapes import scene_from_dict
    from musebench.shapes.oracle import score_image

    hits: dict[str, list[bool]] = defaultdict(list)
    for image, record in zip(images, records):
        ok = score_image(image, scene_from_dict(record.scene)).all_correct
        hits["all_correct"].append(ok)
        hits[record.tag].append(ok)
    out = {k: sum(v) / len(v) for k, v in hits.items()}
    out["n"] = len(records)
    return out


def render_records(records: list[PromptRecord], size: int) -> torch.Tensor:
    from musebench.shapes import render, scene_from_dict

    arrays = [torch.from_numpy(render(scene_from_dict(r.scene), size)) for r in records]
    return torch.stack(arrays).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)


@torch.no_grad()
def reconstruct(vq, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    from reference_model.tokenizer import to_uint8, to_unit

    parts = [to_uint8(vq.decode(vq.encode(to_unit(images[i : i + batch_size]))))
             for i in range(0, images.shape[0], batch_size)]
    return torch.cat(parts)


def tokenizer_ceiling(vq, data: dict, path: Path, n_val: int, n_holdout: int) -> dict:
    """Oracle accuracy of real renders and of their VQ reconstructions, PSNR, codebook usage."""
    if path.is_file():
        return json.loads(path.read_text())
    from musebench.shapes import sample_prompts
    from reference_model.vq_training import reconstruction_stats

    size = data["size"]
    result: dict = {"train_subset": reconstruction_stats(vq, data["images"][:5000])}
    for split, n in (("val", n_val), ("holdout", n_holdout)):
        records = sample_prompts(split, n, EVAL_SEED)
        real = render_records(records, size)
        result[split] = {
            "real": oracle_accuracy(real, records),
            "reconstruction": oracle_accuracy(reconstruct(vq, real), records),
            **reconstruction_stats(vq, real),
        }
    write_json(path, result)
    return result


def generate_images(pipeline, records: list[PromptRecord], steps: int, batch_size: int = 64,
                    desc: str = "generate") -> torch.Tensor:
    from reference_model.sampler import params_from_config

    params = params_from_config(pipeline.config.sampler, steps)
    out = []
    for i in tqdm(range(0, len(records), batch_size), desc=desc, mininterval=10):
        chunk = records[i : i + batch_size]
        out.append(pipeline.generate([r.prompt for r in chunk], [r.index for r in chunk], params))
    return torch.cat(out)


def curve_evaluator(config, vq, encoder, n: int):
    """-> evaluate(transformer, step) -> {"all_correct": ..., per category}, on n fixed val prompts."""
    from musebench.shapes import sample_prompts
    from reference_model.pipeline import MusePipeline

    records = sample_prompts("val", n, EVAL_SEED)

    def evaluate(transformer, step: int) -> dict[str, float]:
        pipeline = MusePipeline(config, vq, transformer, encoder)
        scores = oracle_accuracy(generate_images(pipeline, records, EVAL_STEPS, desc=f"curve@{step}"), records)
        scores.pop("n")
        return scores

    return evaluate


def final_eval(config, vq, transformer, encoder, path: Path, n_val: int, n_holdout: int) -> dict:
    """12-step generations on val (all categories) and holdout, scored by the oracle.

    Done once per sampler: a metrics file of other sampler defaults (--guidance, --guidance-schedule,
    --temperature changed on a finished run) is kept as metrics_<guidance>_<schedule>_<temperature>.json
    and the weights are evaluated again, so the card never reports another sampler's numbers.
    """
    sampler = {"guidance": config.sampler.guidance, "guidance_schedule": config.sampler.guidance_schedule,
               "temperature": config.sampler.temperature}
    if path.is_file():
        done = json.loads(path.read_text())
        old = done.get("sampler", sampler)  # files without one predate this check: same sampler
        if old == sampler:
            return done
        path.replace(path.with_name(f"metrics_g{old['guidance']}_{old['guidance_schedule']}_t{old['temperature']}.json"))
    from musebench.shapes import sample_prompts
    from reference_model.pipeline import MusePipeline

    pipeline = MusePipeline(config, vq, transformer, encoder)
    result = {"steps": EVAL_STEPS, "sampler": sampler}
    for split, n in (("val", n_val), ("holdout", n_holdout)):
        records = sample_prompts(split, n, EVAL_SEED)
        result[split] = oracle_accuracy(generate_images(pipeline, records, EVAL_STEPS, desc=split), records)
    write_json(path, result)
    return result
