"""Training recipes: the commands that trained the checkpoints shipped in musebench/checkpoints/.

Not part of the installed package (pyproject.toml's package discovery leaves recipes/ out, so the
wheel holds no training code). They import the library (musebench, reference_model) and run from
the repository root of a clone with the library installed (`pip install -e .`):

    python -m recipes.muse_shapes --help    # muse-shapes (the reference Muse)
    python -m recipes.ldm_shapes --help     # ldm-shapes (the matched latent diffusion baseline)
    python -m recipes.probe_clip --help     # probe-clip (the in-domain CLIP for FID/CLIP score)

Each checkpoint's CARD.md gives the exact command that trained it.
"""
