/*
 * rule-warnings.c: rules that do not hold on to the pool they are applied to.
 *
 * The policy loader checks a rule on its own (policies/policy-rules.c); only
 * the pool says whether the guests it names exist. A typo in `vms` ("wbe-2")
 * or a label no guest carries silently shrinks a rule, and a rule left with
 * no guest at all is not enforced. The planners treat a missing guest as
 * simply not there (placement/state.c); this file says so, as plain data the
 * command line renders: `policy check --inventory` and every plan's
 * `warnings`.
 *
 * Invariants: pure (no I/O); the findings borrow their strings from the
 * policy and the inventory; a rule is "matching no guest" (or one guest)
 * exactly when the planners' own resolution (resolve_rule in state.c) gives
 * it no member (one member). An affinity or anti-affinity rule with one
 * member has nothing to keep together or apart: it is off as surely as one
 * with none, which is what a typo in a two-guest rule does.
 * Workload: a hash lookup per name in the rules; one pass over the guests'
 * label sets when some rule uses vm_labels (counting, per label, its
 * carriers up to two and the first of them); for each unknown name, one
 * edit-distance scan of the candidates (all guest names, or the labels
 * guests carry) for the did-you-mean. The scans share a budget of
 * SUGGEST_BUDGET name comparisons per call, so that a policy written for
 * another pool costs a plan at most a fraction of a second: past it, unknown
 * names are still reported, without a suggestion (in a pool of 200,000
 * guests, the first five unknown names get one; in one of 10,000, the first
 * hundred). The guest names are copied into one block first: the scans then
 * read memory in order instead of chasing 200,000 allocations each.
 */
#include "config.h"

#include "placement/placement.h"

const char *const vb_rule_warning_kind_names[] = {
    "no-guest", "unknown-guest", "unknown-label", "one-guest", NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(vb_rule_warning_kind_names) == VB_RULE_WARNING_LAST + 1);

/* Name comparisons the did-you-mean scans of one call may make in all. */
#define SUGGEST_BUDGET 1000000u

/* What the checks need of the pool, built on first use. */
typedef struct {
    const VbInventory *inv;
    guint budget;              /* name comparisons left for suggestions */
    GStringChunk *chunk;       /* the copies @vm_names point into */
    const char **vm_names;     /* every guest name, NULL-terminated, or NULL until asked */
    gboolean labels_known;     /* the label fields below are filled */
    guint8 *label_count;       /* per label id: guests carrying it, counted up to 2 */
    guint *label_first;        /* per label id: the first guest carrying it */
    const char **label_names;  /* the labels guests carry, NULL-terminated */
    guint n_label_names;
} Pool;

static void
pool_clear(Pool *pool)
{
    g_free(pool->vm_names);
    if (pool->chunk)
        g_string_chunk_free(pool->chunk);
    g_free(pool->label_names);
    g_free(pool->label_count);
    g_free(pool->label_first);
}

/* The closest of @candidates (@n of them) to @name, or NULL when none is
 * close or the budget does not cover a scan. */
static const char *
pool_suggest(Pool *pool, const char *name, const char *const *candidates, guint n)
{
    if (n > pool->budget)
        return NULL;
    pool->budget -= n;
    return vb_closest_word(name, candidates);
}

static const char *
pool_suggest_vm(Pool *pool, const char *name)
{
    guint n = pool->inv->vms->len;
    const char *found;

    if (n > pool->budget)
        return NULL;
    if (!pool->vm_names) {
        pool->chunk = g_string_chunk_new(MAX(n, 1) * 16);
        pool->vm_names = g_new0(const char *, n + 1);
        for (guint v = 0; v < n; v++)
            pool->vm_names[v] = g_string_chunk_insert(pool->chunk,
                                                      vb_inventory_vm(pool->inv, v)->name);
    }
    found = pool_suggest(pool, name, pool->vm_names, n);
    /* The copy goes with @pool; the caller gets the inventory's own name. */
    return found ? vb_inventory_get_vm(pool->inv, found)->name : NULL;
}

/* The labels guests carry (hosts' labels share the table but do not count):
 * one pass over the guests, on first use. */
static void
pool_load_labels(Pool *pool)
{
    const VbInventory *inv = pool->inv;
    guint n = vb_strtab_size(inv->labels);
    GPtrArray *names;

    if (pool->labels_known)
        return;
    pool->label_count = g_new0(guint8, MAX(n, 1));
    pool->label_first = g_new0(guint, MAX(n, 1));
    for (guint v = 0; v < inv->vms->len; v++) {
        const VbBits *labels = &vb_inventory_vm(inv, v)->labels;

        for (gint b = vb_bits_next(labels, 0); b >= 0 && (guint) b < n;
             b = vb_bits_next(labels, b + 1)) {
            if (pool->label_count[b] == 0)
                pool->label_first[b] = v;
            pool->label_count[b] = MIN(pool->label_count[b] + 1, 2);
        }
    }
    names = g_ptr_array_new();
    for (guint b = 0; b < n; b++)
        if (pool->label_count[b] > 0)
            g_ptr_array_add(names, (gpointer) vb_strtab_name(inv->labels, b));
    pool->n_label_names = names->len;
    g_ptr_array_add(names, NULL);
    pool->label_names = (const char **) g_ptr_array_free(names, FALSE);
    pool->labels_known = TRUE;
}

/* Guests carrying @label, counted up to 2 (the first in @ret_first). */
static guint
pool_label_carriers(Pool *pool, const char *label, guint *ret_first)
{
    guint id;

    pool_load_labels(pool);
    if (!vb_strtab_lookup(pool->inv->labels, label, &id) || pool->label_count[id] == 0)
        return 0;
    *ret_first = pool->label_first[id];
    return pool->label_count[id];
}

/* Adds guest @vm to the members seen so far (@members, at most 2 kept:
 * beyond two the rule holds on to the pool, and who they are does not
 * matter); @n_members counts them. */
static void
add_member(guint *members, guint *n_members, guint vm, guint count)
{
    if (*n_members >= 2)
        return;
    if (count >= 2) {
        *n_members = 2;
        return;
    }
    for (guint i = 0; i < *n_members; i++)
        if (members[i] == vm)
            return;
    members[(*n_members)++] = vm;
}

static void
add_warning(GArray *out, VbRuleWarningKind kind, guint rule, const char *name,
            const char *suggestion, const VbPolicyMark *marks, guint i, const VbRule *r)
{
    VbRuleWarning w = {
        .kind = kind, .rule = rule, .name = name, .suggestion = suggestion,
        .mark = marks ? marks[i] : (VbPolicyMark){ r->line, r->column },
    };

    g_array_append_val(out, w);
}

static gboolean
is_group_rule(const VbRule *rule)
{
    return rule->kind == VB_RULE_VM_AFFINITY || rule->kind == VB_RULE_VM_ANTI_AFFINITY;
}

/* The findings of rule number @r; appends them to @out. */
static void
check_rule(Pool *pool, const VbRule *rule, guint r, GArray *out)
{
    guint first = out->len;
    guint members[2], n_members = 0;

    for (guint i = 0; rule->vms && rule->vms[i]; i++) {
        const char *name = rule->vms[i];
        const VbVm *vm = vb_inventory_get_vm(pool->inv, name);

        if (vm) {
            add_member(members, &n_members, vm->id, 1);
            continue;
        }
        add_warning(out, VB_RULE_WARNING_UNKNOWN_GUEST, r, name, pool_suggest_vm(pool, name),
                    rule->vm_marks, i, rule);
    }
    for (guint i = 0; rule->vm_labels && rule->vm_labels[i]; i++) {
        const char *label = rule->vm_labels[i];
        guint carrier = 0, count = pool_label_carriers(pool, label, &carrier);

        if (count > 0) {
            add_member(members, &n_members, carrier, count);
            continue;
        }
        add_warning(out, VB_RULE_WARNING_UNKNOWN_LABEL, r, label,
                    pool_suggest(pool, label, pool->label_names, pool->n_label_names),
                    rule->vm_label_marks, i, rule);
    }
    if (n_members == 0 || (n_members == 1 && is_group_rule(rule))) {
        VbRuleWarning w = {
            .kind = n_members == 0 ? VB_RULE_WARNING_NO_GUEST : VB_RULE_WARNING_ONE_GUEST,
            .rule = r,
            .name = n_members == 0 ? NULL : vb_inventory_vm(pool->inv, members[0])->name,
            .mark = { rule->line, rule->column },
        };

        g_array_insert_val(out, first, w);
    }
}

GArray *
vb_placement_rule_warnings(const VbInventory *inv, const VbPolicy *policy)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(VbRuleWarning));
    Pool pool = { .inv = inv, .budget = SUGGEST_BUDGET };

    g_assert(inv != NULL && policy != NULL);
    for (guint r = 0; policy->rules && r < policy->rules->len; r++)
        check_rule(&pool, g_ptr_array_index(policy->rules, r), r, out);
    pool_clear(&pool);
    return out;
}
