"""Feature throughput per extractor (images/s, batch 64, 32 px shapes renders), to results/metrics_feature_throughput.json.

inception: torch-fidelity's network at 299 px; when the real weights file is absent a randomly
initialised one of the same architecture is timed (same FLOPs; recorded as such). clip: open_clip
ViT-B-32 at 224 px, random init (no weights here; same FLOPs as the pretrained model). probe: the
shipped probe CLIP at 32 px. Each with the `clean` mode (PIL bicubic resize is part of the cost).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent / "results" / "metrics_feature_throughput.json"


def _inception(tmp: Path):
    from musebench.errors import MusebenchError
    from musebench.metrics.inception import InceptionExtractor

    try:
        return InceptionExtractor(None), "real weights"
    except MusebenchError:
        import torch_fidelity.feature_extractor_inceptionv3 as tfi

        class _Fresh(tfi.FeatureExtractorInceptionV3):
            def load_state_dict(self, state_dict, strict=True, assign=False):
                return None

        orig, tfi.load_state_dict_from_url = tfi.load_state_dict_from_url, (lambda *a, **k: {})
        try:
            net = _Fresh("inception-v3-compat", ["2048"])
        finally:
            tfi.load_state_dict_from_url = orig
        torch.save(net.state_dict(), tmp / "random.pth")
        return InceptionExtractor(str(tmp / "random.pth")), "random weights (same architecture and FLOPs)"


def _clip(tmp: Path):
    import open_clip

    from musebench.metrics.extractors import ClipExtractor

    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = open_clip.create_model("ViT-B-32")
    torch.save(net.state_dict(), tmp / "vitb32.pt")
    return ClipExtractor("ViT-B-32", str(tmp / "vitb32.pt")), "ViT-B-32 random weights (same FLOPs)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--extractors", default="probe,clip,inception")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from musebench.metrics.extractors import ProbeExtractor
    from musebench.metrics.features import compute_features
    from musebench.shapes import render, sample_prompts, scene_from_dict

    recs = sample_prompts("test", args.n, 0)
    images = torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), 32)).permute(2, 0, 1) for r in recs])
    result = {"n": args.n, "batch": args.batch, "threads": args.threads, "mode": "clean", "image_size": 32, "extractors": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.extractors.split(","):
            ext, note = {"probe": lambda: (ProbeExtractor(None), "shipped probe-clip"), "clip": lambda: _clip(Path(tmp)),
                         "inception": lambda: _inception(Path(tmp))}[name]()
            compute_features(ext, images[: min(8, args.n)], "clean", 8)  # warm-up
            t0 = time.perf_counter()
            compute_features(ext, images, "clean", args.batch)
            seconds = time.perf_counter() - t0
            result["extractors"][name] = {"images_per_s": args.n / seconds, "seconds": seconds, "dim": ext.dim,
                                          "input_size": ext.input_size, "weights": note}
            print(name, result["extractors"][name], file=sys.stderr)
    result["load_avg"] = os.getloadavg()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".tmp").write_text(json.dumps(result, indent=2) + "\n")
    OUT.with_suffix(".tmp").replace(OUT)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
