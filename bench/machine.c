/*
 * machine.c: the machine the benchmarks ran on (machine.h).
 */
#include "config.h"

#include <string.h>

#include "bench/machine.h"

char *
vb_bench_cpu_model(void)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL))
        return g_strdup("unknown");
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "model name")) {
            char *colon = strchr(lines[i], ':');

            return g_strdup(colon ? g_strstrip(colon + 1) : lines[i]);
        }
    }
    return g_strdup("unknown");
}
