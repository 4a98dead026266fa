# bench/: the pool generator lives in pool/generate.c; this is the benchmark
# program. `make bench` runs it on every size and prints the figures that
# docs/benchmarks.md records. A one-size smoke run is part of `make check` so
# the program cannot rot; it asserts nothing about speed.
noinst_PROGRAMS += bench/vb-bench
bench_vb_bench_SOURCES = bench/vb-bench.c
bench_vb_bench_LDADD = $(VB_LIBS)
EXTRA_DIST += bench/bench-policy.yaml bench/smoke.sh

# The quality figures of issue 8 (optimum by cbc if installed, hotspots,
# churn under noise); see docs/benchmarks.md.
noinst_PROGRAMS += bench/vb-quality
bench_vb_quality_SOURCES = bench/vb-quality.c bench/quality.h bench/quality-optimum.c \
	bench/quality-hotspots.c bench/quality-churn.c bench/machine.h bench/machine.c
bench_vb_quality_LDADD = $(VB_LIBS)

# The cost of a sampling round through the libvirt driver (issue 11): test:///
# hosts generated from node files, 1,000 and 10,000 of them by default.
noinst_PROGRAMS += bench/vb-collect
bench_vb_collect_SOURCES = bench/vb-collect.c bench/machine.h bench/machine.c
bench_vb_collect_LDADD = $(VB_LIBS)

# The history's size over 7 days and the cost of writing one sample of
# 200,000 guests (issue 11); see docs/benchmarks.md.
noinst_PROGRAMS += bench/vb-history
bench_vb_history_SOURCES = bench/vb-history.c bench/machine.h bench/machine.c
bench_vb_history_LDADD = $(VB_LIBS)

TESTS += bench/smoke.sh

# What /metrics costs (model, text, one GET) at 100 to 10,000 hosts; figures
# in docs/metrics.md. `make bench-metrics`.
noinst_PROGRAMS += bench/vb-metrics-bench
bench_vb_metrics_bench_SOURCES = bench/vb-metrics-bench.c
bench_vb_metrics_bench_LDADD = $(VB_LIBS)
bench-metrics: bench/vb-metrics-bench
	./bench/vb-metrics-bench $(BENCH_METRICS_ARGS)
.PHONY: bench-metrics

# Every size, with the built-in defaults (budget 20: the everyday run the
# targets are about) and with bench-policy.yaml (rebalance to the end: the
# quality figures), then the evacuation makespan on the sim driver.
bench: bench/vb-bench bench/vb-quality bench/vb-collect bench/vb-history
	./bench/vb-bench --policy $(srcdir)/bench/bench-policy.yaml $(BENCH_ARGS)
	./bench/vb-quality $(QUALITY_ARGS)
	./bench/vb-collect $(COLLECT_ARGS)
	./bench/vb-history $(HISTORY_ARGS)
.PHONY: bench
