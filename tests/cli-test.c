/*
 * cli-test.c: the `virt-balancer` program, run as a person runs it.
 *
 * Scenarios: every folder tests/data/cli/<case>/ with an `args` file is one
 * case. The built binary runs in that folder with the arguments of `args`
 * (one per line; lines starting with '#' are comments) and a fixed
 * environment (NO_COLOR, VB_NOW, VIRT_BALANCER_CONFIG pointing at a file
 * that does not exist, plus the lines of an optional `env` file); its stdout,
 * stderr and exit code are compared with `stdout`, `stderr` and `exit-code`
 * beside it (VB_REGENERATE=1 rewrites them).
 *
 * Contract: whenever a case prints JSON, the document is parsed back with
 * json-glib and checked against docs/plan-json.md and the inventory the case
 * used: every move's guest exists and sits on `from`, from != to, a guest
 * appears at most once, every host has before/after loads, an evacuation
 * accounts for every guest of the host, a ranking lists each host once,
 * `unreachable` lists exactly the hosts the inventory has down, `hotspots`
 * agree with the hosts' loads and `target_met` is never true with a hotspot
 * or a must rule left broken.
 *
 * Units: the table printer, durations, and the error -> exit code mapping.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "cli/exec-priv.h"
#include "testutil.h"

/* Case folder names under tests/data/cli/, sorted; filled by cli_suite(). */
static GPtrArray *cases;

static char *
binary_path(void)
{
    const char *builddir = g_getenv("VB_BUILDDIR");

    return g_build_filename(builddir ? builddir : VB_BUILDDIR, "virt-balancer", NULL);
}

/* The case's argument lines as an argv for the binary (transfer full). */
static char **
read_args(const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "args", NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

    ck_assert_msg(g_file_get_contents(path, &text, NULL, &error), "%s", error ? error->message : "");
    g_ptr_array_add(argv, binary_path());
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (lines[i][0] == '#' || (lines[i][0] == '\0' && !lines[i + 1]))
            continue;
        g_ptr_array_add(argv, g_strdup(lines[i]));
    }
    g_ptr_array_add(argv, NULL);
    return (char **) g_ptr_array_free(g_steal_pointer(&argv), FALSE);
}

static char **
case_environment(const char *dir)
{
    g_autofree char *env_path = g_build_filename(dir, "env", NULL);
    g_autofree char *text = NULL;
    char **envp = g_get_environ();

    envp = g_environ_setenv(envp, "NO_COLOR", "1", TRUE);
    envp = g_environ_setenv(envp, "VB_NOW", "1700000000", TRUE);
    /* Relative: the program runs in the case folder, and messages that name
     * the file must not depend on where the tree is checked out. */
    envp = g_environ_setenv(envp, VB_CLI_CONFIG_ENV, "no-such-config.yaml", TRUE);
    if (g_file_get_contents(env_path, &text, NULL, NULL)) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (guint i = 0; lines[i]; i++) {
            char *eq = strchr(lines[i], '=');

            if (lines[i][0] == '#' || !eq)
                continue;
            *eq = '\0';
            envp = g_environ_setenv(envp, lines[i], eq + 1, TRUE);
        }
    }
    return envp;
}

/* ------------------------------------------------------ JSON contract */

static JsonObject *
member_object(JsonObject *obj, const char *name)
{
    ck_assert_msg(json_object_has_member(obj, name), "JSON lacks member '%s'", name);
    return json_object_get_object_member(obj, name);
}

static void
check_load(JsonObject *host, const char *which)
{
    JsonObject *load = member_object(host, which);
    const char *keys[] = { "cpu", "memory", "disk", "weighted" };

    ck_assert_ptr_nonnull(load);
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        ck_assert_msg(json_object_has_member(load, keys[i]), "%s lacks %s", which, keys[i]);
        ck_assert(json_object_get_double_member(load, keys[i]) >= 0);
    }
}

/* The hosts list names each inventory host once, with its pool and loads. */
static void
check_hosts(const VbInventory *inv, JsonArray *hosts)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    ck_assert_uint_eq(json_array_get_length(hosts), inv->hosts->len);
    for (guint i = 0; i < json_array_get_length(hosts); i++) {
        JsonObject *h = json_array_get_object_element(hosts, i);
        const char *name = json_object_get_string_member(h, "name");
        const VbHost *host = vb_inventory_get_host(inv, name);

        ck_assert_msg(host != NULL, "unknown host '%s' in hosts", name);
        ck_assert_msg(g_hash_table_add(seen, (gpointer) name), "host '%s' listed twice", name);
        ck_assert_str_eq(json_object_get_string_member(h, "pool"),
                         vb_inventory_pool(inv, host->pool)->name);
        check_load(h, "before");
        check_load(h, "after");
    }
}

/* Moves: real guests, on their source, to another real host, once each. */
/* Every move's cost is the policy's cost_per_minute times its estimate. */
static void
check_costs(JsonObject *doc)
{
    JsonArray *moves = json_object_get_array_member(doc, "moves");
    double per_minute = json_object_get_double_member(member_object(doc, "policy"),
                                                      "cost_per_minute");

    for (guint i = 0; i < json_array_get_length(moves); i++) {
        JsonObject *m = json_array_get_object_element(moves, i);
        double want = per_minute * json_object_get_double_member(m, "estimated_seconds") / 60;

        ck_assert_msg(fabs(json_object_get_double_member(m, "cost") - want) <= 1e-5 + want * 0.01,
                      "move %u costs %g, expected %g", i + 1,
                      json_object_get_double_member(m, "cost"), want);
    }
}

static void
check_moves(const VbInventory *inv, JsonArray *moves, GHashTable *guests)
{
    for (guint i = 0; i < json_array_get_length(moves); i++) {
        JsonObject *m = json_array_get_object_element(moves, i);
        const char *name = json_object_get_string_member(m, "vm");
        const char *from = json_object_get_string_member(m, "from");
        const char *to = json_object_get_string_member(m, "to");
        const VbVm *vm = vb_inventory_get_vm(inv, name);

        ck_assert_int_eq(json_object_get_int_member(m, "order"), i + 1);
        ck_assert_msg(vm != NULL, "move of unknown guest '%s'", name);
        ck_assert_msg(g_hash_table_add(guests, (gpointer) name), "guest '%s' moved twice", name);
        ck_assert_str_eq(from, vb_inventory_host(inv, vm->host)->name);
        ck_assert_msg(vb_inventory_get_host(inv, to) != NULL, "move to unknown host '%s'", to);
        ck_assert_str_ne(from, to);
        ck_assert(g_strv_contains((const char *const *) vb_move_kind_names,
                                  json_object_get_string_member(m, "kind")));
        ck_assert(json_object_get_double_member(m, "estimated_seconds") >= 0);
        ck_assert(*json_object_get_string_member(m, "reason") != '\0');
    }
}

/* The groups of "refused" account for the @n refused hosts of @entries
 * (objects with "host", "code", "group"), in host order: each host in its
 * group, of its code; each group's count its hosts', its examples its first
 * hosts, one sentence. */
static void
check_refused(JsonArray *refused, JsonObject *const *entries, guint n)
{
    guint n_groups = refused ? json_array_get_length(refused) : 0;
    g_autofree guint *seen = g_new0(guint, MAX(n_groups, 1));

    ck_assert_msg(refused != NULL || n == 0, "refused hosts but no 'refused' member");
    for (guint i = 0; i < n; i++) {
        gint64 k = json_object_get_int_member(entries[i], "group");
        const char *host = json_object_get_string_member(entries[i], "host");
        JsonObject *g;
        JsonArray *examples;

        ck_assert_msg(k >= 0 && k < n_groups, "host '%s' in group %" G_GINT64_FORMAT, host, k);
        g = json_array_get_object_element(refused, k);
        examples = json_object_get_array_member(g, "examples");
        ck_assert_str_eq(json_object_get_string_member(g, "code"),
                         json_object_get_string_member(entries[i], "code"));
        if (seen[k] < VB_REJECT_EXAMPLES)
            ck_assert_str_eq(json_array_get_string_element(examples, seen[k]), host);
        seen[k]++;
    }
    for (guint k = 0; k < n_groups; k++) {
        JsonObject *g = json_array_get_object_element(refused, k);

        ck_assert_int_eq(json_object_get_int_member(g, "count"), seen[k]);
        ck_assert_int_eq(json_array_get_length(json_object_get_array_member(g, "examples")),
                         MIN(seen[k], (guint) VB_REJECT_EXAMPLES));
        ck_assert(*json_object_get_string_member(g, "reason") != '\0');
    }
}

static void
check_unplaced(const VbInventory *inv, JsonArray *unplaced, GHashTable *guests)
{
    for (guint i = 0; i < json_array_get_length(unplaced); i++) {
        JsonObject *u = json_array_get_object_element(unplaced, i);
        const char *name = json_object_get_string_member(u, "vm");
        JsonArray *reasons = json_object_get_array_member(u, "reasons");

        ck_assert_msg(vb_inventory_get_vm(inv, name) != NULL, "unknown unplaced '%s'", name);
        ck_assert_msg(g_hash_table_add(guests, (gpointer) name), "guest '%s' twice", name);
        guint n = reasons ? json_array_get_length(reasons) : 0;
        g_autofree JsonObject **entries = g_new0(JsonObject *, MAX(n, 1));

        ck_assert_ptr_nonnull(reasons);
        for (guint r = 0; r < n; r++) {
            entries[r] = json_array_get_object_element(reasons, r);
            ck_assert(vb_inventory_get_host(inv, json_object_get_string_member(entries[r], "host")));
            ck_assert(*json_object_get_string_member(entries[r], "reason") != '\0');
        }
        check_refused(json_object_get_array_member(u, "refused"), entries, n);
    }
}

/* Warnings: known kinds, each about a rule, with a sentence; an unknown
 * guest is really not in the pool, and a suggestion really is. */
static void
check_warnings(const VbInventory *inv, JsonObject *doc)
{
    JsonArray *warnings;

    ck_assert_msg(json_object_has_member(doc, "warnings"), "JSON lacks member 'warnings'");
    warnings = json_object_get_array_member(doc, "warnings");
    ck_assert_ptr_nonnull(warnings);
    for (guint i = 0; i < json_array_get_length(warnings); i++) {
        JsonObject *w = json_array_get_object_element(warnings, i);
        const char *kind = json_object_get_string_member(w, "kind");
        const char *name = json_object_get_string_member_with_default(w, "name", NULL);
        const char *suggestion = json_object_get_string_member_with_default(w, "suggestion",
                                                                            NULL);

        ck_assert(g_strv_contains((const char *const *) vb_rule_warning_kind_names, kind));
        ck_assert(*json_object_get_string_member(w, "rule") != '\0');
        ck_assert(*json_object_get_string_member(w, "message") != '\0');
        ck_assert_int_eq(name == NULL, g_str_equal(kind, "no-guest"));
        if (g_str_equal(kind, "one-guest"))
            ck_assert_msg(vb_inventory_get_vm(inv, name) != NULL, "'%s' is no guest", name);
        if (g_str_equal(kind, "unknown-guest")) {
            ck_assert_msg(vb_inventory_get_vm(inv, name) == NULL, "'%s' is a guest", name);
            ck_assert(!suggestion || vb_inventory_get_vm(inv, suggestion) != NULL);
        }
    }
}

/* "unreachable" names exactly the hosts the inventory has down (no case
 * has a maintenance set), in inventory order, with their pool and reason. */
static void
check_unreachable(const VbInventory *inv, JsonArray *unreachable)
{
    guint next = 0;

    ck_assert_ptr_nonnull(unreachable);
    for (guint h = 0; h < inv->hosts->len; h++) {
        const VbHost *host = vb_inventory_host(inv, h);
        JsonObject *u;

        if (host->state != VB_HOST_STATE_DOWN)
            continue;
        ck_assert_msg(next < json_array_get_length(unreachable), "down host '%s' not listed in "
                      "unreachable", host->name);
        u = json_array_get_object_element(unreachable, next++);
        ck_assert_str_eq(json_object_get_string_member(u, "name"), host->name);
        ck_assert_str_eq(json_object_get_string_member(u, "pool"),
                         vb_inventory_pool(inv, host->pool)->name);
        ck_assert(*json_object_get_string_member(u, "reason") != '\0');
    }
    ck_assert_uint_eq(json_array_get_length(unreachable), next);
}

/* Member @metric of host @name's "before" or "after" load in the document. */
static double
host_load(JsonObject *doc, const char *name, const char *when, const char *metric)
{
    JsonArray *hosts = json_object_get_array_member(doc, "hosts");

    for (guint i = 0; i < json_array_get_length(hosts); i++) {
        JsonObject *h = json_array_get_object_element(hosts, i);

        if (g_strcmp0(json_object_get_string_member(h, "name"), name) == 0)
            return json_object_get_double_member(member_object(h, when), metric);
    }
    ck_assert_msg(FALSE, "hotspot of unknown host '%s'", name);
    return 0;
}

/* hotspots.before/after list exactly the (host, metric) pairs whose load in
 * hosts[] is above high_water on a watched metric; target_met is never true
 * with a hotspot or a must rule left broken; violations name known guests. */
static void
check_objectives(const VbInventory *inv, JsonObject *doc)
{
    JsonObject *policy = member_object(doc, "policy");
    JsonObject *weights = member_object(policy, "weights");
    double hw = json_object_get_double_member(policy, "high_water");
    JsonObject *spots = member_object(doc, "hotspots");
    JsonObject *rules = member_object(doc, "rule_violations");
    JsonArray *hosts = json_object_get_array_member(doc, "hosts");
    gboolean met = json_object_get_boolean_member(doc, "target_met");
    gboolean evacuate = g_strcmp0(json_object_get_string_member(doc, "kind"), "evacuate") == 0;
    guint must_left = 0, answered = 0;

    for (int a = 0; a <= 1; a++) {
        const char *when = a ? "after" : "before";
        JsonArray *list = json_object_get_array_member(spots, when);
        guint expected = 0;

        for (guint i = 0; i < json_array_get_length(list); i++) {
            JsonObject *h = json_array_get_object_element(list, i);
            const char *name = json_object_get_string_member(h, "host");
            const char *metric = json_object_get_string_member(h, "metric");
            double load = json_object_get_double_member(h, "load");

            ck_assert_msg(load > hw, "%s hotspot %s %s at %g, under high water", when, name,
                          metric, load);
            ck_assert(fabs(load - host_load(doc, name, when, metric)) < 1e-3);
            ck_assert(!a || *json_object_get_string_member(h, "reason"));
            /* An evacuation answers only for the hotspots it creates. */
            answered += a && (!evacuate || json_object_get_boolean_member(h, "created"));
        }
        for (guint i = 0; i < json_array_get_length(hosts); i++) {
            JsonObject *h = json_array_get_object_element(hosts, i);

            if (g_strcmp0(json_object_get_string_member(h, "state"), "up") != 0)
                continue;
            for (guint m = 0; m < VB_METRIC_LAST; m++)
                expected += json_object_get_double_member(weights, vb_metric_names[m]) > 0 &&
                            json_object_get_double_member(member_object(h, when),
                                                          vb_metric_names[m]) > hw;
        }
        ck_assert_uint_eq(json_array_get_length(list), expected);

    }
    for (int a = 0; a <= 1; a++) {
        JsonArray *list = json_object_get_array_member(rules, a ? "after" : "before");

        for (guint i = 0; i < json_array_get_length(list); i++) {
            JsonObject *v = json_array_get_object_element(list, i);
            JsonArray *vms = json_object_get_array_member(v, "guests");

            ck_assert(json_array_get_length(vms) > 0);
            for (guint k = 0; k < json_array_get_length(vms); k++)
                ck_assert(vb_inventory_get_vm(inv, json_array_get_string_element(vms, k)));
            ck_assert(!a || !json_object_get_boolean_member(v, "repaired"));
            must_left += a && g_strcmp0(json_object_get_string_member(v, "strength"),
                                        "must") == 0;
        }
    }
    ck_assert_msg(!(met && answered > 0), "target met with a hotspot left");
    ck_assert_msg(!(met && must_left > 0), "target met with a must rule broken");
}

static void
check_plan_json(const VbInventory *inv, JsonObject *doc)
{
    g_autoptr(GHashTable) guests = g_hash_table_new(g_str_hash, g_str_equal);
    JsonObject *imbalance = member_object(doc, "imbalance");
    JsonObject *per_metric = member_object(imbalance, "per_metric");
    const char *evacuated = json_object_get_string_member_with_default(doc, "evacuated_host",
                                                                       NULL);

    ck_assert_int_eq(json_object_get_int_member(doc, "format_version"), 1);
    ck_assert(json_object_get_double_member(imbalance, "before") >= 0);
    ck_assert(json_object_get_double_member(imbalance, "after") >= 0);
    for (guint m = 0; m < VB_METRIC_LAST; m++)
        ck_assert_ptr_nonnull(member_object(per_metric, vb_metric_names[m]));
    ck_assert_ptr_nonnull(json_object_get_string_member(doc, "stop_reason"));
    check_warnings(inv, doc);
    check_hosts(inv, json_object_get_array_member(doc, "hosts"));
    check_unreachable(inv, json_object_get_array_member(doc, "unreachable"));
    check_moves(inv, json_object_get_array_member(doc, "moves"), guests);
    check_unplaced(inv, json_object_get_array_member(doc, "unplaced"), guests);
    check_objectives(inv, doc);
    check_costs(doc);
    if (g_strcmp0(json_object_get_string_member(doc, "kind"), "evacuate") == 0) {
        const VbHost *host = vb_inventory_get_host(inv, evacuated);

        ck_assert_msg(host != NULL, "evacuated_host '%s' unknown", evacuated);
        for (guint i = 0; i < host->vms->len; i++) {
            const VbVm *vm = vb_inventory_vm(inv, g_array_index(host->vms, guint, i));

            ck_assert_msg(g_hash_table_contains(guests, vm->name),
                          "guest '%s' of the evacuated host is neither moved nor unplaced",
                          vm->name);
        }
    }
}

static void
check_place_json(const VbInventory *inv, JsonObject *doc)
{
    JsonArray *hosts = json_object_get_array_member(doc, "hosts");
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    gboolean any = FALSE, infeasible_seen = FALSE;
    guint n = json_array_get_length(hosts), n_refused = 0;
    g_autofree JsonObject **refused = g_new0(JsonObject *, MAX(n, 1));

    ck_assert_int_eq(json_object_get_int_member(doc, "format_version"), 1);
    ck_assert_ptr_nonnull(member_object(doc, "vm"));
    for (guint i = 0; i < json_array_get_length(hosts); i++) {
        JsonObject *h = json_array_get_object_element(hosts, i);
        const char *name = json_object_get_string_member(h, "name");
        gint64 stars = json_object_get_int_member(h, "stars");
        double score = json_object_get_double_member(h, "score");
        gboolean feasible = json_object_get_boolean_member(h, "feasible");

        ck_assert_msg(vb_inventory_get_host(inv, name) != NULL, "unknown host '%s'", name);
        ck_assert_msg(g_hash_table_add(seen, (gpointer) name), "host '%s' ranked twice", name);
        ck_assert_int_eq(json_object_get_int_member(h, "rank"), i + 1);
        ck_assert(stars >= 0 && stars <= 5);
        ck_assert(score >= 0 && score <= 100);
        ck_assert_int_eq(feasible, stars > 0);
        /* Best first: no host that can take the guest after one that cannot. */
        ck_assert_msg(!(feasible && infeasible_seen), "feasible host '%s' ranked late", name);
        infeasible_seen = infeasible_seen || !feasible;
        any = any || feasible;
        /* A refused host has a code and a group of "refused". */
        ck_assert_int_eq(json_object_get_null_member(h, "code"), feasible);
        ck_assert_int_eq(json_object_get_null_member(h, "group"), feasible);
        if (!feasible)
            refused[n_refused++] = h;
    }
    ck_assert_int_eq(json_object_get_boolean_member(doc, "placeable"), any);
    /* Refused hosts come last in host id order, as the groups took them;
     * check_refused reads a host's name as "host". */
    for (guint i = 0; i < n_refused; i++)
        json_object_set_string_member(refused[i], "host",
                                      json_object_get_string_member(refused[i], "name"));
    check_refused(json_object_get_array_member(doc, "refused"), refused, n_refused);
}

/* The inventory a case used, from the document's "source": the demo pool,
 * a sim config (its inventory file) or an inventory file. */
static VbInventory *
case_inventory(const char *dir, const char *source)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VbConfig) config = NULL;
    g_autofree char *path = NULL;
    VbInventory *inv;

    ck_assert_ptr_nonnull(source);
    if (strcmp(source, VB_CLI_DEMO_NAME) == 0) {
        g_autoptr(GBytes) demo = vb_cli_demo_pool();
        gsize len;
        const char *data = g_bytes_get_data(demo, &len);

        inv = vb_inventory_load_data(data, len, VB_CLI_DEMO_NAME, &error);
        ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
        return inv;
    }
    path = g_path_is_absolute(source) ? g_strdup(source) : g_build_filename(dir, source, NULL);
    config = vb_config_load_file(path, NULL);
    if (config && config->inventory)
        inv = vb_inventory_load_file(config->inventory, &error);
    else
        inv = vb_inventory_load_file(path, &error);
    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    return inv;
}

/* An acting command's report (docs/executor.md): the counts are those of
 * the moves listed; moves still running (state "started") are counted in
 * still_running and only in an interrupted run, whose stop time falls
 * within its duration. */
static void
check_report_json(JsonObject *doc)
{
    const char *const counted[] = { "finished", "failed", "aborted", "skipped", "started" };
    JsonArray *moves = json_object_get_array_member(doc, "moves");
    guint n[G_N_ELEMENTS(counted)] = { 0 };
    JsonNode *stopped = json_object_get_member(doc, "stopped_after_seconds");
    gboolean interrupted = json_object_get_boolean_member(doc, "interrupted");

    ck_assert_ptr_nonnull(moves);
    for (guint i = 0; i < json_array_get_length(moves); i++) {
        const char *state =
            json_object_get_string_member(json_array_get_object_element(moves, i), "state");

        for (guint c = 0; c < G_N_ELEMENTS(counted); c++)
            n[c] += g_strcmp0(state, counted[c]) == 0;
    }
    for (guint c = 0; c + 1 < G_N_ELEMENTS(counted); c++)
        ck_assert_int_eq(json_object_get_int_member(doc, counted[c]), n[c]);
    ck_assert_int_eq(json_object_get_int_member(doc, "still_running"), n[4]);
    ck_assert(interrupted || n[4] == 0);
    ck_assert(interrupted || json_object_get_int_member(doc, "not_started") == 0);
    ck_assert_ptr_nonnull(stopped);
    if (json_object_has_member(doc, "plan")) {
        JsonObject *plan = member_object(doc, "plan");

        ck_assert_int_eq(json_object_get_boolean_member(plan, "target_met"),
                         g_str_has_prefix(json_object_get_string_member(plan, "stop_reason"),
                                          "target met"));
        ck_assert_ptr_nonnull(member_object(plan, "hotspots"));
        ck_assert_ptr_nonnull(member_object(plan, "rule_violations"));
    }
    if (!JSON_NODE_HOLDS_NULL(stopped))
        ck_assert(json_node_get_double(stopped) >= 0 &&
                  json_node_get_double(stopped) <=
                      json_object_get_double_member(doc, "duration_seconds"));
}

static void
check_json_output(const char *dir, const char *out)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(VbInventory) inv = NULL;
    JsonObject *doc;
    const char *kind;

    ck_assert_msg(json_parser_load_from_data(parser, out, -1, &error),
                  "output is not JSON: %s", error ? error->message : "");
    doc = json_node_get_object(json_parser_get_root(parser));
    ck_assert_ptr_nonnull(doc);
    kind = json_object_get_string_member_with_default(doc, "kind", "");
    if (strcmp(kind, "rebalance") == 0 || strcmp(kind, "evacuate") == 0) {
        inv = case_inventory(dir, json_object_get_string_member(doc, "source"));
        check_plan_json(inv, doc);
    } else if (json_object_has_member(doc, "run")) {
        check_report_json(doc);
    } else if (strcmp(kind, "place") == 0) {
        inv = case_inventory(dir, json_object_get_string_member(doc, "source"));
        check_place_json(inv, doc);
    } else {
        const char *source = json_object_get_string_member_with_default(doc, "source", NULL);

        ck_assert_msg(json_object_get_boolean_member(doc, "valid"), "unknown JSON document");
        /* policy check: the rules' findings against the pool, if one was given. */
        if (source)
            inv = case_inventory(dir, source);
        else
            ck_assert_uint_eq(json_array_get_length(json_object_get_array_member(doc,
                                                                                 "warnings")),
                              0);
        if (inv)
            check_warnings(inv, doc);
    }
}

/* ------------------------------------------------------------ scenarios */

/* Like vb_test_compare_file(), but a mismatch names the first differing
 * line instead of both whole texts (Check truncates long messages). */
static void
compare_in(const char *case_name, const char *dir, const char *name, const char *actual)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *expected = NULL;
    g_auto(GStrv) want = NULL, got = NULL;
    guint i = 0;

    if (vb_test_regenerate()) {
        vb_test_compare_file(path, actual);
        return;
    }
    ck_assert_msg(g_file_get_contents(path, &expected, NULL, NULL),
                  "cannot read %s (run with VB_REGENERATE=1 to create it)", path);
    if (strcmp(expected, actual) == 0)
        return;
    want = g_strsplit(expected, "\n", -1);
    got = g_strsplit(actual, "\n", -1);
    while (want[i] && got[i] && strcmp(want[i], got[i]) == 0)
        i++;
    ck_abort_msg("%s: %s differs at line %u\n--- expected\n%.400s\n--- actual\n%.400s",
                 case_name, name, i + 1, want[i] ? want[i] : "(end)", got[i] ? got[i] : "(end)");
}

START_TEST(test_scenario)
{
    const char *name = g_ptr_array_index(cases, _i);
    g_autofree char *rel = g_build_filename("cli", name, NULL);
    g_autofree char *dir = vb_test_data_path(rel);
    g_auto(GStrv) argv = read_args(dir);
    g_auto(GStrv) envp = case_environment(dir);
    g_autofree char *out = NULL, *err = NULL, *code = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    ck_assert_msg(g_spawn_sync(dir, argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error),
                  "%s: cannot run %s: %s", name, argv[0], error ? error->message : "");
    ck_assert_msg(WIFEXITED(status), "%s: the program died: %s", name, err);
    code = g_strdup_printf("%d\n", WEXITSTATUS(status));
    /* The contract first: a broken invariant says more than a changed text. */
    if (out[0] == '{')
        check_json_output(dir, out);
    compare_in(name, dir, "exit-code", code);
    compare_in(name, dir, "stderr", err);
    compare_in(name, dir, "stdout", out);
}
END_TEST

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void
find_cases(void)
{
    g_autofree char *root = vb_test_data_path("cli");
    g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
    const char *entry;

    cases = g_ptr_array_new_with_free_func(g_free);
    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *args = g_build_filename(root, entry, "args", NULL);

        if (g_file_test(args, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(cases, g_strdup(entry));
    }
    g_ptr_array_sort(cases, compare_names);
}

/* ------------------------------------------- renderers on fixed plans */

/* Renderers are also tested on hand-made plans, so that their layout is
 * pinned down independently of what the planners decide. */

static VbInventory *
load_fixed_inventory(void)
{
    g_autofree char *path = vb_test_data_path("cli/inventories/hot.yaml");
    g_autoptr(GError) error = NULL;
    VbInventory *inv = vb_inventory_load_file(path, &error);

    ck_assert_msg(inv != NULL, "%s", error ? error->message : "");
    return inv;
}

static guint
host_id(const VbInventory *inv, const char *name)
{
    const VbHost *host = vb_inventory_get_host(inv, name);

    ck_assert_msg(host != NULL, "no host %s", name);
    return host->id;
}

static void
add_move(VbPlan *plan, const VbInventory *inv, const char *vm, const char *to, VbMoveKind kind,
         double seconds, double gain)
{
    const VbVm *v = vb_inventory_get_vm(inv, vm);
    VbMove move = {
        .vm = v->id, .from = v->host, .to = host_id(inv, to), .kind = kind,
        .estimated_seconds = seconds, .gain = gain,
        .reason = g_strdup_printf("%s goes to %s", vm, to),
    };

    g_array_append_val(plan->moves, move);
}

/* Counts @host into the group of (@code, @shared) of @groups, made with
 * @reason when it is the first; returns the group's index. The planner's
 * grouping, by hand. */
static guint
add_to_group(GArray *groups, guint host, VbRejectCode code, gboolean shared, const char *reason)
{
    VbRejectGroup *g = NULL;
    guint k;

    for (k = 0; k < groups->len && !g; k++) {
        VbRejectGroup *c = &g_array_index(groups, VbRejectGroup, k);

        if (c->code == code && c->shared == shared)
            g = c;
    }
    if (!g) {
        VbRejectGroup fresh = { .code = code, .shared = shared, .reason = g_strdup(reason) };

        g_array_append_val(groups, fresh);
        g = &g_array_index(groups, VbRejectGroup, groups->len - 1);
        k = groups->len;
    }
    if (g->count < VB_REJECT_EXAMPLES)
        g->examples[g->count] = host;
    g->count++;
    return k - 1;
}

static void
add_rejection(VbUnplaced *u, const VbInventory *inv, const char *host, VbRejectCode code,
              gboolean shared, const char *reason)
{
    VbRejection r = { .host = host_id(inv, host), .code = code };

    r.group = add_to_group(u->groups, r.host, code, shared, reason);
    g_array_append_val(u->rejections, r);
}

static VbUnplaced *
new_unplaced(const VbInventory *inv, const char *vm, const char *reason)
{
    VbUnplaced *u = g_new0(VbUnplaced, 1);

    u->vm = vb_inventory_get_vm(inv, vm)->id;
    u->rejections = g_array_new(FALSE, TRUE, sizeof(VbRejection));
    u->groups = vb_reject_groups_new();
    u->reason = g_strdup(reason);
    return u;
}

/* Loads rise with the host id before, and are flat after (transfer full:
 * vb_plan_free). */
/* The fixed plan's hotspots (every watched metric of an up host above the
 * default high water 0.80, all relieved) and one must rule it mends. */
static void
add_objectives(VbPlan *plan, const VbInventory *inv)
{
    VbViolation *v = g_new0(VbViolation, 1);
    guint web1 = vb_inventory_get_vm(inv, "web1")->id;

    plan->hotspots = g_ptr_array_new_with_free_func((GDestroyNotify) vb_hotspot_free);
    for (guint h = 0; h < plan->n_hosts; h++) {
        for (guint m = 0; m < VB_METRIC_LAST; m++) {
            VbHotspot *spot;

            if (vb_inventory_host(inv, h)->state != VB_HOST_STATE_UP ||
                plan->before[h].load[m] <= 0.8)
                continue;
            spot = g_new0(VbHotspot, 1);
            spot->host = h;
            spot->metric = m;
            spot->before = plan->before[h].load[m];
            spot->after = plan->after[h].load[m];
            g_ptr_array_add(plan->hotspots, spot);
        }
    }
    plan->violations = g_ptr_array_new_with_free_func((GDestroyNotify) vb_violation_free);
    v->vms = g_array_new(FALSE, FALSE, sizeof(guint));
    v->hosts = g_array_new(FALSE, FALSE, sizeof(guint));
    g_array_append_val(v->vms, web1);
    g_array_append_val(v->hosts, vb_inventory_vm(inv, web1)->host);
    v->repaired = TRUE;
    v->reason = g_strdup("mended by the plan's moves");
    g_ptr_array_add(plan->violations, v);
}

static VbPlan *
fixed_plan(const VbInventory *inv, VbPlanKind kind)
{
    VbPlan *plan = g_new0(VbPlan, 1);
    VbUnplaced *u;

    plan->kind = kind;
    plan->evacuated_host = kind == VB_PLAN_EVACUATE ? g_strdup("kvm1") : NULL;
    plan->n_hosts = inv->hosts->len;
    plan->before = g_new0(VbHostLoad, plan->n_hosts);
    plan->after = g_new0(VbHostLoad, plan->n_hosts);
    for (guint h = 0; h < plan->n_hosts; h++) {
        for (guint m = 0; m < VB_METRIC_LAST; m++) {
            plan->before[h].load[m] = 0.95 - 0.15 * h + 0.01 * m;
            plan->after[h].load[m] = 0.5 + 0.01 * m;
        }
        plan->before[h].weighted = 0.9 - 0.15 * h;
        plan->after[h].weighted = 0.5;
    }
    plan->imbalance_before = 0.2771;
    plan->imbalance_after = 0.0123456;
    for (guint m = 0; m < VB_METRIC_LAST; m++) {
        plan->metric_imbalance_before[m] = 0.3 - 0.1 * m;
        plan->metric_imbalance_after[m] = 0.01 * m;
    }
    plan->moves = g_array_new(FALSE, TRUE, sizeof(VbMove));
    add_move(plan, inv, "web1", "kvm3", VB_MOVE_LIVE, 17.26, 0.0741);
    add_move(plan, inv, "app1", "kvm2", VB_MOVE_LIVE, 3725, 0.07);
    add_move(plan, inv, "old1", "kvm2", VB_MOVE_COLD, 0, 0.0001);
    plan->unplaced = g_ptr_array_new_with_free_func((GDestroyNotify) vb_unplaced_free);
    g_ptr_array_add(plan->unplaced, new_unplaced(inv, "db1", "db1 is tagged no-migrate"));
    g_ptr_array_add(plan->unplaced, new_unplaced(inv, "gpu1", "gpu1 has a pass-through device"));
    u = new_unplaced(inv, "web2", NULL);
    add_rejection(u, inv, "kvm2", VB_REJECT_MEMORY, FALSE,
                  "needs 16384 MiB, kvm2 has 100 MiB free");
    add_rejection(u, inv, "kvm3", VB_REJECT_MEMORY, FALSE, NULL);
    add_rejection(u, inv, "kvm4", VB_REJECT_HOST_NOT_UP, FALSE, "kvm4 is in maintenance");
    add_rejection(u, inv, "edge1", VB_REJECT_OTHER_POOL, TRUE, "pool edge is not rack1");
    add_rejection(u, inv, "edge2", VB_REJECT_OTHER_POOL, TRUE, NULL);
    g_ptr_array_add(plan->unplaced, u);
    add_objectives(plan, inv);
    plan->stop_reason = g_strdup("budget used");
    return plan;
}

static char *
render_text_to_string(const VbCliPlanView *view)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    vb_cli_render_plan_text(out, view, FALSE);
    fclose(out);
    return text;
}

static const char *const fixed_kinds[] = { "rebalance", "evacuate" };

START_TEST(test_render_fixed_plan)
{
    g_autoptr(VbInventory) inv = load_fixed_inventory();
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    VbPlan *plan = fixed_plan(inv, _i == 0 ? VB_PLAN_REBALANCE : VB_PLAN_EVACUATE);
    VbRule *rule = g_new0(VbRule, 1);

    /* The rule the fixed plan's violation names (index 0). */
    rule->name = g_strdup("web-apart");
    rule->kind = VB_RULE_VM_ANTI_AFFINITY;
    rule->hard = TRUE;
    rule->vms = g_strsplit("web1,web2", ",", -1);
    g_ptr_array_add(policy->rules, rule);
    /* The evacuation's page carries a caller's note (a daemon's round), escaped. */
    VbCliPlanView view = { .inv = inv, .policy = policy, .plan = plan,
                           .source_name = "../inventories/hot.yaml",
                           .html_note = _i == 1 ? "Executed by round <7> & kept" : NULL };
    g_autofree char *dir = vb_test_data_path("cli/render");
    g_autofree char *text = NULL;
    g_autofree char *json = NULL;
    g_autofree char *text_name = g_strconcat(fixed_kinds[_i], ".txt", NULL);
    g_autofree char *json_name = g_strconcat(fixed_kinds[_i], ".json", NULL);

    g_autofree char *html = vb_cli_render_plan_html(&view);
    g_autofree char *html_name = g_strconcat(fixed_kinds[_i], ".html", NULL);

    text = render_text_to_string(&view);
    json = vb_cli_render_plan_json(&view);
    check_json_output(dir, json);
    compare_in(fixed_kinds[_i], dir, text_name, text);
    compare_in(fixed_kinds[_i], dir, json_name, json);
    compare_in(fixed_kinds[_i], dir, html_name, html);
    vb_plan_free(plan);
}
END_TEST

START_TEST(test_render_fixed_place)
{
    g_autoptr(VbInventory) inv = load_fixed_inventory();
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    VbRanking ranking = { .hosts = g_array_new(FALSE, TRUE, sizeof(VbPlacement)),
                          .refused = vb_reject_groups_new() };
    char *labels[] = { (char *) "web", (char *) "prod", NULL };
    VbVmSpec spec = { .name = (char *) "new1", .vcpus = 2, .memory_mib = 4096,
                      .disk_gib = 20, .labels = labels };
    VbPlacement rows[] = {
        { .host = host_id(inv, "kvm3"), .score = 91.256, .stars = 5, .load_before = 0.14,
          .load_after = 0.2, .code = VB_REJECT_LAST, .group = G_MAXUINT },
        { .host = host_id(inv, "edge2"), .score = 35, .stars = 2, .load_before = 0.6,
          .load_after = 0.71, .soft = 1, .code = VB_REJECT_LAST, .group = G_MAXUINT },
        { .host = host_id(inv, "kvm1"), .code = VB_REJECT_MEMORY },
        { .host = host_id(inv, "kvm2"), .code = VB_REJECT_MEMORY },
        { .host = host_id(inv, "kvm4"), .code = VB_REJECT_HOST_NOT_UP },
    };
    VbCliPlaceView view = { .inv = inv, .policy = policy, .spec = &spec, .ranking = &ranking,
                            .source_name = "../inventories/hot.yaml" };
    g_autofree char *dir = vb_test_data_path("cli/render");
    g_autofree char *text = NULL;
    g_autofree char *json = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    rows[2].group = add_to_group(ranking.refused, rows[2].host, VB_REJECT_MEMORY, FALSE,
                                 "needs 4096 MiB, kvm1 has 100 MiB free after the 6554 MiB "
                                 "reserve");
    rows[3].group = add_to_group(ranking.refused, rows[3].host, VB_REJECT_MEMORY, FALSE, NULL);
    rows[4].group = add_to_group(ranking.refused, rows[4].host, VB_REJECT_HOST_NOT_UP, FALSE,
                                 "kvm4 is in maintenance");
    g_array_append_vals(ranking.hosts, rows, G_N_ELEMENTS(rows));
    vb_cli_render_place_text(out, &view, FALSE);
    fclose(out);
    json = vb_cli_render_place_json(&view);
    check_json_output(dir, json);
    compare_in("place", dir, "place.txt", text);
    compare_in("place", dir, "place.json", json);
    g_array_unref(ranking.hosts);
    g_array_unref(ranking.refused);
}
END_TEST

/* ---------------------------------------------------------------- units */

static const struct {
    VbErrorCode code;
    int exit;
} exit_rows[] = {
    { VB_ERROR_FAILED, VB_EXIT_FAILURE },
    { VB_ERROR_INVALID_INPUT, VB_EXIT_INVALID_INPUT },
    { VB_ERROR_USAGE, VB_EXIT_USAGE },
    { VB_ERROR_NOT_FOUND, VB_EXIT_USAGE },
    { VB_ERROR_IO, VB_EXIT_INVALID_INPUT },
    { VB_ERROR_CONNECT, VB_EXIT_FAILURE },
    { VB_ERROR_MIGRATION, VB_EXIT_FAILURE },
    { VB_ERROR_CONSTRAINT, VB_EXIT_FAILURE },
    { VB_ERROR_UNPLACEABLE, VB_EXIT_UNPLACEABLE },
    { VB_ERROR_DATABASE, VB_EXIT_FAILURE },
    { VB_ERROR_BUSY, VB_EXIT_FAILURE },
    { VB_ERROR_TIMEOUT, VB_EXIT_FAILURE },
};
G_STATIC_ASSERT(G_N_ELEMENTS(exit_rows) == VB_ERROR_LAST);

/* The daemon logs "host down" once when a host stops answering and "host
 * up" once when it answers again: the changes between two snapshots. */
START_TEST(test_unreachable_changes)
{
    static const struct {
        const char *down; /* hosts down in this snapshot, comma-separated */
        const char *went_down, *came_up;
    } rounds[] = {
        { "kvm2", "kvm2", "" },
        { "kvm2", "", "" },           /* still down: said once */
        { "kvm2,kvm3", "kvm3", "" },
        { "kvm3", "", "kvm2" },
        { "", "", "kvm3" },
        { "", "", "" },
    };
    g_autoptr(VbInventory) inv = load_fixed_inventory();
    g_autoptr(GHashTable) down = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint r = 0; r < G_N_ELEMENTS(rounds); r++) {
        g_auto(GStrv) names = g_strsplit(rounds[r].down, ",", -1);
        g_autoptr(GPtrArray) went = g_ptr_array_new();
        g_autoptr(GPtrArray) came = g_ptr_array_new();
        g_autoptr(GString) w = g_string_new(NULL), c = g_string_new(NULL);

        for (guint h = 0; h < inv->hosts->len; h++) {
            VbHost *host = vb_inventory_host(inv, h);

            host->state = g_strv_contains((const char *const *) names, host->name)
                              ? VB_HOST_STATE_DOWN
                              : VB_HOST_STATE_UP;
        }
        vb_cli_unreachable_changes(down, inv, went, came);
        for (guint i = 0; i < went->len; i++)
            g_string_append_printf(w, "%s%s", i ? "," : "", ((VbHost *) went->pdata[i])->name);
        for (guint i = 0; i < came->len; i++)
            g_string_append_printf(c, "%s%s", i ? "," : "", ((VbHost *) came->pdata[i])->name);
        ck_assert_msg(g_str_equal(w->str, rounds[r].went_down) &&
                          g_str_equal(c->str, rounds[r].came_up),
                      "round %u: went down '%s', came up '%s'", r, w->str, c->str);
        ck_assert_uint_eq(g_hash_table_size(down), g_strv_length(names));
    }
}
END_TEST

START_TEST(test_exit_code)
{
    g_autoptr(GError) error = g_error_new(VB_ERROR, exit_rows[_i].code, "x");

    ck_assert_int_eq(vb_cli_exit_code(error), exit_rows[_i].exit);
}
END_TEST

START_TEST(test_exit_code_foreign)
{
    g_autoptr(GError) error = g_error_new(G_IO_ERROR, VB_ERROR_USAGE, "x");

    /* Another domain's code 2 is not a usage error. */
    ck_assert_int_eq(vb_cli_exit_code(error), VB_EXIT_FAILURE);
    ck_assert_int_eq(vb_cli_exit_code(NULL), VB_EXIT_FAILURE);
}
END_TEST

static const struct {
    double seconds;
    const char *text;
} duration_rows[] = {
    { 0, "0s" }, { 12.4, "12s" }, { 59.6, "1m00s" }, { 185, "3m05s" },
    { 3599, "59m59s" }, { 3720, "1h02m" },
};

START_TEST(test_duration)
{
    g_autofree char *text = vb_cli_duration_text(duration_rows[_i].seconds);

    ck_assert_str_eq(text, duration_rows[_i].text);
}
END_TEST

/* Texts from the inputs in an HTML page: markup escaped, control
 * characters and invalid UTF-8 replaced, the rest as it is. */
static const struct {
    const char *text;
    const char *html;
} html_rows[] = {
    { NULL, "" },
    { "kvm1", "kvm1" },
    { "<script>a&b</script>", "&lt;script&gt;a&amp;b&lt;/script&gt;" },
    { "x=\"1\" y='2'", "x=&quot;1&quot; y=&#39;2&#39;" },
    { "&amp;", "&amp;amp;" },
    { "a\tb\nc", "a\tb\nc" },
    { "bell\a esc\033[31m del\177", "bell\uFFFD esc\uFFFD[31m del\uFFFD" },
    { "nel\xc2\x85", "nel\uFFFD" },
    { "bad\xff utf8", "bad\uFFFD utf8" },
    { "\u00e9t\u00e9 \u2192", "\u00e9t\u00e9 \u2192" },
};

START_TEST(test_html_text)
{
    g_autoptr(GString) out = g_string_new(NULL);

    vb_cli_html_append_text(out, html_rows[_i].text);
    ck_assert_str_eq(out->str, html_rows[_i].html);
}
END_TEST

/* Columns line up by characters, not bytes, and ignore colour codes. */
START_TEST(test_table)
{
    g_autoptr(VbCliTable) table = vb_cli_table_new(3);
    const char *r1[] = { "a", VB_RED "hot" VB_RESET, "1" };
    const char *r2[] = { "\u00e9t\u00e9", "x", "10" };
    const char *r3[] = { "b", "y", NULL };
    g_autofree char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    vb_cli_table_align_right(table, 2);
    vb_cli_table_add(table, r1);
    vb_cli_table_add(table, r2);
    vb_cli_table_add(table, r3);
    vb_cli_table_print(table, out, "> ");
    fclose(out);
    /* Widths 3, 3, 2; the empty last cell of the last row is not padded. */
    ck_assert_str_eq(text, "> a    " VB_RED "hot" VB_RESET "   1\n"
                           "> \u00e9t\u00e9  x    10\n"
                           "> b    y\n");
}
END_TEST

/* A cell with a name no loader checked (from libvirt): its control
 * characters are escaped, the renderers' colours kept. */
START_TEST(test_table_unsafe)
{
    g_autoptr(VbCliTable) table = vb_cli_table_new(2);
    const char *r1[] = { "web1\nFAKE\033[2J", VB_RED "kvm\r1" VB_RESET };
    g_autofree char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    vb_cli_table_add(table, r1);
    vb_cli_table_print(table, out, NULL);
    fclose(out);
    ck_assert_str_eq(text, "web1\\nFAKE\\e[2J  " VB_RED "kvm\\r1" VB_RESET "\n");
}
END_TEST

/* The daemon's page at / says what it does with the round's plan: runs it
 * (automation full) or only recommends it (manual, partial). */
static const struct {
    VbAutomation automation;
    const char *want;
} page_note_rows[] = {
    { VB_AUTOMATION_FULL, "The daemon's round of 2026-12-06T12:00:00Z: it runs this plan now" },
    { VB_AUTOMATION_MANUAL, "The daemon's round of 2026-12-06T12:00:00Z: a recommendation "
                            "(automation: manual): nothing is migrated" },
    { VB_AUTOMATION_PARTIAL, "a recommendation (automation: partial): nothing is migrated" },
};

START_TEST(test_page_note)
{
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autofree char *note = NULL;

    policy->automation = page_note_rows[_i].automation;
    note = vb_cli_run_page_note(policy, 1796558400); /* 2026-12-06 12:00 UTC */
    ck_assert_msg(strstr(note, page_note_rows[_i].want) != NULL, "%s", note);
}
END_TEST

static Suite *
cli_suite(void)
{
    Suite *suite = suite_create("cli");
    TCase *tc = tcase_create("scenarios");

    find_cases();
    tcase_add_loop_test(tc, test_scenario, 0, (int) cases->len);
    suite_add_tcase(suite, tc);
    tc = tcase_create("renderers");
    tcase_add_loop_test(tc, test_render_fixed_plan, 0, G_N_ELEMENTS(fixed_kinds));
    tcase_add_test(tc, test_render_fixed_place);
    suite_add_tcase(suite, tc);
    tc = tcase_create("units");
    tcase_add_loop_test(tc, test_exit_code, 0, G_N_ELEMENTS(exit_rows));
    tcase_add_test(tc, test_exit_code_foreign);
    tcase_add_loop_test(tc, test_duration, 0, G_N_ELEMENTS(duration_rows));
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_unreachable_changes);
    tcase_add_test(tc, test_table_unsafe);
    tcase_add_loop_test(tc, test_html_text, 0, G_N_ELEMENTS(html_rows));
    tcase_add_loop_test(tc, test_page_note, 0, G_N_ELEMENTS(page_note_rows));
    suite_add_tcase(suite, tc);
    return suite;
}

VB_TEST_MAIN(cli_suite)
