"""Reference Muse (Chang et al. 2023) and its matched diffusion baseline.

Standalone: imports torch, transformers and diffusers, never `musebench`.
"""
