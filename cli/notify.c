/*
 * notify.c: what the daemon tells systemd (Type=notify, sd_notify(3)): ready
 * once the acting lock is taken, reloading/ready around a SIGHUP reload,
 * stopping when it starts to drain, its latest log line as STATUS=, and
 * watchdog keep-alives from every tick of the loop and every event of a
 * running plan (the executor blocks the loop while migrations run, but emits
 * an event per poll, about every second).
 *
 * Without $NOTIFY_SOCKET (not started by systemd, or not Type=notify) every
 * function does nothing; none can fail: a lost notification is not worth
 * stopping a rebalance for. Keep-alives are sent at most once a second, and
 * only when systemd asked for them ($WATCHDOG_USEC). Not thread-safe: the
 * daemon notifies from its main thread only.
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "cli/cli.h"

static gboolean notify_stopping_sent;

void
vb_cli_notify_ready(void)
{
    sd_notify(0, "READY=1");
}

void
vb_cli_notify_reloading(void)
{
    sd_notify(0, "RELOADING=1");
}

void
vb_cli_notify_stopping(void)
{
    if (notify_stopping_sent)
        return;
    notify_stopping_sent = TRUE;
    sd_notify(0, "STOPPING=1");
}

void
vb_cli_notify_status(const char *format, ...)
{
    g_autofree char *text = NULL;
    va_list args;

    va_start(args, format);
    text = g_strdup_vprintf(format, args);
    va_end(args);
    /* STATUS= is one line: a multi-line message keeps its first. */
    text[strcspn(text, "\n")] = '\0';
    sd_notifyf(0, "STATUS=%s", text);
}

void
vb_cli_notify_watchdog(void)
{
    static int enabled = -1; /* -1: not asked yet */
    static gint64 last_us;
    gint64 now_us = g_get_monotonic_time();
    uint64_t usec = 0;

    if (enabled < 0)
        enabled = sd_watchdog_enabled(0, &usec) > 0;
    if (!enabled || (last_us && now_us - last_us < G_USEC_PER_SEC))
        return;
    last_us = now_us;
    sd_notify(0, "WATCHDOG=1");
}
