/*
 * libvirt-sample.c: raw counters from real hosts, in bulk.
 *
 * Per host and per sample: one virConnectGetAllDomainStats call for every
 * guest (state, cpu.time, balloon, vcpu, block), node CPU and memory stats,
 * and the storage figures; hosts are sampled concurrently, one thread each,
 * so a sample of N hosts takes about as long as the slowest host.
 *
 * The driver keeps each host's two latest samples, so that a snapshot can
 * carry load figures (CPU usage needs two samples); the collectors compute
 * their own averages from the raw counters returned here.
 */
#include "config.h"

#include <string.h>

#include "drivers/libvirt-priv.h"

#define VB_KIB_PER_MIB 1024

/* A typed parameter's value as an unsigned integer, whatever its type. */
static guint64
vb_lv_param_u64(const virTypedParameter *param)
{
    switch (param->type) {
    case VIR_TYPED_PARAM_INT:
        return param->value.i > 0 ? (guint64) param->value.i : 0;
    case VIR_TYPED_PARAM_UINT:
        return param->value.ui;
    case VIR_TYPED_PARAM_LLONG:
        return param->value.l > 0 ? (guint64) param->value.l : 0;
    case VIR_TYPED_PARAM_ULLONG:
        return param->value.ul;
    case VIR_TYPED_PARAM_DOUBLE:
        return param->value.d > 0 ? (guint64) param->value.d : 0;
    default:
        return 0;
    }
}

void
vb_lv_vm_sample_fill(VbVmSample *vm, const char *name, const virTypedParameter *params, int n)
{
    guint64 block_bytes = 0;

    vm->name = g_strdup(name);
    for (int i = 0; i < n; i++) {
        const virTypedParameter *p = &params[i];
        guint64 v = vb_lv_param_u64(p);

        if (strcmp(p->field, "state.state") == 0)
            vm->running = v == VIR_DOMAIN_RUNNING || v == VIR_DOMAIN_PAUSED ||
                          v == VIR_DOMAIN_BLOCKED;
        else if (strcmp(p->field, "cpu.time") == 0)
            vm->cpu_time_ns = v;
        else if (strcmp(p->field, "balloon.current") == 0)
            vm->memory_mib = v / VB_KIB_PER_MIB;
        else if (strcmp(p->field, "balloon.rss") == 0)
            vm->rss_mib = v / VB_KIB_PER_MIB;
        else if (strcmp(p->field, "vcpu.current") == 0)
            vm->vcpus = (guint) v;
        else if (g_str_has_prefix(p->field, "block.") && g_str_has_suffix(p->field, ".allocation"))
            block_bytes += v;
    }
    vm->disk_allocation_mib = block_bytes / (1024 * 1024);
}

void
vb_lv_node_cpu_fill(VbHostSample *sample, const virNodeCPUStats *params, int n)
{
    for (int i = 0; i < n; i++) {
        const char *f = params[i].field;
        gboolean busy = strcmp(f, VIR_NODE_CPU_STATS_KERNEL) == 0 ||
                        strcmp(f, VIR_NODE_CPU_STATS_USER) == 0;

        if (busy)
            sample->cpu_busy_ns += params[i].value;
        if (busy || strcmp(f, VIR_NODE_CPU_STATS_IDLE) == 0 ||
            strcmp(f, VIR_NODE_CPU_STATS_IOWAIT) == 0)
            sample->cpu_total_ns += params[i].value;
    }
}

/* Free memory counts the page cache and buffers too: the kernel gives them
 * back to guests on demand. */
void
vb_lv_node_memory_fill(VbHostSample *sample, const virNodeMemoryStats *params, int n)
{
    guint64 free_kib = 0;

    for (int i = 0; i < n; i++) {
        if (strcmp(params[i].field, VIR_NODE_MEMORY_STATS_TOTAL) == 0)
            sample->memory_total_mib = params[i].value / VB_KIB_PER_MIB;
        else if (strcmp(params[i].field, VIR_NODE_MEMORY_STATS_FREE) == 0 ||
                 strcmp(params[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) == 0 ||
                 strcmp(params[i].field, VIR_NODE_MEMORY_STATS_CACHED) == 0)
            free_kib += params[i].value;
    }
    sample->memory_free_mib = MIN(free_kib / VB_KIB_PER_MIB, sample->memory_total_mib);
}

static gboolean
vb_lv_sample_guests(VbLvHost *host, virConnectPtr conn, VbHostSample *sample, GError **error)
{
    unsigned int stats = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
                         VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
                         VIR_DOMAIN_STATS_BLOCK;
    virDomainStatsRecordPtr *records = NULL;
    /* NOWAIT: a guest busy with a migration gives what it can at once
     * rather than holding the whole sample. */
    int n = virConnectGetAllDomainStats(conn, stats, &records,
                                        VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);

    if (n < 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot read guest statistics");
    for (int i = 0; i < n; i++) {
        VbVmSample vm = { 0 };

        vb_lv_vm_sample_fill(&vm, virDomainGetName(records[i]->dom), records[i]->params,
                             records[i]->nparams);
        g_array_append_val(sample->vms, vm);
    }
    virDomainStatsRecordListFree(records);
    return TRUE;
}

static gboolean
vb_lv_sample_node_cpu(VbLvHost *host, virConnectPtr conn, VbHostSample *sample, GError **error)
{
    int n = 0;
    g_autofree virNodeCPUStatsPtr params = NULL;
    virNodeInfo info;

    if (virNodeGetInfo(conn, &info) < 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot read node info");
    sample->cpu_cores = info.cpus;
    if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) < 0 || n <= 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot read node CPU statistics");
    params = g_new0(virNodeCPUStats, n);
    if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, params, &n, 0) < 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot read node CPU statistics");
    vb_lv_node_cpu_fill(sample, params, n);
    return TRUE;
}

static gboolean
vb_lv_sample_node_memory(VbLvHost *host, virConnectPtr conn, VbHostSample *sample,
                         GError **error)
{
    int n = 0;
    g_autofree virNodeMemoryStatsPtr params = NULL;

    if (virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) < 0 || n <= 0) {
        virNodeInfo info;

        /* Drivers without memory stats (test://) still give total and free. */
        if (virGetLastErrorCode() != VIR_ERR_NO_SUPPORT || virNodeGetInfo(conn, &info) < 0)
            return vb_lv_error(error, VB_ERROR_CONNECT, host->name,
                               "cannot read node memory statistics");
        virResetLastError();
        sample->memory_total_mib = info.memory / VB_KIB_PER_MIB;
        sample->memory_free_mib = MIN(virNodeGetFreeMemory(conn) / (1024 * 1024),
                                      sample->memory_total_mib);
        virResetLastError();
        return TRUE;
    }
    params = g_new0(virNodeMemoryStats, n);
    if (virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, params, &n, 0) < 0)
        return vb_lv_error(error, VB_ERROR_CONNECT, host->name, "cannot read node memory statistics");
    vb_lv_node_memory_fill(sample, params, n);
    return TRUE;
}

/* A sample of @host saying it is down, and why (transfer full). */
static VbHostSample *
vb_lv_sample_down(VbLvHost *host, const char *reason)
{
    VbHostSample *sample = vb_host_sample_new(host->name);

    sample->timestamp_us = g_get_real_time();
    sample->monotonic_us = g_get_monotonic_time();
    sample->reason = g_strdup(reason);
    return sample;
}

/* Samples one host on @conn into a new VbHostSample (transfer full); a host
 * that fails midway gives a sample with up FALSE and the reason, and its
 * connection is dropped so the next sample reconnects. */
static VbHostSample *
vb_lv_sample_host(VbLvHost *host, virConnectPtr conn)
{
    g_autoptr(VbHostSample) sample = vb_host_sample_new(host->name);
    g_autoptr(GError) error = NULL;

    sample->timestamp_us = g_get_real_time();
    sample->monotonic_us = g_get_monotonic_time();
    if (vb_lv_sample_node_cpu(host, conn, sample, &error) &&
        vb_lv_sample_node_memory(host, conn, sample, &error) &&
        vb_lv_sample_guests(host, conn, sample, &error) &&
        vb_lv_storage_get(host, conn, &sample->storage_total_gib, &sample->storage_free_gib,
                          &error)) {
        sample->up = TRUE;
        return g_steal_pointer(&sample);
    }
    vb_lv_host_mark_down(host, error->message);
    return vb_lv_sample_down(host, error->message);
}

/* A deep copy of what a snapshot needs from a sample: host counters and the
 * guests' CPU times (transfer full). */
static VbHostSample *
vb_lv_sample_copy(const VbHostSample *src)
{
    VbHostSample *copy = vb_host_sample_new(src->host);
    char *host = copy->host;
    GArray *vms = copy->vms;

    *copy = *src;
    copy->host = host;
    copy->vms = vms;
    copy->reason = g_strdup(src->reason);
    for (guint i = 0; i < src->vms->len; i++) {
        VbVmSample vm = g_array_index(src->vms, VbVmSample, i);

        vm.name = g_strdup(vm.name);
        g_array_append_val(copy->vms, vm);
    }
    return copy;
}

/* One host's sample, in a call with a deadline (never fails: a host that
 * cannot be read gives a sample saying so). The host keeps a copy of its
 * two latest samples for snapshots. */
static gpointer
vb_lv_sample_call(VbLvHost *host, virConnectPtr conn, gpointer arg, GError **error)
{
    VbHostSample *sample = vb_lv_sample_host(host, conn);

    if (sample->up) {
        g_mutex_lock(&host->lock);
        vb_host_sample_free(host->prev);
        host->prev = host->last;
        host->last = vb_lv_sample_copy(sample);
        g_mutex_unlock(&host->lock);
    }
    return sample;
}

VbSampleSet *
vb_lv_sample(VbConn *conn, GError **error)
{
    VbSampleSet *set = vb_sample_set_new();
    guint n = conn->hosts->len;
    g_autofree gpointer *results = g_new0(gpointer, n + 1);
    g_autofree GError **errors = g_new0(GError *, n + 1);

    vb_lv_hosts_call(conn, vb_lv_sample_call, NULL, (GDestroyNotify) vb_host_sample_free,
                     results, errors);
    for (guint i = 0; i < n; i++) {
        if (!results[i])
            results[i] = vb_lv_sample_down(g_ptr_array_index(conn->hosts, i), errors[i]->message);
        g_clear_error(&errors[i]);
        g_ptr_array_add(set->hosts, results[i]);
    }
    return set;
}
