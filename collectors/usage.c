/*
 * usage.c: usage figures from the deltas of cumulative counters.
 *
 * Drivers report counters that only grow (CPU time in ns) while the thing
 * they count lives; a counter that goes backwards means it restarted (a host
 * rebooted, a guest was restarted or moved) and the interval it spans says
 * nothing: it is skipped, never guessed. Pure functions, no I/O.
 */
#include "config.h"

#include "collectors/collectors.h"

static double
clamp01(double x)
{
    return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

gboolean
vb_usage_host_cpu(guint64 prev_busy_ns, guint64 prev_total_ns, guint64 busy_ns,
                  guint64 total_ns, double *ret_usage)
{
    if (busy_ns < prev_busy_ns || total_ns <= prev_total_ns)
        return FALSE;
    *ret_usage = clamp01((double) (busy_ns - prev_busy_ns) / (double) (total_ns - prev_total_ns));
    return TRUE;
}

gboolean
vb_usage_vm_cpu(guint64 prev_cpu_ns, guint64 cpu_ns, gint64 elapsed_us, guint vcpus,
                double *ret_usage)
{
    if (cpu_ns < prev_cpu_ns || elapsed_us <= 0 || vcpus == 0)
        return FALSE;
    *ret_usage = clamp01((double) (cpu_ns - prev_cpu_ns) /
                         ((double) elapsed_us * 1000.0 * (double) vcpus));
    return TRUE;
}
