"""Metrics with an explicit protocol (docs/architecture.md). Public: `frechet_distance`."""

from musebench.metrics.frechet import frechet_distance

__all__ = ["frechet_distance"]
