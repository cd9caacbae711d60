#!/usr/bin/env bash
# Regenerate reports/: the shapes-world suites run on the shipped models (muse-shapes, ldm-shapes,
# probe-clip), one report per question, each with its runs' run.json and results.jsonl.
#
#   scripts/make_reports.sh            # run what has no results yet, then build every report
#   scripts/make_reports.sh --rerun    # run every suite again (images come from the cache)
#   scripts/make_reports.sh --only steps_sweep,guidance_sweep   # run just these (if stale), no reports
#
# Where things go (all relative to the repository root; runs/ and the cache are git-ignored):
#   .musebench-cache/      the generation and feature cache (a fixed directory: a second run of a
#                          suite generates nothing; MUSEBENCH_REPORTS_CACHE overrides it)
#   runs/reports/<suite>/  each suite's results.jsonl, run.json (musebench run --out)
#   reports/<report>/      index.md, index.html, tables (md, tex, csv), figures (png, pdf), image
#                          grids, and runs/<suite>/{run.json,results.jsonl}, the numbers behind it
#
# A suite runs when its run directory has no results.jsonl, when the resolved suite (its file, its
# includes and the sizing below) hashes differently from the run's run.json (a comment edit does
# not count), when a shipped checkpoint it names is newer than its results, or with --rerun;
# otherwise only its report is rebuilt.
# So deleting reports/ and running this script again rebuilds every report from runs/ in about a
# minute, without generating or timing anything.
# Every suite runs at its own size (issue 22: sample sizes that decide the claims): the head-to-head
# at 2,580 paired prompts, the sweeps at 1,000 prompts per point, the per-category and CLIP-score
# suites at 1,200, the FID protocol at 2,580, calibration at 2,004 per condition. Cold, on 2 cores,
# that is hours (reports/README.md states the measured wall time); everything resumes from the cache.
set -euo pipefail

cd "$(dirname "$0")/.."
RERUN=0
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rerun) RERUN=1 ;;
    --only) ONLY="${2:-}"; shift
            [ -n "$ONLY" ] || { echo "make_reports.sh: --only needs suite names, e.g. --only steps_sweep,guidance_sweep" >&2; exit 2; } ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "make_reports.sh: unknown argument '$1'; use --rerun, --only SUITES or nothing" >&2; exit 2 ;;
  esac
  shift
done

CACHE="${MUSEBENCH_REPORTS_CACHE:-.musebench-cache}"
RUNS="${MUSEBENCH_REPORTS_RUNS:-runs/reports}"
OUT="${MUSEBENCH_REPORTS_OUT:-reports}"
export MUSEBENCH_DEVICE="${MUSEBENCH_DEVICE:-cpu}"
# One intra-op thread per process: on a shared 2-core machine, torch's two spinning OpenMP threads
# made small models ~30x slower (measured); both models are timed with the same setting.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

check_checkpoints() {
  for name in muse-shapes muse-sr ldm-shapes probe-clip probe-clip-64; do
    if [ ! -f "musebench/checkpoints/$name/config.json" ]; then
      echo "make_reports.sh: shipped checkpoint musebench/checkpoints/$name is missing; train it first: python -m recipes.$(n=${name%-64}; echo ${n//-/_}) from the repository root (README.md lists the exact commands)" >&2
      exit 2
    fi
  done
}

# OMP threads per suite: the head-to-head's latency is timed on both cores (nothing else runs while it is timed)
declare -A THREADS=([head_to_head]=2 [cascade_sr]=2)
# (the first N val prompts are the same in every suite and image seeds depend only on (seed,
# prompt, index), so Muse's default-setting images are generated once and shared through the cache)
ORDER=(head_to_head steps_sweep guidance_sweep shapes_compositional shapes_compositional_holdout clip_score coco_fid_shapes
       calibration calibration_holdout calibration_perturbed cascade_sr)

stale() {  # true when suite $1 must run: --rerun, no results, another protocol, or newer shipped weights
  local results="$RUNS/$1/results.jsonl"
  [ "$RERUN" = 1 ] && return 0
  [ -f "$results" ] || return 0
  local rc=0
  python scripts/suite_changed.py "suites/$1.yaml" "$RUNS/$1/run.json" || rc=$?
  [ "$rc" = 2 ] && exit 2  # a bad suite: its one-line error is on stderr
  [ "$rc" = 0 ] && return 0
  local name
  for name in $(grep -hoE "checkpoint: *[A-Za-z0-9_-]+" "suites/$1.yaml" suites/include/*.yaml suites/shapes_compositional.yaml | sed 's/checkpoint: *//' | sort -u); do
    local weights="musebench/checkpoints/$name/model.safetensors"  # the shipped weights it names
    [ -e "$weights" ] && [ "$weights" -nt "$results" ] && return 0
  done
  return 1
}

if [ -n "$ONLY" ]; then
  IFS=, read -r -a picked <<< "$ONLY"
  for suite in "${picked[@]}"; do
    [[ " ${ORDER[*]} " == *" $suite "* ]] || { echo "make_reports.sh: --only: unknown suite '$suite'; one of: ${ORDER[*]}" >&2; exit 2; }
  done
  ORDER=("${picked[@]}")
fi

start=$(date +%s)
for suite in "${ORDER[@]}"; do
  if stale "$suite"; then
    check_checkpoints
    echo "== run $suite"
    # an absolute --out: run.json lists the `real` images relative to the working directory, which
    # the report reads relative to the run directory (a runner bug, reported)
    out="$RUNS/$suite"
    [[ "$out" = /* ]] || out="$PWD/$out"
    OMP_NUM_THREADS="${THREADS[$suite]:-$OMP_NUM_THREADS}" musebench run "suites/$suite.yaml" --out "$out" --cache "$CACHE" --no-report
  else
    echo "== $suite: results up to date in $RUNS/$suite (--rerun to run again)"
  fi
done
ran=$(date +%s)
if [ -n "$ONLY" ]; then
  echo "ran ${ORDER[*]} ($((ran - start)) s); reports are built by a run without --only"
  exit 0
fi

# report name -> the run directories it compares
declare -A REPORTS=(
  [steps_sweep]="steps_sweep"
  [guidance_sweep]="guidance_sweep"
  [head_to_head]="head_to_head"
  [shapes_compositional]="shapes_compositional shapes_compositional_holdout"
  [clip_score]="clip_score"
  [coco_fid_shapes]="coco_fid_shapes"
  [calibration]="calibration calibration_holdout calibration_perturbed"
  [cascade_sr]="cascade_sr"
)
declare -A KEEP_ITEMS=(
  [calibration]="confidence/mean|oracle/all_correct"
  [head_to_head]="oracle/(all_correct|single_object|two_object|counting|colors|position|color_attr)|latency/.*"
  [cascade_sr]="oracle/all_correct"
)
build_report() {  # report name: build it, then copy its runs' result files next to it
  local report=$1 dirs=() suite
  for suite in ${REPORTS[$report]}; do dirs+=("$RUNS/$suite"); done
  musebench report "${dirs[@]}" --out "$OUT/$report" >/dev/null
  for suite in ${REPORTS[$report]}; do
    mkdir -p "$OUT/$report/runs/$suite"
    cp "$RUNS/$suite/run.json" "$RUNS/$suite/results.jsonl" "$OUT/$report/runs/$suite/"
    # per-item outcomes that SUMMARY.md recomputes from (the paired tests), trimmed to the rows it
    # reads, not every row's (megabytes): calibration's gap tests read each image's confidence and
    # oracle verdict; the head-to-head's matched-accuracy rule reads oracle verdicts (all prompts and
    # per category) and latency repeats
    if [ -n "${KEEP_ITEMS[$report]:-}" ]; then
      python -c 'import json, re, sys
keep = re.compile(sys.argv[2])
for line in open(sys.argv[1]):
    if keep.fullmatch(json.loads(line)["metric"]): sys.stdout.write(line)' "$RUNS/$suite/items.jsonl" "${KEEP_ITEMS[$report]}" > "$OUT/$report/runs/$suite/items.jsonl"
    fi
  done
  # issue 25 item 4's verdict sits with the calibration page (from benchmarks/results/adaptive_decoding.json)
  [ "$report" = calibration ] && python scripts/adaptive_decoding_page.py --out "$OUT/$report" >/dev/null
  echo "== report $OUT/$report/index.html <- ${dirs[*]}"
}

mkdir -p "$OUT"
pids=()
for report in "${!REPORTS[@]}"; do  # two at a time: one per core
  build_report "$report" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
python scripts/summarize_reports.py --reports "$OUT"
# issue 26's editing page, from the editing benchmark's files (benchmarks/editing.py writes them; about an
# hour on 2 cores, so they are not rerun here): joined, checked for agreement, rendered with its grids into
# reports/editing/ (its own default: the joined file records this exact command, which the page quotes)
python scripts/editing_page.py --results benchmarks/results/editing_inpaint.json benchmarks/results/editing_mask_free.json \
    benchmarks/results/editing_mask_free_736.json --other benchmarks/results/editing_ldm.json --examples 4 >/dev/null
done_at=$(date +%s)
if command -v chromium >/dev/null 2>&1; then  # each page in headless Chromium: console errors, broken images
  for report in "${!REPORTS[@]}"; do python scripts/check_html.py "$OUT/$report/index.html"; done
fi
echo "reports in $OUT/ (runs $((ran - start)) s, reports $((done_at - ran)) s)"
