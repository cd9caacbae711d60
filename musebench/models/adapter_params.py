"""What each shipped adapter declares (models/declared.py), told from the checkpoint's files alone.

registry.ADAPTER_PARAMS names these functions: checkpoint (name, directory or None) -> Declared,
with no torch import, so the run's preflight and `musebench generate` check every sampler
parameter before the model is loaded. The loaded adapters declare through the same functions
(muse.py, ldm.py, real.py), so early and late messages are the same. Muse's and the LDM's defaults
are the checkpoint config's sampler section, its guidance in the one convention (models/guidance.py);
their choices are reference_model/sampler_choices.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from musebench.errors import MusebenchError
from musebench.models.checkpoints import resolve_checkpoint
from musebench.models.declared import Declared, Param
from musebench.models.guidance import CFG_SCALE, MUSE_S
from musebench.prompts.base import PromptRecord

MUSE_CHECKPOINT = "muse-shapes"  # `adapter: muse` without a checkpoint
LDM_CHECKPOINT = "ldm-shapes"  # `adapter: ldm` without a checkpoint
CASCADE_CHECKPOINT = "muse-sr"  # `adapter: muse-cascade` without a checkpoint: the shipped super-resolution stage
UPSAMPLERS = ("transformer", "bicubic")  # the cascade's second stage, or the baseline it has to beat
REAL_SIZE = 32  # the shapes world's and the shipped models' resolution


def muse_params(sampler) -> Declared:
    """A Muse config's sampler section (reference_model/config.py SamplerConfig) -> the declaration,
    with the confidence-adaptive options (reference_model/adaptive_options.py), off by default."""
    from reference_model.adaptive_options import AdaptiveOptions
    from reference_model.sampler_choices import GUIDANCE_SCHEDULES

    off = AdaptiveOptions()
    return Declared("muse", (Param("steps", sampler.steps), Param("guidance", MUSE_S.common(sampler.guidance)),
                             Param("guidance_schedule", sampler.guidance_schedule, GUIDANCE_SCHEDULES),
                             Param("temperature", sampler.temperature), Param("negative_prompt", None),
                             Param("stop_confidence", off.stop_confidence), Param("refine_steps", off.refine_steps),
                             Param("refine_below", off.refine_below), Param("refine_fraction", off.refine_fraction)),
                    guidance=MUSE_S, inert=muse_inert)


def muse_inert(params) -> tuple[str, ...]:
    """The adaptive options that are off (stop_confidence 0; refine_steps 0, and then its two
    settings): they change no image, so cache keys leave them out and every image cached before
    they existed keeps its key (tests/test_adaptive_decoding.py)."""
    off = ("stop_confidence",) if params.get("stop_confidence", 0.0) == 0 else ()
    if params.get("refine_steps", 0) == 0:
        off += ("refine_steps", "refine_below", "refine_fraction")
    return off


def cascade_params(base_sampler, sr_sampler) -> Declared:
    """The cascade (models/cascade.py): the base Muse's parameters as `muse` declares them (adaptive
    decoding aside), then the second stage's steps and temperature and how the side is doubled."""
    base = muse_params(base_sampler)
    kept = tuple(p for p in base.params if p.name in ("steps", "guidance", "guidance_schedule", "temperature",
                                                        "negative_prompt"))
    return Declared("muse-cascade", (*kept, Param("sr_steps", sr_sampler.steps), Param("sr_temperature", sr_sampler.temperature),
                                     Param("sr_token_temperature", sr_sampler.token_temperature),
                                     Param("upsample", UPSAMPLERS[0], UPSAMPLERS)), guidance=MUSE_S)


def ldm_params(sampler) -> Declared:
    """An LDM config's sampler section (reference_model/ldm/config.py SamplerDefaults) -> the declaration."""
    from reference_model.sampler_choices import LDM_SCHEDULERS

    return Declared("ldm", (Param("scheduler", sampler.scheduler, LDM_SCHEDULERS), Param("steps", sampler.steps),
                            Param("guidance", CFG_SCALE.common(sampler.guidance)), Param("negative_prompt", None)),
                    guidance=CFG_SCALE)


def muse(checkpoint: str | None) -> Declared:
    from reference_model.checkpoint import read_config

    return muse_params(_read(read_config, checkpoint or MUSE_CHECKPOINT).sampler)


def cascade(checkpoint: str | None) -> Declared:
    from reference_model.checkpoint import read_config as read_base_config
    from reference_model.sr_checkpoint import read_config

    sr_dir, base_dir = cascade_dirs(checkpoint)
    return cascade_params(_read(read_base_config, str(base_dir)).sampler, _read(read_config, str(sr_dir)).sampler)


def cascade_dirs(checkpoint: str | None):
    """The super-resolution checkpoint's directory and its base's (its config's training.base), torch-free."""
    from reference_model.errors import ReferenceModelError
    from reference_model.sr_checkpoint import read_base

    sr_dir = resolve_checkpoint(checkpoint or CASCADE_CHECKPOINT)
    try:
        return sr_dir, resolve_checkpoint(read_base(sr_dir))
    except ReferenceModelError as exc:
        raise MusebenchError(str(exc)) from None


def ldm(checkpoint: str | None) -> Declared:
    from reference_model.ldm.checkpoint import read_config

    return ldm_params(_read(read_config, checkpoint or LDM_CHECKPOINT).sampler)


def real(checkpoint: str | None) -> Declared:
    if checkpoint is not None:
        raise MusebenchError(f"adapter real takes no checkpoint, got '{checkpoint}'; remove `checkpoint:` from this model")
    return Declared("real", (Param("size", REAL_SIZE),), check_records=real_records)


def real_records(records: Sequence[PromptRecord]) -> None:
    """Fail before any work if some prompt has no image of its own, or its reference image is
    missing, empty, misnamed or too large (the header of each, musebench.imageio.image_size)."""
    from musebench.imageio import image_size

    for rec in records:
        if rec.scene is None and rec.reference is None:
            raise MusebenchError(
                f"adapter real: prompt {rec.index} of '{rec.source}' has no image of its own; "
                "use prompts.source shapes, or coco with prompts.images_dir"
            )
    for path in dict.fromkeys(rec.reference for rec in records if rec.scene is None):  # ~0.3 ms each
        read_reference(image_size, path)


def read_reference(read, path: str):
    """read(path) with the error saying it is a reference image (and where they come from)."""
    from pathlib import Path

    if not Path(path).is_file():
        raise MusebenchError(f"adapter real: cannot read reference image {path} (not found); check prompts.images_dir")
    try:
        return read(path)
    except MusebenchError as exc:
        raise MusebenchError(f"adapter real: cannot read reference image: {exc}") from None


def _read(read_config, checkpoint: str):
    """The checkpoint's config through reference_model's strict, torch-free reader; one line if bad."""
    from reference_model.errors import ReferenceModelError

    try:
        return read_config(resolve_checkpoint(checkpoint))
    except ReferenceModelError as exc:
        raise MusebenchError(str(exc)) from None
