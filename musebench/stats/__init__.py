"""Statistics for comparing text-to-image systems (see ../shared/STATISTICS.md and docs/statistics.md).

One module per concept, scipy.stats underneath, every random choice seeded by the caller:
    paired        exact McNemar for per-image correct/incorrect; paired and two-sample bootstraps
    proportions   Newcombe's hybrid score intervals for differences of proportions (paired, independent)
    multiple      Holm's step-down adjustment for a family of p-values
    equivalence   TOST: "the same within a margin" for proportions and means
    power         images needed to detect a drop (and the smallest drop a given N detects)
    calibration   expected calibration error, Brier score and AUROC of a confidence against correctness
Import from the module (`from musebench.stats.paired import mcnemar_exact`): nothing here runs at
import time.
"""
