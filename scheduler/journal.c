/*
 * journal.c: the executor's write-ahead record of plans and moves (SQLite).
 *
 * Tables (component "journal" of the shared VbStore, versioned migrations):
 *   journal_plans   one row per executed plan: kind, evacuated host, times,
 *                   outcome (NULL while the plan is unfinished);
 *   journal_moves   one row per move, with its current state and attempts;
 *   journal_events  one row per state change, in the order written: the
 *                   history of who was running when (tests derive the
 *                   concurrency from it);
 *   journal_lock, maintenance, evacuations: see journal-state.c.
 * Schema steps: 1 the tables; 2 an index of events by time (each guest's
 * recent migrations, journal-recent.c).
 *
 * Contract with the executor: a state change is committed here BEFORE the
 * executor acts on it (starts, aborts), so after a crash the journal never
 * claims less than what happened: a move journaled "started" may or may not
 * have started; one journaled "queued" certainly did not.
 *
 * Workload: a few rows per migration (tens to hundreds per plan); every write
 * is one small transaction through cached prepared statements.
 */
#include "config.h"

#include <sqlite3.h>

#include "scheduler/scheduler.h"
#include "scheduler/journal-priv.h"

const char *const vb_move_state_names[] = { "queued",  "started", "finished", "failed",
                                            "aborted", "skipped", NULL };
G_STATIC_ASSERT(G_N_ELEMENTS(vb_move_state_names) == VB_MOVE_STATE_LAST + 1);

static const char *const journal_schema[] = {
    "CREATE TABLE journal_plans ("
    "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, evacuated_host TEXT,"
    "  created_us INTEGER NOT NULL, ended_us INTEGER, outcome TEXT);"
    "CREATE TABLE journal_moves ("
    "  id INTEGER PRIMARY KEY, plan INTEGER NOT NULL REFERENCES journal_plans(id),"
    "  vm TEXT NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL, kind TEXT NOT NULL,"
    "  estimated_s REAL NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT, started_clock REAL, ended_clock REAL);"
    "CREATE INDEX journal_moves_plan ON journal_moves(plan);"
    "CREATE TABLE journal_events ("
    "  id INTEGER PRIMARY KEY, move INTEGER NOT NULL REFERENCES journal_moves(id),"
    "  state TEXT NOT NULL, attempt INTEGER NOT NULL, clock REAL NOT NULL,"
    "  time_us INTEGER NOT NULL, message TEXT);"
    "CREATE INDEX journal_events_move ON journal_events(move);"
    "CREATE TABLE journal_lock ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL,"
    "  start_ticks INTEGER NOT NULL, boot_id TEXT NOT NULL, token TEXT NOT NULL,"
    "  hostname TEXT, acquired_us INTEGER NOT NULL);"
    "CREATE TABLE maintenance (host TEXT PRIMARY KEY, since_us INTEGER NOT NULL, reason TEXT);"
    "CREATE TABLE evacuations ("
    "  vm TEXT NOT NULL, from_host TEXT NOT NULL, to_host TEXT NOT NULL, plan INTEGER,"
    "  time_us INTEGER NOT NULL, PRIMARY KEY (vm, from_host));",
    /* 2: guests' recent migrations by time (journal-recent.c). */
    "CREATE INDEX journal_events_time ON journal_events(time_us);",
};

VbJournal *
vb_journal_open(VbStore *store, GError **error)
{
    VbJournal *journal;

    if (!vb_store_migrate(store, "journal", journal_schema, G_N_ELEMENTS(journal_schema), error))
        return NULL;
    journal = g_new0(VbJournal, 1);
    journal->store = store;
    journal->token = g_uuid_string_random();
    return journal;
}

void
vb_journal_free(VbJournal *journal)
{
    if (!journal)
        return;
    vb_journal_unlock(journal);
    g_free(journal->token);
    g_free(journal);
}

VbStore *
vb_journal_store(VbJournal *journal)
{
    return journal->store;
}

/* Index of @name in the NULL-terminated @names, or @fallback. */
guint
vb_journal_enum(const char *const *names, const char *name, guint fallback)
{
    for (guint i = 0; name && names[i]; i++) {
        if (g_str_equal(names[i], name))
            return i;
    }
    return fallback;
}

/* ------------------------------------------------------------ writes */

gboolean
vb_journal_plan_begin(VbJournal *journal, VbPlanKind kind, const char *evacuated_host,
                      gint64 *ret_plan, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(journal->store,
                                        "INSERT INTO journal_plans(kind, evacuated_host, created_us)"
                                        " VALUES (?1, ?2, ?3)",
                                        error);

    if (!st)
        return FALSE;
    sqlite3_bind_text(st, 1, kind == VB_PLAN_EVACUATE ? "evacuate" : "rebalance", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 2, evacuated_host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, g_get_real_time());
    if (!vb_store_step_done(journal->store, st, error))
        return FALSE;
    *ret_plan = sqlite3_last_insert_rowid(vb_store_db(journal->store));
    return TRUE;
}

gboolean
vb_journal_plan_end(VbJournal *journal, gint64 plan, const char *outcome, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store, "UPDATE journal_plans SET ended_us = ?2, outcome = ?3 WHERE id = ?1",
        error);

    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, plan);
    sqlite3_bind_int64(st, 2, g_get_real_time());
    sqlite3_bind_text(st, 3, outcome, -1, SQLITE_TRANSIENT);
    return vb_store_step_done(journal->store, st, error);
}

static gboolean
journal_insert_event(VbJournal *journal, gint64 move, VbMoveState state, guint attempt,
                     double clock, const char *message, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "INSERT INTO journal_events(move, state, attempt, clock, time_us, message)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        error);

    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, move);
    sqlite3_bind_text(st, 2, vb_move_state_names[state], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, attempt);
    sqlite3_bind_double(st, 4, clock);
    sqlite3_bind_int64(st, 5, g_get_real_time());
    sqlite3_bind_text(st, 6, message, -1, SQLITE_TRANSIENT);
    return vb_store_step_done(journal->store, st, error);
}

gboolean
vb_journal_move_add(VbJournal *journal, gint64 plan, const char *vm, const char *from,
                    const char *to, VbMoveKind kind, double estimated_seconds,
                    gint64 *ret_move, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "INSERT INTO journal_moves(plan, vm, src, dst, kind, estimated_s, state)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued')",
        error);
    gint64 id;

    if (!st || !vb_store_begin(journal->store, error))
        return FALSE;
    sqlite3_bind_int64(st, 1, plan);
    sqlite3_bind_text(st, 2, vm, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, vb_move_kind_names[kind], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, estimated_seconds);
    if (!vb_store_step_done(journal->store, st, error))
        goto fail;
    id = sqlite3_last_insert_rowid(vb_store_db(journal->store));
    if (!journal_insert_event(journal, id, VB_MOVE_STATE_QUEUED, 0, 0, NULL, error) ||
        !vb_store_commit(journal->store, error))
        goto fail;
    *ret_move = id;
    return TRUE;
fail:
    vb_store_rollback(journal->store);
    return FALSE;
}

gboolean
vb_journal_move_set_state(VbJournal *journal, gint64 move, VbMoveState state, guint attempt,
                          double clock, const char *message, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "UPDATE journal_moves SET state = ?2, attempts = MAX(attempts, ?3), message = ?4,"
        " started_clock = CASE WHEN ?2 = 'started' THEN ?5 ELSE started_clock END,"
        " ended_clock = CASE WHEN ?2 IN ('finished', 'failed', 'aborted', 'skipped')"
        "   THEN ?5 ELSE ended_clock END"
        " WHERE id = ?1",
        error);

    g_return_val_if_fail(state < VB_MOVE_STATE_LAST, FALSE);
    if (!st || !vb_store_begin(journal->store, error))
        return FALSE;
    sqlite3_bind_int64(st, 1, move);
    sqlite3_bind_text(st, 2, vb_move_state_names[state], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, attempt);
    sqlite3_bind_text(st, 4, message, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 5, clock);
    if (!vb_store_step_done(journal->store, st, error) ||
        !journal_insert_event(journal, move, state, attempt, clock, message, error) ||
        !vb_store_commit(journal->store, error)) {
        vb_store_rollback(journal->store);
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------------- reads */

void
vb_journal_move_free(VbJournalMove *move)
{
    if (!move)
        return;
    g_free(move->vm);
    g_free(move->from);
    g_free(move->to);
    g_free(move->message);
    g_free(move);
}

void
vb_journal_plan_free(VbJournalPlan *plan)
{
    if (!plan)
        return;
    g_free(plan->evacuated_host);
    g_free(plan->outcome);
    if (plan->moves)
        g_ptr_array_unref(plan->moves);
    g_free(plan);
}

void
vb_journal_event_free(VbJournalEvent *event)
{
    if (!event)
        return;
    g_free(event->vm);
    g_free(event->from);
    g_free(event->to);
    g_free(event->message);
    g_free(event);
}

static char *
column_strdup(sqlite3_stmt *st, int col)
{
    return g_strdup((const char *) sqlite3_column_text(st, col));
}

static double
column_clock(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_double(st, col);
}

static gboolean
journal_load_moves(VbJournal *journal, VbJournalPlan *plan, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "SELECT id, vm, src, dst, kind, estimated_s, state, attempts, message,"
        " started_clock, ended_clock FROM journal_moves WHERE plan = ?1 ORDER BY id",
        error);
    int rc;

    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, plan->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        VbJournalMove *m = g_new0(VbJournalMove, 1);

        m->id = sqlite3_column_int64(st, 0);
        m->plan = plan->id;
        m->vm = column_strdup(st, 1);
        m->from = column_strdup(st, 2);
        m->to = column_strdup(st, 3);
        m->kind = vb_journal_enum(vb_move_kind_names, (const char *) sqlite3_column_text(st, 4),
                                  VB_MOVE_LIVE);
        m->estimated_seconds = sqlite3_column_double(st, 5);
        m->state = vb_journal_enum(vb_move_state_names, (const char *) sqlite3_column_text(st, 6),
                                   VB_MOVE_STATE_FAILED);
        m->attempts = (guint) sqlite3_column_int64(st, 7);
        m->message = column_strdup(st, 8);
        m->started_clock = column_clock(st, 9);
        m->ended_clock = column_clock(st, 10);
        g_ptr_array_add(plan->moves, m);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return vb_store_error(journal->store, error, "cannot read journal moves");
    return TRUE;
}

/* Plans matching @where (an SQL condition), newest first, at most @limit. */
static GPtrArray *
journal_load_plans(VbJournal *journal, const char *where, guint limit, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT id, kind, evacuated_host, created_us, ended_us, outcome FROM journal_plans"
        " WHERE %s ORDER BY id DESC LIMIT ?1",
        where);
    sqlite3_stmt *st = vb_store_prepare(journal->store, sql, error);
    g_autoptr(GPtrArray) plans = g_ptr_array_new_with_free_func((GDestroyNotify) vb_journal_plan_free);
    int rc;

    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        VbJournalPlan *p = g_new0(VbJournalPlan, 1);

        p->id = sqlite3_column_int64(st, 0);
        p->kind = g_strcmp0((const char *) sqlite3_column_text(st, 1), "evacuate") == 0
                      ? VB_PLAN_EVACUATE
                      : VB_PLAN_REBALANCE;
        p->evacuated_host = column_strdup(st, 2);
        p->created_us = sqlite3_column_int64(st, 3);
        p->ended_us = sqlite3_column_int64(st, 4);
        p->outcome = column_strdup(st, 5);
        p->moves = g_ptr_array_new_with_free_func((GDestroyNotify) vb_journal_move_free);
        g_ptr_array_add(plans, p);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        vb_store_error(journal->store, error, "cannot read journal plans");
        return NULL;
    }
    for (guint i = 0; i < plans->len; i++) {
        if (!journal_load_moves(journal, g_ptr_array_index(plans, i), error))
            return NULL;
    }
    return g_steal_pointer(&plans);
}

VbJournalPlan *
vb_journal_unfinished_plan(VbJournal *journal, GError **error)
{
    g_autoptr(GPtrArray) plans = journal_load_plans(journal, "ended_us IS NULL", 1, error);

    if (!plans || plans->len == 0)
        return NULL;
    return g_ptr_array_steal_index(plans, 0);
}

GPtrArray *
vb_journal_history(VbJournal *journal, guint limit, GError **error)
{
    return journal_load_plans(journal, "1", limit, error);
}

GPtrArray *
vb_journal_events(VbJournal *journal, gint64 plan, GError **error)
{
    sqlite3_stmt *st = vb_store_prepare(
        journal->store,
        "SELECT e.move, m.vm, m.src, m.dst, m.kind, e.state, e.attempt, e.clock, e.message"
        " FROM journal_events e JOIN journal_moves m ON m.id = e.move"
        " WHERE m.plan = ?1 ORDER BY e.id",
        error);
    g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify) vb_journal_event_free);
    int rc;

    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, plan);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        VbJournalEvent *e = g_new0(VbJournalEvent, 1);

        e->move = sqlite3_column_int64(st, 0);
        e->vm = column_strdup(st, 1);
        e->from = column_strdup(st, 2);
        e->to = column_strdup(st, 3);
        e->kind = vb_journal_enum(vb_move_kind_names, (const char *) sqlite3_column_text(st, 4),
                                  VB_MOVE_LIVE);
        e->state = vb_journal_enum(vb_move_state_names, (const char *) sqlite3_column_text(st, 5),
                                   VB_MOVE_STATE_FAILED);
        e->attempt = (guint) sqlite3_column_int64(st, 6);
        e->clock = sqlite3_column_double(st, 7);
        e->message = column_strdup(st, 8);
        g_ptr_array_add(events, e);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        vb_store_error(journal->store, error, "cannot read journal events");
        return NULL;
    }
    return g_steal_pointer(&events);
}
