"""One guidance convention for every adapter: what `guidance` means in a suite, `--set`, `generate`
and `bench`, and in every table.

    guidance = w  in  x = x_uncond + w (x_cond - x_uncond)      (x: logits, or the denoiser's output)

w = 1 is no guidance (the conditional prediction alone, one forward pass), w = 0 is unconditional,
w > 1 guides. This is diffusers' `guidance_scale` (Ho & Salimans 2022 write the same rule as 1 + w),
so one number means the same thing for Muse, ldm-shapes and any diffusers pipeline. Each adapter
declares how it maps the number to its sampler's native scale:

    muse       Muse's s in l = (1 + s) l_cond - s l_uncond (Chang et al. 2023, §2.7):  s = w - 1
    ldm        reference_model.ldm's guidance_scale (diffusers' rule):                   w
    diffusers  the pipeline's guidance_scale:                                            w

A checkpoint's config keeps its sampler's native value (Muse's `sampler.guidance` is s); the
adapter's declared default is that value in this convention. Tables print the native value beside
the common one where they differ: "guidance=3.0 (Muse s=2)".
"""

from __future__ import annotations

from dataclasses import dataclass

CONVENTION = "classifier-free guidance scale w: x_uncond + w (x_cond - x_uncond); 1 = off, 0 = unconditional"


@dataclass(frozen=True)
class NativeGuidance:
    """How an adapter's sampler writes the guidance scale: native = guidance + offset."""

    name: str  # the native scale's name, e.g. "Muse s"
    offset: float

    def native(self, guidance: float) -> float:
        return guidance + self.offset

    def common(self, native: float) -> float:
        return native - self.offset

    def info(self) -> dict:
        """What run.json records per model, so a report can print both scales from the files alone."""
        return {"convention": CONVENTION, "native": self.name, "native_offset": self.offset}


MUSE_S = NativeGuidance("Muse s", -1.0)  # Chang et al. 2023 §2.7
CFG_SCALE = NativeGuidance("guidance_scale", 0.0)  # diffusers; the convention itself


def with_native(params: dict, info: dict | None) -> dict:
    """`params` for display, the guidance written on both scales where the adapter runs another one:
    {"guidance": 3.0} -> {"guidance": "3.0 (Muse s=2)"}. Unchanged where there is no guidance, no
    record of the adapter's scale (run.json before this convention), or the same scale."""
    value = params.get("guidance")
    if not info or not info.get("native_offset") or isinstance(value, bool) or not isinstance(value, (int, float)):
        return params
    return {**params, "guidance": f"{value} ({info['native']}={value + float(info['native_offset']):g})"}
