/*
 * policies-test.c: the policy loader, its checks, its writer and its docs.
 *
 * Data-driven:
 *   tests/data/policies/good/NAME.yaml   must load; NAME.out is the policy
 *                                         written back (vb_policy_to_yaml);
 *   tests/data/policies/bad/NAME.yaml    must be refused; NAME.err is the
 *                                         exact message (one check per file);
 *   policies/examples/NAME.yaml          must load; the written-back policy
 *                                         is in tests/data/policies/examples/;
 *   docs/policy.md                       every ```yaml block must load.
 * VB_REGENERATE=1 rewrites the .out and .err files (review the diff).
 * Files are read with their base name as the file name in messages, so that
 * expectations do not depend on where the tree is.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "placement/placement.h"
#include "policies/policies-priv.h"
#include "pool/pool.h"
#include "tests/testutil.h"

/* ------------------------------------------------------------ helpers */

static gint
compare_paths(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(const char *const *) a, *(const char *const *) b);
}

/* Sorted paths of the files ending in @suffix in @dir (transfer full). */
static GPtrArray *
list_files(const char *dir, const char *suffix)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) handle = g_dir_open(dir, 0, NULL);
    const char *name;

    while (handle && (name = g_dir_read_name(handle)))
        if (g_str_has_suffix(name, suffix))
            g_ptr_array_add(paths, g_build_filename(dir, name, NULL));
    g_ptr_array_sort(paths, compare_paths);
    return paths;
}

static GPtrArray *good_files, *bad_files, *example_files;

/* Path of @path with its ".yaml" replaced by @suffix, in @dir or beside it. */
static char *
sibling(const char *path, const char *dir, const char *suffix)
{
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *dirname = dir ? g_strdup(dir) : g_path_get_dirname(path);

    base[strlen(base) - strlen(".yaml")] = '\0';
    return g_strdup_printf("%s/%s%s", dirname, base, suffix);
}

/* Loads @path by its base name; on failure returns NULL with @error set. */
static VbPolicy *
load_named(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *base = g_path_get_basename(path);
    gsize len = 0;

    ck_assert_msg(g_file_get_contents(path, &data, &len, NULL), "cannot read %s", path);
    return vb_policy_load_data(data, len, base, error);
}

/* Writing, loading the text and writing again gives the same text. */
static void
assert_round_trip(const VbPolicy *policy)
{
    g_autofree char *text = vb_policy_to_yaml(policy);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) again = vb_policy_load_data(text, strlen(text), "written", &error);
    g_autofree char *text2 = NULL;

    ck_assert_msg(again != NULL, "written policy does not load: %s\n%s",
                  error ? error->message : "", text);
    text2 = vb_policy_to_yaml(again);
    ck_assert_str_eq(text, text2);
}

/* ------------------------------------------------------------ defaults */

START_TEST(test_defaults)
{
    g_autoptr(VbPolicy) policy = vb_policy_new_default();

    ck_assert_int_eq(policy->goal, VB_GOAL_BALANCE);
    ck_assert_int_eq(policy->load_source, VB_LOAD_MEASURED);
    ck_assert_double_eq(policy->weights[VB_METRIC_CPU], 1.0);
    ck_assert_double_eq(policy->weights[VB_METRIC_MEMORY], 1.0);
    ck_assert_double_eq(policy->weights[VB_METRIC_DISK], 0.2);
    ck_assert_double_eq(policy->high_water, 0.80);
    ck_assert_double_eq(policy->consolidate_low_water, 0.20);
    ck_assert_double_eq(policy->target_imbalance, 0.05);
    ck_assert_double_eq(policy->min_improvement, 0.005);
    ck_assert_uint_eq(policy->max_migrations, 20);
    ck_assert_uint_eq(policy->cooldown_seconds, 1800);
    ck_assert_uint_eq(policy->max_moves_per_vm_per_day, 4);
    ck_assert_uint_eq(policy->memory_reserve_mib, 2048);
    ck_assert_double_eq(policy->memory_reserve_percent, 10.0);
    ck_assert_double_eq(policy->cpu_overcommit, 4.0);
    ck_assert_double_eq(policy->host_overhead_memory_mib, 1024);
    ck_assert(!policy->allow_cross_pool);
    ck_assert_ptr_nonnull(policy->exclude_hosts);
    ck_assert_ptr_null(policy->exclude_hosts[0]);
    ck_assert_ptr_null(policy->exclude_vms[0]);
    ck_assert_ptr_null(policy->exclude_vm_labels[0]);
    ck_assert_uint_eq(policy->rules->len, 0);
    ck_assert_uint_eq(policy->migration.max_total, 4);
    ck_assert_uint_eq(policy->migration.max_per_source, 2);
    ck_assert_uint_eq(policy->migration.max_per_destination, 2);
    ck_assert_uint_eq(policy->migration.max_storage_per_pool, 3);
    ck_assert_uint_eq(policy->migration.evacuation_batch, 10);
    ck_assert_double_eq(policy->migration.bandwidth_mib_s, 0);
    ck_assert(!policy->migration.compression);
    ck_assert(policy->migration.auto_converge);
    ck_assert(!policy->migration.post_copy);
    ck_assert_uint_eq(policy->migration.timeout_seconds, 600);
    ck_assert_uint_eq(policy->migration.max_retries, 2);
    ck_assert(!policy->migration.start_after_cold_move);
    ck_assert_ptr_null(policy->filename);
    assert_round_trip(policy);
}
END_TEST

/* Documents that mean "all defaults". */
static const char *const empty_docs[] = {
    "", "# only a comment\n", "---\n", "~\n", "exclude:\nrules:\nthresholds:\n",
};

START_TEST(test_empty_is_default)
{
    g_autoptr(VbPolicy) defaults = vb_policy_new_default();
    g_autoptr(GError) error = NULL;
    const char *doc = empty_docs[_i];
    g_autoptr(VbPolicy) policy = vb_policy_load_data(doc, strlen(doc), "empty.yaml", &error);
    g_autofree char *want = vb_policy_to_yaml(defaults);
    g_autofree char *got = NULL;

    ck_assert_msg(policy != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(policy->filename, "empty.yaml");
    got = vb_policy_to_yaml(policy);
    ck_assert_str_eq(got, want);
}
END_TEST

/* The example balance.yaml states the defaults, key by key. */
START_TEST(test_balance_example_is_default)
{
    g_autoptr(VbPolicy) defaults = vb_policy_new_default();
    g_autofree char *path = g_build_filename(g_getenv("VB_SRCDIR") ? g_getenv("VB_SRCDIR")
                                                                   : VB_SRCDIR,
                                             "policies", "examples", "balance.yaml", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_load_file(path, &error);
    g_autofree char *want = vb_policy_to_yaml(defaults);
    g_autofree char *got = NULL;

    ck_assert_msg(policy != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(policy->filename, path);
    got = vb_policy_to_yaml(policy);
    ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(test_missing_file)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_load_file("/nonexistent/policy.yaml", &error);

    ck_assert_ptr_null(policy);
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_IO));
}
END_TEST

/* ------------------------------------------------------------ sample files */

static void
check_good(const char *path, const char *out_dir)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) policy = load_named(path, &error);
    g_autofree char *expected = sibling(path, out_dir, ".out");
    g_autofree char *text = NULL;

    ck_assert_msg(policy != NULL, "%s: %s", path, error ? error->message : "");
    text = vb_policy_to_yaml(policy);
    vb_test_compare_file(expected, text);
    assert_round_trip(policy);
}

START_TEST(test_good)
{
    check_good(g_ptr_array_index(good_files, _i), NULL);
}
END_TEST

START_TEST(test_examples)
{
    g_autofree char *out_dir = vb_test_data_path("policies/examples");

    check_good(g_ptr_array_index(example_files, _i), out_dir);
}
END_TEST

START_TEST(test_bad)
{
    const char *path = g_ptr_array_index(bad_files, _i);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) policy = load_named(path, &error);
    g_autofree char *expected = sibling(path, NULL, ".err");
    g_autofree char *text = NULL;

    ck_assert_msg(policy == NULL, "%s loaded but must be refused", path);
    ck_assert_msg(g_error_matches(error, VB_ERROR, VB_ERROR_INVALID_INPUT), "%s: %s", path,
                  error->message);
    text = g_strdup_printf("%s\n", error->message);
    vb_test_compare_file(expected, text);
}
END_TEST

/* VB_POLICY_MAX_RULES rules load; one more is refused before any is read.
 * (Soft rules: the cross-rule check of hard ones is timed in
 * docs/input-limits.md, not here, where sanitizers slow it down.) */
static char *
many_rules(guint n)
{
    GString *text = g_string_new("rules:\n");

    for (guint i = 0; i < n; i++)
        g_string_append_printf(text, "  - {name: r%u, type: %s, vms: [a, b%u]}\n",
                               i, i % 2 ? "affinity" : "anti-affinity", i);
    return g_string_free(text, FALSE);
}

START_TEST(test_rule_cap)
{
    g_autofree char *at_cap = many_rules(VB_POLICY_MAX_RULES);
    g_autofree char *over = many_rules(VB_POLICY_MAX_RULES + 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) fits = vb_policy_load_data(at_cap, strlen(at_cap), "cap.yaml", &error);
    g_autoptr(VbPolicy) refused = NULL;
    g_autofree char *expected = g_strdup_printf("cap.yaml:2:3: rules: %u rules; at most %u are "
                                                "allowed (give rules to groups of guests with "
                                                "vm_labels)", VB_POLICY_MAX_RULES + 1,
                                                VB_POLICY_MAX_RULES);

    ck_assert_msg(fits != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(fits->rules->len, VB_POLICY_MAX_RULES);
    refused = vb_policy_load_data(over, strlen(over), "cap.yaml", &error);
    ck_assert_ptr_null(refused);
    ck_assert_str_eq(error->message, expected);
}
END_TEST

/* The bad cases are many and each must test one thing: keep at least 20. */
START_TEST(test_bad_count)
{
    ck_assert_uint_ge(bad_files->len, 20);
    ck_assert_uint_ge(good_files->len, 4);
    ck_assert_uint_ge(example_files->len, 4);
}
END_TEST

/* ------------------------------------------------------------ the docs */

/* The doc's first block states the defaults: it must load to them. */
static void
assert_is_default(const VbPolicy *policy, const char *where)
{
    g_autoptr(VbPolicy) defaults = vb_policy_new_default();
    g_autofree char *want = vb_policy_to_yaml(defaults);
    g_autofree char *got = vb_policy_to_yaml(policy);

    ck_assert_msg(g_str_equal(want, got), "%s is not the defaults:\n%s\nwanted:\n%s", where,
                  got, want);
}

/* Every ```yaml block of docs/policy.md loads, so the doc stays true; the
 * first one is the defaults. */
START_TEST(test_doc_examples)
{
    g_autofree char *path = g_build_filename(g_getenv("VB_SRCDIR") ? g_getenv("VB_SRCDIR")
                                                                   : VB_SRCDIR,
                                             "docs", "policy.md", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) block = NULL;
    guint start = 0, n_blocks = 0;

    ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "cannot read %s", path);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!block && g_str_equal(lines[i], "```yaml")) {
            block = g_string_new(NULL);
            start = i + 2;
        } else if (block && g_str_has_prefix(lines[i], "```")) {
            g_autoptr(GError) error = NULL;
            g_autofree char *name = g_strdup_printf("policy.md block at line %u", start);
            g_autoptr(VbPolicy) policy = vb_policy_load_data(block->str, block->len, name,
                                                             &error);

            ck_assert_msg(policy != NULL, "%s", error ? error->message : "");
            if (n_blocks == 0)
                assert_is_default(policy, name);
            g_string_free(g_steal_pointer(&block), TRUE);
            n_blocks++;
        } else if (block) {
            g_string_append_printf(block, "%s\n", lines[i]);
        }
    }
    ck_assert_ptr_null(block);
    ck_assert_uint_ge(n_blocks, 3);
}
END_TEST

/* Every key the writer knows is documented in docs/policy.md as `key`. */
START_TEST(test_doc_covers_keys)
{
    g_autofree char *path = g_build_filename(g_getenv("VB_SRCDIR") ? g_getenv("VB_SRCDIR")
                                                                   : VB_SRCDIR,
                                             "docs", "policy.md", NULL);
    g_autofree char *doc = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint n_keys = 0;

    ck_assert_msg(g_file_get_contents(path, &doc, NULL, NULL), "cannot read %s", path);
    /* A rule, so that the rule keys are written too. */
    g_ptr_array_add(policy->rules, g_new0(VbRule, 1));
    ((VbRule *) g_ptr_array_index(policy->rules, 0))->name = g_strdup("r");
    ((VbRule *) g_ptr_array_index(policy->rules, 0))->vms = g_strsplit("a b", " ", -1);
    ((VbRule *) g_ptr_array_index(policy->rules, 0))->host_labels = g_strsplit("l", " ", -1);
    text = vb_policy_to_yaml(policy);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autofree char *key = NULL;
        g_autofree char *quoted = NULL;
        const char *start = lines[i] + strspn(lines[i], " -");
        const char *colon = strchr(start, ':');

        if (!colon)
            continue;
        key = g_strndup(start, colon - start);
        quoted = g_strdup_printf("`%s`", key);
        ck_assert_msg(strstr(doc, quoted) != NULL, "docs/policy.md does not document %s", quoted);
        n_keys++;
    }
    ck_assert_uint_ge(n_keys, 40);
}
END_TEST

/* ------------------------------------------------------------ parsers */

static const struct {
    const char *text;
    gboolean ok;
    guint64 seconds;
} durations[] = {
    { "0", TRUE, 0 },         { "90", TRUE, 90 },          { "30s", TRUE, 30 },
    { "10m", TRUE, 600 },     { "2h", TRUE, 7200 },        { "1d", TRUE, 86400 },
    { "1h30m", TRUE, 5400 },  { "1d2h3m4s", TRUE, 93784 }, { "90m", TRUE, 5400 },
    { "", FALSE, 0 },         { "m", FALSE, 0 },           { "10 m", FALSE, 0 },
    { "30m1h", FALSE, 0 },    { "1h1h", FALSE, 0 },        { "1.5h", FALSE, 0 },
    { "-5", FALSE, 0 },       { "10x", FALSE, 0 },         { "1h30", FALSE, 0 },
    { "5min", FALSE, 0 },
};

START_TEST(test_duration)
{
    guint64 seconds = 12345;
    gboolean ok = vb_policy_parse_duration(durations[_i].text, &seconds);

    ck_assert_msg(ok == durations[_i].ok, "'%s'", durations[_i].text);
    if (ok) {
        g_autofree char *text = vb_policy_format_duration(seconds);
        guint64 again = 0;

        ck_assert_uint_eq(seconds, durations[_i].seconds);
        ck_assert(vb_policy_parse_duration(text, &again));
        ck_assert_uint_eq(again, seconds);
    } else {
        ck_assert_uint_eq(seconds, 12345); /* untouched on failure */
    }
}
END_TEST

static const struct {
    const char *text;
    gboolean ok;
    double fraction;
} fractions[] = {
    { "0.8", TRUE, 0.8 }, { "80%", TRUE, 0.8 }, { "0", TRUE, 0 }, { ".5", TRUE, 0.5 },
    { "100%", TRUE, 1 },  { "2.5%", TRUE, 0.025 }, { "%", FALSE, 0 }, { "", FALSE, 0 },
    { "high", FALSE, 0 }, { "80 %", FALSE, 0 },  { "-0.1", FALSE, 0 }, { "80%%", FALSE, 0 },
    { "nan", FALSE, 0 },  { "inf", FALSE, 0 },
};

START_TEST(test_fraction)
{
    double value = -7;
    gboolean ok = vb_policy_parse_fraction(fractions[_i].text, &value);

    ck_assert_msg(ok == fractions[_i].ok, "'%s'", fractions[_i].text);
    if (ok)
        ck_assert_double_eq_tol(value, fractions[_i].fraction, 1e-12);
    else
        ck_assert_double_eq(value, -7);
}
END_TEST

static const struct {
    guint64 reserve_mib;
    double percent;
    guint64 host_mib;
    guint64 expected;
} reserves[] = {
    { 2048, 10, 65536, 6554 }, /* 10% of 64 GiB, rounded up */
    { 2048, 10, 8192, 2048 },  /* the floor wins on a small host */
    { 0, 0, 8192, 0 },
    { 0, 25, 1000, 250 },
    { 4096, 0, 1024, 4096 },   /* larger than the host: still the reserve */
};

START_TEST(test_memory_reserve)
{
    g_autoptr(VbPolicy) policy = vb_policy_new_default();

    policy->memory_reserve_mib = reserves[_i].reserve_mib;
    policy->memory_reserve_percent = reserves[_i].percent;
    ck_assert_uint_eq(vb_policy_memory_reserve_mib(policy, reserves[_i].host_mib),
                      reserves[_i].expected);
}
END_TEST

/* ------------------------------------------------------------ what loads */

/* Spot checks of values that the .out files show only as text. */
START_TEST(test_loaded_values)
{
    static const char doc[] = "metrics: {cpu: 2}\n"
                              "reserves: {memory: 0.15}\n"
                              "budget: {cooldown: 1h30m}\n"
                              "rules:\n"
                              "  - {name: r, type: avoid, enforce: must, vm_labels: db,\n"
                              "     host_labels: [old, slow]}\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_load_data(doc, strlen(doc), "t.yaml", &error);
    const VbRule *rule;

    ck_assert_msg(policy != NULL, "%s", error ? error->message : "");
    ck_assert_double_eq(policy->weights[VB_METRIC_CPU], 2);
    ck_assert_double_eq(policy->weights[VB_METRIC_MEMORY], 0);
    ck_assert_double_eq(policy->weights[VB_METRIC_DISK], 0);
    ck_assert_double_eq_tol(policy->memory_reserve_percent, 15, 1e-9);
    ck_assert_uint_eq(policy->cooldown_seconds, 5400);
    ck_assert_uint_eq(policy->rules->len, 1);
    rule = g_ptr_array_index(policy->rules, 0);
    ck_assert_str_eq(rule->name, "r");
    ck_assert_int_eq(rule->kind, VB_RULE_HOST_ANTI_AFFINITY);
    ck_assert(rule->hard);
    ck_assert_ptr_null(rule->vms[0]);
    ck_assert_str_eq(rule->vm_labels[0], "db");
    ck_assert_ptr_null(rule->vm_labels[1]);
    ck_assert_str_eq(rule->host_labels[1], "slow");
    ck_assert_uint_eq(rule->line, 5);
    ck_assert_uint_eq(rule->column, 5);
}
END_TEST

/* budget.max_moves_per_vm_per_day: the value loaded, or the exact error
 * with FILE:LINE:COLUMN. */
static const struct {
    const char *value;
    guint expected;       /* when error is NULL */
    const char *error;
} move_cap_rows[] = {
    { "0", 0, NULL },
    { "7", 7, NULL },
    { "1000", 1000, NULL },
    { "1001", 0, "cap.yaml:3:29: budget.max_moves_per_vm_per_day: 1001 is out of range; "
                 "allowed: 0 to 1000" },
    { "-1", 0, "cap.yaml:3:29: budget.max_moves_per_vm_per_day: expected a whole number "
               "from 0 to 1000, got '-1'" },
    { "2.5", 0, "cap.yaml:3:29: budget.max_moves_per_vm_per_day: expected a whole number "
                "from 0 to 1000, got '2.5'" },
    { "[4]", 0, "cap.yaml:3:29: budget.max_moves_per_vm_per_day: expected a single value, "
                "got a list" },
};

START_TEST(test_move_cap)
{
    g_autofree char *doc = g_strdup_printf("budget:\n  cooldown: 10m\n"
                                           "  max_moves_per_vm_per_day: %s\n",
                                           move_cap_rows[_i].value);
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPolicy) policy = vb_policy_load_data(doc, strlen(doc), "cap.yaml", &error);

    if (move_cap_rows[_i].error) {
        ck_assert_ptr_null(policy);
        ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_INVALID_INPUT));
        ck_assert_str_eq(error->message, move_cap_rows[_i].error);
        return;
    }
    ck_assert_msg(policy != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(policy->max_moves_per_vm_per_day, move_cap_rows[_i].expected);
    assert_round_trip(policy);
}
END_TEST

/* --------------------------------------------- rules against a pool */

/* The pool the rows below check rules against: guests web-1, web-2, db-1
 * and db-2 (label db), batch (label nightly); host kvm1 has label ssd (a
 * host label, which no guest carries). */
static const char rule_pool[] =
    "pools:\n"
    "  - name: p\n"
    "    hosts:\n"
    "      - {name: kvm1, hypervisor: kvm, cpu: {vendor: Intel, cores: 8}, memory_mib: 16384, storage: {total_gib: 100, free_gib: 100}, labels: [ssd]}\n"
    "vms:\n"
    "  - {name: web-1, host: kvm1, vcpus: 1, memory_mib: 1024}\n"
    "  - {name: web-2, host: kvm1, vcpus: 1, memory_mib: 1024}\n"
    "  - {name: db-1, host: kvm1, vcpus: 1, memory_mib: 1024, labels: [db]}\n"
    "  - {name: db-2, host: kvm1, vcpus: 1, memory_mib: 1024, labels: [db]}\n"
    "  - {name: batch, host: kvm1, vcpus: 1, memory_mib: 1024, labels: [nightly]}\n";

/* One row: a policy and its findings against rule_pool, each as
 * "kind rule name suggestion line:column" ("-" for none), in order. */
static const struct {
    const char *policy;
    const char *expected[5];
} rule_rows[] = {
    /* The typo of the issue: one name unknown, and the anti-affinity rule
     * is left with one guest, so it is off; said first, at the rule. */
    { "rules:\n"
      "  - name: web-apart\n"
      "    type: anti-affinity\n"
      "    vms: [web-1, wbe-2]\n",
      { "one-guest web-apart web-1 - 2:5", "unknown-guest web-apart wbe-2 web-2 4:18" } },
    /* The same typo in a run-on rule: one guest is still something to keep
     * on ssd hosts. */
    { "rules: [{name: web-ssd, type: run-on, vms: [web-1, wbe-2], host_labels: ssd}]\n",
      { "unknown-guest web-ssd wbe-2 web-2 1:52" } },
    /* One guest by label; and one named guest that also carries the label
     * (one guest, counted once). */
    { "rules:\n"
      "  - {name: solo, type: affinity, vm_labels: [nightly]}\n"
      "  - {name: dup, type: anti-affinity, vms: [batch, gone], vm_labels: nightly}\n",
      { "one-guest solo batch - 2:5", "one-guest dup batch - 3:5",
        "unknown-guest dup gone - 3:51" } },
    /* Every name unknown: the rule concerns no guest, said first, at the rule. */
    { "rules:\n"
      "  - name: ghosts\n"
      "    type: affinity\n"
      "    vms:\n"
      "      - ghost-1\n"
      "      - web-3\n",
      { "no-guest ghosts - - 2:5", "unknown-guest ghosts ghost-1 - 5:9",
        "unknown-guest ghosts web-3 web-1 6:9" } },
    /* A label no guest carries, even though a host does: no guest. */
    { "rules: [{name: on-ssd, type: run-on, vm_labels: ssd, host_labels: ssd}]\n",
      { "no-guest on-ssd - - 1:9", "unknown-label on-ssd ssd - 1:49" } },
    /* A mistyped label, and one that two guests carry: the rule holds on. */
    { "rules: [{name: dbs, type: anti-affinity, vm_labels: [dbb, db]}]\n",
      { "unknown-label dbs dbb db 1:54" } },
    /* An unknown name next to a label that matches: one warning. */
    { "rules: [{name: mix, type: avoid, vms: [nope], vm_labels: [db], host_labels: [ssd]}]\n",
      { "unknown-guest mix nope - 1:40" } },
    /* All names known, labels carried: nothing to say. */
    { "rules:\n"
      "  - {name: ok, type: anti-affinity, vms: [web-1, web-2]}\n"
      "  - {name: ok2, type: run-on, vm_labels: [nightly], host_labels: [ssd]}\n",
      { NULL } },
    /* No rules at all. */
    { "metrics: {cpu: 1}\n", { NULL } },
};

START_TEST(test_rule_warnings)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = vb_inventory_load_data(rule_pool, strlen(rule_pool),
                                                        "pool.yaml", &error);
    g_autoptr(VbPolicy) policy = NULL;
    g_autoptr(GArray) warnings = NULL;
    guint n = 0;

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    policy = vb_policy_load_data(rule_rows[_i].policy, strlen(rule_rows[_i].policy),
                                 "p.yaml", &error);
    ck_assert_msg(policy != NULL, "%s", error ? error->message : "");
    warnings = vb_placement_rule_warnings(inv, policy);
    while (n < G_N_ELEMENTS(rule_rows[_i].expected) && rule_rows[_i].expected[n])
        n++;
    for (guint i = 0; i < MIN(n, warnings->len); i++) {
        const VbRuleWarning *w = &g_array_index(warnings, VbRuleWarning, i);
        const VbRule *rule = g_ptr_array_index(policy->rules, w->rule);
        g_autofree char *got = g_strdup_printf(
            "%s %s %s %s %u:%u", vb_rule_warning_kind_names[w->kind], rule->name,
            w->name ? w->name : "-", w->suggestion ? w->suggestion : "-", w->mark.line,
            w->mark.column);

        ck_assert_msg(g_str_equal(got, rule_rows[_i].expected[i]), "row %d finding %u: got "
                      "'%s', expected '%s'", _i, i, got, rule_rows[_i].expected[i]);
    }
    ck_assert_msg(warnings->len == n, "row %d: %u findings, expected %u", _i, warnings->len, n);
}
END_TEST

/* A rule built in code (no file): findings point at the rule's own
 * position, 0:0, and name no file position for its names. */
START_TEST(test_rule_warnings_unmarked)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = vb_inventory_load_data(rule_pool, strlen(rule_pool),
                                                        "pool.yaml", &error);
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(GArray) warnings = NULL;
    VbRule *rule = g_new0(VbRule, 1);
    const VbRuleWarning *w;

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    rule->name = g_strdup("r");
    rule->vms = g_strsplit("web-1 wbe-2", " ", -1);
    rule->vm_labels = g_new0(char *, 1);
    rule->host_labels = g_new0(char *, 1);
    g_ptr_array_add(policy->rules, rule);
    warnings = vb_placement_rule_warnings(inv, policy);
    ck_assert_uint_eq(warnings->len, 2);
    w = &g_array_index(warnings, VbRuleWarning, 0);
    ck_assert_int_eq(w->kind, VB_RULE_WARNING_ONE_GUEST); /* kind 0: affinity */
    ck_assert_str_eq(w->name, "web-1");
    ck_assert_uint_eq(w->mark.line, 0);
    w = &g_array_index(warnings, VbRuleWarning, 1);
    ck_assert_int_eq(w->kind, VB_RULE_WARNING_UNKNOWN_GUEST);
    ck_assert_str_eq(w->name, "wbe-2");
    ck_assert_str_eq(w->suggestion, "web-2");
    ck_assert_uint_eq(w->mark.line, 0);
}
END_TEST

static Suite *
policies_suite(void)
{
    Suite *suite = suite_create("policies");
    TCase *tc = tcase_create("policies");
    g_autofree char *good = vb_test_data_path("policies/good");
    g_autofree char *bad = vb_test_data_path("policies/bad");
    g_autofree char *examples = g_build_filename(g_getenv("VB_SRCDIR") ? g_getenv("VB_SRCDIR")
                                                                       : VB_SRCDIR,
                                                 "policies", "examples", NULL);

    /* Freed at exit by the process; the loop tests index into them. */
    good_files = list_files(good, ".yaml");
    bad_files = list_files(bad, ".yaml");
    example_files = list_files(examples, ".yaml");
    tcase_add_test(tc, test_defaults);
    tcase_add_loop_test(tc, test_empty_is_default, 0, G_N_ELEMENTS(empty_docs));
    tcase_add_test(tc, test_balance_example_is_default);
    tcase_add_test(tc, test_missing_file);
    tcase_add_loop_test(tc, test_good, 0, good_files->len);
    tcase_add_loop_test(tc, test_examples, 0, example_files->len);
    tcase_add_loop_test(tc, test_bad, 0, bad_files->len);
    tcase_add_test(tc, test_bad_count);
    tcase_add_test(tc, test_rule_cap);
    tcase_add_test(tc, test_doc_examples);
    tcase_add_test(tc, test_doc_covers_keys);
    tcase_add_loop_test(tc, test_duration, 0, G_N_ELEMENTS(durations));
    tcase_add_loop_test(tc, test_fraction, 0, G_N_ELEMENTS(fractions));
    tcase_add_loop_test(tc, test_memory_reserve, 0, G_N_ELEMENTS(reserves));
    tcase_add_test(tc, test_loaded_values);
    tcase_add_loop_test(tc, test_move_cap, 0, G_N_ELEMENTS(move_cap_rows));
    tcase_add_loop_test(tc, test_rule_warnings, 0, G_N_ELEMENTS(rule_rows));
    tcase_add_test(tc, test_rule_warnings_unmarked);
    suite_add_tcase(suite, tc);
    return suite;
}

VB_TEST_MAIN(policies_suite)
