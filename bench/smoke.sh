#!/bin/sh
# Runs the benchmark once on the smallest size: it must finish and print its
# table (no timing is asserted here; timings live in docs/benchmarks.md).
set -e
top=${VB_SRCDIR:-$(dirname "$0")/..}
out=$(./bench/vb-bench --sizes 10x200 --reps 1 --policy "$top/bench/bench-policy.yaml")
echo "$out"
echo "$out" | grep -q '^| rebalance ' || { echo "smoke: no rebalance row" >&2; exit 1; }
echo "$out" | grep -q '^| moves planned | [0-9]' || { echo "smoke: no move count" >&2; exit 1; }
