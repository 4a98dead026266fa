/*
 * machine.h: what the benchmark programs say about the machine they ran on
 * (docs/benchmarks.md wants the CPU model beside every figure).
 */
#pragma once

#include <glib.h>

/* The "model name" of the first CPU in /proc/cpuinfo, or "unknown"
 * (transfer full). */
char *vb_bench_cpu_model(void);

/* The 1, 5 and 15 minute load averages from /proc/loadavg ("2.10 1.95
 * 1.80"), or "unknown" (transfer full): figures taken on a shared machine
 * say how busy it was. */
char *vb_bench_load_average(void);
