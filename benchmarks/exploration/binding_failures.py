"""Where the shipped weights fail color_attr (issue 3, 2026-11-28), kept as run: per requested object of each
failed prompt, was it drawn right, in the other object's colour (a swap), in a third colour, or missing."""
import torch, collections, json
torch.set_num_threads(2)
from reference_model.pipeline import MusePipeline
from reference_model.sampler import SampleParams
from musebench.models.checkpoints import resolve_checkpoint
from musebench.shapes import sample_prompts
from musebench.shapes.oracle import score_image
from musebench.shapes.holdout import HELD_OUT_COLOUR_SHAPE, HELD_OUT_COLOUR_PAIRS
pipe = MusePipeline.from_dir(str(resolve_checkpoint("muse-shapes")))
for split in ("holdout", "val"):
    recs = [r for r in sample_prompts(split, 400 if split == "holdout" else 1200, 0) if r.tag == "color_attr"]
    imgs = pipe.generate([r.prompt for r in recs], [r.index for r in recs], SampleParams(steps=12, guidance=2.0, temperature=1.0))
    kinds = collections.Counter(); n_ok = 0
    for r, im in zip(recs, imgs):
        res = score_image(im, r.scene)
        if res.all_correct: n_ok += 1; continue
        objs = r.scene["objects"]
        blobs = [(b.shape, b.colour) for b in res.objects]
        for o in objs:
            novel = (o["colour"], o["shape"]) in HELD_OUT_COLOUR_SHAPE
            if (o["shape"], o["colour"]) in blobs: k = "ok"
            elif any(s == o["shape"] for s, _ in blobs):
                other = [c for s, c in blobs if s == o["shape"]][0]
                k = "wrong colour: the other object's" if other in [x["colour"] for x in objs] else "wrong colour: a third"
            elif any(c == o["colour"] for _, c in blobs): k = "colour on another shape"
            else: k = "missing"
            kinds[(("novel pair " if novel else "") + k)] += 1
        if split == "holdout" and sum(kinds.values()) < 40: print(r.prompt, "->", blobs)
    print(split, "correct", n_ok, "of", len(recs), dict(kinds))
