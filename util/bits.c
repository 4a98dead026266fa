/*
 * bits.c: the error domain, bit sets and string tables (see util.h).
 *
 * VbBits grows on demand and never shrinks; a missing word reads as zero, so
 * two sets of different lengths compare correctly. Feature and label sets are
 * a few words long (a CPU has ~150 flags), so every operation here is a short
 * loop over words, which is what the placement core needs when it asks the
 * same question for thousands of hosts.
 */
#include "config.h"

#include "util/util.h"

G_DEFINE_QUARK(vb-error-quark, vb_error)

void
vb_bits_set(VbBits *bits, guint bit)
{
    guint word = bit / 64;

    if (word >= bits->n_words) {
        guint n = MAX(word + 1, bits->n_words * 2);

        bits->words = g_renew(guint64, bits->words, n);
        memset(bits->words + bits->n_words, 0, (n - bits->n_words) * sizeof(guint64));
        bits->n_words = n;
    }
    bits->words[word] |= G_GUINT64_CONSTANT(1) << (bit % 64);
}

gboolean
vb_bits_test(const VbBits *bits, guint bit)
{
    guint word = bit / 64;

    if (word >= bits->n_words)
        return FALSE;
    return (bits->words[word] >> (bit % 64)) & 1;
}

gboolean
vb_bits_is_subset(const VbBits *sub, const VbBits *super)
{
    for (guint i = 0; i < sub->n_words; i++) {
        guint64 have = i < super->n_words ? super->words[i] : 0;

        if (sub->words[i] & ~have)
            return FALSE;
    }
    return TRUE;
}

gboolean
vb_bits_intersects(const VbBits *a, const VbBits *b)
{
    guint n = MIN(a->n_words, b->n_words);

    for (guint i = 0; i < n; i++) {
        if (a->words[i] & b->words[i])
            return TRUE;
    }
    return FALSE;
}

guint
vb_bits_count(const VbBits *bits)
{
    guint count = 0;

    for (guint i = 0; i < bits->n_words; i++)
        count += __builtin_popcountll(bits->words[i]);
    return count;
}

void
vb_bits_copy(VbBits *dst, const VbBits *src)
{
    g_assert(dst->n_words == 0);
    if (src->n_words == 0)
        return;
    dst->words = g_memdup2(src->words, src->n_words * sizeof(guint64));
    dst->n_words = src->n_words;
}

void
vb_bits_clear(VbBits *bits)
{
    g_clear_pointer(&bits->words, g_free);
    bits->n_words = 0;
}

gint
vb_bits_next(const VbBits *bits, guint from)
{
    for (guint word = from / 64; word < bits->n_words; word++) {
        guint64 w = bits->words[word];

        if (word == from / 64)
            w &= ~G_GUINT64_CONSTANT(0) << (from % 64);
        if (w)
            return (gint) (word * 64 + __builtin_ctzll(w));
    }
    return -1;
}

/* ------------------------------------------------------------ VbStrtab */

struct _VbStrtab {
    GHashTable *ids;  /* name (borrowed from names) -> id + 1 */
    GPtrArray *names; /* owned names, index = id */
};

VbStrtab *
vb_strtab_new(void)
{
    VbStrtab *tab = g_new0(VbStrtab, 1);

    tab->ids = g_hash_table_new(g_str_hash, g_str_equal);
    tab->names = g_ptr_array_new_with_free_func(g_free);
    return tab;
}

void
vb_strtab_free(VbStrtab *tab)
{
    if (!tab)
        return;
    g_clear_pointer(&tab->ids, g_hash_table_unref);
    g_clear_pointer(&tab->names, g_ptr_array_unref);
    g_free(tab);
}

guint
vb_strtab_intern(VbStrtab *tab, const char *name)
{
    guint id;
    char *copy;

    if (vb_strtab_lookup(tab, name, &id))
        return id;
    id = tab->names->len;
    copy = g_strdup(name);
    g_ptr_array_add(tab->names, copy);
    g_hash_table_insert(tab->ids, copy, GUINT_TO_POINTER(id + 1));
    return id;
}

gboolean
vb_strtab_lookup(const VbStrtab *tab, const char *name, guint *ret_id)
{
    gpointer value = g_hash_table_lookup(tab->ids, name);

    if (!value)
        return FALSE;
    if (ret_id)
        *ret_id = GPOINTER_TO_UINT(value) - 1;
    return TRUE;
}

const char *
vb_strtab_name(const VbStrtab *tab, guint id)
{
    if (id >= tab->names->len)
        return NULL;
    return g_ptr_array_index(tab->names, id);
}

guint
vb_strtab_size(const VbStrtab *tab)
{
    return tab->names->len;
}
