"""Matched latent diffusion baseline: the same data, text encoder and per-step compute as the
reference Muse, built from diffusers parts (a PixArt-style transformer denoiser and diffusers
schedulers). See reference_model/ldm/README in the package docstrings of each module.
"""
