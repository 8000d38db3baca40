#!/usr/bin/env bash
# Fuzz auditlens' readers with libFuzzer for a bounded time per target and keep what breaks them.
#
#   fuzz/run.sh [SECONDS] [TARGET...]   SECONDS per target (default 120); targets default to all:
#                                       csv json timestamp python_literal
#
# Not run by CI: it needs minutes per target and a release build of polars with coverage
# instrumentation (about 25 minutes cold on two cores; later runs rebuild only auditlens).
#
# How libFuzzer targets build on a stable-only toolchain (no nightly here):
# - cargo-fuzz comes from crates.io (`cargo install cargo-fuzz`; installed below when missing).
# - `-s none` (no sanitizer): AddressSanitizer needs `-Zsanitizer=address`, a nightly flag, which a
#   stable rustc refuses (it would take RUSTC_BOOTSTRAP=1). The readers are safe Rust, so ASan
#   would add little: panics (overflow checks and debug assertions are on), timeouts and the
#   memory limit are the findings.
# - the coverage instrumentation cargo-fuzz adds (`-Cpasses=sancov-module`, `-Cllvm-args=...`) and
#   libfuzzer-sys (which compiles libFuzzer with the system C++ compiler) work on stable as is.
# - `--codegen-units 16`: cargo-fuzz's default of 1 makes the release build of polars far slower.
#
# Limits per target: `-max_total_time=SECONDS`; `-timeout=10` (an input taking longer is a hang);
# `-rss_limit_mb=2048` (memory must stay bounded; without a sanitizer libFuzzer cannot hook single
# allocations, so the RSS limit is what catches runaway allocation). libFuzzer stops a target at
# its first finding. Crash, timeout and out-of-memory inputs it writes to fuzz/artifacts/<target>/
# are copied to fixtures/fuzz/<target>/, which tests/cli/fuzz_regressions.rs replays through the
# binary in every `cargo test`: fix the bug, keep the input. Corpora grow in fuzz/corpus/<target>/
# (git-ignored), seeded from fixtures/. Exit status 1 when any target found something.
#
# Environment: AUDITLENS_FUZZ_TARGET_DIR (default /var/tmp/auditlens-fuzz-target), outside the
# repository; FUZZ_NICE (default 10), the niceness the build and the fuzzers run at.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-120}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(csv json timestamp python_literal)
TARGET_DIR=${AUDITLENS_FUZZ_TARGET_DIR:-/var/tmp/auditlens-fuzz-target}
NICE=${FUZZ_NICE:-10}
FLAGS=(-s none -O --codegen-units 16 --target-dir "$TARGET_DIR")
LOGS=fuzz/artifacts/logs

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

echo "== building the fuzz targets (target dir $TARGET_DIR)"
nice -n "$NICE" cargo fuzz build "${FLAGS[@]}"

# Seed corpora from the fixtures (libFuzzer keeps what it adds next to them).
seed() {
    local target=$1 dir=fuzz/corpus/$1
    mkdir -p "$dir"
    case $target in
        csv) cp fixtures/*.csv fixtures/*.csv.gz fixtures/broken/*.csv "$dir"/ ;;
        json) cp fixtures/*.json fixtures/*.jsonl "$dir"/ ;;
        timestamp | python_literal)
            # Every timestamp in the fixtures; every cell of the code42cli CSV.
            python3 - "$target" "$dir" <<'EOF'
import csv, hashlib, os, re, sys
target, out = sys.argv[1], sys.argv[2]
values = set()
if target == "timestamp":
    for name in os.listdir("fixtures"):
        path = os.path.join("fixtures", name)
        if os.path.isfile(path) and not name.endswith((".gz", ".py")):
            text = open(path, encoding="utf-8", errors="replace").read()
            values |= set(re.findall(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|UTC|[+-]\d\d(?::?\d\d)?)?", text))
    values |= {"2020-01-01T14:00:00+02:00", "2020-01-01 12:00:00", "2262-04-11T23:47:16.854775807Z"}
else:
    with open("fixtures/api.csv", encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            values |= {v for v in row if v}
    values |= {"{'a': 1, 'b': [1, 2.5], 'c': None, 'd': 'it\\'s'}", "('x', True)", "[{'k': '\\u00e9'}]"}
for v in values:
    data = v.encode("utf-8")
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
EOF
            ;;
    esac
}

max_len() {
    case $1 in
        csv | json) echo 16384 ;;
        timestamp) echo 128 ;;
        *) echo 4096 ;;
    esac
}

mkdir -p "$LOGS"
found=0
summary=()
for t in "${TARGETS[@]}"; do
    seed "$t"
    mkdir -p "fuzz/artifacts/$t" "fixtures/fuzz/$t"
    before=$(find "fuzz/artifacts/$t" -type f | sort)
    log=$LOGS/$t.log
    echo "== $t: ${SECONDS_PER_TARGET}s (log $log)"
    start=$(date +%s)
    set +e
    nice -n "$NICE" cargo fuzz run "${FLAGS[@]}" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(max_len "$t")" -dict="fuzz/dict/$t.dict" -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    set -e
    elapsed=$(($(date +%s) - start))
    # New crash/timeout/oom inputs become regression fixtures.
    new=$(comm -13 <(echo "$before") <(find "fuzz/artifacts/$t" -type f | sort) |
        grep -E '/(crash|timeout|oom)-' || true)
    for f in $new; do
        cp "$f" "fixtures/fuzz/$t/"
        echo "   kept $f as fixtures/fuzz/$t/$(basename "$f")"
        found=1
    done
    if [ "$rc" -ne 0 ] && [ -z "$new" ]; then
        echo "   cargo fuzz exited $rc without an artifact; see $log"
        tail -n 20 "$log"
        found=1
    fi
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
    stats=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || echo '')
    summary+=("$(printf '%-15s %5ss  execs %-10s %s  exit %s  new findings %s' \
        "$t" "$elapsed" "$execs" "$stats" "$rc" "$(echo "$new" | grep -c . || true)")")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
if [ "$found" -ne 0 ]; then
    echo "fuzzing found something: fix it, keep the input under fixtures/fuzz/ and run cargo test"
fi
exit "$found"
