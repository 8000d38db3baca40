#!/usr/bin/env bash
# Alternating runs of two auditlens builds on the bench's largest store.
#
#   bench/ab.sh OLD_REV [NEW_REV]           # NEW_REV defaults to the working tree
#   AB_ROUNDS=5 AB_STEPS="analyze-all report" bench/ab.sh b27ce57
#   AB_REUSE=1 bench/ab.sh b27ce57          # the binaries the previous call built
#
# On a shared machine the same command's time varies by up to 1.5x within an hour
# (bench/NOTES.md), so a change is judged by running the old and the new build one after the
# other, round after round, not against figures from another run. Each step's runs are printed
# (wall, CPU, peak RSS), then the best and the median of each build, and whether the two builds
# wrote the same findings (analyze) or the same report.json value bar `generated_at` (report).
# Needs the store `bench/run.sh` builds (bench/out/store-5M, or AB_STORE).
set -euo pipefail
cd "$(dirname "$0")/.."

OLD=${1:?usage: bench/ab.sh OLD_REV [NEW_REV]}
NEW=${2:-}
ROUNDS=${AB_ROUNDS:-3}
STEPS=${AB_STEPS:-"analyze analyze-all report"}
STORE=${AB_STORE:-bench/out/store-5M}
WEEK=${BENCH_WEEK:-2026-W16}
OUT=bench/out/ab
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/auditlens-target}

[ -d "$STORE/events" ] || { echo "ab: no store at $STORE (run bench/run.sh first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "ab: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
mkdir -p "$OUT"

# build LABEL REV: a release binary of REV (empty: the working tree) at $OUT/auditlens-LABEL.
build() {
    local label=$1 rev=$2 src=.
    if [ -n "$rev" ]; then
        src="$OUT/src-$label"
        rm -rf "$src"
        git worktree prune
        git worktree add --quiet --detach "$src" "$rev"
    fi
    echo "== build $label (${rev:-working tree})"
    # Both builds share the target directory and cargo records source paths relative to the
    # package: without the clean, the working tree's older files look up to date after the
    # other revision's build, and `release/auditlens` is still that revision's binary.
    (cd "$src" && cargo clean --release --package auditlens --quiet &&
        cargo build --release --quiet)
    cp "$CARGO_TARGET_DIR/release/auditlens" "$OUT/auditlens-$label"
    if [ -n "$rev" ]; then git worktree remove --force "$src"; fi
}
if [ -z "${AB_REUSE:-}" ]; then
    build old "$OLD"
    build new "$NEW"
    # Leave no other revision's crate behind for the next build of the working tree.
    if [ -n "$NEW" ]; then cargo clean --release --package auditlens --quiet; fi
    if cmp -s "$OUT/auditlens-old" "$OUT/auditlens-new"; then
        echo "ab: the two builds are the same binary (same code?)" >&2
        exit 1
    fi
fi

# run LABEL STEP: one run; appends "wall cpu rss_kb" to $OUT/LABEL-STEP.txt.
run() {
    local label=$1 step=$2 bin="$OUT/auditlens-$1" t="$OUT/time.txt"
    local cmd
    case $step in
    analyze) cmd=("$bin" analyze --store "$STORE" --week "$WEEK" --format json --out "$OUT/$label-analyze.json" --no-save) ;;
    analyze-all) cmd=("$bin" analyze --store "$STORE" --format json --out "$OUT/$label-analyze-all.json" --no-save) ;;
    report)
        rm -rf "$OUT/$label-report"
        cmd=("$bin" report --store "$STORE" --week "$WEEK" --out "$OUT/$label-report")
        ;;
    *) echo "ab: unknown step $step (analyze, analyze-all, report)" >&2; exit 1 ;;
    esac
    /usr/bin/time -f "%e %U %S %M" -o "$t" "${cmd[@]}" >/dev/null 2>&1
    awk '{printf "%.2f %.2f %d\n", $1, $2 + $3, $4}' "$t" >>"$OUT/$label-$step.txt"
}

stats() { # FILE: best and median wall
    sort -n "$1" | awk '{w[NR] = $1} END {printf "best %.2f s, median %.2f s", w[1], w[int((NR + 1) / 2)]}'
}

for step in $STEPS; do
    rm -f "$OUT"/{old,new}-"$step".txt
    echo "== $step, $ROUNDS rounds (wall s, CPU s, peak RSS KiB)"
    for ((r = 1; r <= ROUNDS; r++)); do
        for label in old new; do
            run "$label" "$step"
            printf '   %-3s %s\n' "$label" "$(tail -1 "$OUT/$label-$step.txt")"
        done
    done
    echo "   old: $(stats "$OUT/old-$step.txt"); new: $(stats "$OUT/new-$step.txt")"
    case $step in
    analyze | analyze-all)
        if cmp -s "$OUT/old-$step.json" "$OUT/new-$step.json"; then
            echo "   findings: byte-identical"
        else
            echo "   findings: DIFFER ($OUT/old-$step.json, $OUT/new-$step.json)"
        fi
        ;;
    report)
        if python3 - "$OUT/old-report/report.json" "$OUT/new-report/report.json" <<'PY'; then
import json, sys
old, new = (json.load(open(p)) for p in sys.argv[1:3])
for r in (old, new):
    r.pop("generated_at", None)
sys.exit(old != new)
PY
            echo "   report.json: the same but generated_at"
        else
            echo "   report.json: DIFFERS ($OUT/old-report, $OUT/new-report)"
        fi
        ;;
    esac
done
