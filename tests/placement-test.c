/*
 * placement-test.c: the placement suite.
 *
 *  - constraints: a table, one accepted and one refused case per hard
 *    constraint, checked against both the planners' constraint code and the
 *    independent checker (tests/data/placement/constraints*.yaml);
 *  - whole-plan accounting, the migration estimate, the checker's refusals;
 *  - scenarios: tests/data/placement/scenarios/<case>/{inventory.yaml,
 *    policy.yaml, command, expected.txt}, compared as canonical text
 *    (VB_REGENERATE=1 rewrites expected.txt);
 *  - properties on generated pools: every plan passes the checker, no guest
 *    moves twice, loads after applying a plan are the plan's "after", a
 *    second rebalance plans nothing, evacuation accounts for every guest;
 *  - quality: the greedy against the exhaustive oracle at 100 hosts / 2,000
 *    guests, and moves spread over destinations.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "tests/placement-testlib.h"

#define CONSTRAINT_NOW 1000060 /* one minute after `recent` last moved */

/* ---------------------------------------------------------- constraints */

typedef enum { POL_PLAIN, POL_CROSS, POL_START_COLD, POL_NO_CAP, POL_CAP_3 } PolicyVariant;

static const struct {
    const char *vm, *to;
    PolicyVariant variant;
    gint64 now;
    VbRejectCode expect;
} constraint_rows[] = {
    { "web", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "web", "a", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_SAME_HOST },
    { "web", "maint", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_HOST_NOT_UP },
    { "web", "ex", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_HOST_EXCLUDED },
    { "web", "x", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_OTHER_POOL },
    { "web", "x", POL_CROSS, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "web", "tcg", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_HYPERVISOR },
    { "web", "amd", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_CPU_VENDOR },
    { "web", "old", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_CPU_FEATURES },
    { "big", "old", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "big", "small", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_MEMORY },
    { "web", "small", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "big", "twocore", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_CPU_OVERCOMMIT },
    { "web", "twocore", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "loc", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "loc", "full", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_STORAGE_DEST },
    { "loc2", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_STORAGE_SOURCE },
    { "gpu", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_PINNED },
    { "nomig", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_PINNED },
    { "exvm", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_VM_EXCLUDED },
    { "exlab", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_VM_EXCLUDED },
    { "recent", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_COOLDOWN },
    { "recent", "b", POL_PLAIN, CONSTRAINT_NOW + 3600, VB_REJECT_LAST },
    /* budget.max_moves_per_vm_per_day (default 4; 0: no cap). */
    { "capped", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_MOVE_CAP },
    { "capped", "b", POL_NO_CAP, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "thrice", "b", POL_CAP_3, CONSTRAINT_NOW, VB_REJECT_MOVE_CAP },
    { "w1", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_AFFINITY },
    { "w1", "b2", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "g1", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "g1", "b2", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_AFFINITY },
    { "db", "hdd", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_HOST_RULE },
    { "db", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "batch", "hdd", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_HOST_RULE },
    { "batch", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "off", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "off", "b", POL_START_COLD, CONSTRAINT_NOW, VB_REJECT_MEMORY },
    /* Pool p3, shared_storage false: shared disks are not copied. */
    { "net", "l2", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "mixed", "l2", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_LAST },
    { "local", "l2", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_STORAGE_DEST },
    { "net", "x", POL_CROSS, CONSTRAINT_NOW, VB_REJECT_LAST },
    /* Paused on two hosts after a failed post-copy: left alone. */
    { "split", "b", POL_PLAIN, CONSTRAINT_NOW, VB_REJECT_ON_TWO_HOSTS },
};

static VbPolicy *
constraint_policy(PolicyVariant variant)
{
    VbPolicy *policy = pt_load_policy("placement/constraints-policy.yaml");

    policy->allow_cross_pool = variant == POL_CROSS;
    policy->migration.start_after_cold_move = variant == POL_START_COLD;
    if (variant == POL_NO_CAP || variant == POL_CAP_3)
        policy->max_moves_per_vm_per_day = variant == POL_NO_CAP ? 0 : 3;
    return policy;
}

/* A plan of the given moves, built by hand (transfer full). */
static VbPlan *
hand_plan(const VbInventory *inv, const char *const *moves)
{
    VbPlan *plan = g_new0(VbPlan, 1);

    plan->kind = VB_PLAN_REBALANCE;
    plan->moves = g_array_new(FALSE, TRUE, sizeof(VbMove));
    plan->unplaced = g_ptr_array_new();
    for (guint i = 0; moves[i]; i += 2) {
        const VbVm *vm = vb_inventory_get_vm(inv, moves[i]);
        VbMove move = { .vm = vm->id, .from = vm->host,
                        .to = vb_inventory_get_host(inv, moves[i + 1])->id };

        /* A guest moved twice starts its second move where the first ended. */
        for (guint k = 0; k < plan->moves->len; k++) {
            if (g_array_index(plan->moves, VbMove, k).vm == vm->id)
                move.from = g_array_index(plan->moves, VbMove, k).to;
        }
        g_array_append_val(plan->moves, move);
    }
    return plan;
}

START_TEST(test_constraint)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints.yaml");
    g_autoptr(VbPolicy) policy = constraint_policy(constraint_rows[_i].variant);
    g_autoptr(VbState) st = vb_state_new(inv, policy, constraint_rows[_i].now, G_MAXUINT, NULL);
    g_autoptr(GString) why = g_string_new(NULL);
    const char *const moves[] = { constraint_rows[_i].vm, constraint_rows[_i].to, NULL };
    g_autoptr(VbPlan) plan = hand_plan(inv, moves);
    VbPlanOptions opts = { .now = constraint_rows[_i].now };
    g_autoptr(GError) error = NULL;
    VbRejectCode code;
    gboolean checked;

    code = vb_state_refusal(st, vb_inventory_get_vm(inv, constraint_rows[_i].vm)->id,
                            vb_inventory_get_host(inv, constraint_rows[_i].to)->id, why);
    ck_assert_msg(code == constraint_rows[_i].expect, "%s -> %s: got %s (%s), expected %s",
                  constraint_rows[_i].vm, constraint_rows[_i].to, pt_reject_names[code], why->str,
                  pt_reject_names[constraint_rows[_i].expect]);
    ck_assert_msg((code == VB_REJECT_LAST) == (why->len == 0), "reason: '%s'", why->str);
    checked = vb_placement_check_plan(inv, policy, plan, &opts, &error);
    ck_assert_msg(checked == (code == VB_REJECT_LAST), "checker disagrees on %s -> %s: %s",
                  constraint_rows[_i].vm, constraint_rows[_i].to, error ? error->message : "ok");
    if (!checked)
        ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_CONSTRAINT));
}
END_TEST

/* The kind of a move follows what really moves: in pool p3 (no shared
 * storage) a guest whose only disk is shared moves live, not live-storage. */
static const struct {
    const char *vm, *to;
    VbMoveKind kind;
} kind_rows[] = {
    { "net", "l2", VB_MOVE_LIVE },
    { "mixed", "l2", VB_MOVE_LIVE_STORAGE },
    { "local", "l2", VB_MOVE_LIVE_STORAGE },
    { "web", "b", VB_MOVE_LIVE },
    { "loc", "b", VB_MOVE_LIVE_STORAGE },
};

START_TEST(test_move_kind)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints.yaml");
    g_autoptr(VbPolicy) policy = constraint_policy(POL_PLAIN);
    g_autoptr(VbState) st = vb_state_new(inv, policy, CONSTRAINT_NOW, G_MAXUINT, NULL);
    VbMoveKind kind = vb_state_move_kind(st, vb_inventory_get_vm(inv, kind_rows[_i].vm)->id,
                                         vb_inventory_get_host(inv, kind_rows[_i].to)->id);

    ck_assert_msg(kind == kind_rows[_i].kind, "%s -> %s: %s, expected %s", kind_rows[_i].vm,
                  kind_rows[_i].to, vb_move_kind_names[kind], vb_move_kind_names[kind_rows[_i].kind]);
}
END_TEST

/* Reasons carry the figures. */
START_TEST(test_constraint_reasons)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints.yaml");
    g_autoptr(VbPolicy) policy = constraint_policy(POL_PLAIN);
    g_autoptr(VbState) st = vb_state_new(inv, policy, CONSTRAINT_NOW, G_MAXUINT, NULL);
    g_autoptr(GString) why = g_string_new(NULL);

    vb_state_refusal(st, vb_inventory_get_vm(inv, "big")->id,
                     vb_inventory_get_host(inv, "small")->id, why);
    ck_assert_str_eq(why->str, "big needs 16384 MiB, small has 8336 MiB free after the 2048 MiB "
                               "reserve");
    g_string_truncate(why, 0);
    vb_state_refusal(st, vb_inventory_get_vm(inv, "loc")->id,
                     vb_inventory_get_host(inv, "full")->id, why);
    ck_assert_str_eq(why->str, "loc copies 100.0 GiB of disks, full has 250.0 GiB free (needs "
                               "3x: 300.0 GiB)");
    g_string_truncate(why, 0);
    vb_state_refusal(st, vb_inventory_get_vm(inv, "web")->id,
                     vb_inventory_get_host(inv, "old")->id, why);
    ck_assert_str_eq(why->str, "old cannot run web's CPU: missing avx2");
    g_string_truncate(why, 0);
    vb_state_refusal(st, vb_inventory_get_vm(inv, "capped")->id,
                     vb_inventory_get_host(inv, "b")->id, why);
    ck_assert_str_eq(why->str, "capped moved 4 times in the last 24 h, the most the policy "
                               "allows (max_moves_per_vm_per_day 4)");
}
END_TEST

/* CPU compatibility (tests/data/placement/constraints-cpu.yaml): named
 * models by their expanded features, the host's own CPU (passthrough,
 * maximum, host-model before it is fixed) only onto an identical CPU; each
 * row with the exact sentence people see, and the checker must agree. */
#define PT_SAME " (a host-passthrough guest moves only between identical CPUs)"
static const struct {
    const char *vm, *to;
    VbRejectCode expect;
    const char *reason;
} cpu_rows[] = {
    { "d1", "icx2", VB_REJECT_LAST, "" },
    { "d1", "icx-amx", VB_REJECT_LAST, "" },
    { "d1", "clx", VB_REJECT_CPU_FEATURES,
      "clx cannot run d1's CPU (Icelake-Server): missing avx512vnni, gfni, vaes" },
    { "d1", "bdw", VB_REJECT_CPU_FEATURES,
      "bdw cannot run d1's CPU (Icelake-Server): missing avx512f, avx512vnni, avx512bw and 2 more" },
    { "c1", "clx", VB_REJECT_LAST, "" },
    { "c1", "bdw", VB_REJECT_CPU_FEATURES,
      "bdw cannot run c1's CPU (Cascadelake-Server): missing avx512f, avx512bw" },
    { "plain", "bdw", VB_REJECT_LAST, "" },
    { "pt1", "icx2", VB_REJECT_LAST, "" },
    { "pt1", "clx", VB_REJECT_CPU_FEATURES,
      "clx cannot run pt1's CPU (host-passthrough, Icelake-Server): clx's CPU is "
      "Cascadelake-Server" PT_SAME },
    { "pt1", "icx-amx", VB_REJECT_CPU_FEATURES,
      "icx-amx cannot run pt1's CPU (host-passthrough, Icelake-Server): icx-amx has amx-tile "
      "that icx lacks" PT_SAME },
    { "pt2", "icx", VB_REJECT_CPU_FEATURES,
      "icx cannot run pt2's CPU (host-passthrough, Icelake-Server): missing amx-tile" PT_SAME },
    { "pt1", "nomodel", VB_REJECT_CPU_FEATURES,
      "nomodel cannot run pt1's CPU (host-passthrough, Icelake-Server): nomodel's CPU is of an "
      "unknown model" PT_SAME },
    { "ptnomodel", "icx", VB_REJECT_CPU_FEATURES,
      "icx cannot run ptnomodel's CPU (host-passthrough): icx's CPU is Icelake-Server" PT_SAME },
    { "max1", "icx2", VB_REJECT_LAST, "" },
    { "max1", "clx", VB_REJECT_CPU_FEATURES,
      "clx cannot run max1's CPU (maximum, Icelake-Server): clx's CPU is Cascadelake-Server "
      "(a maximum guest moves only between identical CPUs)" },
    { "hm1", "icx2", VB_REJECT_LAST, "" },
    { "hm1", "icx-amx", VB_REJECT_CPU_FEATURES,
      "icx-amx cannot run hm1's CPU (host-model, Icelake-Server): icx-amx has amx-tile that icx "
      "lacks (a host-model guest moves only between identical CPUs)" },
    { "hm2", "icx-amx", VB_REJECT_LAST, "" },
    { "hm2", "clx", VB_REJECT_CPU_FEATURES,
      "clx cannot run hm2's CPU (Icelake-Server): missing avx512vnni, gfni, vaes" },
    { "ptoff", "bdw", VB_REJECT_LAST, "" },
    { "doff", "clx", VB_REJECT_CPU_FEATURES,
      "clx cannot run doff's CPU (Icelake-Server): missing avx512vnni, gfni, vaes" },
};

START_TEST(test_cpu_constraint)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints-cpu.yaml");
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    g_autoptr(VbState) st = vb_state_new(inv, policy, CONSTRAINT_NOW, G_MAXUINT, NULL);
    g_autoptr(GString) why = g_string_new(NULL);
    const char *const moves[] = { cpu_rows[_i].vm, cpu_rows[_i].to, NULL };
    g_autoptr(VbPlan) plan = hand_plan(inv, moves);
    VbPlanOptions opts = { .now = CONSTRAINT_NOW };
    g_autoptr(GError) error = NULL;
    guint vm = vb_inventory_get_vm(inv, cpu_rows[_i].vm)->id;
    guint to = vb_inventory_get_host(inv, cpu_rows[_i].to)->id;
    VbRejectCode code = vb_state_refusal(st, vm, to, why);
    gboolean checked;

    ck_assert_msg(code == cpu_rows[_i].expect, "%s -> %s: got %s (%s), expected %s",
                  cpu_rows[_i].vm, cpu_rows[_i].to, pt_reject_names[code], why->str,
                  pt_reject_names[cpu_rows[_i].expect]);
    ck_assert_str_eq(why->str, cpu_rows[_i].reason);
    /* The fast path (no sentence) gives the same answer. */
    ck_assert_int_eq(vb_state_refusal(st, vm, to, NULL), code);
    checked = vb_placement_check_plan(inv, policy, plan, &opts, &error);
    ck_assert_msg(checked == (code == VB_REJECT_LAST), "checker disagrees on %s -> %s: %s",
                  cpu_rows[_i].vm, cpu_rows[_i].to, error ? error->message : "ok");
}
END_TEST

/* Evacuating icx: every guest finds an identical or able host, or is listed
 * unplaced with each host's CPU code and one sentence for them all. */
START_TEST(test_cpu_evacuate)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints-cpu.yaml");
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    VbPlanOptions opts = { .now = CONSTRAINT_NOW };
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPlan) plan = vb_placement_evacuate(inv, policy, "icx", &opts, &error);

    ck_assert_msg(plan != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(plan->unplaced->len, 0);
    for (guint i = 0; i < plan->moves->len; i++) {
        const VbMove *m = &g_array_index(plan->moves, VbMove, i);
        const VbVm *vm = vb_inventory_vm(inv, m->vm);
        const char *to = vb_inventory_host(inv, m->to)->name;

        /* The guests with icx's own CPU have one identical host. */
        if (g_str_has_prefix(vm->name, "pt") && vm->state != VB_VM_STATE_SHUTOFF)
            ck_assert_msg(g_str_equal(to, "icx2"), "%s went to %s", vm->name, to);
        if (g_str_equal(vm->name, "max1") || g_str_equal(vm->name, "hm1"))
            ck_assert_msg(g_str_equal(to, "icx2"), "%s went to %s", vm->name, to);
    }
    ck_assert(vb_placement_check_plan(inv, policy, plan, &opts, NULL));

    /* pt2 has the one CPU with amx-tile: nowhere to go, and each host says why. */
    g_clear_pointer(&plan, vb_plan_free);
    plan = vb_placement_evacuate(inv, policy, "icx-amx", &opts, &error);
    ck_assert_msg(plan != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(plan->moves->len, 0);
    ck_assert_uint_eq(plan->unplaced->len, 1);
    {
        const VbUnplaced *u = g_ptr_array_index(plan->unplaced, 0);
        gboolean seen = FALSE;

        ck_assert_str_eq(vb_inventory_vm(inv, u->vm)->name, "pt2");
        const VbRejectGroup *g;

        for (guint i = 0; i < u->rejections->len; i++) {
            const VbRejection *r = &g_array_index(u->rejections, VbRejection, i);

            ck_assert_int_eq(r->code, VB_REJECT_CPU_FEATURES);
            ck_assert_uint_eq(r->group, 0);
            seen = seen || g_str_equal(vb_inventory_host(inv, r->host)->name, "icx2");
        }
        ck_assert(seen);
        /* One constraint, one group, one sentence: its first host's. */
        ck_assert_uint_eq(u->groups->len, 1);
        g = &g_array_index(u->groups, VbRejectGroup, 0);
        ck_assert_uint_eq(g->count, u->rejections->len);
        ck_assert_uint_eq(g->examples[0], g_array_index(u->rejections, VbRejection, 0).host);
        ck_assert_str_eq(vb_inventory_host(inv, g->examples[0])->name, "icx");
        ck_assert_str_eq(g->reason, "icx cannot run pt2's CPU (host-passthrough, "
                                    "Icelake-Server): missing amx-tile" PT_SAME);
    }
}
END_TEST

/* The checker finds rejections that do not add up: the evacuate-grouped
 * scenario's plan checks, and each row spoils it one way. Unplaced guest 0
 * is huge: f1 f2 d1 f3 f4 f5 d2 r1 e1..e4, groups memory (6), host-not-up
 * (2), other-pool (4). */
typedef enum { SPOIL_NONE, SPOIL_COUNT, SPOIL_DROP, SPOIL_CODE, SPOIL_FALSE_CODE,
               SPOIL_EXAMPLE, SPOIL_MOVED } Spoil;

static const struct {
    Spoil spoil;
    const char *error; /* in the checker's message, NULL: checks */
} spoil_rows[] = {
    { SPOIL_NONE, NULL },
    { SPOIL_COUNT, "count is not its hosts'" },
    { SPOIL_DROP, "not every other host" },
    { SPOIL_CODE, "in a group of another code" },
    { SPOIL_FALSE_CODE, "a reason it does not have" },
    { SPOIL_EXAMPLE, "examples are not its first hosts" },
    { SPOIL_MOVED, "is moved by the plan" },
};

START_TEST(test_checker_rejections)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/scenarios/evacuate-grouped/inventory.yaml");
    g_autoptr(VbPolicy) policy = pt_load_policy("placement/scenarios/evacuate-grouped/policy.yaml");
    VbPlanOptions opts = { .now = 2000000000 };
    g_autoptr(GError) error = NULL;
    g_autoptr(VbPlan) plan = vb_placement_evacuate(inv, policy, "kvm1", &opts, &error);
    VbUnplaced *u;
    VbRejectGroup *g;
    gboolean ok;

    ck_assert_msg(plan != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq(plan->unplaced->len, 3);
    u = g_ptr_array_index(plan->unplaced, 0);
    ck_assert_str_eq(vb_inventory_vm(inv, u->vm)->name, "huge");
    ck_assert_uint_eq(u->rejections->len, 12);
    ck_assert_uint_eq(u->groups->len, 3);
    switch (spoil_rows[_i].spoil) {
    case SPOIL_COUNT:
        g_array_index(u->groups, VbRejectGroup, 1).count++;
        break;
    case SPOIL_DROP:
        g_array_remove_index(u->rejections, 11);
        g_array_index(u->groups, VbRejectGroup, 2).count--;
        break;
    case SPOIL_CODE:
        g_array_index(u->rejections, VbRejection, 0).code = VB_REJECT_CPU_OVERCOMMIT;
        break;
    case SPOIL_FALSE_CODE: /* e1..e4 said down: they are up */
        g = &g_array_index(u->groups, VbRejectGroup, 2);
        g->code = VB_REJECT_HOST_NOT_UP;
        for (guint i = 8; i < 12; i++)
            g_array_index(u->rejections, VbRejection, i).code = VB_REJECT_HOST_NOT_UP;
        break;
    case SPOIL_EXAMPLE:
        g_array_index(u->groups, VbRejectGroup, 0).examples[1] = vb_inventory_get_host(inv, "f3")->id;
        break;
    case SPOIL_MOVED: { /* small-1 moves to r1, and is said unplaced too */
        VbUnplaced *moved = g_new0(VbUnplaced, 1);

        moved->vm = vb_inventory_get_vm(inv, "small-1")->id;
        moved->rejections = g_array_new(FALSE, FALSE, sizeof(VbRejection));
        moved->groups = vb_reject_groups_new();
        moved->reason = g_strdup("no host can take small-1");
        g_ptr_array_add(plan->unplaced, moved);
        break;
    }
    default:
        break;
    }
    g_clear_error(&error);
    ok = vb_placement_check_plan(inv, policy, plan, &opts, &error);
    if (!spoil_rows[_i].error) {
        ck_assert_msg(ok, "%s", error ? error->message : "");
        return;
    }
    ck_assert(!ok);
    ck_assert(g_error_matches(error, VB_ERROR, VB_ERROR_CONSTRAINT));
    ck_assert_msg(strstr(error->message, spoil_rows[_i].error), "row %d: %s", _i, error->message);
}
END_TEST

/* Two moves to one host must both fit: each alone does, the third does not. */
START_TEST(test_whole_plan)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints.yaml");
    g_autoptr(VbPolicy) policy = constraint_policy(POL_PLAIN);
    g_autoptr(VbState) st = vb_state_new(inv, policy, CONSTRAINT_NOW + 3600, G_MAXUINT, NULL);
    const char *const fits[] = { "web", "small", "recent", "small", NULL };
    const char *const over[] = { "web", "small", "recent", "small", "loc", "small", NULL };
    g_autoptr(VbPlan) ok_plan = hand_plan(inv, fits);
    g_autoptr(VbPlan) bad_plan = hand_plan(inv, over);
    VbPlanOptions opts = { .now = CONSTRAINT_NOW + 3600 };
    g_autoptr(GError) error = NULL;
    guint small = vb_inventory_get_host(inv, "small")->id;
    guint web = vb_inventory_get_vm(inv, "web")->id;
    guint recent = vb_inventory_get_vm(inv, "recent")->id;
    guint loc = vb_inventory_get_vm(inv, "loc")->id;

    ck_assert_int_eq(vb_state_refusal(st, loc, small, NULL), VB_REJECT_LAST);
    vb_state_apply(st, web, small);
    ck_assert_int_eq(vb_state_refusal(st, recent, small, NULL), VB_REJECT_LAST);
    vb_state_apply(st, recent, small);
    ck_assert_int_eq(vb_state_refusal(st, loc, small, NULL), VB_REJECT_MEMORY);
    /* Taking a move back gives the room back. */
    vb_state_unapply(st, recent, vb_inventory_get_host(inv, "a")->id);
    ck_assert_int_eq(vb_state_refusal(st, loc, small, NULL), VB_REJECT_LAST);

    ck_assert(vb_placement_check_plan(inv, policy, ok_plan, &opts, NULL));
    ck_assert(!vb_placement_check_plan(inv, policy, bad_plan, &opts, &error));
    ck_assert_str_eq(error->message, "move 3 (loc a -> small): the destination lacks memory "
                                     "after its reserve");
}
END_TEST

/* The checker's own refusals: a guest twice, a wrong source. */
START_TEST(test_checker_refuses)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints.yaml");
    g_autoptr(VbPolicy) policy = constraint_policy(POL_PLAIN);
    const char *const twice[] = { "web", "b", "web", "b2", NULL };
    g_autoptr(VbPlan) plan = hand_plan(inv, twice);
    g_autoptr(VbPlan) wrong = hand_plan(inv, twice);
    VbPlanOptions opts = { .now = CONSTRAINT_NOW };
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) error2 = NULL;

    ck_assert(!vb_placement_check_plan(inv, policy, plan, &opts, &error));
    ck_assert_str_eq(error->message, "move 2 (web b -> b2): the guest is moved twice in one plan");
    g_array_index(wrong->moves, VbMove, 1).vm = vb_inventory_get_vm(inv, "big")->id;
    g_array_index(wrong->moves, VbMove, 1).from = vb_inventory_get_host(inv, "b")->id;
    ck_assert(!vb_placement_check_plan(inv, policy, wrong, &opts, &error2));
    ck_assert_str_eq(error2->message, "move 2 (big b -> b2): the guest is not on the source host");
}
END_TEST

/* ------------------------------------------------------------- estimate */

static const struct {
    guint64 memory_mib;
    double dirty, bw_from, bw_to, cap, local_gib;
    VbMoveKind kind;
    double expect;
} estimate_rows[] = {
    { 8192, 0, 1000, 1000, 0, 0, VB_MOVE_LIVE, 8.192 },
    { 8192, 500, 1000, 1000, 0, 0, VB_MOVE_LIVE, 16.384 },       /* M / (B - D) */
    { 8192, 2000, 1000, 1000, 0, 0, VB_MOVE_LIVE, 78.7946 },     /* throttled to 0.9 B */
    { 8192, 0, 0, 0, 0, 0, VB_MOVE_LIVE, 8.192 },                /* default 1000 MiB/s */
    { 8192, 0, 500, 2000, 250, 0, VB_MOVE_LIVE, 32.768 },        /* policy cap wins */
    { 8192, 0, 500, 2000, 0, 0, VB_MOVE_LIVE, 16.384 },          /* slower end wins */
    { 8192, 0, 1000, 1000, 0, 100, VB_MOVE_LIVE_STORAGE, 110.592 },
    { 8192, 0, 1000, 1000, 0, 100, VB_MOVE_COLD, 102.4 },
};

START_TEST(test_estimate)
{
    g_autoptr(VbInventory) inv = vb_inventory_new();
    g_autoptr(VbPolicy) policy = vb_policy_new_default();
    VbPool *pool = vb_inventory_add_pool(inv, "p", NULL);
    VbHost *from = vb_inventory_add_host(inv, pool, "h1", NULL);
    VbHost *to = vb_inventory_add_host(inv, pool, "h2", NULL);
    VbVm *vm = vb_inventory_add_vm(inv, from, "g", NULL);
    double got;

    pool->shared_storage = TRUE;
    vm->memory_mib = estimate_rows[_i].memory_mib;
    vm->dirty_rate_mib_s = estimate_rows[_i].dirty;
    from->migration_bandwidth_mib_s = estimate_rows[_i].bw_from;
    to->migration_bandwidth_mib_s = estimate_rows[_i].bw_to;
    policy->migration.bandwidth_mib_s = estimate_rows[_i].cap;
    vb_vm_add_disk(vm, "vda", 50, TRUE);
    if (estimate_rows[_i].local_gib > 0)
        vb_vm_add_disk(vm, "vdb", estimate_rows[_i].local_gib, FALSE);
    got = vb_placement_estimate_seconds(inv, policy, vm, from, to, estimate_rows[_i].kind);
    ck_assert_msg(fabs(got - estimate_rows[_i].expect) < 1e-3, "row %d: %.4f s, expected %.4f",
                  _i, got, estimate_rows[_i].expect);
}
END_TEST

/* Errors at the edges: an unknown host, a spec that cannot be placed. */
START_TEST(test_errors)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints.yaml");
    g_autoptr(VbPolicy) policy = constraint_policy(POL_PLAIN);
    VbVmSpec empty = {.name = (char *) "x", .vcpus = 0, .memory_mib = 1024};
    VbVmSpec lost = {.name = (char *) "x", .vcpus = 1, .memory_mib = 1024, .pool = (char *) "p9"};
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GError) e3 = NULL;

    ck_assert_ptr_null(vb_placement_evacuate(inv, policy, "kvm99", NULL, &e1));
    ck_assert(g_error_matches(e1, VB_ERROR, VB_ERROR_NOT_FOUND));
    ck_assert_str_eq(e1->message, "there is no host named 'kvm99'");
    ck_assert_ptr_null(vb_placement_place(inv, policy, &empty, &e2));
    ck_assert(g_error_matches(e2, VB_ERROR, VB_ERROR_INVALID_INPUT));
    ck_assert_ptr_null(vb_placement_place(inv, policy, &lost, &e3));
    ck_assert(g_error_matches(e3, VB_ERROR, VB_ERROR_NOT_FOUND));
}
END_TEST

/* vb_plan_waits_for: a move into a host another move leaves waits for it. */
START_TEST(test_waits_for)
{
    g_autoptr(VbInventory) inv = pt_load_inventory("placement/constraints.yaml");
    const char *const moves[] = {"w2", "b2", "web", "b", "big", "b2", NULL};
    g_autoptr(VbPlan) plan = hand_plan(inv, moves);

    ck_assert(vb_plan_waits_for(plan, 1, 0));  /* web goes to b, which w2 leaves */
    ck_assert(!vb_plan_waits_for(plan, 0, 1)); /* never backwards */
    ck_assert(!vb_plan_waits_for(plan, 2, 0)); /* b2 is nobody's source */
    ck_assert(!vb_plan_waits_for(plan, 2, 1));
}
END_TEST

/* ------------------------------------------------------------ scenarios */

static char *
run_place(const VbInventory *inv, const VbPolicy *policy, char **words)
{
    VbVmSpec spec = { .name = (char *) "new", .vcpus = 1, .memory_mib = 1024, .cpu_usage = 0.5 };
    g_autoptr(GError) error = NULL;
    g_autoptr(VbRanking) ranking = NULL;
    g_auto(GStrv) features = NULL;
    g_auto(GStrv) labels = NULL;
    GString *out = g_string_new(NULL);

    for (guint i = 1; words[i]; i++) {
        const char *v = strchr(words[i], '=') + 1;

        if (g_str_has_prefix(words[i], "vcpus="))
            spec.vcpus = atoi(v);
        else if (g_str_has_prefix(words[i], "memory="))
            spec.memory_mib = g_ascii_strtoull(v, NULL, 10);
        else if (g_str_has_prefix(words[i], "disk="))
            spec.disk_gib = g_ascii_strtod(v, NULL);
        else if (g_str_has_prefix(words[i], "features="))
            spec.cpu_features = features = g_strsplit(v, ",", -1);
        else if (g_str_has_prefix(words[i], "labels="))
            spec.labels = labels = g_strsplit(v, ",", -1);
        else if (g_str_has_prefix(words[i], "vendor="))
            spec.cpu_vendor = (char *) v;
    }
    ranking = vb_placement_place(inv, policy, &spec, &error);
    ck_assert_msg(ranking != NULL, "%s", error ? error->message : "");
    for (guint i = 0; i < ranking->hosts->len; i++) {
        const VbPlacement *p = &g_array_index(ranking->hosts, VbPlacement, i);
        g_autofree char *reason = vb_placement_reason(p);

        if (p->stars > 0)
            g_string_append_printf(out, "%s: %u stars, score %.1f: %s\n",
                                   vb_inventory_host(inv, p->host)->name, p->stars, p->score,
                                   reason);
        else
            g_string_append_printf(out, "%s: 0 stars: %s (group %u)\n",
                                   vb_inventory_host(inv, p->host)->name,
                                   pt_reject_names[p->code], p->group);
    }
    pt_reject_groups_to_text(out, inv, ranking->refused, "");
    return g_string_free(out, FALSE);
}

static char *
run_scenario(const char *dir)
{
    g_autofree char *inv_rel = g_build_filename("placement/scenarios", dir, "inventory.yaml", NULL);
    g_autofree char *pol_rel = g_build_filename("placement/scenarios", dir, "policy.yaml", NULL);
    g_autofree char *cmd_rel = g_build_filename("placement/scenarios", dir, "command", NULL);
    g_autofree char *cmd_path = vb_test_data_path(cmd_rel);
    g_autoptr(VbInventory) inv = pt_load_inventory(inv_rel);
    g_autoptr(VbPolicy) policy = pt_load_policy(pol_rel);
    g_autofree char *command = NULL;
    g_auto(GStrv) words = NULL;
    g_autoptr(VbPlan) plan = NULL;
    g_autoptr(GError) error = NULL;
    VbPlanOptions opts = { .now = 2000000000 };

    ck_assert(g_file_get_contents(cmd_path, &command, NULL, NULL));
    words = g_strsplit(g_strstrip(command), " ", -1);
    if (g_str_equal(words[0], "place"))
        return run_place(inv, policy, words);
    if (g_str_equal(words[0], "evacuate"))
        plan = vb_placement_evacuate(inv, policy, words[1], &opts, &error);
    else
        plan = vb_placement_rebalance(inv, policy, &opts, &error);
    ck_assert_msg(plan != NULL, "%s: %s", dir, error ? error->message : "");
    ck_assert_msg(vb_placement_check_plan(inv, policy, plan, &opts, &error), "%s: %s", dir,
                  error ? error->message : "");
    return pt_plan_to_text(inv, plan);
}

START_TEST(test_scenarios)
{
    g_autofree char *root = vb_test_data_path("placement/scenarios");
    g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    ck_assert(dir != NULL);
    while ((name = g_dir_read_name(dir)))
        g_ptr_array_add(names, g_strdup(name));
    ck_assert_uint_gt(names->len, 0);
    for (guint i = 0; i < names->len; i++) {
        const char *dname = g_ptr_array_index(names, i);
        g_autofree char *expected = g_build_filename(root, dname, "expected.txt", NULL);
        g_autofree char *actual = run_scenario(dname);

        vb_test_compare_file(expected, actual);
    }
}
END_TEST

/* ------------------------------------------------------------------ suite */

Suite *placement_property_tcases(Suite *suite);
Suite *placement_costs_tcases(Suite *suite);
Suite *placement_ranking_tcases(Suite *suite);

static Suite *
placement_suite(void)
{
    Suite *suite = suite_create("placement");
    TCase *tc = tcase_create("constraints");

    tcase_add_loop_test(tc, test_constraint, 0, G_N_ELEMENTS(constraint_rows));
    tcase_add_test(tc, test_constraint_reasons);
    tcase_add_loop_test(tc, test_move_kind, 0, G_N_ELEMENTS(kind_rows));
    tcase_add_loop_test(tc, test_cpu_constraint, 0, G_N_ELEMENTS(cpu_rows));
    tcase_add_test(tc, test_cpu_evacuate);
    tcase_add_test(tc, test_whole_plan);
    tcase_add_test(tc, test_checker_refuses);
    tcase_add_loop_test(tc, test_checker_rejections, 0, G_N_ELEMENTS(spoil_rows));
    tcase_add_loop_test(tc, test_estimate, 0, G_N_ELEMENTS(estimate_rows));
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_waits_for);
    suite_add_tcase(suite, tc);
    tc = tcase_create("scenarios");
    tcase_add_test(tc, test_scenarios);
    suite_add_tcase(suite, tc);
    return placement_ranking_tcases(placement_costs_tcases(placement_property_tcases(suite)));
}

VB_TEST_MAIN(placement_suite)
