#!/bin/sh
# Runs the benchmark once on the smallest size: it must finish and print its
# table (no timing is asserted here; timings live in docs/benchmarks.md).
set -e
top=${VB_SRCDIR:-$(dirname "$0")/..}
out=$(./bench/vb-bench --sizes 10x200 --reps 1 --policy "$top/bench/bench-policy.yaml")
echo "$out"
echo "$out" | grep -q '^| rebalance ' || { echo "smoke: no rebalance row" >&2; exit 1; }
echo "$out" | grep -q '^| moves planned | [0-9]' || { echo "smoke: no move count" >&2; exit 1; }

# The quality figures (bench/vb-quality) on small pools and a 2-hour replay:
# every section must print its table. The optimum runs only where cbc is
# installed; without it (and with --no-cbc) it must say so cleanly.
q="--optimum-pools 6x60x1 --seconds 5 --hotspot-pools 12x240x3 --churn-pool 12x240x1 --churn-hours 2 --churn-intervals 1800"
out=$(./bench/vb-quality $q)
echo "$out"
echo "$out" | grep -q '^| 6 hosts / 60 guests, 1 pool, seed 42 | [0-9]' ||
    echo "$out" | grep -q '^optimum: skipped (cbc not installed)$' ||
    { echo "smoke: no optimum row" >&2; exit 1; }
echo "$out" | grep -q '^| hotspots created by the plan | [0-9]' || { echo "smoke: no hotspot row" >&2; exit 1; }
echo "$out" | grep -q '^| of these, still broken after the plan | [0-9]' || { echo "smoke: no rule row" >&2; exit 1; }
echo "$out" | grep -q '^| migrations per day | [0-9]' || { echo "smoke: no churn row" >&2; exit 1; }
out=$(./bench/vb-quality $q --no-cbc --sections optimum)
echo "$out" | grep -q '^optimum: skipped (cbc not installed)$' || { echo "smoke: no skip line" >&2; exit 1; }

# The collection benchmark (bench/vb-collect) on a tiny pool of test:/// hosts:
# it must print its row with every host answering.
out=$(./bench/vb-collect --sizes 4 --guests 3 --rounds 1)
echo "$out"
echo "$out" | grep -q '^| 4 | 12 | [0-9].* | 4/4 |$' || { echo "smoke: no collection row" >&2; exit 1; }

# The history benchmark (bench/vb-history) on a small pool for 2.4 simulated
# hours: it must print the size table, the final size and the write figure;
# --upgrade on the database it left must print its table too.
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
out=$(./bench/vb-history --pool 5x50 --days 0.1 --big 20x400 --reps 1 --dir "$d")
echo "$out"
echo "$out" | grep -q '^CPU: ' || { echo "smoke: no CPU model" >&2; exit 1; }
echo "$out" | grep -q '^| 0.1 | 288 | [0-9]' || { echo "smoke: no history size row" >&2; exit 1; }
echo "$out" | grep -q '^database after 0.1 days: [0-9.]* MB' || { echo "smoke: no history size" >&2; exit 1; }
echo "$out" | grep -q '^| all | 1 | [0-9.]* | [0-9.]* |$' || { echo "smoke: no write row" >&2; exit 1; }
out=$(./bench/vb-history --upgrade "$d/history-days.db")
echo "$out"
echo "$out" | grep -q '^| VACUUM CPU s' || { echo "smoke: no upgrade table" >&2; exit 1; }
