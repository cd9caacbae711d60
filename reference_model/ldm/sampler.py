"""The sampling loop, written out (diffusers' model/scheduler split, as in its pipelines):

  x_T ~ N(0, I) * init_noise_sigma, one generator per image (an image's noise never depends on its
      batch; LDMPipeline makes its bytes batch-independent too: reference_model/batch_invariance.py)
  for t in scheduler.timesteps:
      out = denoiser([x_t; x_t], t, [text; uncond])             one batched call for both halves
      out = out_u + guidance * (out_c - out_u)                  classifier-free guidance (Ho &
                                                                Salimans 2022), diffusers' scale
      x_{t-1} = scheduler.step(out, t, x_t, generator=per-image generators)
A fresh scheduler is built for every call: multistep solvers keep state between steps.
A self-conditioned codebook head also gets each row's previous x0 estimate (before guidance mixes
the halves; zeros at the first step), as Analog Bits (Chen et al. 2023, Alg. 2) samples.

Inpainting (`known`): the usual masked-latent method of a denoiser trained without masks, as
diffusers' StableDiffusionInpaintPipeline runs a 4-channel UNet (blended latent diffusion, Avrahami
et al. 2023): after every step the kept region is overwritten by the source latent noised to the next
timestep (scheduler.add_noise, one fixed noise per image drawn from its generator after x_T), and by
the clean source latent after the last step; the denoiser sees the whole latent at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from reference_model.ldm.denoiser import predict
from reference_model.ldm.schedulers import check_scheduler_name, check_steps, make_scheduler
from reference_model.errors import ReferenceModelError


@dataclass(frozen=True)
class SampleParams:
    scheduler: str = "dpmpp"  # ddpm | ddim | dpmpp | euler
    steps: int = 20
    guidance: float = 3.0  # 1 = no guidance (one forward per step); 0 = unconditional

    def check(self) -> SampleParams:
        check_scheduler_name(self.scheduler)
        check_steps(self.steps)
        if isinstance(self.guidance, bool) or not isinstance(self.guidance, (int, float)) or self.guidance < 0:
            raise ReferenceModelError(f"guidance={self.guidance!r}: must be a number >= 0")
        return self


def initial_noise(shape: tuple[int, ...], generators: list[torch.Generator]) -> torch.Tensor:
    """(B, C, g, g) standard normal, row i drawn from generators[i] only."""
    return torch.stack([torch.randn(shape, generator=g) for g in generators])


@dataclass(frozen=True)
class KnownLatents:
    """What inpainting keeps: the source latents (B, C, g, g) and where to keep them (B, 1, g, g), 1 = keep."""

    latents: torch.Tensor
    keep: torch.Tensor


@torch.no_grad()
def sample_latents(
    denoiser: torch.nn.Module,
    scheduler_config: dict,
    params: SampleParams,
    text: tuple[torch.Tensor, torch.Tensor],
    uncond: tuple[torch.Tensor, torch.Tensor],
    latent_shape: tuple[int, int, int],
    generators: list[torch.Generator],
    known: KnownLatents | None = None,
) -> torch.Tensor:
    """text/uncond: (hidden (B, L, D), mask (B, L)) -> final latents (B, C, g, g); `known`: inpainting."""
    params.check()
    scheduler = make_scheduler(params.scheduler, scheduler_config)
    scheduler.set_timesteps(params.steps)
    latents = initial_noise(latent_shape, generators) * scheduler.init_noise_sigma  # (B, C, g, g)
    known_noise = initial_noise(latent_shape, generators) if known is not None else None  # (B, C, g, g)
    guided = params.guidance != 1.0
    hidden, mask = (torch.cat([uncond[0], text[0]]), torch.cat([uncond[1], text[1]])) if guided else text
    x0_prev = None  # self-conditioning input (2B or B, C, g, g); only a self-conditioned head reads it
    timesteps = list(scheduler.timesteps)
    for i, t in enumerate(timesteps):
        x_in = torch.cat([latents, latents]) if guided else latents  # (2B or B, C, g, g)
        x_in = scheduler.scale_model_input(x_in, t)  # Euler divides by sqrt(sigma^2 + 1)
        out = predict(denoiser, x_in, t.expand(x_in.shape[0]), hidden, mask, x0_prev)
        x0_prev = out
        if guided:
            out_u, out_c = out.chunk(2)
            out = out_u + params.guidance * (out_c - out_u)
        latents = scheduler.step(out, t, latents, generator=generators, return_dict=False)[0]
        if known is not None:  # the kept region: the source at the next step's noise level (clean after the last)
            source = (known.latents if i + 1 == len(timesteps) else
                      scheduler.add_noise(known.latents, known_noise, timesteps[i + 1].reshape(1)))
            latents = known.keep * source + (1 - known.keep) * latents
    return latents
