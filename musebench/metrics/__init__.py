"""Metrics with an explicit protocol (docs/architecture.md): every choice that changes a number is
named in the suite and recorded in the result's `extra`.

    oracle      shapes-world oracle accuracy per GenEval category and attribute, Wilson 95 % intervals
    fid / kid   named extractor (inception | clip | probe | dinov2 | random-vgg) x named preprocessing mode
                (clean | tf1 | antialias), float64 statistics, .npz reference stats (mu, sigma),
                bootstrap interval, optional FID-infinity; KID on seeded subsets
    clip_score  open_clip model or the probe; variant torchmetrics | hessel | cosine
    latency     warm-up, synchronised timing, median/p95, throughput, peak memory, FLOPs, and a
                ratio to a matmul calibration timed in the same run

Public: `frechet_distance(mu1, sigma1, mu2, sigma2) -> float` (parity with scipy.linalg.sqrtm,
torchmetrics and clean-fid in tests/test_metrics_frechet.py).
"""

from musebench.metrics.frechet import frechet_distance

__all__ = ["frechet_distance"]
