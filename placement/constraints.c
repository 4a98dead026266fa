/*
 * constraints.c: the hard constraints the planners respect, the soft rules
 * they weigh, and the kind of migration a move is.
 *
 * vb_state_refusal() answers "may this guest go to that host, given
 * everything planned so far" against the working state, checking in a fixed
 * order and stopping at the first refusal, so a rejection always names one
 * constraint: guest-level ones first (on two hosts, pinned, excluded,
 * cooldown, the daily move cap unless a must-rule repair waives it), then
 * the destination's state, pool, hypervisor, CPU (vendor; every feature
 * the guest needs, its named model's included; a guest with its host's own
 * CPU, host-passthrough or maximum, only onto the same CPU model and
 * features), label rules, affinity, and the capacities (memory after the
 * reserve, vCPUs under the overcommit, storage for copied disks: 3x free on
 * the destination, 2x on the source).
 *
 * The fast path (@why == NULL) does no allocation: the planners call it for
 * every candidate; the sentence is only written for rejections people see.
 * O(1) per call plus O(rules of the guest) and O(feature words).
 */
#include "config.h"

#include "placement/placement-priv.h"

static VbRejectCode refuse(GString *why, VbRejectCode code, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static VbRejectCode
refuse(GString *why, VbRejectCode code, const char *format, ...)
{
    va_list args;

    if (why) {
        va_start(args, format);
        g_string_append_vprintf(why, format, args);
        va_end(args);
    }
    return code;
}

static VbRejectCode
guest_refusal(const VbState *st, const VbVm *vm, GString *why)
{
    g_autofree char *pinned = NULL;

    switch (st->fixed[vm->id]) {
    case VB_REJECT_ON_TWO_HOSTS:
        /* Planned from the host the snapshot happened to list it on, a move
         * could start from the copy that does not hold its memory. */
        return refuse(why, VB_REJECT_ON_TWO_HOSTS,
                      "%s is running or paused on two hosts (paused on both after a failed "
                      "post-copy, or a migration in flight): it is left alone until it runs "
                      "on one",
                      vm->name);
    case VB_REJECT_PINNED:
        if (why)
            vb_vm_is_pinned(vm, &pinned);
        return refuse(why, VB_REJECT_PINNED, "%s %s", vm->name, pinned ? pinned : "");
    case VB_REJECT_VM_EXCLUDED:
        return refuse(why, VB_REJECT_VM_EXCLUDED, "%s is excluded from balancing by the policy",
                      vm->name);
    case VB_REJECT_COOLDOWN:
        return refuse(why, VB_REJECT_COOLDOWN,
                      "%s moved %" G_GINT64_FORMAT " s ago, within the %u s cooldown", vm->name,
                      st->now - vm->last_migrated, st->policy->cooldown_seconds);
    case VB_REJECT_MOVE_CAP:
        if (st->cap_waived)
            return VB_REJECT_LAST;
        return refuse(why, VB_REJECT_MOVE_CAP,
                      "%s moved %u time%s in the last 24 h, the most the policy allows "
                      "(max_moves_per_vm_per_day %u)",
                      vm->name, vm->moves_last_day, vm->moves_last_day == 1 ? "" : "s",
                      st->policy->max_moves_per_vm_per_day);
    default:
        return VB_REJECT_LAST;
    }
}

static VbRejectCode
host_refusal(const VbState *st, const VbVm *vm, const VbHost *from, const VbHost *to, GString *why)
{
    if (to->id == st->vm_host[vm->id])
        return refuse(why, VB_REJECT_SAME_HOST, "%s is already on %s", vm->name, to->name);
    if (to->id == st->evacuated)
        return refuse(why, VB_REJECT_HOST_NOT_UP, "%s is being evacuated", to->name);
    if (to->state != VB_HOST_STATE_UP)
        return refuse(why, VB_REJECT_HOST_NOT_UP, "%s is %s%s%s", to->name,
                      to->state == VB_HOST_STATE_MAINTENANCE ? "in maintenance" : "down",
                      to->state_reason ? ": " : "", to->state_reason ? to->state_reason : "");
    if (st->excluded[to->id])
        return refuse(why, VB_REJECT_HOST_EXCLUDED, "%s is excluded from balancing by the policy",
                      to->name);
    if (st->excluded[from->id] && from->id != st->evacuated)
        return refuse(why, VB_REJECT_HOST_EXCLUDED,
                      "%s's host %s is excluded from balancing by the policy", vm->name,
                      from->name);
    if (to->pool != from->pool && !st->policy->allow_cross_pool) {
        /* Most of an unplaced guest's rejections at 10,000 hosts in many
         * pools: written without printf, the same sentence as the others'
         * "%s is in pool %s, not %s (...)". */
        if (why) {
            g_string_append(why, to->name);
            g_string_append(why, " is in pool ");
            g_string_append(why, vb_inventory_pool(st->inv, to->pool)->name);
            g_string_append(why, ", not ");
            g_string_append(why, vb_inventory_pool(st->inv, from->pool)->name);
            g_string_append(why, " (the policy does not allow cross-pool moves)");
        }
        return VB_REJECT_OTHER_POOL;
    }
    if (g_strcmp0(to->hypervisor, from->hypervisor) != 0)
        return refuse(why, VB_REJECT_HYPERVISOR, "%s runs %s, %s runs on %s", to->name,
                      to->hypervisor ? to->hypervisor : "an unknown hypervisor", vm->name,
                      from->hypervisor ? from->hypervisor : "an unknown hypervisor");
    if (g_strcmp0(to->cpu_vendor, from->cpu_vendor) != 0)
        return refuse(why, VB_REJECT_CPU_VENDOR, "%s has %s CPUs, %s runs on %s", to->name,
                      to->cpu_vendor ? to->cpu_vendor : "unknown", vm->name,
                      from->cpu_vendor ? from->cpu_vendor : "unknown");
    return VB_REJECT_LAST;
}

/* Appends the features of @need that @have lacks, at most three by name
 * ("avx512f, avx512vnni and 4 more"). */
void
vb_cpu_append_missing(GString *why, const VbInventory *inv, const VbBits *need, const VbBits *have)
{
    guint n = 0;

    for (gint bit = vb_bits_next(need, 0); bit >= 0; bit = vb_bits_next(need, bit + 1)) {
        if (vb_bits_test(have, bit))
            continue;
        if (n < 3) {
            g_string_append(why, n > 0 ? ", " : "");
            g_string_append(why, vb_strtab_name(inv->features, bit));
        }
        n++;
    }
    if (n > 3)
        g_string_append_printf(why, " and %u more", n - 3);
}

/* TRUE when @vm runs with the CPU of the host it is on, not a model of its
 * own: host-passthrough and maximum, and host-model before libvirt fixed it
 * to a model (a running host-model guest's live XML names its model). A
 * shut-off guest gets the CPU of whichever host starts it. */
static gboolean
vm_has_hosts_cpu(const VbVm *vm)
{
    if (vm->state == VB_VM_STATE_SHUTOFF)
        return FALSE;
    return vm->cpu_mode == VB_CPU_MODE_HOST_PASSTHROUGH || vm->cpu_mode == VB_CPU_MODE_MAXIMUM ||
           (vm->cpu_mode == VB_CPU_MODE_HOST_MODEL && !vm->cpu_model);
}

/* "kvm2 cannot run d1's CPU (Icelake-Server): ", the start of every CPU
 * refusal; a guest with its host's CPU shows its mode and that model. */
static void
cpu_intro(GString *why, const VbVm *vm, const VbHost *from, const VbHost *to)
{
    const char *model = vm->cpu_model;

    g_string_append_printf(why, "%s cannot run %s's CPU", to->name, vm->name);
    if (vm_has_hosts_cpu(vm)) {
        model = model ? model : from->cpu_model;
        g_string_append_printf(why, " (%s%s%s)", vb_cpu_mode_to_string(vm->cpu_mode),
                               model ? ", " : "", model ? model : "");
    } else if (model) {
        g_string_append_printf(why, " (%s)", model);
    }
    g_string_append(why, ": ");
}

/* A guest with its host's CPU sees every feature of it, and that CPU cannot
 * change under it: the destination must be the same model (the one recorded
 * on the guest, else its host's) with the same features as its host. */
static VbRejectCode
hosts_cpu_refusal(const VbState *st, const VbVm *vm, const VbHost *from, const VbHost *to,
                  GString *why)
{
    const char *model = vm->cpu_model ? vm->cpu_model : from->cpu_model;
    gboolean same_model = g_strcmp0(to->cpu_model, model) == 0;
    gboolean fewer = !vb_bits_is_subset(&from->cpu_features, &to->cpu_features);

    if (same_model && !fewer && vb_bits_is_subset(&to->cpu_features, &from->cpu_features))
        return VB_REJECT_LAST;
    if (!why)
        return VB_REJECT_CPU_FEATURES;
    cpu_intro(why, vm, from, to);
    if (!same_model) {
        g_string_append_printf(why, "%s's CPU is %s", to->name,
                               to->cpu_model ? to->cpu_model : "of an unknown model");
    } else if (fewer) {
        g_string_append(why, "missing ");
        vb_cpu_append_missing(why, st->inv, &from->cpu_features, &to->cpu_features);
    } else {
        g_string_append_printf(why, "%s has ", to->name);
        vb_cpu_append_missing(why, st->inv, &to->cpu_features, &from->cpu_features);
        g_string_append_printf(why, " that %s lacks", from->name);
    }
    g_string_append_printf(why, " (a %s guest moves only between identical CPUs)",
                           vb_cpu_mode_to_string(vm->cpu_mode));
    return VB_REJECT_CPU_FEATURES;
}

static VbRejectCode
features_refusal(const VbState *st, const VbVm *vm, const VbHost *from, const VbHost *to,
                 GString *why)
{
    if (!vb_bits_is_subset(&vm->cpu_features, &to->cpu_features)) {
        if (why) {
            cpu_intro(why, vm, from, to);
            g_string_append(why, "missing ");
            vb_cpu_append_missing(why, st->inv, &vm->cpu_features, &to->cpu_features);
        }
        return VB_REJECT_CPU_FEATURES;
    }
    if (vm_has_hosts_cpu(vm))
        return hosts_cpu_refusal(st, vm, from, to, why);
    return VB_REJECT_LAST;
}

/* Hard rules: host labels, then affinity groups. */
static VbRejectCode
rule_refusal(const VbState *st, const VbVm *vm, const VbHost *to, GString *why)
{
    for (guint i = st->rule_start[vm->id]; i < st->rule_start[vm->id + 1]; i++) {
        guint r = st->rule_index[i];
        const VbRuleRef *ref = &st->rules[r];
        gboolean labelled = vb_bits_intersects(&to->labels, &ref->host_labels);

        if (!ref->rule->hard)
            continue;
        switch (ref->rule->kind) {
        case VB_RULE_HOST_AFFINITY:
            if (!labelled)
                return refuse(why, VB_REJECT_HOST_RULE,
                              "rule %s: %s must run on hosts labelled %s; %s is not",
                              ref->rule->name, vm->name, ref->rule->host_labels[0], to->name);
            break;
        case VB_RULE_HOST_ANTI_AFFINITY:
            if (labelled)
                return refuse(why, VB_REJECT_HOST_RULE,
                              "rule %s: %s must avoid hosts labelled %s; %s is one",
                              ref->rule->name, vm->name, ref->rule->host_labels[0], to->name);
            break;
        case VB_RULE_VM_AFFINITY:
            /* A member may only join a host holding another member, so a
             * group never splits (evacuate moves whole groups itself). */
            if (vb_state_rule_count(st, r, to->id) == 0 &&
                !(st->evacuating && st->vm_host[vm->id] == st->evacuated &&
                  vb_state_rule_count(st, r, st->evacuated) == ref->members->len))
                return refuse(why, VB_REJECT_AFFINITY,
                              "rule %s: %s must stay with its group, none of which is on %s",
                              ref->rule->name, vm->name, to->name);
            break;
        case VB_RULE_VM_ANTI_AFFINITY:
            if (vb_state_rule_count(st, r, to->id) > 0)
                return refuse(why, VB_REJECT_AFFINITY,
                              "rule %s: %s must not share a host with the other members, "
                              "one of which is on %s",
                              ref->rule->name, vm->name, to->name);
            break;
        default:
            break;
        }
    }
    return VB_REJECT_LAST;
}

static VbRejectCode
capacity_refusal(const VbState *st, const VbVm *vm, const VbHost *from, const VbHost *to,
                 GString *why)
{
    const VbPolicy *policy = st->policy;
    double copied = vb_vm_copied_gib(st->inv, vm, to->pool);

    if (vb_vm_counts_on_dest(policy, vm)) {
        if (st->mem_free[to->id] < (double) vm->memory_mib)
            return refuse(why, VB_REJECT_MEMORY,
                          "%s needs %" G_GUINT64_FORMAT " MiB, %s has %.0f MiB free after "
                          "the %" G_GUINT64_FORMAT " MiB reserve",
                          vm->name, vm->memory_mib, to->name, MAX(st->mem_free[to->id], 0.0),
                          vb_policy_memory_reserve_mib(policy, to->memory_mib));
        if (st->vcpus_free[to->id] < (double) vm->vcpus)
            return refuse(why, VB_REJECT_CPU_OVERCOMMIT,
                          "%s needs %u vCPUs, %s has %.0f left under the overcommit of "
                          "%.1f per core (%u cores)",
                          vm->name, vm->vcpus, to->name, MAX(st->vcpus_free[to->id], 0.0),
                          policy->cpu_overcommit, to->cpu_cores);
    }
    if (copied > 0 && st->storage_free[to->id] < 3 * copied)
        return refuse(why, VB_REJECT_STORAGE_DEST,
                      "%s copies %.1f GiB of disks, %s has %.1f GiB free (needs 3x: %.1f GiB)",
                      vm->name, copied, to->name, MAX(st->storage_free[to->id], 0.0), 3 * copied);
    /* An evacuation is reordered longest first, so there the source must
     * have room without what other departures give back; a rebalance is
     * ordered and vb_plan_waits_for() tells the executor so. */
    double source_free =
        st->storage_free[from->id] - (st->evacuating ? st->storage_credit[from->id] : 0);

    if (copied > 0 && source_free < 2 * copied)
        return refuse(why, VB_REJECT_STORAGE_SOURCE,
                      "%s copies %.1f GiB of disks, its host %s has %.1f GiB free (needs 2x: "
                      "%.1f GiB)",
                      vm->name, copied, from->name, MAX(source_free, 0.0), 2 * copied);
    return VB_REJECT_LAST;
}

VbRejectCode
vb_state_refusal(const VbState *st, guint vm, guint to, GString *why)
{
    const VbVm *v = vb_inventory_vm(st->inv, vm);
    const VbHost *from = vb_inventory_host(st->inv, st->vm_host[vm]);
    const VbHost *dest = vb_inventory_host(st->inv, to);
    VbRejectCode code;

    if ((code = guest_refusal(st, v, why)) != VB_REJECT_LAST)
        return code;
    if ((code = host_refusal(st, v, from, dest, why)) != VB_REJECT_LAST)
        return code;
    if ((code = features_refusal(st, v, from, dest, why)) != VB_REJECT_LAST)
        return code;
    if ((code = rule_refusal(st, v, dest, why)) != VB_REJECT_LAST)
        return code;
    return capacity_refusal(st, v, from, dest, why);
}

gboolean
vb_state_movable(const VbState *st, guint vm)
{
    return st->fixed[vm] == VB_REJECT_LAST ||
           (st->fixed[vm] == VB_REJECT_MOVE_CAP && st->cap_waived);
}

gboolean
vb_state_capped(const VbState *st, guint vm)
{
    return st->fixed[vm] == VB_REJECT_MOVE_CAP;
}

/* TRUE when soft rule @r is broken for @vm were it on @host. */
static gboolean
soft_broken(const VbState *st, guint r, guint vm, guint host)
{
    const VbRuleRef *ref = &st->rules[r];
    const VbHost *h = vb_inventory_host(st->inv, host);
    guint others = vb_state_rule_count(st, r, host) - (st->vm_host[vm] == host ? 1 : 0);

    switch (ref->rule->kind) {
    case VB_RULE_VM_AFFINITY:
        return others == 0 && ref->members->len > 1;
    case VB_RULE_VM_ANTI_AFFINITY:
        return others > 0;
    case VB_RULE_HOST_AFFINITY:
        return !vb_bits_intersects(&h->labels, &ref->host_labels);
    case VB_RULE_HOST_ANTI_AFFINITY:
        return vb_bits_intersects(&h->labels, &ref->host_labels);
    default:
        return FALSE;
    }
}

gboolean
vb_state_rule_holds(const VbState *st, guint r, guint vm, guint host)
{
    return !soft_broken(st, r, vm, host);
}

int
vb_state_soft_breaks(const VbState *st, guint vm, guint to)
{
    int delta = 0;

    for (guint i = st->rule_start[vm]; i < st->rule_start[vm + 1]; i++) {
        guint r = st->rule_index[i];

        if (st->rules[r].rule->hard)
            continue;
        delta += soft_broken(st, r, vm, to) - soft_broken(st, r, vm, st->vm_host[vm]);
    }
    return delta;
}

double
vb_state_soft_weight(const VbState *st, guint vm, guint to)
{
    double delta = 0;

    for (guint i = st->rule_start[vm]; i < st->rule_start[vm + 1]; i++) {
        guint r = st->rule_index[i];
        const VbRule *rule = st->rules[r].rule;

        if (rule->hard)
            continue;
        delta += rule->weight *
                 (soft_broken(st, r, vm, to) - soft_broken(st, r, vm, st->vm_host[vm]));
    }
    return delta;
}

double
vb_state_soft_broken_weight(const VbState *st, guint vm)
{
    double broken = 0;

    for (guint i = st->rule_start[vm]; i < st->rule_start[vm + 1]; i++) {
        guint r = st->rule_index[i];

        if (!st->rules[r].rule->hard && soft_broken(st, r, vm, st->vm_host[vm]))
            broken += st->rules[r].rule->weight;
    }
    return broken;
}

VbMoveKind
vb_state_move_kind(const VbState *st, guint vm, guint to)
{
    const VbVm *v = vb_inventory_vm(st->inv, vm);

    if (v->state == VB_VM_STATE_SHUTOFF)
        return VB_MOVE_COLD;
    if (vb_vm_copied_gib(st->inv, v, vb_inventory_host(st->inv, to)->pool) > 0)
        return VB_MOVE_LIVE_STORAGE;
    return VB_MOVE_LIVE;
}
