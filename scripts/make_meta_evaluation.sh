#!/usr/bin/env bash
# Rebuild reports/meta_evaluation/ (issue 27): the noised checkpoints, the family's images (two shards,
# one thread each), the run's metrics, then scripts/meta_evaluation.py. Resumable: a kill loses at most
# the batch in flight; a rerun generates only what the cache lacks.
#   scripts/make_meta_evaluation.sh                       # 10,000 prompts per member: the committed page
#   MUSEBENCH_META_LIMIT=3000 scripts/make_meta_evaluation.sh   # a smaller family run (about an hour)
# Wall time on this 2-core machine at 10,000 prompts (measured 2026-12-04, with other work running):
# generation about 1,000 images a minute over both shards (110,000 images: ~1 h 50 min from an empty
# cache), metrics 16 minutes (the oracle on both cores, ~4.7 ms an image), draws and damage 18 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
limit="${MUSEBENCH_META_LIMIT:-10000}"
run=runs/meta_evaluation/run
checkpoints=runs/meta_evaluation/checkpoints
for sigma in 0.2 0.4; do
    [ -f "$checkpoints/muse-noise-$sigma/model.safetensors" ] ||
        python scripts/noised_checkpoint.py muse-shapes "$checkpoints/muse-noise-$sigma" --sigma "$sigma" --seed 0
done
for shard in 0 1; do
    OMP_NUM_THREADS=1 musebench run suites/meta_evaluation.yaml --limit "$limit" --shard "$shard/2" --out "$run" &
done
wait
musebench run suites/meta_evaluation.yaml --limit "$limit" --out "$run" --no-report
if [ "$limit" -ge 10000 ]; then draws="100:200,300:100,1000:40,3000:15,10000:5"; else draws="100:200,300:100,1000:40,$limit:10"; fi
python scripts/meta_evaluation.py --run "$run" --out reports/meta_evaluation --draws "$draws"
