"""The four diffusers samplers the latent diffusion baseline is swept over, by short name.

Each name maps to a diffusers scheduler class and the config overrides that make it the sampler
the literature means by that name:
  ddpm   Ho et al. 2020, ancestral sampling (diffusers DDPMScheduler)
  ddim   Song et al. 2021, deterministic eta=0 (DDIMScheduler)
  dpmpp  Lu et al. 2022, DPM-Solver++(2M) multistep (DPMSolverMultistepScheduler,
         algorithm_type="dpmsolver++", solver_order=2: the setting diffusers recommends for
         guided sampling)
  euler  Karras et al. 2022, Euler discrete (EulerDiscreteScheduler)
The training-time noise schedule (betas, prediction type) is carried over from the base config,
so every sampler integrates the same forward process the denoiser was trained on.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from diffusers import (
    DDIMScheduler,
    DDPMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
)
from diffusers.configuration_utils import FrozenDict

from reference_model.errors import ReferenceModelError


@dataclass(frozen=True)
class SchedulerSpec:
    cls: type  # a diffusers scheduler class
    overrides: tuple[tuple[str, object], ...]  # config keys set on top of the base config


SCHEDULERS: dict[str, SchedulerSpec] = {
    "ddpm": SchedulerSpec(DDPMScheduler, ()),
    "ddim": SchedulerSpec(DDIMScheduler, (("set_alpha_to_one", False),)),
    "dpmpp": SchedulerSpec(
        DPMSolverMultistepScheduler, (("algorithm_type", "dpmsolver++"), ("solver_order", 2))
    ),
    "euler": SchedulerSpec(EulerDiscreteScheduler, ()),
}


def check_scheduler_name(name: str) -> str:
    """`name` if it is a known sampler, else a one-line error with the closest known name."""
    if name not in SCHEDULERS:
        close = difflib.get_close_matches(str(name), SCHEDULERS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ReferenceModelError(
            f"unknown scheduler '{name}'{hint}; choose one of: {', '.join(SCHEDULERS)}"
        )
    return name


def make_scheduler(name: str, base_config: FrozenDict | dict):
    """A fresh scheduler `name` built on the training noise schedule in `base_config`."""
    spec = SCHEDULERS[check_scheduler_name(name)]
    return spec.cls.from_config(base_config, **dict(spec.overrides))


def check_steps(steps: object) -> int:
    """A sampler step count: an int >= 1 (bool is not a count)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ReferenceModelError(f"steps={steps!r}: the number of sampler steps must be an integer >= 1")
    return steps
