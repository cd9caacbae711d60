"""What the metrics over feature sets beside FID and KID share (PRDC, CMMD, Vendi; their options are
feature_options.py's, as FID's and KID's): for those comparing with a reference (PRDC, CMMD) a reference that
has features (source: shapes or folder; an .npz of mu/sigma holds none) and reading both feature sets.
The extractor, its cache and preflight are FID's (fid.FeatureSetMetric).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext
from musebench.metrics.fid import FeatureSetMetric
from musebench.metrics.stats import check_features

if TYPE_CHECKING:
    from musebench.metrics.reference import Reference


class ReferenceSetMetric(FeatureSetMetric):
    """A FeatureSetMetric whose value compares the generated features with the reference's features."""

    title = ""  # the metric's name in messages, e.g. "PRDC"

    def __init__(self, options) -> None:
        from musebench.metrics.reference import normalise_spec

        super().__init__(options)
        if normalise_spec(options.reference, self.family)["source"] == "npz":
            raise MusebenchError(f"{self.family}.reference: {self.title} needs reference images (source: shapes or folder), "
                                 "not an .npz of mu/sigma")

    def feature_sets(self, ctx: EvalContext) -> tuple[np.ndarray, "Reference"]:
        """(generated features (N, D), the reference with its features (M, D)), both cached by content."""
        from musebench.metrics.reference import load_reference, normalise_spec

        o = self.options
        gen = self.features(ctx.images, ctx.feature_cache_dir)  # (N, D)
        ref = load_reference(normalise_spec(o.reference, self.family), self.extractor(), o.mode, o.batch_size,
                             ctx.feature_cache_dir, int(ctx.images.shape[-1]), need_features=True)
        return gen, ref


def check_pair(ref: np.ndarray, gen: np.ndarray, where: str) -> None:
    """Both sets finite (N, D) with >= 2 rows and one feature dimension."""
    check_features(ref, f"{where}: reference features")
    check_features(gen, f"{where}: generated features")
    if ref.shape[1] != gen.shape[1]:
        raise MusebenchError(f"{where}: reference features are {ref.shape[1]}-d but generated are {gen.shape[1]}-d; use one extractor")
