"""Oracle accuracy on the shapes world, per GenEval-style category and per attribute.

GenEval (Ghosh et al. 2023, "GenEval: An Object-Focused Framework for Evaluating Text-to-Image
Alignment") scores an image as correct only if every requirement of its prompt holds, and reports
accuracy per task tag (single_object, two_object, counting, colors, position, color_attr). Here the
detector is exact: `musebench.shapes.score_image` reads the rendered scene back from the pixels.

Rows: `oracle/all_correct` over every image; `oracle/<category>` (the fraction of all-correct images
among prompts with that tag, for each tag present); `oracle/attribute/<attribute>` (the fraction of
images where that attribute is right, over images whose prompt constrains it: `None` = not
applicable). Attributes get their own namespace because `position` is both a GenEval category and
an attribute, and a results file has one row per (model, point, metric).
Every row carries n and a 95 % Wilson score interval (musebench.metrics.intervals).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue
from musebench.metrics.intervals import wilson_interval

BUILDS_WITHOUT_TORCH = True  # build() and preflight() import no torch: a run checks them first (runner/early.py)

PREFIX = "oracle"


@dataclass(frozen=True)
class Options:
    """The oracle has one protocol choice: the interval's confidence level (0.95 = ci95)."""

    confidence: float = 0.95  # results.jsonl calls the field ci95; change only for analysis


class OracleMetric:
    name = PREFIX

    def __init__(self, options: Options) -> None:
        if not 0.0 < options.confidence < 1.0:
            raise MusebenchError(f"oracle: confidence must be in (0, 1), got {options.confidence}")
        self.options = options

    def preflight(self, records) -> None:
        """Before the first image (runner/prepare.py): every prompt carries the scene the oracle reads."""
        check_prompts(records)

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        _check_context(ctx)
        verdicts = cached_verdicts(ctx)
        keys = ctx.item_keys if len(ctx.item_keys) == len(verdicts) else (None,) * len(verdicts)
        rows = [self._row("all_correct", [(key, v.all_correct) for key, v in zip(keys, verdicts)], {})]
        rows += self._category_rows(ctx, keys, verdicts)
        rows += self._attribute_rows(keys, verdicts)
        return rows

    def _category_rows(self, ctx: EvalContext, keys: tuple, verdicts: list) -> list[MetricValue]:
        by_tag: dict[str, list[tuple[str | None, bool]]] = {}
        for rec, key, verdict in zip(ctx.prompts, keys, verdicts):
            if rec.tag is not None:
                by_tag.setdefault(rec.tag, []).append((key, bool(verdict.all_correct)))
        return [self._row(tag, hits, {"kind": "category"}) for tag, hits in sorted(by_tag.items())]

    def _attribute_rows(self, keys: tuple, verdicts: list) -> list[MetricValue]:
        by_attr: dict[str, list[tuple[str | None, bool]]] = {}
        for key, verdict in zip(keys, verdicts):
            for attr, ok in verdict.attributes.items():
                if ok is not None:  # None: this prompt does not constrain the attribute
                    by_attr.setdefault(attr, []).append((key, bool(ok)))
        return [self._row(f"attribute/{attr}", hits, {"kind": "attribute"}) for attr, hits in sorted(by_attr.items())]

    def _row(self, name: str, hits: list[tuple[str | None, bool]], extra: dict) -> MetricValue:
        """One row from (item key, correct) per image it covers; keys are None outside the runner."""
        k, n = int(sum(bool(h) for _, h in hits)), len(hits)
        ci = wilson_interval(k, n, self.options.confidence)
        items = None if any(key is None for key, _ in hits) else tuple((key, float(h)) for key, h in hits)
        return MetricValue(
            metric=f"{PREFIX}/{name}",
            value=k / n,
            n=n,
            higher_is_better=True,
            ci95=ci,
            extra={**extra, "correct": k, "interval": "wilson"},
            items=items,  # 1.0 / 0.0 per image: the mean is `value`
        )


@dataclass(frozen=True)
class Verdict:
    """What the metric reads of an OracleResult; what the verdict cache stores."""

    attributes: dict[str, bool | None]
    all_correct: bool


def cached_verdicts(ctx: EvalContext) -> list[Verdict]:
    """The oracle's verdict on each of ctx's images against its prompt's scene, read from / written to
    the derived store when there is one.

    The key hashes the shapes world's code (musebench.shapes.version), the images' bytes and the
    scenes, so an edit of the oracle or of the world is a miss, never a stale verdict."""
    from musebench.cache.derived import DerivedStore

    store = DerivedStore(ctx.feature_cache_dir)
    key = None
    if store.root is not None:
        from musebench.shapes.version import world_version

        scenes = json.dumps([rec.scene for rec in ctx.prompts], sort_keys=True).encode()
        key = store.key(f"oracle|{world_version()}|{tuple(ctx.images.shape)}|", ctx.images, scenes)
        try:
            return [Verdict(v["attributes"], v["all_correct"]) for v in store.get_json("oracle", key)]
        except (KeyError, TypeError):
            pass  # absent or unreadable entry: score again and replace it
    from musebench.shapes.score_many import score_images  # the shapes world is only needed here

    scored = score_images(ctx.images, [rec.scene for rec in ctx.prompts])
    verdicts = [Verdict(dict(v.attributes), bool(v.all_correct)) for v in scored]
    if key is not None:
        store.put_json("oracle", key, [{"attributes": v.attributes, "all_correct": v.all_correct} for v in verdicts])
    return verdicts


def outputs(options: Options) -> tuple[str, ...]:
    """Every row name this metric can produce (fnmatch patterns): what a suite's gates may name.

    Categories are GenEval's six tags, the tags of shapes prompts and of `shapes render --geneval` files."""
    from musebench.shapes.oracle import ATTRIBUTES
    from musebench.shapes.vocab import CATEGORIES

    names = ("all_correct", *CATEGORIES, *(f"attribute/{a}" for a in ATTRIBUTES))
    return tuple(f"{PREFIX}/{name}" for name in names)


def check_prompts(records) -> None:
    """Before generating: every prompt carries a shapes-world scene, the label the oracle reads."""
    for rec in records:
        if rec.scene is None:
            raise MusebenchError(
                f"oracle: prompt {rec.index} of source '{rec.source}' has no shapes-world scene; the oracle needs "
                "prompts.source shapes or a GenEval .jsonl with \"scene\" (`musebench shapes render --geneval`); "
                "remove 'oracle' from this suite's metrics"
            )


def _check_context(ctx: EvalContext) -> None:
    if ctx.images.ndim != 4 or ctx.images.shape[1] != 3 or ctx.images.dtype.is_floating_point:
        raise MusebenchError(
            f"oracle: images must be uint8 (N, 3, H, W), got {ctx.images.dtype} {tuple(ctx.images.shape)}"
        )
    if len(ctx.prompts) != ctx.images.shape[0]:
        raise MusebenchError(
            f"oracle: {ctx.images.shape[0]} images but {len(ctx.prompts)} prompts; they must align one to one"
        )
    if not ctx.prompts:
        raise MusebenchError("oracle: no images to score; the prompt source produced 0 prompts")
    check_prompts(ctx.prompts)


def build(options: Options) -> OracleMetric:
    return OracleMetric(options)
