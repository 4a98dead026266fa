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

char *
vb_bench_load_average(void)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;

    if (!g_file_get_contents("/proc/loadavg", &text, NULL, NULL))
        return g_strdup("unknown");
    fields = g_strsplit(g_strstrip(text), " ", 4);
    if (g_strv_length(fields) < 3)
        return g_strdup("unknown");
    return g_strdup_printf("%s %s %s", fields[0], fields[1], fields[2]);
}
