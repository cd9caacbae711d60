"""An opt-in observer of the MaskGIT/Muse decoding (sampler.decode): what it chose, when, how sure.

Pass a `DecodeTrace` as `trace=` to `sampler.decode` or to `MusePipeline.generate/inpaint/decode_ids`;
without one (the default) the sampler computes and keeps nothing extra. The trace only reads the
loop's tensors: it draws no noise and changes no id, so images are byte-identical with it on or off
(tests/test_decoding_observer.py).

Per image, over the N token positions:
- `token_confidence` (B, N) float32: the probability of the chosen token at the step it was fixed,
  MaskGIT's `selected_probs` (softmax of the guided logits, gathered at the sampled id;
  maskgit/libml/parallel_decode.py), i.e. what the sampler ranked when it decided to keep it;
- `token_step` (B, N) long: the 0-based step at which the token was fixed (the last step fixes all
  that remain); every generated token is fixed exactly once (again only when refined, below);
- `image_confidence()` (B,) float64: the mean log-probability of the generated tokens;
- `forward_passes` (B,) long: how many transformer forwards (each over the image's cond and, with
  guidance, uncond row) the image took part in: the steps it ran, fewer when it stopped early, more
  when it was refined (adaptive_options.py), so that latency can be attributed per image.

With refinement on demand (adaptive_options.py) a re-masked token is fixed again: it keeps its last
confidence and step, the refinement's steps counted on after the K scheduled ones (K, K + 1, ...).

Known tokens (inpainting, outpainting) were given, not chosen: their step is GIVEN_STEP (-1) and their
confidence is NaN, not 1, so that a given token can never pass as a certain choice: any statistic
that forgets to leave them out turns NaN instead of quietly drifting towards "confident".
`image_confidence` averages over the generated tokens only (NaN when an image has none).

With `trajectory=True` the trace also keeps, after each step k of K, the ids the image would have if
decoding stopped there: fixed tokens as they are, every still-masked position filled by the argmax of
that step's guided logits (issue 25 item 3). The last entry is the final output exactly. An image that
stopped early keeps its final ids in the later entries; refinement adds R entries after the K.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from reference_model.errors import ReferenceModelError

GIVEN_STEP = -1  # token_step of a token given to decode (inpainting), not chosen by the sampler


@dataclass
class _Call:
    """What one decode call (one micro-batch of B images) recorded; updated in place step by step."""

    confidence: torch.Tensor  # (B, N) float32, NaN until fixed (and for given tokens)
    step: torch.Tensor  # (B, N) long, GIVEN_STEP until fixed (and for given tokens)
    trajectory: list[torch.Tensor]  # K entries of (B, N) long when asked for, else empty
    forwards: torch.Tensor  # (B,) long: transformer forwards each image took part in


@dataclass
class DecodeTrace:
    trajectory: bool = False  # also keep the argmax-filled ids after every step: K x (B, N) longs per call
    _calls: list[_Call] = field(default_factory=list, repr=False)  # in call order = prompt order

    def begin(self, unknown: torch.Tensor) -> None:
        """Called by decode before its first step; unknown (B, N) bool is True where [MASK]."""
        b, n = unknown.shape
        self._calls.append(_Call(torch.full((b, n), float("nan")), torch.full((b, n), GIVEN_STEP, dtype=torch.long), [],
                                 torch.zeros(b, dtype=torch.long)))

    def observe(self, step: int, unknown: torch.Tensor, remask: torch.Tensor, sampled: torch.Tensor,
                chosen: torch.Tensor, logits: torch.Tensor | None, active: torch.Tensor | None = None) -> None:
        """One decoding step. unknown, remask (B, N) bool: masked before the step / again after it;
        sampled (B, N) long: this step's ids; chosen (B, N): their probabilities; logits (B, N, K)
        (None only where nothing is re-masked); active (B,) bool: the images whose forward ran
        (None: all; early-stopped images run none)."""
        call = self._calls[-1]
        fixed = unknown & ~remask  # (B, N): fixed at this step, never revisited (sampler rule)
        call.confidence = torch.where(fixed, chosen, call.confidence)
        call.step = torch.where(fixed, torch.full_like(call.step, step), call.step)
        call.forwards += 1 if active is None else active.long()
        if self.trajectory:
            filled = sampled.clone() if logits is None else torch.where(remask, logits.argmax(dim=-1), sampled)
            call.trajectory.append(filled)  # (B, N)

    @property
    def token_confidence(self) -> torch.Tensor:
        """(B, N) float32 over every decoded image, in order; NaN for given tokens."""
        return torch.cat([c.confidence for c in self._calls]) if self._calls else torch.empty(0, 0)

    @property
    def token_step(self) -> torch.Tensor:
        """(B, N) long over every decoded image, in order; GIVEN_STEP for given tokens."""
        return torch.cat([c.step for c in self._calls]) if self._calls else torch.empty(0, 0, dtype=torch.long)

    @property
    def forward_passes(self) -> torch.Tensor:
        """(B,) long over every decoded image, in order: the transformer forwards each took part in."""
        return torch.cat([c.forwards for c in self._calls]) if self._calls else torch.empty(0, dtype=torch.long)

    def image_confidence(self) -> torch.Tensor:
        """(B,) float64: mean log-probability of each image's generated tokens (mean_log_probability)."""
        return mean_log_probability(self.token_confidence)

    def trajectory_ids(self) -> torch.Tensor:
        """(B, K, N) long: ids after step k (k = 0..K-1), the remaining masks filled by that step's argmax."""
        if not self.trajectory:
            raise ReferenceModelError("trajectory_ids: this trace was made with trajectory=False; use DecodeTrace(trajectory=True)")
        if not self._calls:
            return torch.empty(0, 0, 0, dtype=torch.long)
        return torch.cat([torch.stack(c.trajectory, dim=1) for c in self._calls])  # (B, K, N)


def mean_log_probability(token_confidence: torch.Tensor) -> torch.Tensor:
    """(B, N) token probabilities, NaN for given tokens -> (B,) float64: the image confidence, the mean
    log-probability of each image's generated tokens (NaN when it has none). A probability that
    underflowed float32 to 0 gives -inf; under Gumbel-max sampling a token that unlikely is drawn with
    about that probability, so in practice never."""
    return token_confidence.double().log().nanmean(dim=1)
