/*
 * drivers.c: the registry of drivers and the small destructors every driver
 * shares (samples, locations, job infos).
 *
 * vb_drivers[] is the one list the CLI, the collectors and the contract test
 * walk; a driver is usable once its table is listed here. The destructors
 * accept NULL and half-filled structures, since drivers build samples
 * incrementally and may give up midway.
 */
#include "config.h"

#include "drivers/drivers.h"

const VbDriverOps *const vb_drivers[] = {
    &vb_driver_sim,
    &vb_driver_libvirt,
    NULL,
};

const VbDriverOps *
vb_driver_find(const char *name)
{
    for (guint i = 0; name && vb_drivers[i]; i++) {
        if (g_strcmp0(vb_drivers[i]->name, name) == 0)
            return vb_drivers[i];
    }
    return NULL;
}

static void
vb_vm_sample_clear(gpointer data)
{
    VbVmSample *vm = data;

    g_clear_pointer(&vm->name, g_free);
}

/* Builds an empty host sample whose vms array frees its entries. Shared by
 * drivers (transfer full). */
VbHostSample *
vb_host_sample_new(const char *host)
{
    VbHostSample *sample = g_new0(VbHostSample, 1);

    sample->host = g_strdup(host);
    sample->vms = g_array_new(FALSE, TRUE, sizeof(VbVmSample));
    g_array_set_clear_func(sample->vms, vb_vm_sample_clear);
    return sample;
}

void
vb_host_sample_free(VbHostSample *sample)
{
    if (!sample)
        return;
    g_free(sample->host);
    g_free(sample->reason);
    if (sample->vms)
        g_array_unref(sample->vms);
    g_free(sample);
}

VbSampleSet *
vb_sample_set_new(void)
{
    VbSampleSet *set = g_new0(VbSampleSet, 1);

    set->hosts = g_ptr_array_new_with_free_func((GDestroyNotify) vb_host_sample_free);
    return set;
}

void
vb_sample_set_free(VbSampleSet *set)
{
    if (!set)
        return;
    if (set->hosts)
        g_ptr_array_unref(set->hosts);
    g_free(set);
}

void
vb_vm_location_free(VbVmLocation *loc)
{
    if (!loc)
        return;
    g_free(loc->host);
    g_free(loc);
}

void
vb_job_info_clear(VbJobInfo *info)
{
    if (!info)
        return;
    g_clear_pointer(&info->message, g_free);
}
