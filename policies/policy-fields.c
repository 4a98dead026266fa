/*
 * policy-fields.c: the policy's sections of plain values, read by table.
 *
 * Each section (thresholds, budget, reserves, migration, metrics, exclude)
 * is a table of fields: key, type, where it lives in VbPolicy, allowed range.
 * One reader walks a table, so every key of every section gets the same
 * strict treatment: unknown keys refused with "did you mean", types checked,
 * ranges stated in the message. The value node of every key read is kept in
 * load->nodes under "section.key" so that checks spanning keys (low_water
 * below high_water, per-host caps within the total) can point at the key the
 * admin wrote.
 *
 * Invariant: a field is written only after its value passed every check;
 * the caller discards the whole policy on the first error anyway.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "policies/policies-priv.h"

/* ------------------------------------------------------------ parsers */

gboolean
vb_policy_parse_duration(const char *text, guint64 *ret_seconds)
{
    static const char units[] = "dhms";
    static const guint64 unit_seconds[] = { 86400, 3600, 60, 1 };
    guint64 total = 0;
    guint next_unit = 0; /* units must come largest first, each once */
    const char *p = text;

    if (!text || !g_ascii_isdigit(*p))
        return FALSE;
    while (*p) {
        char *end = NULL;
        const char *unit;
        guint64 n;

        if (!g_ascii_isdigit(*p))
            return FALSE;
        n = g_ascii_strtoull(p, &end, 10);
        /* Saturate: a huge number is out of range, not malformed. */
        n = MIN(n, (guint64) VB_POLICY_MAX_DURATION * 1000);
        if (*end == '\0' && p == text) {
            *ret_seconds = n; /* plain seconds */
            return TRUE;
        }
        unit = *end ? strchr(units, *end) : NULL;
        if (!unit || (guint) (unit - units) < next_unit)
            return FALSE;
        next_unit = (guint) (unit - units) + 1;
        total += n * unit_seconds[unit - units];
        p = end + 1;
    }
    *ret_seconds = total;
    return TRUE;
}

char *
vb_policy_format_duration(guint64 seconds)
{
    static const char units[] = "dhms";
    static const guint64 unit_seconds[] = { 86400, 3600, 60, 1 };
    GString *out = g_string_new(NULL);

    if (seconds == 0)
        g_string_append(out, "0");
    for (guint i = 0; i < 4 && seconds > 0; i++) {
        if (seconds >= unit_seconds[i]) {
            g_string_append_printf(out, "%" G_GUINT64_FORMAT "%c", seconds / unit_seconds[i],
                                   units[i]);
            seconds %= unit_seconds[i];
        }
    }
    return g_string_free(out, FALSE);
}

/* A number with an optional trailing '%': writes the number as written and
 * whether it was a percentage. */
static gboolean
parse_ratio(const char *text, double *ret_number, gboolean *ret_percent)
{
    g_autofree char *copy = g_strdup(text);
    gsize len = strlen(copy);
    gboolean percent = len > 0 && copy[len - 1] == '%';
    char *end = NULL;
    double value;

    if (percent)
        copy[--len] = '\0';
    if (len == 0 || !(g_ascii_isdigit(copy[0]) || copy[0] == '.'))
        return FALSE;
    errno = 0;
    value = g_ascii_strtod(copy, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(value))
        return FALSE;
    *ret_number = value;
    *ret_percent = percent;
    return TRUE;
}

gboolean
vb_policy_parse_fraction(const char *text, double *ret_fraction)
{
    double number;
    gboolean percent;

    if (!text || !parse_ratio(text, &number, &percent))
        return FALSE;
    *ret_fraction = percent ? number / 100.0 : number;
    return TRUE;
}

/* ------------------------------------------------------------ fields */

typedef enum {
    FIELD_UINT,     /* guint; min/max whole numbers */
    FIELD_UINT64,   /* guint64 */
    FIELD_DOUBLE,   /* double */
    FIELD_FRACTION, /* double 0..1, written 0.8 or 80% */
    FIELD_PERCENT,  /* double stored as a percentage, written 10% or 0.1; min/max in % */
    FIELD_DURATION, /* guint seconds, written 90, 30s, 10m, 1h30m */
    FIELD_BOOL,     /* gboolean */
} VbFieldType;

typedef struct {
    const char *key;
    VbFieldType type;
    gsize offset; /* in VbPolicy */
    double min, max;
} VbField;

#define P(member) offsetof(VbPolicy, member)
#define M(member) offsetof(VbPolicy, migration.member)

static const VbField threshold_fields[] = {
    { "high_water", FIELD_FRACTION, P(high_water), 0.01, 1 },
    { "low_water", FIELD_FRACTION, P(consolidate_low_water), 0, 0.99 },
    { "target_imbalance", FIELD_FRACTION, P(target_imbalance), 0, 1 },
    { "min_improvement", FIELD_FRACTION, P(min_improvement), 0, 0.5 },
    { "cpu_noise", FIELD_FRACTION, P(cpu_noise), 0, 1 },
    { "noise_margin", FIELD_DOUBLE, P(noise_margin), 0, 10 },
    { "cost_per_minute", FIELD_DOUBLE, P(cost_per_minute), 0, 1 },
    { NULL },
};

static const VbField budget_fields[] = {
    { "max_migrations", FIELD_UINT, P(max_migrations), 0, 10000 },
    { "cooldown", FIELD_DURATION, P(cooldown_seconds), 0, VB_POLICY_MAX_DURATION },
    { "max_moves_per_vm_per_day", FIELD_UINT, P(max_moves_per_vm_per_day), 0, 1000 },
    { "max_plan_age", FIELD_DURATION, P(max_plan_age_seconds), 1, VB_POLICY_MAX_DURATION },
    { NULL },
};

static const VbField reserve_fields[] = {
    { "memory", FIELD_PERCENT, P(memory_reserve_percent), 0, 90 },
    { "memory_mib", FIELD_UINT64, P(memory_reserve_mib), 0, 16 * 1024 * 1024 },
    { "cpu_overcommit", FIELD_DOUBLE, P(cpu_overcommit), 0.1, 100 },
    { "host_overhead_memory_mib", FIELD_DOUBLE, P(host_overhead_memory_mib), 0, 1024 * 1024 },
    { NULL },
};

static const VbField metric_fields[] = {
    { "cpu", FIELD_DOUBLE, P(weights[VB_METRIC_CPU]), 0, 100 },
    { "memory", FIELD_DOUBLE, P(weights[VB_METRIC_MEMORY]), 0, 100 },
    { "disk", FIELD_DOUBLE, P(weights[VB_METRIC_DISK]), 0, 100 },
    { NULL },
};

static const VbField migration_fields[] = {
    { "max_total", FIELD_UINT, M(max_total), 1, 1000 },
    { "max_per_source", FIELD_UINT, M(max_per_source), 1, 1000 },
    { "max_per_destination", FIELD_UINT, M(max_per_destination), 1, 1000 },
    { "max_storage_per_pool", FIELD_UINT, M(max_storage_per_pool), 1, 1000 },
    { "evacuation_batch", FIELD_UINT, M(evacuation_batch), 1, 1000 },
    { "bandwidth_mib_s", FIELD_DOUBLE, M(bandwidth_mib_s), 0, 100000 },
    { "setup_seconds", FIELD_DOUBLE, M(setup_seconds), 0, 600 },
    { "compression", FIELD_BOOL, M(compression), 0, 0 },
    { "auto_converge", FIELD_BOOL, M(auto_converge), 0, 0 },
    { "post_copy", FIELD_BOOL, M(post_copy), 0, 0 },
    { "timeout", FIELD_DURATION, M(timeout_seconds), 1, VB_POLICY_MAX_DURATION },
    { "max_retries", FIELD_UINT, M(max_retries), 0, 10 },
    { "start_after_cold_move", FIELD_BOOL, M(start_after_cold_move), 0, 0 },
    { NULL },
};

#undef P
#undef M

static gboolean
read_duration(const VbYamlDoc *doc, const VbYamlNode *node, const VbField *field,
              const char *what, guint *ret, GError **error)
{
    const char *text = vb_yaml_node_value(doc, node);
    guint64 seconds;
    g_autofree char *min = vb_policy_format_duration((guint64) field->min);
    g_autofree char *max = vb_policy_format_duration((guint64) field->max);
    g_autofree char *shown = vb_text_quote(text);

    if (!vb_policy_parse_duration(text, &seconds))
        return vb_yaml_error(error, doc, node,
                             "%s: expected a duration such as 90 (seconds), 30s, 10m, 2h or "
                             "1h30m, got '%s'", what, shown);
    if (seconds < field->min || seconds > field->max)
        return vb_yaml_error(error, doc, node, "%s: %s is out of range; allowed: %s to %s",
                             what, shown, min, max);
    *ret = (guint) seconds;
    return TRUE;
}

static gboolean
read_ratio(const VbYamlDoc *doc, const VbYamlNode *node, const VbField *field,
           const char *what, double *ret, GError **error)
{
    const char *text = vb_yaml_node_value(doc, node);
    g_autofree char *shown = vb_text_quote(text);
    double number;
    gboolean percent;
    double value;

    if (!parse_ratio(text, &number, &percent))
        return vb_yaml_error(error, doc, node,
                             "%s: expected a fraction such as 0.8 or a percentage such as "
                             "80%%, got '%s'", what, shown);
    if (field->type == FIELD_PERCENT) {
        value = percent ? number : number * 100.0;
        if (value < field->min || value > field->max)
            return vb_yaml_error(error, doc, node,
                                 "%s: %s is out of range; allowed: %g%% to %g%% (or %g to %g)%s",
                                 what, shown, field->min, field->max, field->min / 100.0,
                                 field->max / 100.0,
                                 percent ? "" : "; a number without % is a fraction");
    } else {
        value = percent ? number / 100.0 : number;
        if (value < field->min || value > field->max)
            return vb_yaml_error(error, doc, node,
                                 "%s: %s is out of range; allowed: %g to %g (or %g%% to %g%%)",
                                 what, shown, field->min, field->max, field->min * 100.0,
                                 field->max * 100.0);
    }
    *ret = value;
    return TRUE;
}

static gboolean
read_field(VbPolicyLoad *load, const VbYamlNode *node, const VbField *field, const char *what,
           GError **error)
{
    char *slot = (char *) load->policy + field->offset;
    guint64 whole;

    if (!vb_yaml_expect_kind(load->doc, node, VB_YAML_SCALAR, what, error))
        return FALSE;
    switch (field->type) {
    case FIELD_UINT:
    case FIELD_UINT64:
        if (!vb_yaml_get_uint64(load->doc, node, what, (guint64) field->min,
                                (guint64) field->max, &whole, error))
            return FALSE;
        if (field->type == FIELD_UINT)
            *(guint *) slot = (guint) whole;
        else
            *(guint64 *) slot = whole;
        return TRUE;
    case FIELD_DOUBLE:
        return vb_yaml_get_double(load->doc, node, what, field->min, field->max,
                                  (double *) slot, error);
    case FIELD_FRACTION:
    case FIELD_PERCENT:
        return read_ratio(load->doc, node, field, what, (double *) slot, error);
    case FIELD_DURATION:
        return read_duration(load->doc, node, field, what, (guint *) slot, error);
    case FIELD_BOOL:
        return vb_yaml_get_bool(load->doc, node, what, (gboolean *) slot, error);
    }
    g_assert_not_reached();
}

/* Reads the mapping @node of section @section with the keys of @fields. */
static gboolean
read_section(VbPolicyLoad *load, const VbYamlNode *node, const char *section,
             const VbField *fields, GError **error)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new();

    for (const VbField *f = fields; f->key; f++)
        g_ptr_array_add(keys, (gpointer) f->key);
    g_ptr_array_add(keys, NULL);
    if (!vb_yaml_check_mapping(load->doc, node, section, (const char *const *) keys->pdata,
                               error))
        return FALSE;
    for (const VbField *f = fields; f->key; f++) {
        const VbYamlNode *value = vb_yaml_mapping_get(load->doc, node, f->key);
        g_autofree char *what = NULL;

        if (!value)
            continue;
        what = g_strdup_printf("%s.%s", section, f->key);
        if (!read_field(load, value, f, what, error))
            return FALSE;
        g_hash_table_insert(load->nodes, g_steal_pointer(&what), (gpointer) value);
    }
    return TRUE;
}

/* ------------------------------------------------------------ sections */

gboolean
vb_policy_read_thresholds(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    return read_section(load, node, "thresholds", threshold_fields, error);
}

gboolean
vb_policy_read_budget(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    return read_section(load, node, "budget", budget_fields, error);
}

gboolean
vb_policy_read_reserves(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    return read_section(load, node, "reserves", reserve_fields, error);
}

gboolean
vb_policy_read_migration(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    return read_section(load, node, "migration", migration_fields, error);
}

/* Listing metrics says which count: a metric left out weighs 0, so that
 * `metrics: {cpu: 1}` balances CPU alone, as an admin would expect. */
gboolean
vb_policy_read_metrics(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    double total = 0;

    if (!vb_yaml_expect_kind(load->doc, node, VB_YAML_MAPPING, "metrics", error))
        return FALSE;
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        load->policy->weights[m] = 0;
    if (!read_section(load, node, "metrics", metric_fields, error))
        return FALSE;
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        total += load->policy->weights[m];
    if (total <= 0)
        return vb_yaml_error(error, load->doc, node,
                             "metrics: every weight is 0, so no load would count; give at "
                             "least one of cpu, memory or disk a weight above 0");
    return TRUE;
}

gboolean
vb_policy_read_names(VbPolicyLoad *load, const VbYamlNode *node, const char *what,
                     const char *noun, char ***ret, GError **error)
{
    g_auto(GStrv) names = NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    const VbYamlNode *item = NULL;

    if (!vb_yaml_get_strv(load->doc, node, what, &names, error))
        return FALSE;
    if (vb_yaml_node_kind(node) == VB_YAML_SEQUENCE)
        item = vb_yaml_node_first(load->doc, node);
    for (guint i = 0; names[i]; i++) {
        const VbYamlNode *at = item ? item : node;

        if (names[i][0] == '\0')
            return vb_yaml_error(error, load->doc, at, "%s: a %s name is empty; every item "
                                 "must be a %s name", what, noun, noun);
        if (!g_hash_table_add(seen, names[i])) {
            g_autofree char *shown = vb_text_quote(names[i]);

            return vb_yaml_error(error, load->doc, at, "%s: %s '%s' is named twice; name "
                                 "each %s once", what, noun, shown, noun);
        }
        if (item)
            item = vb_yaml_node_next(load->doc, item);
    }
    *ret = g_steal_pointer(&names);
    return TRUE;
}

gboolean
vb_policy_read_exclude(VbPolicyLoad *load, const VbYamlNode *node, GError **error)
{
    static const char *const keys[] = { "hosts", "vms", "vm_labels", NULL };
    static const char *const nouns[] = { "host", "guest", "label" };
    VbPolicy *policy = load->policy;
    char ***slots[] = { &policy->exclude_hosts, &policy->exclude_vms,
                              &policy->exclude_vm_labels };

    if (!vb_yaml_check_mapping(load->doc, node, "exclude", keys, error))
        return FALSE;
    for (guint i = 0; keys[i]; i++) {
        const VbYamlNode *value = vb_yaml_mapping_get(load->doc, node, keys[i]);
        g_autofree char *what = NULL;
        char **names = NULL;

        if (!value)
            continue;
        what = g_strdup_printf("exclude.%s", keys[i]);
        if (!vb_policy_read_names(load, value, what, nouns[i], &names, error))
            return FALSE;
        g_strfreev(*slots[i]);
        *slots[i] = names;
    }
    return TRUE;
}

/* ------------------------------------------------------------ cross-key checks */

/* The node to blame for a conflict between @first and @second: the one the
 * admin wrote (@first when both), or NULL when both are defaults. */
static const VbYamlNode *
blame(VbPolicyLoad *load, const char *first, const char *second)
{
    const VbYamlNode *node = g_hash_table_lookup(load->nodes, first);

    return node ? node : g_hash_table_lookup(load->nodes, second);
}

static gboolean
check_cap(VbPolicyLoad *load, const char *key, guint value, GError **error)
{
    g_autofree char *path = g_strdup_printf("migration.%s", key);
    guint total = load->policy->migration.max_total;

    if (value <= total)
        return TRUE;
    return vb_yaml_error(error, load->doc, blame(load, path, "migration.max_total"),
                         "migration.%s (%u) is larger than migration.max_total (%u); allowed: "
                         "1 to %u, or raise max_total", key, value, total, total);
}

gboolean
vb_policy_check_whole(VbPolicyLoad *load, GError **error)
{
    const VbPolicy *policy = load->policy;

    if (policy->consolidate_low_water >= policy->high_water)
        return vb_yaml_error(error, load->doc,
                             blame(load, "thresholds.low_water", "thresholds.high_water"),
                             "thresholds.low_water (%g) must be below thresholds.high_water "
                             "(%g); lower low_water or raise high_water",
                             policy->consolidate_low_water, policy->high_water);
    if (!check_cap(load, "max_per_source", policy->migration.max_per_source, error))
        return FALSE;
    return check_cap(load, "max_per_destination", policy->migration.max_per_destination, error);
}

/* ------------------------------------------------------------ writing */

/* Shortest text that reads back as exactly @value. */
void
vb_policy_append_number(GString *out, double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    g_ascii_formatd(buf, sizeof buf, "%.15g", value);
    if (g_ascii_strtod(buf, NULL) != value)
        g_ascii_formatd(buf, sizeof buf, "%.17g", value);
    g_string_append(out, buf);
}

static void
append_field(GString *out, const VbPolicy *policy, const VbField *field)
{
    const char *slot = (const char *) policy + field->offset;
    g_autofree char *duration = NULL;

    g_string_append_printf(out, "  %s: ", field->key);
    switch (field->type) {
    case FIELD_UINT:
        g_string_append_printf(out, "%u", *(const guint *) slot);
        break;
    case FIELD_UINT64:
        g_string_append_printf(out, "%" G_GUINT64_FORMAT, *(const guint64 *) slot);
        break;
    case FIELD_DOUBLE:
    case FIELD_FRACTION:
        vb_policy_append_number(out, *(const double *) slot);
        break;
    case FIELD_PERCENT:
        vb_policy_append_number(out, *(const double *) slot);
        g_string_append_c(out, '%');
        break;
    case FIELD_DURATION:
        duration = vb_policy_format_duration(*(const guint *) slot);
        g_string_append(out, duration);
        break;
    case FIELD_BOOL:
        g_string_append(out, *(const gboolean *) slot ? "true" : "false");
        break;
    }
    g_string_append_c(out, '\n');
}

void
vb_policy_write_section(GString *out, const VbPolicy *policy, const char *section)
{
    static const struct {
        const char *name;
        const VbField *fields;
    } sections[] = {
        { "metrics", metric_fields },       { "thresholds", threshold_fields },
        { "budget", budget_fields },        { "reserves", reserve_fields },
        { "migration", migration_fields },
    };

    for (guint i = 0; i < G_N_ELEMENTS(sections); i++) {
        if (!g_str_equal(sections[i].name, section))
            continue;
        g_string_append_printf(out, "%s:\n", section);
        for (const VbField *f = sections[i].fields; f->key; f++)
            append_field(out, policy, f);
        return;
    }
    g_assert_not_reached();
}
