#!/usr/bin/env bash
# Rerunnable benchmark of auditlens against DuckDB and Python Polars on generated exports.
#
#   bench/run.sh                      # 1M and 5M rows, best of 3 runs each
#   BENCH_SIZES="200000" BENCH_REPEAT=1 bench/run.sh    # a quick smoke run
#
# Measures wall time, CPU time and peak RSS (`/usr/bin/time -v`) of:
#   - `cat FILE > /dev/null` (the read floor), `auditlens ingest`, DuckDB `COPY ... TO parquet` and
#     Python Polars `scan_csv(...).sink_parquet(...)` on the same files (typed timestamps in all three);
#   - `auditlens analyze` (every analysis) and `auditlens report` for one week of the largest store,
#     and `auditlens analyze` over the whole of it
#     (each only when this build has the subcommand);
#   - one-day queries on the largest store.
# Prints a table with ratios to each peer and writes it to bench/RESULTS.md with the machine
# description. Inputs are generated once and cached in bench/data/ (git-ignored) with the Python
# environment; stores and outputs go to bench/out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${BENCH_SIZES:-"1000000 5000000"}
REPEAT=${BENCH_REPEAT:-3}
SEED=${BENCH_SEED:-1}
# The generator writes four ISO weeks starting 2026-03-30; W16 and its Wednesday are in the middle.
WEEK=${BENCH_WEEK:-2026-W16}
DAY=${BENCH_DAY:-2026-04-15}
DATA=bench/data
OUT=bench/out
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/auditlens-target}

mkdir -p "$DATA" "$OUT"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

echo "== build (release)"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/auditlens"

echo "== python environment with duckdb and polars ($DATA/venv)"
if [ ! -x "$DATA/venv/bin/python" ]; then
    python3 -m venv "$DATA/venv"
fi
"$DATA/venv/bin/python" -c "import duckdb, polars" 2>/dev/null ||
    "$DATA/venv/bin/pip" install --quiet duckdb polars
PY="$DATA/venv/bin/python"

human() { # 1000000 -> 1M
    case $1 in
    *000000) echo "$(($1 / 1000000))M" ;;
    *000) echo "$(($1 / 1000))k" ;;
    *) echo "$1" ;;
    esac
}

for n in $SIZES; do
    f="$DATA/events-$(human "$n")-seed$SEED.csv"
    if [ ! -s "$f" ]; then
        echo "== generate $f"
        "$BIN" generate --events "$n" --seed "$SEED" --out "$f.tmp" >/dev/null
        mv "$f.tmp" "$f"
    fi
done

RESULTS="$OUT/results.tsv"
: >"$RESULTS"

# Best run per measurement: "wall<TAB>cpu<TAB>rss_kib", and the order measurements were declared in.
declare -A BEST
ORDER=()

# run_once STEP TOOL INPUT TARGET CMD...: run CMD once under /usr/bin/time -v (after $PREP,
# untimed, if set) and keep it if it is the fastest run of that measurement so far.
run_once() {
    local step=$1 tool=$2 input=$3 target=$4
    shift 4
    local key="$step"$'\t'"$tool"$'\t'"$input"$'\t'"$target"
    if [ -n "${PREP:-}" ]; then eval "$PREP"; fi
    # Wall time from the shell's microsecond clock (time -v prints only centiseconds).
    local t0=$EPOCHREALTIME
    if ! /usr/bin/time -v -o "$OUT/time.txt" "$@" >"$OUT/last.log" 2>&1; then
        echo "bench: FAILED: $*" >&2
        cat "$OUT/last.log" "$OUT/time.txt" >&2
        exit 1
    fi
    local t1=$EPOCHREALTIME
    local line
    line=$(awk -F': ' -v t0="$t0" -v t1="$t1" '
        /User time/ {u = $2}
        /System time/ {s = $2}
        /Maximum resident set size/ {m = $2}
        END {printf "%.3f\t%.3f\t%d\n", t1 - t0, u + s, m}' "$OUT/time.txt")
    printf '   %-14s %-10s %-4s wall %s s  cpu %s s  rss %s KiB\n' "$step" "$tool" "$input" $line
    if [ -z "${BEST[$key]:-}" ]; then
        ORDER+=("$key")
        BEST[$key]=$line
    elif awk -v a="${line%%$'\t'*}" -v b="${BEST[$key]%%$'\t'*}" 'BEGIN {exit !(a < b)}'; then
        BEST[$key]=$line
    fi
}

# measure STEP TOOL INPUT TARGET CMD...: $REPEAT runs of one command.
measure() {
    for ((rep = 1; rep <= REPEAT; rep++)); do run_once "$@"; done
}

LAST_STORE=""
for n in $SIZES; do
    h=$(human "$n")
    f="$DATA/events-$h-seed$SEED.csv"
    store="$OUT/store-$h"
    echo "== ingest $h rows ($f, $(du -h "$f" | cut -f1))"
    # The tools take turns, run after run, so that load from elsewhere on the machine falls on all
    # of them alike.
    for ((rep = 1; rep <= REPEAT; rep++)); do
        PREP="" run_once read-floor cat "$h" "" sh -c "cat '$f' >/dev/null"
        PREP="rm -rf '$store'" run_once ingest auditlens "$h" "<=peers,rss<=1536" \
            "$BIN" ingest --quiet --store "$store" "$f"
        PREP="rm -f '$OUT/duckdb.parquet'" run_once ingest duckdb "$h" "" \
            "$PY" bench/duckdb_ingest.py "$f" "$OUT/duckdb.parquet"
        PREP="rm -f '$OUT/polars.parquet'" run_once ingest polars "$h" "" \
            "$PY" bench/polars_ingest.py "$f" "$OUT/polars.parquet"
    done
    LAST_STORE=$store
    LAST_H=$h
done
unset PREP

subcommand() { "$BIN" --help | grep -qE "^  $1( |$)"; }

echo "== analyses, report and queries on the $LAST_H store"
if subcommand analyze; then
    measure analyze auditlens "$LAST_H" "<=5" \
        "$BIN" analyze --store "$LAST_STORE" --week "$WEEK" --format json --out "$OUT/findings.json"
    # Issue 4 asks for every analysis over the whole store (no period: all findings of all weeks).
    # "A few seconds" and "well below the raw CSV" read as 5 s and half of the 5M CSV (1.77 GB).
    measure analyze-all auditlens "$LAST_H" "<=5,rss<=900" \
        "$BIN" analyze --store "$LAST_STORE" --format json --out "$OUT/findings-all.json"
else
    echo "   (this build has no analyze subcommand: skipped)"
fi
if subcommand report; then
    PREP="rm -rf '$OUT/report'" measure report auditlens "$LAST_H" "<=3" \
        "$BIN" report --store "$LAST_STORE" --week "$WEEK" --out "$OUT/report"
else
    echo "   (this build has no report subcommand: skipped)"
fi
measure query-day auditlens "$LAST_H" "<=0.2" \
    "$BIN" query --store "$LAST_STORE" --from "$DAY" --to "$DAY" --format parquet --out "$OUT/day.parquet"
measure query-day-csv auditlens "$LAST_H" "" \
    "$BIN" query --store "$LAST_STORE" --from "$DAY" --to "$DAY" --format csv --out "$OUT/day.csv"
measure query-day-page auditlens "$LAST_H" "<=0.2" \
    sh -c "'$BIN' query --store '$LAST_STORE' --from '$DAY' --to '$DAY' --limit 100 >/dev/null"

for key in "${ORDER[@]}"; do
    IFS=$'\t' read -r step tool input target <<<"$key"
    printf '%s\t%s\t%s\t%s\t%s\n' "$step" "$tool" "$input" "${BEST[$key]}" "$target" >>"$RESULTS"
done

echo "== results"
{
    echo "## Machine"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "- CPU: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
    echo "- memory: $(free -g | awk '/^Mem:/ {print $2}') GiB; OS: $(uname -sr)"
    echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine adds noise)"
    echo "- auditlens $("$BIN" --version | cut -d' ' -f2) at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet -- . ':!bench/NOTES.md' ':!bench/RESULTS.md' 2>/dev/null || echo ' (modified)'), $(rustc --version)"
    echo "- peers: DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)'), Polars $("$PY" -c 'import polars; print(polars.__version__)'), $("$PY" --version)"
    echo "- inputs: \`auditlens generate --seed $SEED\` console CSV: $(for n in $SIZES; do h=$(human "$n"); echo -n "$h rows $(du -h "$DATA/events-$h-seed$SEED.csv" | cut -f1); "; done)"
    echo "- week $WEEK, day $DAY; best of $REPEAT runs"
    echo "- query-day: the day's events to Parquet; query-day-csv: to CSV (spreadsheet-safe); query-day-page: the first 100 as a table"
} >"$OUT/machine.md"
"$PY" bench/table.py "$OUT" bench/RESULTS.md
echo
echo "written: bench/RESULTS.md"
