/*
 * drivers-contract-test.c: every driver in vb_drivers[] through the same
 * checks, so the executor, the collectors and the CLI can rely on the ops
 * table whatever sits behind it.
 *
 * Each driver gets one environment of the same shape: hosts lab1..lab3 up,
 * lab4 unreachable; guests g01, g02 and disk1 (a 64 MiB local disk) on
 * lab1, g03 on lab2, pin1 (tag no-migrate, label web), off1 (shut off) and
 * offdisk (shut off, a 16 MiB local disk) on lab3. For sim that is
 * tests/data/drivers/contract-sim.yaml; for libvirt it is a real lab started
 * with tests/lab/lab.sh in a temporary folder (an unchecked fixture: it runs
 * in the parent process, so the lab is stopped even when a check fails).
 * A driver without an environment here fails the suite: add one.
 *
 * The checks: open; snapshot (hosts and guests as set up, consistent ids,
 * the unreachable host DOWN with "lab4: cannot connect: ..."); two samples
 * (counters monotonic); a live migration seen by locate before and after,
 * one with its local disk copied, a cold move; an aborted migration leaves
 * the guest running on its source; job_find re-attaches to a migration in
 * flight; a host lost under an open connection shows down.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drivers/drivers.h"
#include "tests/testutil.h"

#define LAB_HOSTS 3
#define MIGRATION_WAIT_SECONDS 180.0

typedef struct {
    const char *driver;
    VbConfig *config;       /* what the driver opens */
    char *lab_dir;          /* libvirt: the running lab, or NULL */
} ContractEnv;

static ContractEnv env;

static const char *const all_hosts[] = { "lab1", "lab2", "lab3", "lab4", NULL };
static const struct {
    const char *vm, *host;
    VbVmState state;
} all_vms[] = {
    { "g01", "lab1", VB_VM_STATE_RUNNING },
    { "g02", "lab1", VB_VM_STATE_RUNNING },
    { "g03", "lab2", VB_VM_STATE_RUNNING },
    { "pin1", "lab3", VB_VM_STATE_RUNNING },
    { "off1", "lab3", VB_VM_STATE_SHUTOFF },
    { "disk1", "lab1", VB_VM_STATE_RUNNING },
    { "offdisk", "lab3", VB_VM_STATE_SHUTOFF },
};

/* ------------------------------------------------------------ environments */

/* The suite builds its configs by hand (the config loader belongs to pool/)
 * and frees them with pool/'s destructors. */
static VbConfig *
config_new(const char *driver)
{
    VbConfig *config = g_new0(VbConfig, 1);

    config->driver = g_strdup(driver);
    config->pools = g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_pool_free);
    config->connect_timeout_seconds = 10;
    return config;
}

static void
sim_setup(void)
{
    env.driver = "sim";
    env.config = config_new("sim");
    env.config->inventory = vb_test_data_path("drivers/contract-sim.yaml");
}

/* Runs lab.sh with @args; FALSE (and its output on stderr) when it fails. */
static gboolean
run_lab(const char *args)
{
    g_autofree char *lab = vb_test_data_path("../lab/lab.sh");
    g_autofree char *cmd = g_strdup_printf("%s %s --dir %s", lab, args, env.lab_dir);
    g_autofree char *out = NULL, *err = NULL;
    int status = -1;

    if (!g_spawn_command_line_sync(cmd, &out, &err, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "%s failed:\n%s%s", cmd, out ? out : "", err ? err : "");
        return FALSE;
    }
    return TRUE;
}

/* The value of KEY=VALUE (quotes removed) in the lab's lab.env. */
static char *
lab_env_get(const char *text, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *prefix = g_strconcat(key, "=", NULL);

    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], prefix)) {
            char *value = g_strdup(lines[i] + strlen(prefix));

            if (value[0] == '\'')
                memmove(value, value + 1, strlen(value));
            if (*value && value[strlen(value) - 1] == '\'')
                value[strlen(value) - 1] = '\0';
            return value;
        }
    }
    return NULL;
}

static void
libvirt_add_host(VbConfigPool *pool, const char *name, const char *uri)
{
    VbConfigHost *host = g_new0(VbConfigHost, 1);

    host->name = g_strdup(name);
    host->uri = g_strdup(uri);
    host->migration_host = g_strdup("127.0.0.1");
    g_ptr_array_add(pool->hosts, host);
}

static void
libvirt_setup(void)
{
    g_autofree char *envfile = NULL, *text = NULL, *down_uri = NULL;
    VbConfigPool *pool;

    env.driver = "libvirt";
    env.config = config_new("libvirt");
    env.lab_dir = g_dir_make_tmp("vb-ct-XXXXXX", NULL);
    /* VB_LAB_TCG=1 runs the lab's guests without KVM, as on machines without /dev/kvm. */
    if (!env.lab_dir ||
        !run_lab(g_strcmp0(g_getenv("VB_LAB_TCG"), "1") == 0 ? "start --hosts 3 --tcg"
                                                             : "start --hosts 3") || !run_lab("guests --layout 2,1 --memory 1024") ||
        !run_lab("guest --host lab3 --name pin1 --tag no-migrate --label web") ||
        !run_lab("guest --host lab3 --name off1 --label db --no-start") ||
        !run_lab("guest --host lab1 --name disk1 --disk-mib 64 --label storage") ||
        !run_lab("guest --host lab3 --name offdisk --disk-mib 16 --no-start"))
        return; /* the checks fail on the missing hosts, with lab.sh's output above */
    envfile = g_build_filename(env.lab_dir, "lab.env", NULL);
    if (!g_file_get_contents(envfile, &text, NULL, NULL))
        return;
    pool = g_new0(VbConfigPool, 1);
    pool->name = g_strdup("lab");
    pool->hosts = g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_host_free);
    g_ptr_array_add(env.config->pools, pool);
    for (guint i = 1; i <= LAB_HOSTS; i++) {
        g_autofree char *key = g_strdup_printf("VB_LAB_URI_%u", i);
        g_autofree char *uri = lab_env_get(text, key);
        g_autofree char *name = g_strdup_printf("lab%u", i);

        libvirt_add_host(pool, name, uri ? uri : "");
    }
    /* A host whose daemon is not there: refused at once. */
    down_uri = g_strdup_printf("qemu+unix:///system?socket=%s/lab4/sock/libvirt-sock", env.lab_dir);
    libvirt_add_host(pool, "lab4", down_uri);
}

static void
libvirt_teardown(void)
{
    if (env.lab_dir) {
        g_autofree char *rm = g_strdup_printf("rm -rf -- %s", env.lab_dir);

        run_lab("stop");
        /* Only once the lab is stopped: its folder held its hosts' files. */
        g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
    }
}

/* Makes @host fail under an open connection: its daemon dies. */
static void
sim_kill_host(VbConn *conn, const char *host)
{
    vb_sim_fail_host_at(conn, host, vb_driver_sim.now(conn));
}

static void
libvirt_kill_host(VbConn *conn, const char *host)
{
    g_autofree char *args = g_strdup_printf("kill-host %s", host);

    ck_assert(run_lab(args));
}

static const struct {
    const char *driver;
    void (*setup)(void);
    void (*teardown)(void);
    void (*kill_host)(VbConn *conn, const char *host);
} builders[] = {
    { "sim", sim_setup, NULL, sim_kill_host },
    { "libvirt", libvirt_setup, libvirt_teardown, libvirt_kill_host },
};

/* A registered driver with no builder above: its checks fail, naming it. */
static const char *missing_driver;

static void
missing_setup(void)
{
    env.driver = missing_driver;
}

static void
env_teardown(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(builders); i++) {
        if (g_strcmp0(builders[i].driver, env.driver) == 0 && builders[i].teardown)
            builders[i].teardown();
    }
    vb_config_free(env.config);
    g_free(env.lab_dir);
    memset(&env, 0, sizeof(env));
}

/* ------------------------------------------------------------ helpers */

static const VbDriverOps *
contract_ops(void)
{
    const VbDriverOps *ops = vb_driver_find(env.driver);

    ck_assert_msg(env.config != NULL, "no contract environment for driver '%s'", env.driver);
    ck_assert(ops != NULL);
    return ops;
}

static VbConn *
contract_open(const VbDriverOps *ops)
{
    g_autoptr(GError) error = NULL;
    VbConn *conn = ops->open(env.config, &error);

    ck_assert_msg(conn != NULL, "%s: open: %s", env.driver, error ? error->message : "");
    return conn;
}

/* The single place @vm is, asserting there is exactly one. */
static void
assert_located(const VbDriverOps *ops, VbConn *conn, const char *vm, const char *host,
               gboolean running)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) locs = ops->locate(conn, vm, &error);
    const VbVmLocation *loc;

    ck_assert_msg(locs != NULL, "%s: locate %s: %s", env.driver, vm, error ? error->message : "");
    ck_assert_msg(locs->len == 1, "%s: %s is on %u hosts", env.driver, vm, locs->len);
    loc = g_ptr_array_index(locs, 0);
    ck_assert_str_eq(loc->host, host);
    ck_assert_int_eq(loc->running, running);
}

/* Polls @job on the driver's clock until it ends; returns the final info. */
static VbJobInfo
wait_job(const VbDriverOps *ops, VbConn *conn, VbJob *job)
{
    double start = ops->now(conn);
    VbJobInfo info = { 0 };

    for (;;) {
        g_autoptr(GError) error = NULL;

        vb_job_info_clear(&info);
        ck_assert_msg(ops->job_poll(conn, job, &info, &error), "%s: poll: %s", env.driver,
                      error ? error->message : "");
        ck_assert(info.progress >= 0.0 && info.progress <= 1.0);
        if (info.state != VB_JOB_RUNNING)
            return info;
        ck_assert_msg(ops->now(conn) - start < MIGRATION_WAIT_SECONDS, "%s: migration never ends",
                      env.driver);
        ops->sleep(conn, 0.2);
    }
}

/* Starts the migration @req and waits for it to complete, asserting both;
 * @what names it in failure messages ("cold move"). */
static void
migrate_to_completion(const VbDriverOps *ops, VbConn *conn, const VbMigrationRequest *req,
                      const char *what)
{
    g_autoptr(GError) error = NULL;
    VbJob *job = ops->migrate_start(conn, req, &error);
    VbJobInfo info;

    ck_assert_msg(job != NULL, "%s: %s: %s", env.driver, what, error ? error->message : "");
    info = wait_job(ops, conn, job);
    ck_assert_msg(info.state == VB_JOB_COMPLETED, "%s: %s ended %d: %s", env.driver, what,
                  info.state, info.message ? info.message : "");
    vb_job_info_clear(&info);
    ops->job_free(job);
}

/* ------------------------------------------------------------ the checks */

START_TEST(test_snapshot)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = ops->snapshot(conn, &error);
    VbHost *down;
    VbVm *disk;

    ck_assert_msg(inv != NULL, "%s: snapshot: %s", env.driver, error ? error->message : "");
    ck_assert_uint_eq(inv->hosts->len, g_strv_length((char **) all_hosts));
    for (guint i = 0; all_hosts[i]; i++) {
        VbHost *host = vb_inventory_get_host(inv, all_hosts[i]);

        ck_assert_msg(host != NULL, "%s: no host %s", env.driver, all_hosts[i]);
        ck_assert_ptr_eq(vb_inventory_host(inv, host->id), host);
        if (host->state == VB_HOST_STATE_UP) {
            ck_assert_uint_gt(host->cpu_cores, 0);
            ck_assert_uint_gt(host->memory_mib, 0);
        }
    }
    for (guint i = 0; i < LAB_HOSTS; i++)
        ck_assert_int_eq(vb_inventory_host(inv, i)->state, VB_HOST_STATE_UP);
    down = vb_inventory_get_host(inv, "lab4");
    ck_assert_int_eq(down->state, VB_HOST_STATE_DOWN);
    ck_assert_msg(down->state_reason && g_str_has_prefix(down->state_reason, "lab4: cannot connect: "),
                  "%s: reason '%s'", env.driver, down->state_reason);
    ck_assert_uint_eq(inv->vms->len, G_N_ELEMENTS(all_vms));
    for (guint i = 0; i < G_N_ELEMENTS(all_vms); i++) {
        VbVm *vm = vb_inventory_get_vm(inv, all_vms[i].vm);
        VbHost *host;
        gboolean listed = FALSE;

        ck_assert_msg(vm != NULL, "%s: no guest %s", env.driver, all_vms[i].vm);
        host = vb_inventory_host(inv, vm->host);
        ck_assert_str_eq(host->name, all_vms[i].host);
        ck_assert_int_eq(vm->state, all_vms[i].state);
        ck_assert_uint_ge(vm->vcpus, 1);
        ck_assert_uint_gt(vm->memory_mib, 0);
        for (guint j = 0; j < host->vms->len; j++)
            listed |= g_array_index(host->vms, guint, j) == vm->id;
        ck_assert(listed);
        /* A running guest's host has every CPU feature it requires (libvirt:
         * its live XML requires features of the host's named model too). */
        if (vm->state == VB_VM_STATE_RUNNING)
            ck_assert_msg(vb_bits_is_subset(&vm->cpu_features, &host->cpu_features),
                          "%s: %s needs CPU features %s lacks", env.driver, vm->name, host->name);
    }
    ck_assert(vb_vm_has_tag(vb_inventory_get_vm(inv, "pin1"), VB_TAG_NO_MIGRATE));
    ck_assert(vb_vm_is_pinned(vb_inventory_get_vm(inv, "pin1"), NULL));
    ck_assert(!vb_vm_is_pinned(vb_inventory_get_vm(inv, "g01"), NULL));
    disk = vb_inventory_get_vm(inv, "disk1");
    ck_assert_uint_eq(disk->n_disks, 1);
    ck_assert(!disk->disks[0].shared);
    ck_assert_msg(disk->disks[0].size_gib > 0.06 && disk->disks[0].size_gib < 0.07, "%s: %g GiB",
                  env.driver, disk->disks[0].size_gib);
    ops->close(conn);
}
END_TEST

static const VbHostSample *
find_sample(const VbSampleSet *set, const char *host)
{
    for (guint i = 0; i < set->hosts->len; i++) {
        const VbHostSample *s = g_ptr_array_index(set->hosts, i);

        if (g_strcmp0(s->host, host) == 0)
            return s;
    }
    return NULL;
}

static const VbVmSample *
find_vm_sample(const VbHostSample *host, const char *vm)
{
    for (guint i = 0; host->vms && i < host->vms->len; i++) {
        const VbVmSample *s = &g_array_index(host->vms, VbVmSample, i);

        if (g_strcmp0(s->name, vm) == 0)
            return s;
    }
    return NULL;
}

START_TEST(test_sample)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbSampleSet) a = ops->sample(conn, &error);
    g_autoptr(VbSampleSet) b = NULL;

    ck_assert_msg(a != NULL, "%s: sample: %s", env.driver, error ? error->message : "");
    ops->sleep(conn, 1.0);
    b = ops->sample(conn, &error);
    ck_assert_msg(b != NULL, "%s: sample: %s", env.driver, error ? error->message : "");
    for (guint i = 0; i < LAB_HOSTS; i++) {
        const VbHostSample *sa = find_sample(a, all_hosts[i]), *sb = find_sample(b, all_hosts[i]);

        ck_assert_msg(sa && sb && sa->up && sb->up, "%s: %s not sampled up", env.driver, all_hosts[i]);
        ck_assert_uint_gt(sb->cpu_cores, 0);
        ck_assert_uint_gt(sb->memory_total_mib, 0);
        ck_assert_uint_le(sb->memory_free_mib, sb->memory_total_mib);
        ck_assert_int_gt(sb->monotonic_us, sa->monotonic_us);
        ck_assert_uint_gt(sb->cpu_total_ns, sa->cpu_total_ns);
        ck_assert_uint_ge(sb->cpu_busy_ns, sa->cpu_busy_ns);
        ck_assert_uint_le(sb->cpu_busy_ns, sb->cpu_total_ns);
    }
    for (guint i = 0; i < G_N_ELEMENTS(all_vms); i++) {
        const VbVmSample *va = find_vm_sample(find_sample(a, all_vms[i].host), all_vms[i].vm);
        const VbVmSample *vb = find_vm_sample(find_sample(b, all_vms[i].host), all_vms[i].vm);

        ck_assert_msg(va && vb, "%s: %s missing from its host's sample", env.driver, all_vms[i].vm);
        ck_assert_int_eq(vb->running, all_vms[i].state == VB_VM_STATE_RUNNING);
        ck_assert_uint_ge(vb->cpu_time_ns, va->cpu_time_ns);
    }
    ck_assert(!find_sample(b, "lab4")->up);
    ck_assert(find_sample(b, "lab4")->reason != NULL);
    ops->close(conn);
}
END_TEST

START_TEST(test_migrate)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    VbMigrationSettings settings = { .max_total = 1 };
    VbMigrationRequest req = { .vm = "g03", .from = "lab2", .to = "lab3", .live = TRUE,
                               .settings = &settings };
    g_autoptr(GError) error = NULL;
    VbJob *job;
    double start;

    assert_located(ops, conn, "g03", "lab2", TRUE);
    start = ops->now(conn);
    migrate_to_completion(ops, conn, &req, "migration");
    fprintf(stderr, "%s: live migration of g03 took %.2f s\n", env.driver, ops->now(conn) - start);
    assert_located(ops, conn, "g03", "lab3", TRUE);
    /* A guest that is not on the source cannot leave it. */
    job = ops->migrate_start(conn, &req, &error);
    ck_assert_ptr_null(job);
    ck_assert(error != NULL);
    ops->close(conn);
}
END_TEST

START_TEST(test_abort)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    /* Slow enough to be caught in flight. */
    VbMigrationSettings settings = { .max_total = 1, .bandwidth_mib_s = 1 };
    VbMigrationRequest req = { .vm = "g01", .from = "lab1", .to = "lab2", .live = TRUE,
                               .settings = &settings };
    g_autoptr(GError) error = NULL;
    VbJob *job;
    VbJobInfo info;

    job = ops->migrate_start(conn, &req, &error);
    ck_assert_msg(job != NULL, "%s: migrate: %s", env.driver, error ? error->message : "");
    ops->sleep(conn, 0.5);
    ck_assert_msg(ops->job_abort(conn, job, &error), "%s: abort: %s", env.driver,
                  error ? error->message : "");
    info = wait_job(ops, conn, job);
    ck_assert_msg(info.state == VB_JOB_ABORTED, "%s: aborted migration ended %d: %s", env.driver,
                  info.state, info.message ? info.message : "");
    vb_job_info_clear(&info);
    ops->job_free(job);
    assert_located(ops, conn, "g01", "lab1", TRUE);
    ops->close(conn);
}
END_TEST

/* A live migration that copies the guest's local disk (live-storage). */
START_TEST(test_migrate_storage)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    VbMigrationSettings settings = { .max_total = 1 };
    VbMigrationRequest req = { .vm = "disk1", .from = "lab1", .to = "lab2", .live = TRUE,
                               .copy_storage = TRUE, .settings = &settings };
    double start = ops->now(conn);

    migrate_to_completion(ops, conn, &req, "storage migration");
    fprintf(stderr, "%s: storage migration of disk1 took %.2f s\n", env.driver,
            ops->now(conn) - start);
    assert_located(ops, conn, "disk1", "lab2", TRUE);
    ops->close(conn);
}
END_TEST

/* A shut-off guest moves by its definition: defined on the destination,
 * gone from the source, still shut off. */
START_TEST(test_cold_move)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    VbMigrationSettings settings = { .max_total = 1 };
    VbMigrationRequest req = { .vm = "off1", .from = "lab3", .to = "lab1", .live = FALSE,
                               .settings = &settings };

    assert_located(ops, conn, "off1", "lab3", FALSE);
    migrate_to_completion(ops, conn, &req, "cold move");
    assert_located(ops, conn, "off1", "lab1", FALSE);
    ops->close(conn);
}
END_TEST

/* A shut-off guest with a local disk: the disk goes with it. Before, the
 * clean-up of partial copies (optional op) finds none and removes nothing. */
START_TEST(test_cold_move_disk)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    VbMigrationSettings settings = { .max_total = 1 };
    VbMigrationRequest req = { .vm = "offdisk", .from = "lab3", .to = "lab2", .live = FALSE,
                               .copy_storage = TRUE, .settings = &settings };
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = NULL;
    VbVm *vm;

    /* Nothing was left by an earlier move: the clean-up removes nothing. */
    if (ops->cold_cleanup) {
        g_auto(GStrv) removed = ops->cold_cleanup(conn, "offdisk", "lab3", "lab2", &error);

        ck_assert_msg(removed != NULL, "%s: cold_cleanup: %s", env.driver,
                      error ? error->message : "");
        ck_assert_msg(removed[0] == NULL, "%s: cold_cleanup removed %s", env.driver, removed[0]);
    }
    migrate_to_completion(ops, conn, &req, "cold move with disk");
    assert_located(ops, conn, "offdisk", "lab2", FALSE);
    inv = ops->snapshot(conn, &error);
    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    vm = vb_inventory_get_vm(inv, "offdisk");
    ck_assert_uint_eq(vm->n_disks, 1);
    ck_assert_msg(vm->disks[0].size_gib > 0.015 && vm->disks[0].size_gib < 0.016,
                  "%s: %g GiB", env.driver, vm->disks[0].size_gib);
    ops->close(conn);
}
END_TEST

/* job_find may only fail for the host that is down (lab4: it cannot say
 * whether a migration leaves it); any other error fails the test. */
static void
assert_only_down_host(GError **error)
{
    if (*error)
        ck_assert_msg(strstr((*error)->message, "lab4") != NULL, "%s: job_find: %s", env.driver,
                      (*error)->message);
    g_clear_error(error);
}

/* Polls job_find until the migration of @vm shows on its source (10 s at most). */
static VbJob *
find_in_flight(const VbDriverOps *ops, VbConn *conn, const char *vm, GError **error)
{
    VbJob *found = NULL;

    for (double start = ops->now(conn); !found && ops->now(conn) - start < 10.0;
         ops->sleep(conn, 0.05)) {
        found = ops->job_find(conn, vm, error);
        if (!found)
            assert_only_down_host(error);
    }
    return found;
}

/* After a crash the executor re-attaches to migrations in flight (job_find,
 * optional): here the first handle stays with us, a second one is found and
 * aborted through, and both see the migration end without moving the guest. */
START_TEST(test_job_find)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    VbMigrationSettings settings = { .max_total = 1, .bandwidth_mib_s = 1 };
    VbMigrationRequest req = { .vm = "g02", .from = "lab1", .to = "lab2", .live = TRUE,
                               .settings = &settings };
    g_autoptr(GError) error = NULL;
    VbJob *job, *found;
    VbJobInfo info;

    if (!ops->job_find) {
        ops->close(conn);
        return;
    }
    ck_assert_ptr_null(ops->job_find(conn, "g02", &error));
    assert_only_down_host(&error);
    job = ops->migrate_start(conn, &req, &error);
    ck_assert_msg(job != NULL, "%s: migrate: %s", env.driver, error ? error->message : "");
    found = find_in_flight(ops, conn, "g02", &error);
    if (!found) {
        info = wait_job(ops, conn, job);
        ck_assert_msg(FALSE, "%s: job_find: %s (the migration ended %d: %s)", env.driver,
                      error ? error->message : "none", info.state, info.message);
    }
    ck_assert_msg(ops->job_abort(conn, found, &error), "%s: abort: %s", env.driver,
                  error ? error->message : "");
    info = wait_job(ops, conn, found);
    ck_assert_msg(info.state == VB_JOB_ABORTED, "%s: found job ended %d: %s", env.driver,
                  info.state, info.message ? info.message : "");
    vb_job_info_clear(&info);
    info = wait_job(ops, conn, job);
    ck_assert_msg(info.state != VB_JOB_COMPLETED, "%s: the migration went on", env.driver);
    vb_job_info_clear(&info);
    ops->job_free(found);
    ops->job_free(job);
    assert_located(ops, conn, "g02", "lab1", TRUE);
    ck_assert_ptr_null(ops->job_find(conn, "g02", &error));
    ops->close(conn);
}
END_TEST

/* Last, as it breaks the environment: a host lost under an open connection
 * shows down with a reason in samples and snapshots, and the others go on. */
START_TEST(test_host_lost)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbSampleSet) before = ops->sample(conn, &error);
    g_autoptr(VbSampleSet) after = NULL;
    g_autoptr(VbInventory) inv = NULL;
    VbHost *lost;

    ck_assert_msg(before != NULL, "%s", error ? error->message : "");
    ck_assert(find_sample(before, "lab3")->up);
    for (guint i = 0; i < G_N_ELEMENTS(builders); i++) {
        if (strcmp(builders[i].driver, env.driver) == 0)
            builders[i].kill_host(conn, "lab3");
    }
    ops->sleep(conn, 0.1);
    after = ops->sample(conn, &error);
    ck_assert_msg(after != NULL, "%s", error ? error->message : "");
    ck_assert(!find_sample(after, "lab3")->up);
    ck_assert(find_sample(after, "lab3")->reason && *find_sample(after, "lab3")->reason);
    ck_assert(find_sample(after, "lab1")->up);
    inv = ops->snapshot(conn, &error);
    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    lost = vb_inventory_get_host(inv, "lab3");
    ck_assert_int_eq(lost->state, VB_HOST_STATE_DOWN);
    ck_assert(lost->state_reason && *lost->state_reason);
    ck_assert_int_eq(vb_inventory_get_host(inv, "lab1")->state, VB_HOST_STATE_UP);
    fprintf(stderr, "%s: lost host: %s\n", env.driver, lost->state_reason);
    ops->close(conn);
}
END_TEST

/* A re-attached migration left to run: its handle ends COMPLETED once the
 * guest has left the source (there the guest is gone, not idle). */
START_TEST(test_job_find_completes)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    VbMigrationSettings settings = { .max_total = 1, .bandwidth_mib_s = 8 };
    VbMigrationRequest req = { .vm = "g02", .from = "lab1", .to = "lab2", .live = TRUE,
                               .settings = &settings };
    g_autoptr(GError) error = NULL;
    VbJob *job, *found = NULL;
    VbJobInfo info;

    if (!ops->job_find) {
        ops->close(conn);
        return;
    }
    job = ops->migrate_start(conn, &req, &error);
    ck_assert_msg(job != NULL, "%s: migrate: %s", env.driver, error ? error->message : "");
    found = find_in_flight(ops, conn, "g02", &error);
    ck_assert_msg(found != NULL, "%s: job_find: %s", env.driver, error ? error->message : "none");
    info = wait_job(ops, conn, found);
    ck_assert_msg(info.state == VB_JOB_COMPLETED, "%s: re-attached job ended %d: %s", env.driver,
                  info.state, info.message ? info.message : "");
    vb_job_info_clear(&info);
    info = wait_job(ops, conn, job);
    ck_assert_int_eq(info.state, VB_JOB_COMPLETED);
    vb_job_info_clear(&info);
    ops->job_free(found);
    ops->job_free(job);
    assert_located(ops, conn, "g02", "lab2", TRUE);
    ops->close(conn);
}
END_TEST

START_TEST(test_locate_unknown)
{
    const VbDriverOps *ops = contract_ops();
    VbConn *conn = contract_open(ops);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) locs = ops->locate(conn, "no-such-guest", &error);

    ck_assert_msg(locs != NULL, "%s: %s", env.driver, error ? error->message : "");
    ck_assert_uint_eq(locs->len, 0);
    ops->close(conn);
}
END_TEST

static Suite *
contract_suite(void)
{
    Suite *s = suite_create("drivers-contract");

    for (guint i = 0; vb_drivers[i]; i++) {
        TCase *tc = tcase_create(vb_drivers[i]->name);

        void (*setup)(void) = missing_setup;

        for (guint b = 0; b < G_N_ELEMENTS(builders); b++) {
            if (strcmp(builders[b].driver, vb_drivers[i]->name) == 0)
                setup = builders[b].setup;
        }
        if (setup == missing_setup)
            missing_driver = vb_drivers[i]->name;
        tcase_add_unchecked_fixture(tc, setup, env_teardown);
        tcase_set_timeout(tc, 600);
        /* Order matters only for readability: each check reads the state it needs. */
        tcase_add_test(tc, test_snapshot);
        tcase_add_test(tc, test_sample);
        tcase_add_test(tc, test_locate_unknown);
        tcase_add_test(tc, test_migrate);
        tcase_add_test(tc, test_abort);
        tcase_add_test(tc, test_job_find);
        tcase_add_test(tc, test_job_find_completes);
        tcase_add_test(tc, test_cold_move);
        tcase_add_test(tc, test_cold_move_disk);
        tcase_add_test(tc, test_migrate_storage);
        tcase_add_test(tc, test_host_lost); /* last: it breaks lab3 */
        suite_add_tcase(s, tc);
    }
    return s;
}

VB_TEST_MAIN(contract_suite)
