"""`musebench reference SRC --out DST`: build a FID reference folder from real images."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

DESCRIPTION = """\
Build a FID/KID reference folder from real images with the `real` adapter's policy: each image is
centre-cropped to a square on its short side and resized to SIZE x SIZE with PIL bicubic (the ADM
reference-batch recipe), then written as DST/<name>.png. This is how COCO's val2014_256/ folder that
suites/coco_fid.yaml reads is made. Resumable: images already in DST are kept (every file is written
atomically, so an interrupted run leaves no half-written PNG); DST/REFERENCE.json records the policy,
size, source and count once the folder is complete.
"""
EPILOG = """examples:
  musebench reference $MUSEBENCH_COCO_ROOT/val2014 --out $MUSEBENCH_COCO_ROOT/val2014_256   # 40,504 images
  musebench reference ~/data/my_photos --out /tmp/ref_64 --size 64 --limit 1000
  musebench metrics stats /tmp/ref_64 --out /tmp/ref_64_probe.npz --extractor probe

Exit codes: 0 ok, 2 bad input (missing or empty SRC, an unreadable image, size < 8, DST = SRC).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", type=Path, help="folder of real images (png/jpg/jpeg/webp/bmp/tif; every mode read by musebench.imageio's rule)")
    parser.add_argument("--out", type=Path, required=True, help="reference folder to create or complete")
    parser.add_argument("--size", type=int, default=256, help="side in pixels (default 256, the COCO FID-30K protocol)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images by name")


def run(args: argparse.Namespace) -> int:
    from PIL import Image
    from tqdm import tqdm

    from musebench.cache.atomic import write_durable
    from musebench.errors import MusebenchError
    from musebench.imageio import IMAGE_SUFFIXES, image_size, read_rgb
    from musebench.metrics.image_folder import list_images

    if args.size < 8:
        raise MusebenchError(f"--size {args.size}: must be >= 8 px")
    if args.limit is not None and args.limit < 1:
        raise MusebenchError(f"--limit {args.limit}: must be >= 1")
    if not args.src.is_dir():
        raise MusebenchError(f"{args.src}: not a directory of images; give the folder of real images (e.g. COCO val2014/)")
    if args.out.resolve() == args.src.resolve():
        raise MusebenchError(f"--out {args.out}: is the source folder; give a new folder (e.g. {args.src}_{args.size})")
    paths = list_images(args.src)[: args.limit]
    if not paths:
        raise MusebenchError(f"{args.src}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    targets = [args.out / f"{p.stem}.png" for p in paths]
    if len(set(targets)) != len(targets):
        raise MusebenchError(f"{args.src}: two images share a name stem (e.g. a.jpg and a.png); rename one")
    for path in paths:  # every header (missing, empty, not an image, misnamed, a bomb) before anything is written
        image_size(path)
    from musebench.models.real import centre_crop_resize  # the `real` adapter's policy (no torch)

    written = 0
    for path, target in tqdm(list(zip(paths, targets)), desc="reference", unit="img", mininterval=2, disable=None):
        if target.is_file():
            continue
        try:
            out = centre_crop_resize(Image.fromarray(read_rgb(path)), args.size)
        except MusebenchError as exc:
            raise MusebenchError(f"{exc} (or remove it, then rerun: finished files are kept)") from None
        buffer = io.BytesIO()
        out.save(buffer, format="PNG")
        try:
            args.out.mkdir(parents=True, exist_ok=True)  # at the first image made: a refused run leaves no folder
        except OSError as exc:
            raise MusebenchError(f"--out {args.out}: cannot create it ({exc.strerror or exc})") from None
        write_durable(target, buffer.getvalue())
        written += 1
    manifest = {"policy": "centre crop to the short side, PIL bicubic resize (musebench.models.real.centre_crop_resize)",
                "size": args.size, "source": str(args.src.resolve()), "count": len(targets), "limit": args.limit}
    write_durable(args.out / "REFERENCE.json", (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    print(f"{args.out}: {len(targets)} reference images at {args.size} px ({written} written, {len(targets) - written} already there)")
    return 0
