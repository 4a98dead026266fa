/*
 * log.c: what virt-balancer tells the person (or the journal) while it acts.
 *
 * Every line goes through GLib's structured logging (g_log_structured_array)
 * with a syslog priority that means something (err: a migration failed;
 * warning: a host went down, a file was refused; notice: state changes;
 * info: plans, migrations started and finished, progress; debug: the rest,
 * including the modules' g_debug()), a stable MESSAGE_ID per event kind
 * (docs/logging.md) and fields to filter on: VB_VM, VB_HOST, VB_FROM, VB_TO,
 * VB_OUTCOME, VB_REASON.
 *
 * One writer (installed once, by vb_cli_log_init from main) decides where a
 * line goes:
 *   - stderr is the journal (g_log_writer_is_journald: the systemd unit's
 *     default): the fields go to journald as they are;
 *   - otherwise one line on stderr: a note as "virt-balancer: TEXT", an
 *     event line (executor progress) as "TEXT"; in the daemon (`run`) every
 *     line is "YYYY-MM-DD HH:MM:SS virt-balancer run: TEXT" as before. Unsafe
 *     characters are escaped (vb_text_escape): names may come from libvirt.
 * Lines above the verbosity threshold are dropped first: --quiet keeps
 * warnings and worse, the default adds notice and info, --verbose debug.
 *
 * VB_TEST_LOG_EXPORT=FILE (tests) appends each line kept, in the journal
 * export format (FIELD=value lines, a blank line after each entry), to FILE,
 * besides the normal output: it is how the tests see the fields journald
 * would get.
 *
 * Not thread-safe to set up; emitting is safe from any thread (GLib
 * serialises nothing here, but each line is one fputs on stderr).
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* Stable ids of the event kinds (docs/logging.md); never change one. */
const char *const vb_cli_log_message_ids[] = {
    [VB_LOG_EVENT_NONE] = NULL,
    [VB_LOG_EVENT_PLAN] = "e7f0fc36f9134ab4a777c60177bd3da3",
    [VB_LOG_EVENT_MIGRATION_STARTED] = "8b9cffdc71734627975ee78061e66872",
    [VB_LOG_EVENT_MIGRATION_FINISHED] = "f891585e309347a6bb6bd84144f75bd0",
    [VB_LOG_EVENT_MIGRATION_FAILED] = "cc456f7d7f51461ebdea23e7dda053b8",
    [VB_LOG_EVENT_HOST_DOWN] = "aa2b3bc75ad34b7f854fdceea07c2bd5",
    [VB_LOG_EVENT_HOST_UP] = "1a5a59dcb95640e382eacf0261901038",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vb_cli_log_message_ids) == VB_LOG_EVENT_LAST);

/* The private field that says how a line looks on stderr; never sent on. */
#define LOG_STYLE_FIELD "VB_CLI_STYLE"

static struct {
    gboolean initialised;
    gboolean journald;       /* stderr is the journal */
    gboolean daemon;         /* `run`: timestamped lines */
    VbLogPriority threshold; /* lines above it are dropped */
    char *export_path;       /* VB_TEST_LOG_EXPORT, or NULL */
} log_state = { .threshold = VB_LOG_INFO };

/* The priority of a line: its PRIORITY field, else from the GLib level. */
static VbLogPriority
line_priority(GLogLevelFlags level, const GLogField *fields, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        if (g_str_equal(fields[i].key, "PRIORITY") && fields[i].length != 0) {
            const char *v = fields[i].value;

            if (v[0] >= '0' && v[0] <= '7')
                return (VbLogPriority) (v[0] - '0');
        }
    }
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return VB_LOG_ERR;
    if (level & G_LOG_LEVEL_WARNING)
        return VB_LOG_WARNING;
    if (level & G_LOG_LEVEL_MESSAGE)
        return VB_LOG_NOTICE;
    if (level & G_LOG_LEVEL_INFO)
        return VB_LOG_INFO;
    return VB_LOG_DEBUG;
}

static const char *
field_text(const GLogField *fields, gsize n, const char *key)
{
    for (gsize i = 0; i < n; i++) {
        if (g_str_equal(fields[i].key, key))
            return fields[i].length < 0 ? fields[i].value : NULL;
    }
    return NULL;
}

/* Appends the entry to the export file (tests). */
static void
write_export(const GLogField *fields, gsize n)
{
    g_autoptr(GString) entry = g_string_new(NULL);
    FILE *f;

    for (gsize i = 0; i < n; i++) {
        if (fields[i].length >= 0 || g_str_equal(fields[i].key, LOG_STYLE_FIELD))
            continue; /* binary fields: none of ours */
        g_string_append_printf(entry, "%s=%s\n", fields[i].key, (const char *) fields[i].value);
    }
    g_string_append_c(entry, '\n');
    f = fopen(log_state.export_path, "a");
    if (!f)
        return;
    fputs(entry->str, f);
    fclose(f);
}

/* One line on stderr, in the style the caller asked for. */
static void
write_stderr(VbLogPriority priority, const GLogField *fields, gsize n)
{
    static const char *const names[] = { "emergency", "alert", "critical", "error",
                                         "warning",   "notice", "info",    "debug" };
    const char *style = field_text(fields, n, LOG_STYLE_FIELD);
    const char *message = field_text(fields, n, "MESSAGE");
    g_autofree char *safe = vb_text_escape(message ? message : "");
    g_autoptr(GString) line = g_string_new(NULL);

    if (log_state.daemon) {
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");

        g_string_append_printf(line, "%s virt-balancer run: ", stamp);
    } else if (!style || g_str_equal(style, "note")) {
        g_string_append(line, "virt-balancer: ");
    }
    if (!style) /* not ours (GLib, a module's g_debug): say how serious */
        g_string_append_printf(line, "%s: ", names[priority]);
    g_string_append(line, safe);
    g_string_append_c(line, '\n');
    fputs(line->str, stderr);
    fflush(stderr);
}

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    VbLogPriority priority = line_priority(level, fields, n);
    g_autofree GLogField *sent = NULL;
    gsize n_sent = 0;

    if (priority > log_state.threshold)
        return G_LOG_WRITER_HANDLED;
    if (log_state.export_path)
        write_export(fields, n);
    if (log_state.journald) {
        sent = g_new(GLogField, n);
        for (gsize i = 0; i < n; i++)
            if (!g_str_equal(fields[i].key, LOG_STYLE_FIELD))
                sent[n_sent++] = fields[i];
        if (g_log_writer_journald(level, sent, n_sent, data) == G_LOG_WRITER_HANDLED)
            return G_LOG_WRITER_HANDLED;
    }
    write_stderr(priority, fields, n);
    return G_LOG_WRITER_HANDLED;
}

void
vb_cli_log_init(void)
{
    const char *export_path = g_getenv("VB_TEST_LOG_EXPORT");

    if (log_state.initialised)
        return;
    log_state.initialised = TRUE;
    log_state.journald = g_log_writer_is_journald(fileno(stderr));
    log_state.export_path = export_path && *export_path ? g_strdup(export_path) : NULL;
    g_log_set_writer_func(log_writer, NULL, NULL);
}

void
vb_cli_log_set_verbosity(int verbosity)
{
    log_state.threshold = verbosity < 0 ? VB_LOG_WARNING
                          : verbosity > 0 ? VB_LOG_DEBUG
                                          : VB_LOG_INFO;
}

void
vb_cli_log_set_daemon(gboolean daemon)
{
    log_state.daemon = daemon;
}

gboolean
vb_cli_log_enabled(VbLogPriority priority)
{
    return priority <= log_state.threshold;
}

/* The GLib level of a line of @priority. The writer reads the PRIORITY
 * field; the level only matters to GLib's fatal masks, so err and warning
 * are sent as G_LOG_LEVEL_MESSAGE: G_DEBUG=fatal-warnings (set by some
 * developers and test setups) must not turn a failed migration into an
 * abort of the daemon. */
static GLogLevelFlags
priority_level(VbLogPriority priority)
{
    if (priority <= VB_LOG_NOTICE)
        return G_LOG_LEVEL_MESSAGE;
    return priority == VB_LOG_INFO ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_DEBUG;
}

/* Emits @text with @about's fields; @style is "note" or "event". */
static void
emit(VbLogPriority priority, VbLogEvent event, const VbLogAbout *about, const char *style,
     const char *text)
{
    GLogField fields[16];
    gsize n = 0;
    char digit[2] = { (char) ('0' + priority), '\0' };
    char plan[24] = "";

#define ADD(k, v)                                                                    \
    do {                                                                             \
        const char *v_ = (v);                                                        \
        if (v_)                                                                      \
            fields[n++] = (GLogField) { .key = (k), .value = v_, .length = -1 };     \
    } while (0)
    g_assert(priority <= VB_LOG_DEBUG && event < VB_LOG_EVENT_LAST);
    if (!vb_cli_log_enabled(priority))
        return;
    fields[n++] = (GLogField) { .key = "MESSAGE", .value = text, .length = -1 };
    fields[n++] = (GLogField) { .key = "PRIORITY", .value = digit, .length = -1 };
    fields[n++] = (GLogField) { .key = "SYSLOG_IDENTIFIER", .value = "virt-balancer", .length = -1 };
    fields[n++] = (GLogField) { .key = "GLIB_DOMAIN", .value = "virt-balancer", .length = -1 };
    ADD("MESSAGE_ID", vb_cli_log_message_ids[event]);
    ADD(LOG_STYLE_FIELD, style);
    if (about) {
        ADD("VB_VM", about->vm);
        ADD("VB_HOST", about->host);
        ADD("VB_FROM", about->from);
        ADD("VB_TO", about->to);
        ADD("VB_OUTCOME", about->outcome);
        ADD("VB_REASON", about->reason);
        if (about->plan_id > 0) {
            g_snprintf(plan, sizeof(plan), "%" G_GINT64_FORMAT, about->plan_id);
            ADD("VB_PLAN", plan);
        }
    }
#undef ADD
    g_log_structured_array(priority_level(priority), fields, n);
}

void
vb_cli_log(VbLogPriority priority, VbLogEvent event, const VbLogAbout *about,
           const char *format, ...)
{
    g_autofree char *text = NULL;
    va_list args;

    if (!vb_cli_log_enabled(priority))
        return;
    va_start(args, format);
    text = g_strdup_vprintf(format, args);
    va_end(args);
    emit(priority, event, about, "event", text);
}

void
vb_cli_note(VbLogPriority priority, const char *format, ...)
{
    va_list args;
    g_autofree char *text = NULL;

    if (!vb_cli_log_enabled(priority))
        return;
    va_start(args, format);
    text = g_strdup_vprintf(format, args);
    va_end(args);
    emit(priority, VB_LOG_EVENT_NONE, NULL, "note", text);
}
