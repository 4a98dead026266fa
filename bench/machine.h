/*
 * machine.h: what the benchmark programs say about the machine they ran on
 * (docs/benchmarks.md wants the CPU model beside every figure).
 */
#pragma once

#include <glib.h>

/* The "model name" of the first CPU in /proc/cpuinfo, or "unknown"
 * (transfer full). */
char *vb_bench_cpu_model(void);
