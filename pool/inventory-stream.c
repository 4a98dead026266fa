/*
 * inventory-stream.c: loading a large inventory without holding its guests
 * as a YAML tree, and reading the common guest line straight into the model.
 *
 * Streaming: each guest of `vms` is loaded as soon as util's fast path has
 * read it, then dropped (vb_yaml_stream_data_lines()). This only happens in
 * the common shape, `pools` then `vms`, and only while nothing is wrong: at
 * the first problem of any kind the streamed inventory is dropped and the
 * file is loaded again the ordinary way (whole tree, then
 * vb_inventory_load_doc()), so that every message, and which mistake is
 * reported first, stays what the ordinary way says.
 *
 * Quick guests: a guest written as vb_inventory_to_yaml() writes it, one flow
 * mapping on one line (`- {name: vm1, host: kvm1, vcpus: 2, ...}`), is read
 * from its text without a tree entry. The quick reader accepts only a strict
 * subset: the keys name, host, state, vcpus, memory_mib, cpu_usage,
 * dirty_rate_mib_s, last_migrated, cpu (with features only), disks (name and
 * size_gib only), tags and labels, each once; plain scalars only; values that the tree
 * reader's first, error-free step accepts (whole numbers and decimals as
 * vb_yaml_text_whole/decimal read them, in range; names that are not null;
 * a known state; a host defined; a new guest name; disk names distinct).
 * Anything else, valid or not, is answered "parse it" and goes through the
 * tree reader, which also words every error. The line is read whole into a
 * QuickVm before the model is touched, and then written in the tree reader's
 * order (so that feature and label ids come out the same). tests/pool-test
 * (quick_*) loads the same files with and without the quick reader and
 * compares the models.
 *
 * Workload: 200,000 guests in a 40 MB file; each quick guest costs one pass
 * over its line and a copy of its names into a scratch buffer, instead of
 * some 30 tree nodes, their texts, and the slot walk over them.
 */
#include "config.h"

#include <string.h>

#include "pool/inventory-priv.h"

gboolean vb_inventory_quick_guests = TRUE;

/* ------------------------------------------------------------ quick guests */

#define QUICK_MAX_ITEMS 32   /* names in one list, disks of one guest */
#define QUICK_MAX_PLAIN 1000 /* the fast path's bound on a plain scalar */

/* What one guest line says, before any of it is checked against the model.
 * Texts point into the stream's scratch buffer (NUL-terminated copies). */
typedef struct {
    guint seen;                                 /* bit per QK_* key read */
    guint next_key;                             /* the key after the last one read */
    const char *name, *host, *state, *vcpus, *memory, *cpu_usage, *dirty, *last_migrated;
    const char *features[QUICK_MAX_ITEMS];
    guint n_features;
    const char *disk_names[QUICK_MAX_ITEMS];
    const char *disk_sizes[QUICK_MAX_ITEMS];
    guint n_disks;
    const char *tags[QUICK_MAX_ITEMS];
    guint n_tags;
    const char *labels[QUICK_MAX_ITEMS];
    guint n_labels;
} QuickVm;

enum { QK_NAME, QK_HOST, QK_STATE, QK_VCPUS, QK_MEMORY, QK_CPU_USAGE, QK_DIRTY,
       QK_LAST_MIGRATED, QK_CPU, QK_DISKS, QK_TAGS, QK_LABELS, QK_LAST };
static const char *const quick_keys[] = {
    "name", "host", "state", "vcpus", "memory_mib", "cpu_usage", "dirty_rate_mib_s",
    "last_migrated", "cpu", "disks", "tags", "labels", NULL
};
G_STATIC_ASSERT(G_N_ELEMENTS(quick_keys) == QK_LAST + 1);

/* The cursor over one line; every reader returns FALSE to give up (the line
 * then goes to the tree reader), never an error. */
typedef struct {
    const char *p;    /* next byte */
    const char *end;  /* end of the line */
    char *out;        /* next free byte of the scratch copy */
} Quick;

/* Bit 1: in a plain scalar (letters, digits, _ - . /); bit 2: may start one
 * (letters, digits). A table: this is asked of every byte of every line. */
static const guint8 quick_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['/'] = 1, ['_'] = 1,
    ['0' ... '9'] = 3, ['A' ... 'Z'] = 3, ['a' ... 'z'] = 3,
};

static void
quick_spaces(Quick *q)
{
    while (q->p < q->end && *q->p == ' ')
        q->p++;
}

static gboolean
quick_at(const Quick *q, char c)
{
    return q->p < q->end && *q->p == c;
}

/* A plain scalar as the fast path reads one (starts with a letter or digit,
 * then letters, digits, _ - . /): its length, 0 when there is none. */
static gsize
quick_token(Quick *q)
{
    const char *start = q->p;

    if (q->p >= q->end || !(quick_chars[(guchar) *q->p] & 2))
        return 0;
    while (q->p < q->end && (quick_chars[(guchar) *q->p] & 1))
        q->p++;
    return (gsize) (q->p - start);
}

/* A plain scalar, copied into the scratch buffer. */
static gboolean
quick_plain(Quick *q, const char **ret)
{
    const char *start = q->p;
    gsize len = quick_token(q);

    if (len == 0 || len > QUICK_MAX_PLAIN)
        return FALSE;
    memcpy(q->out, start, len);
    q->out[len] = '\0';
    *ret = q->out;
    q->out += len + 1;
    return TRUE;
}

/* After an entry of a flow collection: its closer (TRUE, *ret_done set) or
 * ", " and the next entry (TRUE); anything else gives up, as the fast path
 * does with trailing or empty entries. */
static gboolean
quick_separator(Quick *q, char closer, gboolean *ret_done)
{
    quick_spaces(q);
    if (quick_at(q, closer)) {
        q->p++;
        *ret_done = TRUE;
        return TRUE;
    }
    if (q->end - q->p < 2 || q->p[0] != ',' || q->p[1] != ' ')
        return FALSE;
    q->p += 2;
    quick_spaces(q);
    *ret_done = FALSE;
    return !quick_at(q, closer) && !quick_at(q, ',');
}

/* The opener @open, then TRUE in *ret_empty when the closer follows. */
static gboolean
quick_open(Quick *q, char open, char closer, gboolean *ret_empty)
{
    if (!quick_at(q, open))
        return FALSE;
    q->p++;
    quick_spaces(q);
    *ret_empty = quick_at(q, closer);
    if (*ret_empty)
        q->p++;
    return TRUE;
}

static gboolean
quick_key_is(const char *key, const char *text, gsize len)
{
    return key[0] == text[0] && strncmp(key, text, len) == 0 && key[len] == '\0';
}

/* A key of a flow mapping and its ": ": the key's index in the
 * NULL-terminated @keys, or -1 (unknown, or not a key). Keys are compared
 * in place, not copied; keys[@hint] first (the one that usually comes next). */
static gint
quick_key(Quick *q, const char *const *keys, guint hint)
{
    const char *start = q->p;
    gsize len = quick_token(q);

    if (len == 0 || q->end - q->p < 2 || q->p[0] != ':' || q->p[1] != ' ')
        return -1;
    q->p += 2;
    quick_spaces(q);
    if (keys[hint] && quick_key_is(keys[hint], start, len))
        return (gint) hint;
    for (gint i = 0; keys[i]; i++) {
        if (quick_key_is(keys[i], start, len))
            return i;
    }
    return -1;
}

/* [a, b, c] of plain names. */
static gboolean
quick_names(Quick *q, const char **items, guint *ret_n)
{
    gboolean done;

    *ret_n = 0;
    if (!quick_open(q, '[', ']', &done))
        return FALSE;
    while (!done) {
        if (*ret_n == QUICK_MAX_ITEMS || !quick_plain(q, &items[*ret_n]))
            return FALSE;
        (*ret_n)++;
        if (!quick_separator(q, ']', &done))
            return FALSE;
    }
    return TRUE;
}

/* cpu: {features: [...]} or {}. */
static gboolean
quick_cpu(Quick *q, QuickVm *vm)
{
    static const char *const keys[] = { "features", NULL };
    gboolean done;

    if (!quick_open(q, '{', '}', &done))
        return FALSE;
    if (done)
        return TRUE;
    if (quick_key(q, keys, 0) != 0 || !quick_names(q, vm->features, &vm->n_features))
        return FALSE;
    quick_spaces(q);
    if (!quick_at(q, '}'))
        return FALSE;
    q->p++;
    return TRUE;
}

/* One {name: ..., size_gib: ...}, both keys, in either order. */
static gboolean
quick_disk(Quick *q, QuickVm *vm)
{
    const char **name = &vm->disk_names[vm->n_disks], **size = &vm->disk_sizes[vm->n_disks];
    gboolean done;

    *name = *size = NULL;
    if (!quick_open(q, '{', '}', &done) || done)
        return FALSE;
    while (!done) {
        static const char *const keys[] = { "name", "size_gib", NULL };
        gint k = quick_key(q, keys, *name ? 1 : 0);
        const char **slot = k == 0 ? name : k == 1 ? size : NULL;

        if (!slot || *slot || !quick_plain(q, slot) || !quick_separator(q, '}', &done))
            return FALSE;
    }
    return *name && *size;
}

static gboolean
quick_disks(Quick *q, QuickVm *vm)
{
    gboolean done;

    if (!quick_open(q, '[', ']', &done))
        return FALSE;
    while (!done) {
        if (vm->n_disks == QUICK_MAX_ITEMS || !quick_disk(q, vm))
            return FALSE;
        vm->n_disks++;
        if (!quick_separator(q, ']', &done))
            return FALSE;
    }
    return TRUE;
}

/* One "key: value" of the guest's mapping. */
static gboolean
quick_pair(Quick *q, QuickVm *vm)
{
    const char **scalars[] = {
        [QK_NAME] = &vm->name, [QK_HOST] = &vm->host, [QK_STATE] = &vm->state,
        [QK_VCPUS] = &vm->vcpus, [QK_MEMORY] = &vm->memory, [QK_CPU_USAGE] = &vm->cpu_usage,
        [QK_DIRTY] = &vm->dirty, [QK_LAST_MIGRATED] = &vm->last_migrated,
    };
    gint k = quick_key(q, quick_keys, vm->next_key);

    if (k < 0 || (vm->seen & (1u << k)))
        return FALSE;
    vm->seen |= 1u << k;
    vm->next_key = (guint) k + 1;
    switch (k) {
    case QK_CPU:
        return quick_cpu(q, vm);
    case QK_DISKS:
        return quick_disks(q, vm);
    case QK_TAGS:
        return quick_names(q, vm->tags, &vm->n_tags);
    case QK_LABELS:
        return quick_names(q, vm->labels, &vm->n_labels);
    default:
        return quick_plain(q, scalars[k]);
    }
}

/* The whole line, `{` to its end, into @vm. */
static gboolean
quick_parse(Quick *q, QuickVm *vm)
{
    gboolean done;

    if (!quick_open(q, '{', '}', &done) || done)
        return FALSE;
    while (!done) {
        if (!quick_pair(q, vm) || !quick_separator(q, '}', &done))
            return FALSE;
    }
    return q->p == q->end;
}

/* A plain scalar the tree reader would take as null. */
static gboolean
quick_is_null(const char *text)
{
    /* by first character: this is asked of every name on the line */
    return (text[0] == 'n' || text[0] == 'N') &&
           (g_str_equal(text, "null") || g_str_equal(text, "Null") || g_str_equal(text, "NULL"));
}

static gboolean
quick_no_null(const char *const *items, guint n)
{
    for (guint i = 0; i < n; i++) {
        if (quick_is_null(items[i]))
            return FALSE;
    }
    return TRUE;
}

static gboolean
quick_whole(const char *text, guint64 min, guint64 max, guint64 *ret)
{
    return vb_yaml_text_whole(text, ret) && *ret >= min && *ret <= max;
}

static gboolean
quick_decimal(const char *text, double min, double max, double *ret)
{
    return vb_yaml_text_decimal(text, ret) && *ret >= min && *ret <= max;
}

/* The values the model takes, checked as the tree reader's error-free first
 * step checks them; FALSE when any is not plainly right. */
typedef struct {
    guint state;
    guint64 vcpus, memory, last_migrated;
    double cpu_usage, dirty;
    double disk_sizes[QUICK_MAX_ITEMS];
} QuickValues;

static gboolean
quick_check(const QuickVm *vm, QuickValues *v)
{
    const guint required = (1u << QK_NAME) | (1u << QK_HOST) | (1u << QK_MEMORY);

    if ((vm->seen & required) != required || quick_is_null(vm->name) || quick_is_null(vm->host))
        return FALSE;
    v->state = VB_VM_STATE_RUNNING;
    if (vm->state && !g_strv_contains(vb_vm_state_names, vm->state))
        return FALSE;
    for (guint i = 0; vm->state && vb_vm_state_names[i]; i++) {
        if (g_str_equal(vb_vm_state_names[i], vm->state))
            v->state = i;
    }
    if ((vm->vcpus && !quick_whole(vm->vcpus, 1, VB_MAX_CORES, &v->vcpus)) ||
        !quick_whole(vm->memory, 1, VB_MAX_MIB, &v->memory) ||
        (vm->cpu_usage && !quick_decimal(vm->cpu_usage, 0, 1, &v->cpu_usage)) ||
        (vm->dirty && !quick_decimal(vm->dirty, 0, VB_MAX_RATE, &v->dirty)))
        return FALSE;
    v->last_migrated = 0;
    if (vm->last_migrated && !quick_whole(vm->last_migrated, 0, G_MAXINT64, &v->last_migrated))
        return FALSE;
    if (!quick_no_null(vm->features, vm->n_features) || !quick_no_null(vm->tags, vm->n_tags) ||
        !quick_no_null(vm->labels, vm->n_labels) || !quick_no_null(vm->disk_names, vm->n_disks))
        return FALSE;
    for (guint i = 0; i < vm->n_disks; i++) {
        if (!quick_decimal(vm->disk_sizes[i], 0, VB_MAX_GIB, &v->disk_sizes[i]))
            return FALSE;
        for (guint j = 0; j < i; j++) {
            if (g_str_equal(vm->disk_names[i], vm->disk_names[j]))
                return FALSE;
        }
    }
    return TRUE;
}

/* Writes the checked guest into the model in vb_inventory_load_vm()'s order;
 * FALSE, with nothing changed, when its host is unknown or its name taken. */
static gboolean
quick_add(VbInventoryLoader *l, const QuickVm *q, const QuickValues *v, guint line)
{
    VbHost *host = vb_inventory_get_host(l->inv, q->host);
    VbVm *vm = host ? vb_inventory_add_vm(l->inv, host, q->name, NULL) : NULL;

    if (!vm)
        return FALSE;
    g_array_append_val(l->vm_lines, line);
    vm->state = v->state;
    if (q->seen & (1u << QK_VCPUS))
        vm->vcpus = (guint) v->vcpus;
    vm->memory_mib = v->memory;
    if (q->seen & (1u << QK_CPU_USAGE))
        vm->cpu_usage = v->cpu_usage;
    if (q->seen & (1u << QK_DIRTY))
        vm->dirty_rate_mib_s = v->dirty;
    if (q->seen & (1u << QK_CPU))
        vm->cpu_mode = VB_CPU_MODE_CUSTOM;
    for (guint i = 0; i < q->n_features; i++)
        vb_vm_add_feature(l->inv, vm, q->features[i]);
    if (q->n_disks) {
        gboolean shared = vb_inventory_pool(l->inv, host->pool)->shared_storage;

        for (guint i = 0; i < q->n_disks; i++)
            vb_vm_add_disk(vm, q->disk_names[i], v->disk_sizes[i], shared);
    }
    if (q->n_tags) {
        vm->tags = g_new(char *, q->n_tags + 1);
        for (guint i = 0; i < q->n_tags; i++)
            vm->tags[i] = g_strdup(q->tags[i]);
        vm->tags[q->n_tags] = NULL;
    }
    for (guint i = 0; i < q->n_labels; i++)
        vb_vm_add_label(l->inv, vm, q->labels[i]);
    vm->last_migrated = (gint64) v->last_migrated;
    l->n_quick++;
    return TRUE;
}

/* --------------------------------------------------------------- streaming */

typedef struct {
    VbInventoryLoader l;  /* l.doc is the stream's tree */
    gboolean pools_done;  /* the pools have been loaded, guests are streaming */
    GString *scratch;     /* quick guests: copies of one line's names */
} Stream;

/* The root's keys so far are `pools` and then `vms` (the list being read). */
static gboolean
stream_at_vms(const VbYamlDoc *doc, const VbYamlNode **ret_pools)
{
    const VbYamlNode *root = vb_yaml_doc_root(doc);
    const VbYamlNode *k1 = vb_yaml_node_first(doc, root);
    const VbYamlNode *v1 = vb_yaml_node_next(doc, k1);
    const VbYamlNode *k2 = vb_yaml_node_next(doc, v1);
    const VbYamlNode *v2 = vb_yaml_node_next(doc, k2);

    if (!v2 || vb_yaml_node_next(doc, v2) || g_strcmp0(vb_yaml_node_value(doc, k1), "pools") ||
        g_strcmp0(vb_yaml_node_value(doc, k2), "vms"))
        return FALSE;
    *ret_pools = v1;
    return TRUE;
}

/* At a guest of `vms`: the pools are loaded (the first time). FALSE with
 * *ret_stop set when reading must stop, unset when not at `vms`. */
static gboolean
stream_ready(Stream *st, const VbYamlDoc *doc, gboolean *ret_stop)
{
    const VbYamlNode *pools = NULL;
    g_autoptr(GError) error = NULL;

    st->l.doc = doc;
    *ret_stop = FALSE;
    if (!stream_at_vms(doc, &pools)) {
        *ret_stop = st->pools_done;
        return FALSE;
    }
    if (!st->pools_done) {
        if (!vb_inventory_load_list(&st->l, pools, "pools", vb_inventory_load_pool, &error)) {
            *ret_stop = TRUE;
            return FALSE;
        }
        st->pools_done = TRUE;
    }
    return TRUE;
}

static VbYamlEntryAnswer
stream_entry(const VbYamlDoc *doc, const VbYamlNode *entry, gpointer data)
{
    Stream *st = data;
    g_autoptr(GError) error = NULL;
    gboolean stop;

    if (!stream_ready(st, doc, &stop))
        return stop ? VB_YAML_ENTRY_STOP : VB_YAML_ENTRY_KEEP;
    if (!vb_inventory_load_vm(&st->l, entry, &error))
        return VB_YAML_ENTRY_STOP;
    return VB_YAML_ENTRY_DROP;
}

static VbYamlLineAnswer
stream_line(const VbYamlDoc *doc, const char *text, gsize len, guint line, gpointer data)
{
    Stream *st = data;
    QuickVm vm;
    QuickValues values;
    Quick q;
    gboolean stop;

    if (!stream_ready(st, doc, &stop))
        return stop ? VB_YAML_LINE_STOP : VB_YAML_LINE_PARSE;
    /* Each name's copy is at most its text plus a NUL. */
    g_string_set_size(st->scratch, 2 * len + 1);
    q = (Quick){ .p = text, .end = text + len, .out = st->scratch->str };
    /* Not the whole QuickVm: its lists are read only up to their counts. */
    vm.seen = vm.next_key = 0;
    vm.name = vm.host = vm.state = vm.vcpus = vm.memory = vm.cpu_usage = vm.dirty = NULL;
    vm.last_migrated = NULL;
    vm.n_features = vm.n_disks = vm.n_tags = vm.n_labels = 0;
    if (!quick_parse(&q, &vm) || !quick_check(&vm, &values) ||
        !quick_add(&st->l, &vm, &values, line))
        return VB_YAML_LINE_PARSE;
    return VB_YAML_LINE_READ;
}

VbInventory *
vb_inventory_load_streaming(const char *data, gsize len, const char *filename,
                            guint *ret_n_quick)
{
    Stream st = { 0 };
    g_autoptr(VbYamlDoc) doc = NULL;
    g_autoptr(GString) scratch = g_string_sized_new(1024);
    gboolean ok;

    vb_inventory_loader_init(&st.l, NULL);
    st.scratch = scratch;
    doc = vb_yaml_stream_data_lines(data, len, filename, stream_entry,
                                    vb_inventory_quick_guests ? stream_line : NULL, &st);
    st.l.doc = doc;
    /* What vb_inventory_load_doc checks before the lists, now that the root
     * is complete; a tree whose guests were not streamed is loaded whole. */
    if (!doc || !st.pools_done)
        ok = doc && vb_inventory_load_doc(&st.l, NULL);
    else
        ok = vb_inventory_loader_root_ok(&st.l);
    if (ret_n_quick)
        *ret_n_quick = st.l.n_quick;
    return vb_inventory_loader_finish(&st.l, ok);
}
