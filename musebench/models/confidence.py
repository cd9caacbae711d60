"""Token confidence: an optional adapter capability (models/base.py) and the one way to ask for it.

An adapter whose sampler decides by its own confidence (muse: MaskGIT's selected_probs, observed by
reference_model/decode_trace.py) may offer
    generate_with_confidence(prompts, seeds, params, trajectory=False) -> (images, confidence)
with `images` exactly generate()'s (uint8 (N, 3, H, W), the same bytes) and `confidence` a dict of
numpy arrays under CONFIDENCE_KEYS, plus TRAJECTORY_IMAGES when trajectory=True (the refinement
trajectory: the image decoded after every step, the still-masked tokens filled by that step's
argmax). A diffusers aMUSEd pipeline offers it too, without `trajectory` (models/amused_confidence.py).
Adapters without a token sampler (ldm, real, other diffusers pipelines) do not; `confidence_support`
says so, so that a suite reports NOT_AVAILABLE for them and goes on (issue 25 item 5) instead of failing.
"""

from __future__ import annotations

IMAGE_CONFIDENCE = "image_confidence"  # (N,) float64: mean log-probability of the image's generated tokens
TOKEN_CONFIDENCE = "token_confidence"  # (N, T) float32: probability of each token when fixed; NaN if given
TOKEN_STEP = "token_step"  # (N, T) int64: 0-based decoding step at which each token was fixed; -1 if given
CONFIDENCE_KEYS = (IMAGE_CONFIDENCE, TOKEN_CONFIDENCE, TOKEN_STEP)
# Only with generate_with_confidence(..., trajectory=True) (issue 25 item 3); never in CONFIDENCE_KEYS:
TRAJECTORY_IMAGES = "trajectory_images"  # (N, K, 3, H, W) uint8: the image after each step k = 1..K; [:, -1] = images

NOT_AVAILABLE = "not available"  # what a confidence table shows for an adapter without the capability


def confidence_support(adapter: object) -> bool:
    """True when `adapter` offers generate_with_confidence; False (never an error) otherwise."""
    return callable(getattr(adapter, "generate_with_confidence", None))
