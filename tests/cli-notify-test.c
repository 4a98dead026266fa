/*
 * cli-notify-test.c: `virt-balancer run` speaks systemd's notification
 * protocol (cli/notify.c) as Type=notify needs. The test plays systemd: it
 * binds a datagram socket, starts the built program on the simulated pool
 * with $NOTIFY_SOCKET (and $WATCHDOG_USEC in one case) and reads what it
 * sends while driving it with SIGHUP and SIGTERM:
 *   READY=1 after start; a STATUS= with the start line; on SIGHUP
 *   RELOADING=1 then READY=1; on SIGTERM STOPPING=1 and exit 0;
 *   WATCHDOG=1 only when $WATCHDOG_USEC asks for it.
 * Timing is not asserted: each wait polls for up to 30 s.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/testutil.h"

#define WAIT_MS 30000

typedef struct {
    int sock;           /* bound datagram socket: systemd's end */
    GPid pid;           /* the daemon */
    GPtrArray *got;     /* every message received, in order */
    int status;         /* wait status once exited, else -1 */
} Manager;

/* Receives what is queued, waiting up to @ms for the first datagram. */
static void
manager_read(Manager *m, int ms)
{
    struct pollfd pfd = { .fd = m->sock, .events = POLLIN };
    char buf[4096];

    while (poll(&pfd, 1, ms) > 0) {
        ssize_t n = recv(m->sock, buf, sizeof buf - 1, 0);

        if (n < 0)
            break;
        buf[n] = '\0';
        g_ptr_array_add(m->got, g_strdup(buf));
        ms = 0;
    }
}

/* Index of the first message equal to (or, with @prefix, starting with)
 * @want at or after @from, or -1. */
static int
manager_find(const Manager *m, const char *want, gboolean prefix, guint from)
{
    for (guint i = from; i < m->got->len; i++) {
        const char *msg = g_ptr_array_index(m->got, i);

        if (prefix ? g_str_has_prefix(msg, want) : strcmp(msg, want) == 0)
            return (int) i;
    }
    return -1;
}

/* Reads until @want arrives at or after @from; its index, or -1 after WAIT_MS. */
static int
manager_wait(Manager *m, const char *want, guint from)
{
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        int at = manager_find(m, want, FALSE, from);

        if (at >= 0)
            return at;
        manager_read(m, 100);
    }
    return -1;
}

static void
manager_start(Manager *m, const char *dir, gboolean watchdog)
{
    g_autofree char *path = g_build_filename(dir, "notify", NULL);
    g_autofree char *srcdir = g_strdup(g_getenv("VB_SRCDIR") ? g_getenv("VB_SRCDIR") : VB_SRCDIR);
    g_autofree char *prog = g_build_filename(g_getenv("VB_BUILDDIR") ? g_getenv("VB_BUILDDIR")
                                                                     : VB_BUILDDIR,
                                             "virt-balancer", NULL);
    g_autofree char *config = g_build_filename(srcdir, "examples", "sim-config.yaml", NULL);
    char *argv[] = { prog, (char *) "--config", config, (char *) "run",
                     (char *) "--sample-interval", (char *) "1",
                     (char *) "--rebalance-interval", (char *) "1", NULL };
    g_auto(GStrv) env = g_get_environ();
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autoptr(GError) error = NULL;

    m->got = g_ptr_array_new_with_free_func(g_free);
    m->status = -1;
    m->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(m->sock, 0);
    g_strlcpy(addr.sun_path, path, sizeof addr.sun_path);
    ck_assert_int_eq(bind(m->sock, (struct sockaddr *) &addr, sizeof addr), 0);
    env = g_environ_setenv(env, "NOTIFY_SOCKET", path, TRUE);
    env = watchdog ? g_environ_setenv(env, "WATCHDOG_USEC", "30000000", TRUE)
                   : g_environ_unsetenv(env, "WATCHDOG_USEC");
    env = g_environ_unsetenv(env, "WATCHDOG_PID");
    env = g_environ_setenv(env, "VIRT_BALANCER_CONFIG", "/nonexistent", TRUE);
    ck_assert_msg(g_spawn_async(NULL, argv, env,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &m->pid, &error),
                  "%s", error ? error->message : "");
}

/* Waits for the daemon's exit (reading meanwhile); its wait status. */
static int
manager_reap(Manager *m)
{
    for (int waited = 0; waited < WAIT_MS && m->status < 0; waited += 100) {
        int status;

        manager_read(m, 100);
        if (waitpid(m->pid, &status, WNOHANG) == m->pid)
            m->status = status;
    }
    if (m->status < 0) {
        kill(m->pid, SIGKILL);
        waitpid(m->pid, &m->status, 0);
        ck_abort_msg("the daemon did not exit within %d ms", WAIT_MS);
    }
    manager_read(m, 0);
    return m->status;
}

static void
manager_free(Manager *m)
{
    close(m->sock);
    g_ptr_array_unref(m->got);
}

static char *
manager_dump(const Manager *m)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < m->got->len; i++)
        g_string_append_printf(s, "  %s\n", (const char *) g_ptr_array_index(m->got, i));
    return g_string_free(s, FALSE);
}

/* Row 0: no watchdog asked; row 1: $WATCHDOG_USEC set. */
START_TEST(test_run_notifies)
{
    gboolean watchdog = _i == 1;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vb-notify-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "notify", NULL);
    g_autofree char *dump = NULL;
    Manager m = { 0 };
    int ready, reloading, ready2, stopping, status;

    manager_start(&m, dir, watchdog);
    ready = manager_wait(&m, "READY=1", 0);
    ck_assert_msg(ready >= 0, "no READY=1");
    ck_assert_msg(manager_find(&m, "STATUS=started on ", TRUE, 0) >= 0, "no STATUS= start line");
    kill(m.pid, SIGHUP);
    reloading = manager_wait(&m, "RELOADING=1", ready + 1);
    ck_assert_msg(reloading > ready, "no RELOADING=1 after SIGHUP");
    ready2 = manager_wait(&m, "READY=1", reloading + 1);
    ck_assert_msg(ready2 > reloading, "no READY=1 after the reload");
    kill(m.pid, SIGTERM);
    status = manager_reap(&m);
    dump = manager_dump(&m);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d; got:\n%s",
                  status, dump);
    stopping = manager_find(&m, "STOPPING=1", FALSE, ready2 + 1);
    ck_assert_msg(stopping > ready2, "no STOPPING=1 after SIGTERM; got:\n%s", dump);
    ck_assert_msg(manager_find(&m, "STOPPING=1", FALSE, stopping + 1) < 0,
                  "STOPPING=1 sent twice; got:\n%s", dump);
    if (watchdog)
        ck_assert_msg(manager_find(&m, "WATCHDOG=1", FALSE, 0) >= 0, "no WATCHDOG=1; got:\n%s", dump);
    else
        ck_assert_msg(manager_find(&m, "WATCHDOG=1", FALSE, 0) < 0,
                      "WATCHDOG=1 without $WATCHDOG_USEC; got:\n%s", dump);
    manager_free(&m);
    g_unlink(path);
    g_rmdir(dir);
}
END_TEST

static Suite *
notify_suite(void)
{
    Suite *s = suite_create("cli-notify");
    TCase *tc = tcase_create("run");

    tcase_add_loop_test(tc, test_run_notifies, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

VB_TEST_MAIN(notify_suite)
