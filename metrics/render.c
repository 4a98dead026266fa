/*
 * render.c: VbMetrics -> OpenMetrics 1.0.0 text (docs/metrics.md lists every
 * family).
 *
 * A pure function: the same model gives the same bytes; no clock, no I/O, no
 * locale (numbers are written with g_ascii_formatd). Families come in a
 * fixed order, each once, with HELP and TYPE (and UNIT when the name ends
 * with a unit); the samples of a family follow its metadata, grouped as
 * OpenMetrics wants (a histogram's buckets, count and sum per label set
 * together). A family with nothing to show yet (no round has run) keeps its
 * metadata and has no sample. Label values are escaped (backslash, double
 * quote, newline); names come from the admin's files and the hosts.
 *
 * Workload: one pass over hosts x metrics; a few kB per 10 hosts.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "metrics/metrics.h"

/* The terminal states a migration is counted under, as outcome="...". */
static const VbMoveState outcomes[] = {
    VB_MOVE_STATE_FINISHED, VB_MOVE_STATE_FAILED, VB_MOVE_STATE_ABORTED, VB_MOVE_STATE_SKIPPED,
};

/* ------------------------------------------------------------- writing */

/* @v as OpenMetrics writes numbers, into @buf (G_ASCII_DTOSTR_BUF_SIZE). */
static const char *
format_number(char *buf, double v)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    /* The shortest of 15 or 17 digits that reads back the same. */
    g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.15g", v);
    if (g_ascii_strtod(buf, NULL) != v)
        g_ascii_formatd(buf, G_ASCII_DTOSTR_BUF_SIZE, "%.17g", v);
    return buf;
}

static void
put_escaped(GString *out, const char *text, gboolean quotes)
{
    for (const char *c = text; *c; c++) {
        if (*c == '\\')
            g_string_append(out, "\\\\");
        else if (*c == '\n')
            g_string_append(out, "\\n");
        else if (*c == '"' && quotes)
            g_string_append(out, "\\\"");
        else
            g_string_append_c(out, *c);
    }
}

/* "# HELP", "# TYPE" and, when @unit, "# UNIT" of family @name. */
static void
family(GString *out, const char *name, const char *type, const char *unit, const char *help)
{
    g_assert(!unit || g_str_has_suffix(name, unit));
    g_string_append_printf(out, "# TYPE %s %s\n", name, type);
    if (unit)
        g_string_append_printf(out, "# UNIT %s %s\n", name, unit);
    g_string_append_printf(out, "# HELP %s ", name);
    put_escaped(out, help, FALSE);
    g_string_append_c(out, '\n');
}

/* A sample: @name, then @labels (NULL-terminated name, value pairs; a NULL
 * list: none), then @value as written. */
static void
sample_text(GString *out, const char *name, const char *const *labels, const char *value)
{
    g_string_append(out, name);
    for (guint i = 0; labels && labels[i]; i += 2) {
        g_string_append_printf(out, "%s%s=\"", i == 0 ? "{" : ",", labels[i]);
        put_escaped(out, labels[i + 1], TRUE);
        g_string_append_c(out, '"');
        if (!labels[i + 2])
            g_string_append_c(out, '}');
    }
    g_string_append_printf(out, " %s\n", value);
}

static void
sample(GString *out, const char *name, const char *const *labels, double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    sample_text(out, name, labels, format_number(buf, value));
}

/* Counts are integers, written without a fraction whatever their size. */
static void
sample_count(GString *out, const char *name, const char *const *labels, guint64 value)
{
    char buf[32];

    g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, value);
    sample_text(out, name, labels, buf);
}

/* ----------------------------------------------------------- families */

static void
render_hosts(GString *out, const VbMetrics *m)
{
    family(out, "virt_balancer_host_state", "stateset", NULL,
           "State of each host in the last snapshot: up, maintenance or down.");
    for (guint i = 0; i < m->hosts->len; i++) {
        const VbMetricsHost *h = &g_array_index(m->hosts, VbMetricsHost, i);

        for (guint s = 0; s < VB_HOST_STATE_LAST; s++) {
            const char *const l[] = { "pool", h->pool, "host", h->name, "virt_balancer_host_state",
                                      vb_host_state_to_string(s), NULL };

            sample(out, "virt_balancer_host_state", l, h->state == s);
        }
    }
    family(out, "virt_balancer_host_load_ratio", "gauge", "ratio",
           "Load of each host per metric, as a fraction of its capacity, as the policy "
           "measures it (window averages) in the last snapshot.");
    for (guint i = 0; i < m->hosts->len; i++) {
        const VbMetricsHost *h = &g_array_index(m->hosts, VbMetricsHost, i);

        for (guint k = 0; k < VB_METRIC_LAST; k++) {
            const char *const l[] = { "pool", h->pool, "host", h->name, "metric",
                                      vb_metric_names[k], NULL };

            sample(out, "virt_balancer_host_load_ratio", l, h->load[k]);
        }
    }
    family(out, "virt_balancer_host_weighted_load_ratio", "gauge", "ratio",
           "Weighted load of each host (the policy's weights) in the last snapshot.");
    for (guint i = 0; i < m->hosts->len; i++) {
        const VbMetricsHost *h = &g_array_index(m->hosts, VbMetricsHost, i);
        const char *const l[] = { "pool", h->pool, "host", h->name, NULL };

        sample(out, "virt_balancer_host_weighted_load_ratio", l, h->weighted);
    }
    family(out, "virt_balancer_host_guests", "gauge", NULL,
           "Guests defined on each host in the last snapshot.");
    for (guint i = 0; i < m->hosts->len; i++) {
        const VbMetricsHost *h = &g_array_index(m->hosts, VbMetricsHost, i);
        const char *const l[] = { "pool", h->pool, "host", h->name, NULL };

        sample_count(out, "virt_balancer_host_guests", l, h->guests);
    }
    family(out, "virt_balancer_hosts_unreachable", "gauge", NULL,
           "Hosts the last snapshot could not read (down, not in maintenance).");
    if (m->have_snapshot)
        sample_count(out, "virt_balancer_hosts_unreachable", NULL, m->hosts_unreachable);
    family(out, "virt_balancer_high_water_ratio", "gauge", "ratio",
           "The policy's high_water: a host above it on a watched metric is a hotspot.");
    if (m->have_snapshot)
        sample(out, "virt_balancer_high_water_ratio", NULL, m->high_water);
    family(out, "virt_balancer_automation", "stateset", NULL,
           "The policy's automation level: full runs each round's plan, manual and partial "
           "only record it as a recommendation.");
    for (guint a = 0; m->have_snapshot && vb_automation_names[a]; a++) {
        const char *const l[] = { "virt_balancer_automation", vb_automation_names[a], NULL };

        sample(out, "virt_balancer_automation", l, m->automation == (VbAutomation) a);
    }
}

static void
render_pools(GString *out, const VbMetrics *m)
{
    static const struct {
        const char *name, *help;
    } fams[] = {
        { "virt_balancer_pool_imbalance",
          "Standard deviation of the weighted load over the pool's hosts that take part "
          "(up, not excluded) in the last snapshot." },
        { "virt_balancer_pool_planned_imbalance",
          "The same after the last plan, as the planner expects it." },
        { "virt_balancer_pool_hotspots",
          "Pairs of host and watched metric above high_water in the pool in the last "
          "snapshot." },
    };

    for (guint f = 0; f < G_N_ELEMENTS(fams); f++) {
        family(out, fams[f].name, "gauge", NULL, fams[f].help);
        for (guint i = 0; i < m->pools->len; i++) {
            const VbMetricsPool *p = &g_array_index(m->pools, VbMetricsPool, i);
            const char *const l[] = { "pool", p->name, NULL };

            if (f == 2)
                sample_count(out, fams[f].name, l, p->hotspots);
            else
                sample(out, fams[f].name, l, f == 0 ? p->imbalance : p->planned_imbalance);
        }
    }
}

static void
render_hotspots(GString *out, const VbMetrics *m)
{
    for (guint f = 0; f < 2; f++) {
        const char *name = f == 0 ? "virt_balancer_hotspot_load_ratio"
                                  : "virt_balancer_hotspot_planned_load_ratio";

        family(out, name, "gauge", "ratio",
               f == 0 ? "Load of each hotspot (host and metric above high_water before or "
                        "after the last plan) in the last snapshot."
                      : "Load of each hotspot after the last plan, as the planner expects it "
                        "(at most high_water: relieved).");
        for (guint i = 0; i < m->hotspots->len; i++) {
            const VbMetricsHotspot *h = &g_array_index(m->hotspots, VbMetricsHotspot, i);
            const char *const l[] = { "pool", h->pool, "host", h->host, "metric",
                                      vb_metric_names[h->metric], NULL };

            sample(out, name, l, f == 0 ? h->load : h->planned_load);
        }
    }
}

static void
render_plan(GString *out, const VbMetrics *m)
{
    const struct {
        const char *name, *unit, *help;
        double value;
    } fams[] = {
        { "virt_balancer_last_plan_timestamp_seconds", "seconds",
          "When the last plan was made (unix time).", m->plan_time },
        { "virt_balancer_last_plan_duration_seconds", "seconds",
          "How long the planner took to make the last plan.", m->plan_seconds },
        { "virt_balancer_last_plan_moves", NULL, "Moves in the last plan.", m->plan_moves },
        { "virt_balancer_last_plan_unplaced", NULL,
          "Guests the last plan had to move and found no host for.", m->plan_unplaced },
        { "virt_balancer_last_plan_target_met", NULL,
          "1 when the last plan meets the target (no hotspot, no broken must rule, every "
          "pool within target_imbalance), else 0.", m->target_met },
        { "virt_balancer_imbalance", NULL,
          "Imbalance over every pool (pooled within-pool standard deviation of weighted "
          "load) before the last plan.", m->imbalance },
        { "virt_balancer_planned_imbalance", NULL,
          "The same after the last plan, as the planner expects it.", m->planned_imbalance },
    };

    for (guint f = 0; f < G_N_ELEMENTS(fams); f++) {
        family(out, fams[f].name, "gauge", fams[f].unit, fams[f].help);
        if (m->have_plan)
            sample(out, fams[f].name, NULL, fams[f].value);
    }
}

static void
render_rounds(GString *out, const VbMetrics *m)
{
    const char *const planned[] = { "result", "planned", NULL };
    const char *const skipped[] = { "result", "skipped", NULL };

    family(out, "virt_balancer_rounds", "counter", NULL,
           "Rounds since the daemon started: planned, or skipped (no snapshot, or an "
           "interrupted plan could not be resumed).");
    sample_count(out, "virt_balancer_rounds_total", planned, m->rounds_ok);
    sample_count(out, "virt_balancer_rounds_total", skipped, m->rounds_skipped);
}

static void
render_migrations(GString *out, const VbMetrics *m)
{
    family(out, "virt_balancer_migrations", "counter", NULL,
           "Moves the journal recorded as ended, by outcome and kind (the database's whole "
           "history: they survive restarts).");
    for (guint o = 0; o < G_N_ELEMENTS(outcomes); o++) {
        for (guint k = 0; k < VB_MOVE_KIND_LAST; k++) {
            const char *const l[] = { "outcome", vb_move_state_names[outcomes[o]], "kind",
                                      vb_move_kind_names[k], NULL };

            sample_count(out, "virt_balancer_migrations_total", l, m->migrations[outcomes[o]][k]);
        }
    }
    family(out, "virt_balancer_migrations_running", "gauge", NULL,
           "Moves the journal has started and not ended, by kind.");
    for (guint k = 0; k < VB_MOVE_KIND_LAST; k++) {
        const char *const l[] = { "kind", vb_move_kind_names[k], NULL };

        sample_count(out, "virt_balancer_migrations_running", l,
                     m->migrations[VB_MOVE_STATE_STARTED][k]);
    }
}

static void
render_durations(GString *out, const VbMetrics *m)
{
    const char *name = "virt_balancer_migration_duration_seconds";

    family(out, name, "histogram", "seconds",
           "How long finished migrations took, from their last start to their end, by kind.");
    for (guint k = 0; k < VB_MOVE_KIND_LAST; k++) {
        const char *kind = vb_move_kind_names[k];
        const char *const l[] = { "kind", kind, NULL };
        guint64 cumulative = 0;

        for (guint b = 0; b <= VB_METRICS_N_BOUNDS; b++) {
            char le[G_ASCII_DTOSTR_BUF_SIZE];
            const char *const lb[] = { "kind", kind, "le", le, NULL };

            /* OpenMetrics' canonical form for bounds: "1.0", "+Inf". */
            if (b < VB_METRICS_N_BOUNDS)
                g_ascii_formatd(le, sizeof(le), "%.1f", vb_metrics_duration_bounds[b]);
            else
                g_strlcpy(le, "+Inf", sizeof(le));
            cumulative += m->duration_buckets[k][b];
            sample_count(out, "virt_balancer_migration_duration_seconds_bucket", lb, cumulative);
        }
        sample_count(out, "virt_balancer_migration_duration_seconds_count", l, cumulative);
        sample(out, "virt_balancer_migration_duration_seconds_sum", l, m->duration_sum[k]);
    }
}

char *
vb_metrics_render(const VbMetrics *m)
{
    GString *out = g_string_sized_new(4096);
    const char *const version[] = { "version", m->version, NULL };

    g_assert(m);
    family(out, "virt_balancer_build", "info", NULL, "The running virt-balancer.");
    sample(out, "virt_balancer_build_info", version, 1);
    render_hosts(out, m);
    render_pools(out, m);
    render_hotspots(out, m);
    render_plan(out, m);
    render_rounds(out, m);
    render_migrations(out, m);
    render_durations(out, m);
    g_string_append(out, "# EOF\n");
    return g_string_free(out, FALSE);
}
