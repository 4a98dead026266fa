/*
 * metrics.h: the daemon's OpenMetrics exposition (docs/metrics.md).
 *
 * Three parts, one way:
 *   model.c   VbMetrics, plain data: what the last round saw and planned
 *             (hosts, pools, hotspots, the plan's figures) and what the
 *             journal counted (migrations by outcome and kind, durations);
 *             filled from an inventory, a policy, a plan and journal totals,
 *             owning copies of every name, so that it outlives them;
 *   render.c  VbMetrics -> the exposition text: a pure function, no clock,
 *             no socket, tested on its own (tests/metrics-test.c);
 *   server.c  an HTTP server (libsoup) in its own thread serving the latest
 *             published text at /metrics, so that a scrape is answered while
 *             the daemon's loop is blocked by running migrations.
 *
 * Every metric is named virt_balancer_*, in base units (seconds, ratios of
 * capacity), with pool/host/metric/outcome/kind labels and no label per
 * guest.
 */
#pragma once

#include <glib.h>

#include "placement/placement.h"
#include "pool/pool.h"
#include "scheduler/scheduler.h"

G_BEGIN_DECLS

/* The content type of the exposition (OpenMetrics 1.0.0). */
#define VB_METRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Upper bounds (seconds) of the migration duration histogram's buckets,
 * before +Inf. */
#define VB_METRICS_N_BOUNDS 10
extern const double vb_metrics_duration_bounds[VB_METRICS_N_BOUNDS];

typedef struct {
    char *name, *pool;
    VbHostState state;
    double load[VB_METRIC_LAST]; /* fraction of capacity, as the policy measures it */
    double weighted;             /* weighted load */
    guint guests;                /* guests defined on it */
} VbMetricsHost;

typedef struct {
    char *name;
    double imbalance;           /* std dev of weighted load over its hosts that take part */
    double planned_imbalance;   /* the same after the last plan (= imbalance without one) */
    guint hotspots;             /* (host, metric) above high_water in the snapshot */
} VbMetricsPool;

typedef struct {
    char *host, *pool;
    VbMetric metric;
    double load;                /* in the snapshot */
    double planned_load;        /* after the last plan */
} VbMetricsHotspot;

typedef struct {
    char *version;              /* of this program */
    /* The last snapshot (have_snapshot). */
    gboolean have_snapshot;
    GArray *hosts;              /* VbMetricsHost, inventory order */
    GArray *pools;              /* VbMetricsPool, inventory order */
    GArray *hotspots;           /* VbMetricsHotspot: the last plan's, before or after */
    double high_water;          /* the policy's */
    VbAutomation automation;    /* the policy's: full executes plans, manual and
                                 * partial only recommend them */
    guint hosts_unreachable;    /* down (not in maintenance) */
    /* The last plan (have_plan). */
    gboolean have_plan;
    double plan_time;           /* unix seconds, when it was made */
    double plan_seconds;        /* how long the planner took */
    guint plan_moves, plan_unplaced;
    gboolean target_met;
    double imbalance, planned_imbalance; /* pooled over every pool */
    /* Counters. */
    guint64 rounds_ok;          /* rounds that planned */
    guint64 rounds_skipped;     /* rounds that could not (no snapshot, a resume failed) */
    guint64 migrations[VB_MOVE_STATE_LAST][VB_MOVE_KIND_LAST]; /* journal: by current state */
    /* Durations of finished migrations, per kind: bucket i counts those in
     * (bound[i-1], bound[i]], the last bucket those above every bound. */
    guint64 duration_buckets[VB_MOVE_KIND_LAST][VB_METRICS_N_BOUNDS + 1];
    double duration_sum[VB_MOVE_KIND_LAST];
} VbMetrics;

/* An empty model: no snapshot, no plan, counters at 0 (transfer full). */
VbMetrics *vb_metrics_new(void);
/* Accepts NULL. */
void vb_metrics_free(VbMetrics *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbMetrics, vb_metrics_free)

/* Replaces the snapshot part with @inv under @policy and, with @plan (made on
 * @inv; may be NULL when the planner refused), the plan part: loads are the
 * plan's before (or computed from @inv), hotspots and planned figures the
 * plan's. @plan_time is unix seconds, @plan_seconds the planner's wall time.
 * Copies what it keeps. Never fails. */
void vb_metrics_set_round(VbMetrics *m, const VbInventory *inv, const VbPolicy *policy,
                          const VbPlan *plan, double plan_time, double plan_seconds);
/* Replaces the migration counters and histogram with @totals. */
void vb_metrics_set_totals(VbMetrics *m, const VbJournalTotals *totals);

/* The exposition of @m: OpenMetrics text, families in a fixed order, every
 * one with HELP and TYPE (and UNIT where it has one), label values escaped,
 * ending with "# EOF\n" (transfer full). Pure; never fails. */
char *vb_metrics_render(const VbMetrics *m);

/* ----------------------------------------------------------------- server */

typedef struct _VbMetricsServer VbMetricsServer;

/* Listens on @listen ("ADDRESS:PORT", vb_config_parse_listen; port 0 takes a
 * free one) in a thread of its own and serves the pages last published: the
 * text at /metrics, and any other (GET or HEAD; paths never published 404,
 * other methods 405). Returns when
 * it listens (transfer full), the URL of /metrics in @ret_url (may be NULL;
 * transfer full); NULL with VB_ERROR_INVALID_INPUT (a bad address) or
 * VB_ERROR_IO (cannot listen there) naming the address. */
VbMetricsServer *vb_metrics_server_new(const char *listen, char **ret_url, GError **error);
/* Makes @text (transfer full) what /metrics answers from now on. Thread-safe. */
void vb_metrics_server_publish(VbMetricsServer *server, char *text);
/* Makes @body (transfer full) with @content_type what @path ("/...")
 * answers from now on: for other pages of the daemon (a report at /).
 * Thread-safe. */
void vb_metrics_server_publish_page(VbMetricsServer *server, const char *path,
                                    const char *content_type, char *body);
/* Stops the thread, closes the socket. Accepts NULL. */
void vb_metrics_server_free(VbMetricsServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbMetricsServer, vb_metrics_server_free)

G_END_DECLS
