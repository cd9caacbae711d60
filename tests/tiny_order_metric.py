"""A tiny metric that logs when it runs, for the runner's metric-order test (image vs timed metrics)."""

from __future__ import annotations

from dataclasses import dataclass

from musebench.metrics.base import EvalContext, MetricValue

EVENTS: list[tuple] = []  # ("image" | "timed", model, steps, number of images); the test clears it


@dataclass(frozen=True)
class Options:
    timed: bool = False


class OrderLog:
    name = "order_log"

    def __init__(self, options: Options):
        self.timed = options.timed

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        kind = "timed" if self.timed else "image"
        EVENTS.append((kind, ctx.params.get("steps"), tuple(ctx.images.shape)))
        return [MetricValue(f"order_log/{kind}", float(len(EVENTS)), len(ctx.prompts), True)]


def build(options: Options) -> OrderLog:
    return OrderLog(options)
