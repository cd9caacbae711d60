"""Join benchmarks/editing.py's result files and render the editing report page (issue 26 item 5).

    python scripts/editing_page.py --results A.json [B.json ...] [--other LDM.json] [--joined FILE] [--out DIR] [--examples 4]

The files' per-edit verdicts are joined per (edit type, method, round) in the order given (each file
covers items `items_from` .. on; the join refuses gaps, and overlapping items must agree exactly) and the joined file is written
(default benchmarks/results/editing.json) with every rate recomputed. The page (DIR/index.md,
default reports/editing/) shows per edit type and method: success, preservation, both (Wilson 95 %),
pixels changed outside the region; success against preservation over mask-free rounds (figure);
and before/after grids: for the first --examples items of each type, the source render, its region,
the inpainting and the last mask-free round, regenerated with the benchmark's seeds (an image never
depends on its batch) and labelled with the edit oracle's verdicts, which are checked against the
results file's (exit 2 if they differ).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TYPES = ("recolor", "remove", "add")


def read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"editing_page: cannot read {path} ({exc}); run benchmarks/editing.py first") from None
    for key in ("items", "mask_free_rounds", "definitions", "command"):
        if key not in data:
            raise SystemExit(f"editing_page: {path} lacks '{key}'; rerun benchmarks/editing.py")
    data.setdefault("items_from", 0)  # written before --start existed: every such run started at item 0
    return data


def join(files: list[dict]) -> dict:
    """Per-key concatenation of the files' per-edit verdicts, in item order. Files may split the items
    (--start) or the methods (--methods): a key given twice for the same items must agree exactly (the
    source and VQ rows are deterministic); a gap between one file's items and the next is refused."""
    from benchmarks.editing import summary

    segments: dict = {}  # key -> {items_from: record}
    for data in files:
        for key, record in data["items"].items():
            seen = segments.setdefault(key, {}).setdefault(data["items_from"], record)
            if seen != record:
                raise SystemExit(f"editing_page: two files give {key} from item {data['items_from']} differently; "
                                 "they come from different code or models, rerun benchmarks/editing.py")
    items: dict = {}
    for key, parts in segments.items():
        have = items.setdefault(key, {"success": "", "preserved": "", "changed_outside": []})
        for begin in sorted(parts):
            n = len(have["success"])
            if begin > n:
                raise SystemExit(f"editing_page: {key} covers items 0..{n - 1} but the next file "
                                 f"starts at {begin}; give files whose items follow on")
            for field in ("success", "preserved", "changed_outside"):  # an overlap must repeat the same verdicts
                if parts[begin][field][: n - begin] != have[field][begin:]:
                    raise SystemExit(f"editing_page: {key} items {begin}..{n - 1} differ between two files; they come "
                                     "from different code or models, rerun benchmarks/editing.py")
                have[field] += parts[begin][field][n - begin :]
    from benchmarks.editing import CHANGED_PIXELS_LIMIT

    first = files[0]
    definitions = {**first["definitions"], "keeps_pixels": f"changed_outside <= {CHANGED_PIXELS_LIMIT}"}  # the limit summary() applied
    return {"definitions": definitions, **{k: first[k] for k in ("seed", "mask_free_rounds")},
            "commands": [d["command"] for d in files], "results": {k: summary(v) for k, v in items.items()},
            "items": items, "seconds": sum(d["seconds"] for d in files),
            "git": [d["git"] for d in files], "machine": first["machine"]}


def _cell(r: dict) -> str:
    lo, hi = r["ci95"]
    return f"{r['rate']:.3f} [{lo:.3f}, {hi:.3f}]"


def table(data: dict) -> list[str]:
    res = data["results"]
    lines = ["| edit | method | N | success [95 %] | preserved [95 %] | both [95 %] | pixels changed outside (mean) | keeps pixels [95 %] |",
             "|---|---|---|---|---|---|---|---|"]
    rounds = data["mask_free_rounds"]
    for t in TYPES:
        for method in ("source", "vq_round_trip", "inpaint", *(f"mask_free/{k}" for k in range(1, rounds + 1))):
            r = res.get(f"{t}/{method}")
            if r is None:
                continue
            lines.append(f"| {t} | {method} | {r['success']['n']} | {_cell(r['success'])} | {_cell(r['preserved'])} | "
                         f"{_cell(r['success_and_preserved'])} | {r['changed_outside_mean']:.4f} | {_cell(r['keeps_pixels'])} |")
    return lines


def curve(data: dict, out: Path) -> tuple[str, str]:
    from musebench.cache.figures import FigureCache
    from musebench.report import style

    res, rounds = data["results"], data["mask_free_rounds"]
    with style.figure(width=3.4, height=2.8) as (fig, axes):
        ax = axes[0][0]
        for i, t in enumerate(TYPES):
            colour = style.OKABE_ITO[i]
            keys = [f"{t}/mask_free/{k}" for k in range(1, rounds + 1) if f"{t}/mask_free/{k}" in res]
            xs = [res[k]["preserved"]["rate"] for k in keys]
            ys = [res[k]["success"]["rate"] for k in keys]
            for k, x, y in zip(keys, xs, ys):
                s, p = res[k]["success"]["ci95"], res[k]["preserved"]["ci95"]
                ax.errorbar(x, y, xerr=[[x - p[0]], [p[1] - x]], yerr=[[y - s[0]], [s[1] - y]], fmt="o",
                            markersize=3, capsize=1.2, color=colour, elinewidth=0.7)
                ax.annotate(k.rsplit("/", 1)[1], (x, y), textcoords="offset points", xytext=(3, 2), fontsize=5.5)
            ax.plot(xs, ys, color=colour, linewidth=0.8, label=f"{t}: mask-free rounds")
            if f"{t}/inpaint" in res:
                r = res[f"{t}/inpaint"]
                ax.plot(r["preserved"]["rate"], r["success"]["rate"], "s", color=colour, markersize=5,
                        markerfacecolor="none", label=f"{t}: inpainting")
        ax.set_xlabel("preserved (everything else unchanged)")
        ax.set_ylabel("edit success")
        ax.legend(loc="center left", fontsize=5.5)
        return style.save(fig, out, "success_vs_preservation", FigureCache(None))


def examples(data: dict, n: int, out: Path) -> tuple[str, str]:
    """Before/after grid: source, region, inpainting, last mask-free round; verdicts checked against the file."""
    import torch

    from musebench.cache.figures import FigureCache
    from musebench.models.muse import MuseAdapter
    from musebench.report import style
    from musebench.shapes.edit_oracle import score_edit
    from musebench.shapes.edits import edit_pair, region
    from musebench.shapes.render import render_placed

    torch.set_num_threads(1)
    adapter = MuseAdapter.from_spec(None)
    rounds, items = data["mask_free_rounds"], data["items"]
    columns = ("source", "region", "inpaint", f"mask-free {rounds}")
    with style.figure(width=1.1 * len(columns), height=1.25 * n * len(TYPES), ncols=len(columns), nrows=n * len(TYPES)) as (fig, axes):
        for ti, t in enumerate(TYPES):
            pairs = [edit_pair(t, data["seed"], i) for i in range(n)]
            sources = np.stack([render_placed(p.source, 32) for p in pairs])
            masks = np.stack([region(p, 32, 4) for p in pairs])
            images = torch.from_numpy(sources).permute(0, 3, 1, 2).contiguous()
            prompts, seeds = [p.prompt for p in pairs], list(range(n))
            inpainted = adapter.edit(images, masks, prompts, seeds, {})[:, 0]
            mask_free = adapter.edit(images, None, prompts, seeds, {}, iterations=rounds)[:, -1]
            for i, pair in enumerate(pairs):
                row = axes[ti * n + i]
                shown = [sources[i], np.where(masks[i][..., None], sources[i] // 2 + 100, sources[i]),
                         inpainted[i].permute(1, 2, 0).numpy(), mask_free[i].permute(1, 2, 0).numpy()]
                labels = ["", "", _verdict(score_edit(inpainted[i], pair), items, f"{t}/inpaint", i),
                          _verdict(score_edit(mask_free[i], pair), items, f"{t}/mask_free/{rounds}", i)]
                for ax, image, label in zip(row, shown, labels):
                    ax.imshow(image, interpolation="nearest")
                    ax.set_xticks([]), ax.set_yticks([])
                    ax.set_xlabel(label, fontsize=5.5)
                row[0].set_ylabel(pair.instruction.replace(" the ", "\nthe ", 1), fontsize=5)
        for ax, name in zip(axes[0], columns):
            ax.set_title(name, fontsize=6.5)
        return style.save(fig, out, "before_after", FigureCache(None))


def _verdict(verdict, items: dict, key: str, i: int) -> str:
    if key in items and i < len(items[key]["success"]):
        stored = (items[key]["success"][i] == "1", items[key]["preserved"][i] == "1")
        if stored != (verdict.success, verdict.preserved):
            raise SystemExit(f"editing_page: item {i} of {key} regenerated with verdict {verdict} but the results "
                             f"file says {stored}; the model or the code changed since the run, rerun benchmarks/editing.py")
    mark = {True: "yes", False: "no"}
    return f"edit {mark[verdict.success]}, kept {mark[verdict.preserved]}"


def paired(data: dict) -> list[str]:
    """Inpainting against the last mask-free round, per edit type, on the same items."""
    last = int(data["mask_free_rounds"])
    items = data["items"]
    pairs = [(kind, items.get(f"{kind}/inpaint"), items.get(f"{kind}/mask_free/{last}"))
             for kind in dict.fromkeys(key.split("/")[0] for key in items)]
    return mcnemar_table(pairs, f"Paired on the same items: mask-free ({last} rounds) minus inpainting", "inpaint",
                         "mask-free")


def mcnemar_table(pairs: list, title: str, name_a: str, name_b: str) -> list[str]:
    """(edit type, record a, record b) -> b minus a for success and preservation on the items both hold:
    exact McNemar with Newcombe's interval (musebench.stats.paired), Holm over the table's tests."""
    from musebench.stats.multiple import holm
    from musebench.stats.paired import mcnemar_exact

    tests = []
    for kind, a, b in pairs:
        if a is None or b is None:
            continue
        for outcome in ("success", "preserved"):
            n = min(len(a[outcome]), len(b[outcome]))
            tests.append((kind, outcome, mcnemar_exact([c == "1" for c in a[outcome][:n]], [c == "1" for c in b[outcome][:n]])))
    if not tests:
        return []
    adjusted = holm([t.p_value for _, _, t in tests])
    lines = [f"{title}, exact McNemar, Newcombe 95 % interval, Holm over the rows.", "",
             f"| edit | outcome | N | difference [95 %] | {name_a} only / {name_b} only | p (Holm) |", "|---|---|---|---|---|---|"]
    for (kind, outcome, t), p in zip(tests, adjusted):
        lines.append(f"| {kind} | {outcome} | {t.n} | {t.diff:+.3f} [{t.ci95[0]:+.3f}, {t.ci95[1]:+.3f}] | "
                     f"{t.a_only} / {t.b_only} | {p:.3g} |")
    return lines


def load_other(path: Path) -> dict:
    """Another model's benchmarks/editing.py file, its rates recomputed like the main files'."""
    raw = read(path)
    return {**join([raw]), "model": raw.get("model"), "not_available": raw.get("not_available")}


def other_model(data: dict, other: dict) -> list[str]:
    """The same suite on another model (benchmarks/editing.py --model): its table, and its inpainting
    against Muse's on the same items (same sources, prompts, regions and seeds)."""
    model = other.get("model") or "another model"
    missing = ", ".join(other.get("not_available") or []) or "none"
    lines = [f"## The same suite on {model}", "",
             f"`{'`; `'.join(other['commands'])}`. Methods the model does not offer (recorded, not run): {missing}. "
             "Same edits, regions, prompts and seeds as above; the *vq_round_trip* row is this model's own encode + "
             "decode (for ldm-shapes: the latent space of the same tokenizer, snapped to its codes).", ""]
    lines += table(other)
    pairs = [(kind, data["items"].get(f"{kind}/inpaint"), other["items"].get(f"{kind}/inpaint")) for kind in TYPES]
    lines += ["", *mcnemar_table(pairs, f"Paired on the same items: {model} inpainting minus muse-shapes inpainting",
                                 "muse-shapes", model)]
    return lines


def page(data: dict, curve_files: tuple[str, str], grid_files: tuple[str, str] | None, others: list[dict] = ()) -> str:
    d = data["definitions"]
    n = min(r["success"]["n"] for r in data["results"].values())
    lines = ["# Editing on the shapes world: Muse inpainting and mask-free editing", "",
             f"N = {n} edits per edit type and method (recolor, remove, add; items 0..{n - 1} of each type from "
             f"val seed {data['seed']}); muse-shapes at its default sampler settings. Commands: "
             + "; ".join(f"`{c}`" for c in data["commands"]) + f", joined by `{data['join_command']}` "
             "(items run twice must agree exactly, and did).", "",
             "Definitions (musebench/shapes/edits.py, edit_oracle.py): the input images are "
             f"{d['source_images']}, so the edit is measured alone (not the model's own generation of the source); "
             f"the prompt is the {d['prompt']}. "
             "*success*: the asked change is in the image (recolor: the object at its place has the new colour; "
             "remove: nothing at its place and no object of its shape and colour anywhere; add: an object of the new "
             "shape and colour stands in the asked relation to the kept object). *preserved*: every kept object is "
             "found at its place with the same shape, colour and size, and no object appears elsewhere. "
             f"*pixels changed outside*: {d['changed_outside']} (region: {d['region']}); *keeps pixels*: "
             f"{d['keeps_pixels']} (a limit set after a smoke run showed the VQ round trip alone moving ~1 %). Mask-free: {d['mask_free']}. Rates with Wilson 95 % intervals. Rows *source* "
             "(the unedited render) and *vq_round_trip* (the source encoded and decoded by the VQ, no edit) are the "
             "floors: Muse re-decodes every token, so its pixel changes start at the VQ round trip.", ""]
    lines += table(data)
    lines += ["", *paired(data)]
    lines += ["", f"![success vs preservation]({curve_files[0]})", "",
              f"Edit success against preservation after each mask-free round (numbers: rounds) and for inpainting "
              f"(open squares), Wilson 95 % intervals on both axes ([PDF]({curve_files[1]})).", ""]
    if grid_files:
        lines += [f"![before and after]({grid_files[0]})", "",
                  "Before/after: the source render, its edit region (lightened), the inpainting and the last mask-free "
                  "round, with the edit oracle's verdicts (the first items of each type, the benchmark's seeds; "
                  f"[PDF]({grid_files[1]})).", ""]
    for other in others:
        lines += [*other_model(data, other), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from recipes.muse_shapes_eval import write_json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, nargs="+", required=True)
    parser.add_argument("--joined", type=Path, default=REPO / "benchmarks" / "results" / "editing.json")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "editing")
    parser.add_argument("--other", type=Path, nargs="*", default=[],
                        help="benchmarks/editing.py results of other models (--model), one file each, shown with "
                             "their inpainting paired against Muse's")
    parser.add_argument("--examples", type=int, default=4, help="before/after rows per edit type (0: no grid, no model)")
    args = parser.parse_args(argv)
    data = join([read(p) for p in args.results])
    data["join_command"] = " ".join(["python", "scripts/editing_page.py", *(argv if argv is not None else sys.argv[1:])])
    write_json(args.joined, data)
    args.out.mkdir(parents=True, exist_ok=True)
    grid = examples(data, args.examples, args.out) if args.examples else None
    others = [load_other(path) for path in args.other]
    (args.out / "index.md").write_text(page(data, curve(data, args.out), grid, others), encoding="utf-8")
    print(args.out / "index.md")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            sys.exit(2)
        raise
