"""The samplers' named choices, importable without torch or diffusers.

The suite loader, `musebench generate` and the run's torch-free preflight (musebench/runner/early.py)
check a name against these lists before torch is imported (issue 23: a bad input costs no 0.5 GB
import); the samplers import the same tuples, so there is one list of each.
"""

# Muse §2.7: the guidance scale held constant, or ramped linearly over the decoding steps
GUIDANCE_SCHEDULES = ("constant", "linear")

# the latent diffusion baseline's diffusers samplers (reference_model/ldm/schedulers.py SCHEDULERS' keys)
LDM_SCHEDULERS = ("ddpm", "ddim", "dpmpp", "euler")
