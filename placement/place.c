/*
 * place.c: ranking every host for a guest that does not exist yet, like
 * WLB's star ratings.
 *
 * A host that can take the guest gets a score 0..100 from its weighted load
 * after placement: balance favours the host left least loaded
 * (100 * (1 - load)), consolidate the fullest host still under high-water;
 * each soft rule the guest would break costs 100 * VB_SOFT_PENALTY points.
 * Stars are 1 + score / 20 (at most 5). A host that cannot take it gets 0
 * stars and the code of the first hard constraint that refused it; refused
 * hosts are grouped by that code, one sentence per group. The spec's disk is
 * created on the host (1x its size free) unless it is shared.
 *
 * Cost: O(rule members) to build the state (rules only, no per-host
 * array: each host's figures are worked out as it is ranked, from its
 * VbHost and the inventory's per-host totals, in one pass with no memory
 * but the answer's), O(hosts * (features + rules)) to rank, and a radix
 * sort. No sentence per host: a host that takes the guest
 * keeps the figures of its reason ("load 0.31 -> 0.35", written on demand by
 * vb_placement_reason() without printf, since a renderer asks for every
 * host), a refused host its code and group (reject.c), and one sentence is
 * written per group. At 10,000 hosts a sentence per host was a quarter of
 * the time.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "placement/placement-priv.h"

typedef struct {
    const VbState *st;
    const VbVmSpec *spec;
    VbBits features;     /* the spec's features, inventory ids */
    const char *missing; /* a feature no host knows, or NULL */
    gboolean *concerns;  /* per rule: the rule applies to the spec */
    gboolean plain;      /* only capacity asked: no pool, hypervisor, vendor or
                          * feature, no rule concerns the spec */
    double demand[VB_METRIC_LAST];
    const VbHostTotals *totals; /* the inventory's per-host sums */
    gboolean any_excluded;      /* the policy excludes hosts by name */
} Placing;

/* One host being ranked: its figures, worked out once for it. */
typedef struct {
    const VbHost *host;
    VbHostFigures fig;
    gboolean excluded;     /* policy exclude_hosts */
    gboolean participates; /* up and not excluded */
} Candidate;

/* ------------------------------------------------ printf-free figures */

/* Writes @x as printf's "%.<decimals>f" would (@decimals 0 or 2), at @out
 * (room for 40 bytes); returns the end. Fast path for the figures people see
 * (0 <= x < 10^7) away from a tie at the rounded digit, where the scaled
 * value cannot round the other way than the exact one; printf itself
 * everywhere else (negative, -0, huge, NaN, ties), so the text is always
 * printf's. */
static char *
format_fixed(char *out, double x, guint decimals)
{
    double y, frac;
    guint32 n;
    char digits[16];
    guint len = 0;

    g_assert(decimals == 0 || decimals == 2);
    if (!(x >= 0 && x < 1e7) || signbit(x))
        return out + g_snprintf(out, 40, decimals ? "%.2f" : "%.0f", x);
    y = decimals ? x * 100 : x;
    n = (guint32) y; /* y >= 0: truncation is floor */
    frac = y - n;
    if (fabs(frac - 0.5) < 1e-6)
        return out + g_snprintf(out, 40, decimals ? "%.2f" : "%.0f", x);
    n += frac > 0.5;
    do {
        digits[len++] = (char) ('0' + n % 10);
        n /= 10;
    } while (n > 0);
    while (len < decimals + 1)
        digits[len++] = '0';
    while (len > decimals)
        *out++ = digits[--len];
    if (decimals) {
        *out++ = '.';
        *out++ = digits[1];
        *out++ = digits[0];
    }
    *out = '\0';
    return out;
}

static char *
format_2f(char *out, double x)
{
    return format_fixed(out, x, 2);
}

static char *
put_text(char *out, const char *text)
{
    gsize len = strlen(text);

    memcpy(out, text, len);
    return out + len;
}

/* ---------------------------------------------------------- ranking */

static gboolean
rule_concerns(const VbRule *rule, const VbVmSpec *spec)
{
    if (spec->name && rule->vms && g_strv_contains((const char *const *) rule->vms, spec->name))
        return TRUE;
    for (guint i = 0; spec->labels && spec->labels[i]; i++) {
        if (rule->vm_labels &&
            g_strv_contains((const char *const *) rule->vm_labels, spec->labels[i]))
            return TRUE;
    }
    return FALSE;
}

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

static gboolean
group_on(const VbState *st, guint r, guint host)
{
    return vb_state_rule_count(st, r, host) > 0;
}

/* Hard rules first (returns the refusal), soft ones counted in @ret_soft. */
static VbRejectCode
rules_refusal(const Placing *pl, const VbHost *h, GString *why, int *ret_soft)
{
    const VbState *st = pl->st;

    *ret_soft = 0;
    for (guint r = 0; r < st->n_rules; r++) {
        const VbRuleRef *ref = &st->rules[r];
        gboolean broken;

        if (!pl->concerns[r])
            continue;
        switch (ref->rule->kind) {
        case VB_RULE_HOST_AFFINITY:
            broken = !vb_bits_intersects(&h->labels, &ref->host_labels);
            break;
        case VB_RULE_HOST_ANTI_AFFINITY:
            broken = vb_bits_intersects(&h->labels, &ref->host_labels);
            break;
        case VB_RULE_VM_AFFINITY:
            broken = ref->members->len > 0 && !group_on(st, r, h->id);
            break;
        default:
            broken = group_on(st, r, h->id);
            break;
        }
        if (broken && ref->rule->hard)
            return refuse(why,
                          ref->rule->kind <= VB_RULE_VM_ANTI_AFFINITY ? VB_REJECT_AFFINITY
                                                                      : VB_REJECT_HOST_RULE,
                          "rule %s forbids %s", ref->rule->name, h->name);
        *ret_soft += broken;
    }
    return VB_REJECT_LAST;
}

static VbRejectCode
host_refusal(const Placing *pl, const Candidate *c, GString *why)
{
    const VbState *st = pl->st;
    const VbVmSpec *spec = pl->spec;
    const VbHost *h = c->host;
    const VbPool *pool;

    if (h->state != VB_HOST_STATE_UP)
        return refuse(why, VB_REJECT_HOST_NOT_UP, "%s is %s%s%s", h->name,
                      h->state == VB_HOST_STATE_MAINTENANCE ? "in maintenance" : "down",
                      h->state_reason ? ": " : "", h->state_reason ? h->state_reason : "");
    if (c->excluded)
        return refuse(why, VB_REJECT_HOST_EXCLUDED, "%s is excluded by the policy", h->name);
    if (spec->pool && strcmp(spec->pool, (pool = vb_inventory_pool(st->inv, h->pool))->name) != 0)
        return refuse(why, VB_REJECT_OTHER_POOL, "%s is in pool %s, not %s", h->name, pool->name,
                      spec->pool);
    if (spec->hypervisor && g_strcmp0(spec->hypervisor, h->hypervisor) != 0)
        return refuse(why, VB_REJECT_HYPERVISOR, "%s runs %s, not %s", h->name,
                      h->hypervisor ? h->hypervisor : "an unknown hypervisor", spec->hypervisor);
    if (spec->cpu_vendor && g_strcmp0(spec->cpu_vendor, h->cpu_vendor) != 0)
        return refuse(why, VB_REJECT_CPU_VENDOR, "%s has %s CPUs, not %s", h->name,
                      h->cpu_vendor ? h->cpu_vendor : "unknown", spec->cpu_vendor);
    if (pl->missing)
        return refuse(why, VB_REJECT_CPU_FEATURES, "no host has CPU feature %s", pl->missing);
    if (!vb_bits_is_subset(&pl->features, &h->cpu_features)) {
        if (why) {
            g_string_append_printf(why, "%s cannot run the guest's CPU: missing ", h->name);
            vb_cpu_append_missing(why, st->inv, &pl->features, &h->cpu_features);
        }
        return VB_REJECT_CPU_FEATURES;
    }
    return VB_REJECT_LAST;
}

/* "needs 8192 MiB, kvm3 has 2000 MiB free after the 4096 MiB reserve". */
static void
memory_sentence(const Placing *pl, const Candidate *c, GString *why)
{
    g_string_append_printf(why,
                           "needs %" G_GUINT64_FORMAT " MiB, %s has %.0f MiB free after the %"
                           G_GUINT64_FORMAT " MiB reserve",
                           pl->spec->memory_mib, c->host->name, MAX(c->fig.mem_free, 0.0),
                           vb_policy_memory_reserve_mib(pl->st->policy, c->host->memory_mib));
}

static VbRejectCode
capacity_refusal(const Placing *pl, const Candidate *c, GString *why)
{
    const VbVmSpec *spec = pl->spec;
    const VbHostFigures *f = &c->fig;

    if (f->mem_free < (double) spec->memory_mib) {
        if (why)
            memory_sentence(pl, c, why);
        return VB_REJECT_MEMORY;
    }
    if (f->vcpus_free < (double) spec->vcpus)
        return refuse(why, VB_REJECT_CPU_OVERCOMMIT,
                      "needs %u vCPUs, %s has %.0f left under the overcommit", spec->vcpus,
                      c->host->name, MAX(f->vcpus_free, 0.0));
    if (!spec->disk_shared && spec->disk_gib > f->storage_free)
        return refuse(why, VB_REJECT_STORAGE_DEST, "needs %.1f GiB of disk, %s has %.1f GiB free",
                      spec->disk_gib, c->host->name, MAX(f->storage_free, 0.0));
    return VB_REJECT_LAST;
}

static double
load_after(const Placing *pl, const Candidate *c)
{
    const VbState *st = pl->st;
    double w = c->fig.load.weighted;

    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        double cap = c->fig.cap[m];

        if (cap > 0)
            w += st->weight[m] * pl->demand[m] / cap;
    }
    return w;
}

static double
score_of(const VbPolicy *policy, double after, int soft)
{
    double score;

    if (policy->goal == VB_GOAL_CONSOLIDATE)
        score = after <= policy->high_water ? 50 + 50 * after / MAX(policy->high_water, 1e-9)
                                            : 50 * (1 - after);
    else
        score = 100 * (1 - after);
    score -= 100 * VB_SOFT_PENALTY * soft;
    return CLAMP(score, 0.0, 100.0);
}

char *
vb_placement_reason(const VbPlacement *p)
{
    char text[96] = "load ";
    char *end;

    g_return_val_if_fail(p != NULL, NULL);
    if (p->stars == 0)
        return NULL;
    end = format_2f(text + 5, p->load_before);
    end = put_text(end, " -> ");
    end = format_2f(end, p->load_after);
    if (p->soft > 0)
        return g_strdup_printf("%s; breaks %d soft rule%s", text, p->soft,
                               p->soft == 1 ? "" : "s");
    return g_strndup(text, end - text);
}

/* The first hard constraint that refuses host @c, with its sentence in @why
 * unless @why is NULL (the fast path: no allocation). For a plain spec
 * (nothing but capacity asked: see init_placing) on a host that is up and
 * not excluded only the capacity is checked. */
static VbRejectCode
refusal(const Placing *pl, const Candidate *c, GString *why, int *ret_soft)
{
    VbRejectCode code;

    *ret_soft = 0;
    if (!why && pl->plain && c->participates)
        return capacity_refusal(pl, c, why);
    if ((code = host_refusal(pl, c, why)) != VB_REJECT_LAST ||
        (code = rules_refusal(pl, c->host, why, ret_soft)) != VB_REJECT_LAST)
        return code;
    return capacity_refusal(pl, c, why);
}

/* Hosts whose VbHost is asked for ahead of ranking them. Each host is its
 * own allocation, scattered over a heap that holds every guest too (1.4 GiB
 * at 50,000 hosts), so each first read is a cache and TLB miss; the ranking
 * of one host is long enough that the processor does not reach the next
 * host's read by itself. */
#define PREFETCH_AHEAD 8

/* Asks for the lines of @host that vb_host_figures_compute() reads (from
 * cpu_cores to memory_used_mib: at most three lines). */
static inline void
prefetch_host(const VbHost *host)
{
#if defined(__GNUC__)
    const char *p = (const char *) &host->cpu_cores;

    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch((const char *) (&host->memory_used_mib + 1) - 1);
#else
    (void) host;
#endif
}

/* Ranks host @h; a refused host is counted in its group of @tally, whose
 * sentence is written (into the group) when @h is its first host. Reads the
 * host's VbHost and totals once: no per-host state is kept between hosts. */
static VbPlacement
rank_host(const Placing *pl, guint h, VbRejectTally *tally, GString *why)
{
    VbPlacement p = {.host = h, .group = G_MAXUINT};
    Candidate c = {.host = vb_inventory_host(pl->st->inv, h)};
    VbRejectGroup *g;
    gboolean fresh;

    vb_host_figures_compute(pl->st->policy, pl->st->weight, c.host, &pl->totals[h], &c.fig);
    c.excluded = pl->any_excluded && vb_state_host_excluded(pl->st, c.host);
    c.participates = c.host->state == VB_HOST_STATE_UP && !c.excluded;
    p.load_before = c.fig.load.weighted;
    p.load_after = load_after(pl, &c);
    p.code = refusal(pl, &c, NULL, &p.soft);
    if (p.code == VB_REJECT_LAST) {
        p.score = score_of(pl->st->policy, p.load_after, p.soft);
        p.stars = 1 + MIN(4u, (guint) (p.score / 20));
        return p;
    }
    /* Only "no host has CPU feature X" names no host: it holds for all. */
    g = vb_reject_tally_add(tally, h, p.code,
                            p.code == VB_REJECT_CPU_FEATURES && pl->missing != NULL, &p.group,
                            &fresh);
    if (fresh) {
        int soft;

        g_string_truncate(why, 0);
        refusal(pl, &c, why, &soft);
        g->reason = g_strndup(why->str, why->len);
    }
    p.soft = 0;
    return p;
}

/* The ranking order: hosts that can take the guest first, higher score
 * first, then lower host id. */
static gint
cmp_placement(gconstpointer a, gconstpointer b)
{
    const VbPlacement *pa = a, *pb = b;

    if ((pa->stars > 0) != (pb->stars > 0))
        return pa->stars > 0 ? -1 : 1;
    if (pa->score != pb->score)
        return pa->score > pb->score ? -1 : 1;
    return pa->host < pb->host ? -1 : 1;
}

/* A 64-bit key whose ascending order is cmp_placement()'s order up to the
 * host id: the bits of a non-negative double grow with its value. FALSE
 * when the score is not a plain number (then the comparison sort is used). */
static gboolean
placement_key(const VbPlacement *p, guint64 *ret_key)
{
    double score = p->score + 0.0; /* -0 compares equal to 0: same key */
    guint64 bits;

    if (p->stars == 0) {
        *ret_key = G_MAXUINT64;
        return TRUE;
    }
    if (!(score >= 0 && score <= G_MAXDOUBLE))
        return FALSE;
    memcpy(&bits, &score, sizeof(bits));
    *ret_key = G_GUINT64_CONSTANT(0x7FF0000000000000) - bits;
    return TRUE;
}

typedef struct {
    guint64 key;
    guint index;
} SortItem;

#define SWAP_ITEMS(a, b)     \
    do {                     \
        SortItem *t_ = (a);  \
        (a) = (b);           \
        (b) = t_;            \
    } while (0)

/* Runs longer than this are sorted by qsort rather than by insertion. */
#define RUN_INSERTION_MAX 32

static int
cmp_item(const void *a, const void *b)
{
    const SortItem *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Puts a run of items equal in their key's high half into (key, index)
 * order; the run is in index order already. */
static void
sort_run(SortItem *run, guint n)
{
    if (n > RUN_INSERTION_MAX) {
        qsort(run, n, sizeof(SortItem), cmp_item);
        return;
    }
    for (guint i = 1; i < n; i++) {
        SortItem item = run[i];
        guint j = i;

        /* Strictly greater only: equal keys keep index order. */
        while (j > 0 && run[j - 1].key > item.key) {
            run[j] = run[j - 1];
            j--;
        }
        run[j] = item;
    }
}

/* Sorts @items (in ascending index order) by (key, index). A stable LSD
 * radix sort on the high 32 bits of the key, one byte a pass (the counts of
 * every byte in one read, passes over bytes equal in every key skipped, two
 * buffers used in turn), then each run of equal high halves sorted on the
 * whole key. The low half of a score's bits is its last mantissa digits,
 * which tell apart scores within about 1e-4 of each other: runs are short,
 * and half the passes are saved. */
static void
radix_sort(SortItem *items, guint n)
{
    g_autofree SortItem *spare = g_new(SortItem, MAX(n, 1));
    g_autofree guint *count = g_new0(guint, 4 * 256);
    SortItem *src = items, *dst = spare;
    guint start = 0;

    for (guint i = 0; i < n; i++) {
        for (guint b = 4; b < 8; b++)
            count[(b - 4) * 256 + ((items[i].key >> (8 * b)) & 0xff)]++;
    }
    for (guint b = 4; b < 8; b++) {
        guint *c = &count[(b - 4) * 256];
        guint sum = 0;

        if (n > 0 && c[(items[0].key >> (8 * b)) & 0xff] == n)
            continue; /* the same byte in every key */
        for (guint d = 0; d < 256; d++) {
            guint k = c[d];

            c[d] = sum;
            sum += k;
        }
        for (guint i = 0; i < n; i++)
            dst[c[(src[i].key >> (8 * b)) & 0xff]++] = src[i];
        SWAP_ITEMS(src, dst);
    }
    if (src != items)
        memcpy(items, src, sizeof(SortItem) * n);
    for (guint i = 1; i <= n; i++) {
        if (i == n || (items[i].key >> 32) != (items[start].key >> 32)) {
            if (i - start > 1)
                sort_run(&items[start], i - start);
            start = i;
        }
    }
}

/* Puts @ranking (built in host id order) into the ranking order: hosts
 * that can take the guest by key, then the others, already in host order.
 * In place: the order is a permutation of the placements, applied cycle by
 * cycle, so no second array of placements is touched (at 10,000 hosts a
 * copy was half a megabyte of fresh pages per call). */
static void
sort_ranking(GArray *ranking)
{
    guint n = ranking->len;
    g_autofree SortItem *items = g_new(SortItem, MAX(n, 1));
    g_autofree guint *from = g_new(guint, MAX(n, 1));
    VbPlacement *a = (VbPlacement *) (gpointer) ranking->data;
    guint n_fit = 0, k;

    for (guint i = 0; i < n; i++) {
        guint64 key;

        if (!placement_key(&a[i], &key)) {
            g_array_sort(ranking, cmp_placement);
            return;
        }
        if (key != G_MAXUINT64)
            items[n_fit++] = (SortItem){ .key = key, .index = i };
    }
    /* Stable, and the input is in host id order: ties stay by host id. */
    radix_sort(items, n_fit);
    for (k = 0; k < n_fit; k++)
        from[k] = items[k].index;
    for (guint i = 0; i < n; i++) {
        if (a[i].stars == 0)
            from[k++] = i;
    }
    /* Position i takes the placement at from[i]; from[i] = i once done. */
    for (guint i = 0; i < n; i++) {
        VbPlacement first;
        guint j = i;

        if (from[i] == i)
            continue;
        first = a[i];
        while (from[j] != i) {
            guint next = from[j];

            a[j] = a[next];
            from[j] = j;
            j = next;
        }
        a[j] = first;
        from[j] = j;
    }
}

void
vb_ranking_free(VbRanking *ranking)
{
    if (!ranking)
        return;
    if (ranking->hosts)
        g_array_unref(ranking->hosts);
    if (ranking->refused)
        g_array_unref(ranking->refused);
    g_free(ranking);
}

static gboolean
init_placing(Placing *pl, const VbVmSpec *spec, GError **error)
{
    const VbState *st = pl->st;
    gboolean allocated = st->policy->load_source == VB_LOAD_ALLOCATED;
    double usage = spec->cpu_usage;
    guint id;

    if (spec->vcpus == 0 || spec->memory_mib == 0) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "a new guest needs at least 1 vCPU and some memory");
        return FALSE;
    }
    if (spec->pool && !vb_inventory_get_pool(st->inv, spec->pool)) {
        g_set_error(error, VB_ERROR, VB_ERROR_NOT_FOUND, "there is no pool named '%s'", spec->pool);
        return FALSE;
    }
    for (guint i = 0; spec->cpu_features && spec->cpu_features[i]; i++) {
        if (vb_strtab_lookup(st->inv->features, spec->cpu_features[i], &id))
            vb_bits_set(&pl->features, id);
        else if (!pl->missing)
            pl->missing = spec->cpu_features[i];
    }
    pl->concerns = g_new0(gboolean, MAX(st->n_rules, 1));
    pl->plain = !spec->pool && !spec->hypervisor && !spec->cpu_vendor && !pl->missing &&
                vb_bits_next(&pl->features, 0) < 0;
    for (guint r = 0; r < st->n_rules; r++) {
        pl->concerns[r] = rule_concerns(st->rules[r].rule, spec);
        pl->plain = pl->plain && !pl->concerns[r];
    }
    pl->demand[VB_METRIC_CPU] = allocated ? spec->vcpus : spec->vcpus * CLAMP(usage, 0.0, 1.0);
    pl->demand[VB_METRIC_MEMORY] = (double) spec->memory_mib;
    pl->demand[VB_METRIC_DISK] = spec->disk_shared ? 0 : spec->disk_gib;
    return TRUE;
}

VbRanking *
vb_placement_place(const VbInventory *inv, const VbPolicy *policy, const VbVmSpec *spec,
                   GError **error)
{
    g_autoptr(VbState) st = NULL;
    g_autoptr(GString) why = NULL;
    Placing pl = {0};
    VbRanking *ranking;
    VbRejectTally tally;

    g_return_val_if_fail(inv != NULL && policy != NULL && spec != NULL, NULL);
    st = vb_state_new_rules(inv, policy);
    pl.st = st;
    pl.totals = vb_inventory_host_totals(inv);
    pl.any_excluded = policy->exclude_hosts && policy->exclude_hosts[0];
    pl.spec = spec;
    if (!init_placing(&pl, spec, error)) {
        vb_bits_clear(&pl.features);
        g_free(pl.concerns);
        return NULL;
    }
    ranking = g_new0(VbRanking, 1);
    ranking->refused = vb_reject_groups_new();
    vb_reject_tally_init(&tally, ranking->refused);
    why = g_string_sized_new(128);
    ranking->hosts = g_array_sized_new(FALSE, FALSE, sizeof(VbPlacement), st->n_hosts);
    g_array_set_size(ranking->hosts, st->n_hosts);
    for (guint h = 0; h < st->n_hosts; h++) {
        if (h + PREFETCH_AHEAD < st->n_hosts)
            prefetch_host(vb_inventory_host(inv, h + PREFETCH_AHEAD));
        g_array_index(ranking->hosts, VbPlacement, h) = rank_host(&pl, h, &tally, why);
    }
    sort_ranking(ranking->hosts);
    vb_bits_clear(&pl.features);
    g_free(pl.concerns);
    return ranking;
}
