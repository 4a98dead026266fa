/*
 * drivers-defs-test.c: the libvirt driver keeps guest definitions between
 * snapshots (drivers/libvirt-defs.c), and a change is still seen by the
 * next snapshot.
 *
 * Data-driven: each row of change_cases changes libvirt's built-in test
 * driver (test:///default, one state per process, shared by every
 * connection to it) through the driver's own connection, between two
 * snapshots of the same VbConn. The second snapshot, rendered as inventory
 * YAML, must equal the snapshot of a driver opened afresh on the same state,
 * and differ from the first. Events arrive through libvirt's event loop
 * thread, so each step ends with a barrier (defs_barrier: an event of its
 * own, polled for with a generous bound, never timed) before the next. A reconnect is tested on a node file (test:///FILE: a state of
 * its own per connection, so a new connection starts from the file again).
 * Part of tests/drivers-test.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "drivers/libvirt-priv.h"
#include "pool/pool.h"
#include "tests/drivers-defs-test.h"
#include "tests/testutil.h"

#define DEFS_WAIT_SECONDS 60 /* for events: generous, the machine may be loaded */

/* ------------------------------------------------------------ helpers */

/* One pool, one host on @uri (transfer full). */
static VbConfig *
defs_config(const char *uri)
{
    VbConfig *config = g_new0(VbConfig, 1);
    VbConfigPool *pool = g_new0(VbConfigPool, 1);
    VbConfigHost *h1 = g_new0(VbConfigHost, 1);

    config->driver = g_strdup("libvirt");
    config->connect_timeout_seconds = 30;
    config->pools = g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_pool_free);
    pool->name = g_strdup("p1");
    pool->hosts = g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_host_free);
    h1->name = g_strdup("h1");
    h1->uri = g_strdup(uri);
    g_ptr_array_add(pool->hosts, h1);
    g_ptr_array_add(config->pools, pool);
    return config;
}

/* The snapshot of @conn as inventory YAML (transfer full). */
static char *
defs_render(VbConn *conn)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = vb_driver_libvirt.snapshot(conn, &error);

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    ck_assert_int_eq(vb_inventory_get_host(inv, "h1")->state, VB_HOST_STATE_UP);
    return vb_inventory_to_yaml(inv);
}

/* The snapshot of a driver opened now on @config (nothing kept yet). */
static char *
defs_render_fresh(const VbConfig *config)
{
    g_autoptr(GError) error = NULL;
    VbConn *conn = vb_driver_libvirt.open(config, &error);
    char *yaml;

    ck_assert_msg(conn != NULL, "%s", error ? error->message : "");
    yaml = defs_render(conn);
    vb_driver_libvirt.close(conn);
    return yaml;
}

static VbLvDefsStats
defs_stats(VbConn *conn)
{
    VbLvDefsStats stats;

    vb_lv_defs_stats(vb_lv_conn_host(conn, "h1")->defs, &stats);
    return stats;
}

#define DEFS_BARRIER_NS "https://virt-balancer.org/xmlns/test-barrier"

static gint barrier_seen;

static void
defs_on_barrier(virConnectPtr c, virDomainPtr dom, int type, const char *nsuri, void *opaque)
{
    if (g_strcmp0(nsuri, DEFS_BARRIER_NS) == 0)
        g_atomic_int_set(&barrier_seen, 1);
}

/* Returns once every event of what was done on @c so far has been
 * dispatched: libvirt dispatches a connection's events in order, and the
 * last one is a metadata change (outside the driver's namespace, so no
 * snapshot shows it) of the running guest @name, waited for by namespace.
 * So no event of an earlier step reaches the driver during a later one. */
static void
defs_barrier(virConnectPtr c, const char *name)
{
    gint64 until = g_get_monotonic_time() + (gint64) DEFS_WAIT_SECONDS * G_USEC_PER_SEC;
    int id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                              VIR_DOMAIN_EVENT_CALLBACK(defs_on_barrier), NULL,
                                              NULL);
    virDomainPtr test = virDomainLookupByName(c, name);

    ck_assert_msg(id >= 0 && test != NULL, "%s", virGetLastErrorMessage());
    g_atomic_int_set(&barrier_seen, 0);
    ck_assert_msg(virDomainSetMetadata(test, VIR_DOMAIN_METADATA_ELEMENT, "<barrier/>", "b",
                                       DEFS_BARRIER_NS, VIR_DOMAIN_AFFECT_LIVE) == 0,
                  "%s", virGetLastErrorMessage());
    while (!g_atomic_int_get(&barrier_seen) && g_get_monotonic_time() < until)
        g_usleep(10000);
    ck_assert_msg(g_atomic_int_get(&barrier_seen), "no barrier event within %d s",
                  DEFS_WAIT_SECONDS);
    virDomainFree(test);
    ck_assert_int_eq(virConnectDomainEventDeregisterAny(c, id), 0);
}

/* ------------------------------------------------------------ changes */

#define DEFS_UUID_A "8f0a1c2e-1b7d-4c55-9e0f-3a2b1c4d5e6f"
#define DEFS_UUID_B "1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6"

/* A guest definition for the test driver (transfer full). */
static char *
defs_domain_xml(const char *name, const char *uuid, guint mib, guint vcpus, const char *extra)
{
    return g_strdup_printf("<domain type='test'><name>%s</name><uuid>%s</uuid>"
                           "<memory unit='MiB'>%u</memory><vcpu>%u</vcpu>"
                           "<os><type>hvm</type></os><devices>"
                           "<disk type='file' device='disk'><source file='/var/lib/%s.img'/>"
                           "<target dev='vda' bus='virtio'/></disk>%s</devices></domain>",
                           name, uuid, mib, vcpus, name, extra ? extra : "");
}

static void
defs_define(virConnectPtr c, const char *name, const char *uuid, guint mib, guint vcpus,
            const char *extra)
{
    g_autofree char *xml = defs_domain_xml(name, uuid, mib, vcpus, extra);
    virDomainPtr dom = virDomainDefineXML(c, xml);

    ck_assert_msg(dom != NULL, "define %s: %s", name, virGetLastErrorMessage());
    virDomainFree(dom);
}

static virDomainPtr
defs_lookup(virConnectPtr c, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(c, name);

    ck_assert_msg(dom != NULL, "%s: %s", name, virGetLastErrorMessage());
    return dom;
}

/* Guests "a" (4 GiB, 2 vCPUs, shut off) and "b" (running) besides the test
 * driver's own "test": the state every case starts from. */
static void
defs_setup(virConnectPtr c)
{
    virDomainPtr b;

    defs_define(c, "a", DEFS_UUID_A, 4096, 2, NULL);
    defs_define(c, "b", DEFS_UUID_B, 1024, 1, NULL);
    b = defs_lookup(c, "b");
    ck_assert_int_eq(virDomainCreate(b), 0);
    virDomainFree(b);
}

static void
change_define_new(virConnectPtr c)
{
    defs_define(c, "c", "0b9a8c7d-6e5f-4a3b-8c1d-0e2f3a4b5c6d", 2048, 1, NULL);
}

/* The same guest defined again with more memory and vCPUs (DEFINED/UPDATED). */
static void
change_define_update(virConnectPtr c)
{
    defs_define(c, "a", DEFS_UUID_A, 8192, 4, NULL);
}

/* Undefined; its UUID is then given to another guest. */
static void
change_undefine(virConnectPtr c)
{
    virDomainPtr a = defs_lookup(c, "a");

    ck_assert_int_eq(virDomainUndefine(a), 0);
    virDomainFree(a);
    defs_define(c, "a2", DEFS_UUID_A, 512, 1, NULL);
}

/* A second disk and a PCI host device: what the definition of a shut-off
 * guest says after `virsh attach-device --config` (the test driver has no
 * live hot-plug). */
static void
change_devices(virConnectPtr c)
{
    defs_define(c, "a", DEFS_UUID_A, 4096, 2,
                "<disk type='file' device='disk'><source file='/var/lib/a-data.img'/>"
                "<target dev='vdb' bus='virtio'/></disk>"
                "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                "<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>"
                "</source></hostdev>");
}

/* Tags and labels of running guest @name, live (METADATA_CHANGE). */
static void
defs_set_metadata(virConnectPtr c, const char *name)
{
    virDomainPtr b = defs_lookup(c, name);

    ck_assert_msg(virDomainSetMetadata(b, VIR_DOMAIN_METADATA_ELEMENT,
                                       "<balancer><tag>no-migrate</tag><label>db</label>"
                                       "</balancer>",
                                       VB_LV_METADATA_PREFIX, VB_LV_METADATA_NS,
                                       VIR_DOMAIN_AFFECT_LIVE) == 0,
                  "%s", virGetLastErrorMessage());
    virDomainFree(b);
}

static void
change_metadata(virConnectPtr c)
{
    defs_set_metadata(c, "b");
}

static void
change_start(virConnectPtr c)
{
    virDomainPtr a = defs_lookup(c, "a");

    ck_assert_int_eq(virDomainCreate(a), 0);
    virDomainFree(a);
}

static void
change_stop(virConnectPtr c)
{
    virDomainPtr b = defs_lookup(c, "b");

    ck_assert_int_eq(virDomainDestroy(b), 0);
    virDomainFree(b);
}

static const struct {
    const char *name;
    void (*change)(virConnectPtr c);
} change_cases[] = {
    { "define a new guest", change_define_new },
    { "define a guest again", change_define_update },
    { "undefine, the UUID reused", change_undefine },
    { "devices added", change_devices },
    { "metadata", change_metadata },
    { "start", change_start },
    { "stop", change_stop },
};

/* Row _i: snapshot, change, wait for its events, snapshot again; the second
 * equals a fresh driver's snapshot and differs from the first. */
START_TEST(test_defs_change)
{
    g_autoptr(VbConfig) config = defs_config("test:///default");
    g_autoptr(GError) error = NULL;
    VbConn *conn = vb_driver_libvirt.open(config, &error);
    virConnectPtr c;
    g_autofree char *before = NULL, *after = NULL, *fresh = NULL;

    ck_assert_msg(conn != NULL, "%s", error ? error->message : "");
    c = vb_lv_host_connect(vb_lv_conn_host(conn, "h1"), &error);
    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    defs_setup(c);
    defs_barrier(c, "test");                /* the set-up's events are not the change's */
    g_free(defs_render(conn));      /* reads every definition */
    before = defs_render(conn);     /* from what is kept */
    ck_assert_msg(defs_stats(conn).kept_reads >= 3, "row %s: nothing kept", change_cases[_i].name);
    change_cases[_i].change(c);
    defs_barrier(c, "test");        /* every event of the change has arrived */
    after = defs_render(conn);
    fresh = defs_render_fresh(config);
    ck_assert_msg(strcmp(after, fresh) == 0, "row %s: kept differs from fresh\n--- kept\n%s\n"
                  "--- fresh\n%s", change_cases[_i].name, after, fresh);
    ck_assert_msg(strcmp(before, after) != 0, "row %s: the change is not in the snapshot",
                  change_cases[_i].name);
    virConnectClose(c);
    vb_driver_libvirt.close(conn);
}
END_TEST

/* Unchanged guests and the host's capabilities are not read again, and
 * what is kept renders exactly as what is read afresh. */
START_TEST(test_defs_kept)
{
    g_autoptr(VbConfig) config = defs_config("test:///default");
    g_autoptr(GError) error = NULL;
    VbConn *conn = vb_driver_libvirt.open(config, &error);
    virConnectPtr c = vb_lv_host_connect(vb_lv_conn_host(conn, "h1"), &error);
    g_autofree char *first = NULL, *second = NULL;
    VbLvDefsStats stats;

    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    defs_setup(c);
    defs_barrier(c, "test");
    first = defs_render(conn);
    stats = defs_stats(conn);
    ck_assert(stats.listening);
    ck_assert_uint_eq(stats.kept, 3);
    second = defs_render(conn);
    ck_assert_str_eq(first, second);
    ck_assert_uint_eq(defs_stats(conn).fetches, stats.fetches); /* nothing fetched again */
    ck_assert_uint_eq(stats.caps_fetches, 1);
    ck_assert_uint_eq(defs_stats(conn).caps_fetches, 1); /* capabilities neither */
    ck_assert_uint_eq(defs_stats(conn).kept_reads, stats.kept_reads + 3);
    virConnectClose(c);
    vb_driver_libvirt.close(conn);
}
END_TEST

/* Every so many snapshots a host reads every definition again, events or
 * not: VB_LV_DEFS_REFRESH_SNAPSHOTS, or VIRT_BALANCER_DEFS_REFRESH when it
 * is a whole number from 1 to 1,000,000. */
static const struct {
    const char *env;        /* NULL: unset */
    guint every;
} refresh_cases[] = {
    { NULL, VB_LV_DEFS_REFRESH_SNAPSHOTS },
    { "3", 3 },
    { "1", 1 },
    { "0", VB_LV_DEFS_REFRESH_SNAPSHOTS },
    { "ten", VB_LV_DEFS_REFRESH_SNAPSHOTS },
    { "1000001", VB_LV_DEFS_REFRESH_SNAPSHOTS },
};

START_TEST(test_defs_safety_refresh)
{
    g_autoptr(VbConfig) config = defs_config("test:///default");
    g_autoptr(GError) error = NULL;
    guint every = refresh_cases[_i].every;
    VbConn *conn;
    guint64 fetches;

    if (refresh_cases[_i].env)
        g_setenv(VB_LV_DEFS_REFRESH_ENV, refresh_cases[_i].env, TRUE);
    else
        g_unsetenv(VB_LV_DEFS_REFRESH_ENV);
    conn = vb_driver_libvirt.open(config, &error);
    ck_assert_msg(conn != NULL, "%s", error ? error->message : "");
    g_free(defs_render(conn));
    fetches = defs_stats(conn).fetches;
    for (guint i = 1; i < every; i++)
        g_free(defs_render(conn));
    ck_assert_msg(defs_stats(conn).fetches == fetches, "row %d: read again before %u snapshots",
                  _i, every);
    ck_assert_uint_eq(defs_stats(conn).caps_fetches, 1);
    g_free(defs_render(conn));
    ck_assert_msg(defs_stats(conn).fetches == fetches + 1, "row %d: not read again after %u",
                  _i, every); /* "test" read again */
    ck_assert_uint_eq(defs_stats(conn).caps_fetches, 2); /* and the capabilities */
    vb_driver_libvirt.close(conn);
}
END_TEST

/* A node file: guest "n" of 1 GiB (test:///FILE gives every connection a
 * state of its own, read from the file). */
static char *
defs_node_file(char **ret_dir)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("vb-defs-XXXXXX", &error);
    char *path;

    ck_assert_msg(dir != NULL, "%s", error ? error->message : "");
    path = g_build_filename(dir, "node.xml", NULL);
    ck_assert(g_file_set_contents(path,
                                  "<node><cpu><mhz>2800</mhz><model>x86_64</model><nodes>1</nodes>"
                                  "<sockets>1</sockets><cores>4</cores><threads>1</threads>"
                                  "<active>4</active></cpu><memory>8388608</memory>"
                                  "<domain type='test'><name>n</name>"
                                  "<uuid>" DEFS_UUID_A "</uuid><memory>1048576</memory>"
                                  "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n",
                                  -1, NULL));
    *ret_dir = dir;
    return path;
}

/* After a reconnect the host's definitions are read again: the new
 * connection's state (the file's) is not the old one's (tags set live). */
START_TEST(test_defs_reconnect)
{
    g_autofree char *dir = NULL, *path = defs_node_file(&dir);
    g_autofree char *uri = g_strdup_printf("test://%s", path);
    g_autoptr(VbConfig) config = defs_config(uri);
    g_autoptr(GError) error = NULL;
    VbConn *conn = vb_driver_libvirt.open(config, &error);
    VbLvHost *host = vb_lv_conn_host(conn, "h1");
    virConnectPtr c = vb_lv_host_connect(host, &error);
    g_autofree char *file_state = NULL, *changed = NULL, *again = NULL;

    ck_assert_msg(c != NULL, "%s", error ? error->message : "");
    defs_barrier(c, "n");
    file_state = defs_render(conn);
    defs_set_metadata(c, "n");
    defs_barrier(c, "n");
    changed = defs_render(conn);
    ck_assert_str_ne(changed, file_state);
    virConnectClose(c);
    vb_lv_host_mark_down(host, "h1: connection lost");
    ck_assert_uint_eq(defs_stats(conn).caps_fetches, 1);
    again = defs_render(conn); /* reconnects: the file's state again */
    ck_assert_uint_eq(defs_stats(conn).caps_fetches, 2);
    ck_assert_msg(strcmp(again, file_state) == 0, "after a reconnect\n--- got\n%s\n--- file\n%s",
                  again, file_state);
    ck_assert(defs_stats(conn).listening);
    vb_driver_libvirt.close(conn);
    g_unlink(path);
    g_rmdir(dir);
}
END_TEST

void
vb_drivers_defs_tests(Suite *s)
{
    TCase *tc = tcase_create("kept-definitions");

    tcase_set_timeout(tc, 4 * DEFS_WAIT_SECONDS);
    tcase_add_loop_test(tc, test_defs_change, 0, G_N_ELEMENTS(change_cases));
    tcase_add_test(tc, test_defs_kept);
    tcase_add_loop_test(tc, test_defs_safety_refresh, 0, G_N_ELEMENTS(refresh_cases));
    tcase_add_test(tc, test_defs_reconnect);
    suite_add_tcase(s, tc);
}
