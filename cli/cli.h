/*
 * cli.h: the `virt-balancer` command line.
 *
 * The program is a small dispatcher (main.c) over a table of commands
 * (commands.c). Global options (--inventory, --config, --policy, --format)
 * are parsed once into a VbCliContext; the command then asks the context for
 * what it needs (the inventory snapshot, the policy), so that every command
 * gets its input the same way and reports errors the same way.
 *
 * Adding a command: write `int vb_cli_cmd_NAME(VbCliContext *, int, char **)`
 * in cli/cmd-NAME.c, declare it below (one line), and add one line to the
 * table in cli/commands.c. The command parses its own options with
 * vb_cli_parse_options() (which handles --help), prints its result with the
 * renderers, and returns one of the VB_EXIT_* codes.
 *
 * Output rules: results go to stdout, in text or JSON as --format says;
 * errors go to stderr as "virt-balancer: <message>" (vb_cli_report_error).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "placement/placement.h"
#include "policies/policies.h"
#include "collectors/collectors.h"
#include "pool/pool.h"

G_BEGIN_DECLS

/* Exit codes; documented in docs/cli.md and `virt-balancer --help`. */
typedef enum {
    VB_EXIT_OK = 0,
    VB_EXIT_FAILURE = 1,       /* a runtime failure (a migration failed, ...) */
    VB_EXIT_USAGE = 2,         /* the command line is wrong */
    VB_EXIT_INVALID_INPUT = 3, /* a policy, inventory or config file is wrong */
    VB_EXIT_UNPLACEABLE = 4,   /* a guest could not be placed anywhere */
    VB_EXIT_PARTIAL = 5,       /* done, but part of the pool could not be read (cli/partial.c) */
    VB_EXIT_INTERRUPTED = 6,   /* SIGTERM/SIGINT cut an acting command short, or
                                * migrations were left running */
    VB_EXIT_LAST
} VbExitCode;

typedef enum {
    VB_CLI_FORMAT_TEXT,
    VB_CLI_FORMAT_JSON,
    VB_CLI_FORMAT_HTML,      /* plan, evacuate --dry-run, history (cli/render-html.c) */
    VB_CLI_FORMAT_LAST
} VbCliFormat;

/* Where the inventory snapshot comes from. */
typedef enum {
    VB_CLI_SOURCE_INVENTORY, /* --inventory FILE */
    VB_CLI_SOURCE_CONFIG,    /* --config FILE, or the default config file */
    VB_CLI_SOURCE_DEMO,      /* the demo pool compiled into the binary */
    VB_CLI_SOURCE_LAST
} VbCliSource;

#define VB_CLI_DEFAULT_CONFIG "/etc/virt-balancer/virt-balancer.yaml"

typedef struct {
    char *inventory_path;    /* --inventory, or NULL */
    char *config_path;       /* --config, or NULL */
    char *policy_path;       /* --policy, or NULL */
    char *database_path;     /* a command's --database (the journal), or NULL */
    VbCliFormat format;      /* --format */
    gboolean html_ok;        /* the command renders --format html: set before
                              * vb_cli_parse_options, which refuses html otherwise */
    gboolean color;          /* stdout is a terminal and NO_COLOR is unset */
    gint64 now;              /* unix seconds used for cooldowns (VB_NOW overrides) */
    FILE *out;               /* where results go (stdout) */
    int verbosity;           /* --quiet -1, default 0, --verbose 1 */
    /* Loaded on first use by the getters below; owned. */
    VbConfig *config;
    VbPolicy *policy;
    VbInventory *inventory;
    gboolean config_tried;   /* get_config already looked for a config */
    VbCliSource source;      /* valid once the inventory is loaded */
    char *source_name;       /* file name or "embedded demo pool" */
} VbCliContext;

VbCliContext *vb_cli_context_new(void);
/* Accepts NULL. */
void vb_cli_context_free(VbCliContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbCliContext, vb_cli_context_free)

/* The main config: --config, else the default file when it exists, else
 * NULL without an error (transfer none). A broken file gives NULL and
 * VB_ERROR_INVALID_INPUT. */
VbConfig *vb_cli_context_get_config(VbCliContext *ctx, GError **error);

/* The pool snapshot every command works on (transfer none, cached): from
 * --inventory, else from the config's driver, else the embedded demo pool
 * (with a note on stderr). NULL with the loader's error on failure. */
VbInventory *vb_cli_context_get_inventory(VbCliContext *ctx, GError **error);

/* The policy: --policy, else the config's policy file, else the built-in
 * defaults (transfer none, cached). NULL with the loader's error. */
VbPolicy *vb_cli_context_get_policy(VbCliContext *ctx, GError **error);

/* The hook for configs: the snapshot of the pool @config describes (transfer
 * full). Driver `sim` loads the config's inventory file; other drivers are
 * opened and asked for a snapshot (cli/source.c; the collectors plug their
 * windowed averages in there). */
VbInventory *vb_cli_inventory_from_config(VbCliContext *ctx, const VbConfig *config,
                                          GError **error);

/* Marks in @inv the hosts of the journal's maintenance set, with their
 * recorded reasons (vb_scheduler_apply_maintenance_list), and fills each
 * guest's last_migrated and moves_last_day from the journal's migrations
 * (vb_scheduler_apply_recent_moves, "now" is ctx->now). The journal is
 * --database (ctx->database_path); else @fallback when given (a store the
 * command already opened: the config's database, or an in-memory one);
 * else the config's database when that file exists; else there is none and
 * nothing is marked. FALSE with the journal's error. */
gboolean vb_cli_context_apply_journal(VbCliContext *ctx, VbInventory *inv, VbStore *fallback,
                                      GError **error);

/* Sets ctx->verbosity (and the log's) from --verbose and --quiet, each
 * either TRUE or FALSE (unchanged); both at once is VB_ERROR_USAGE. */
gboolean vb_cli_context_set_verbosity(VbCliContext *ctx, gboolean verbose, gboolean quiet,
                                      GError **error);
/* Sets ctx->format from "text", "json" or "html"; FALSE with VB_ERROR_USAGE.
 * Whether the command can render html is vb_cli_parse_options's check. */
gboolean vb_cli_context_set_format(VbCliContext *ctx, const char *name, GError **error);

/* The demo pool compiled into the binary (examples/demo-pool.yaml), as YAML
 * text (transfer full). Never fails: the resource is linked in. */
GBytes *vb_cli_demo_pool(void);
#define VB_CLI_DEMO_NAME "demo-pool.yaml (built in)"
/* Environment variable naming the default config file (tests, packagers). */
#define VB_CLI_CONFIG_ENV "VIRT_BALANCER_CONFIG"


/* ------------------------------------------------------------ commands */

typedef struct {
    const char *name;    /* first word after the global options */
    const char *summary; /* one line for `virt-balancer --help` */
    /* Runs the command; argv[0] is its name. Returns a VbExitCode. */
    int (*run)(VbCliContext *ctx, int argc, char **argv);
} VbCliCommand;

/* Every command, in the order `--help` lists them; NULL-name terminated. */
extern const VbCliCommand vb_cli_commands[];
const VbCliCommand *vb_cli_command_find(const char *name);

int vb_cli_cmd_plan(VbCliContext *ctx, int argc, char **argv);
int vb_cli_cmd_evacuate(VbCliContext *ctx, int argc, char **argv);
int vb_cli_cmd_place(VbCliContext *ctx, int argc, char **argv);
int vb_cli_cmd_policy(VbCliContext *ctx, int argc, char **argv);
int vb_cli_cmd_help(VbCliContext *ctx, int argc, char **argv);
int vb_cli_cmd_status(VbCliContext *ctx, int argc, char **argv);    /* cmd-status.c */
int vb_cli_cmd_inventory(VbCliContext *ctx, int argc, char **argv); /* cmd-inventory.c */
/* The acting commands (scheduler side; cli/exec-priv.h, cli/exec.c). */
int vb_cli_cmd_evacuate_run(VbCliContext *ctx, int argc, char **argv); /* cmd-rebalance.c */
int vb_cli_cmd_rebalance(VbCliContext *ctx, int argc, char **argv);    /* cmd-rebalance.c */
int vb_cli_cmd_maintenance(VbCliContext *ctx, int argc, char **argv);  /* cmd-maintenance.c */
int vb_cli_cmd_history(VbCliContext *ctx, int argc, char **argv);      /* cmd-maintenance.c */
int vb_cli_cmd_run(VbCliContext *ctx, int argc, char **argv);          /* cmd-run.c */
int vb_cli_cmd_unlock(VbCliContext *ctx, int argc, char **argv);       /* cmd-unlock.c */
/* `__complete hosts`: the bash completion's helper, not in the table (cmd-complete.c). */
#define VB_CLI_COMPLETE_COMMAND "__complete"
int vb_cli_cmd_complete(VbCliContext *ctx, int argc, char **argv);

/* Opens the pool the context names for collecting (cmd-status.c): the
 * driver, the history database and a collector. Prints errors and returns
 * NULL with the exit code in @ret_exit on failure (transfer full). */
VbCollectSession *vb_cli_collect_session(VbCliContext *ctx, int *ret_exit);

/* ------------------------------------------------------------- logging */

/* Syslog priorities (cli/log.c says which events get which). */
typedef enum {
    VB_LOG_ERR = 3,     /* a migration failed or was aborted */
    VB_LOG_WARNING = 4, /* a host went down, a file was refused, a retry */
    VB_LOG_NOTICE = 5,  /* a state change worth noticing (host up, reload) */
    VB_LOG_INFO = 6,    /* plans, migrations started and finished, progress */
    VB_LOG_DEBUG = 7,   /* the rest (--verbose) */
} VbLogPriority;

/* Event kinds with a stable MESSAGE_ID (docs/logging.md). */
typedef enum {
    VB_LOG_EVENT_NONE,
    VB_LOG_EVENT_PLAN,               /* the daemon's round planned moves */
    VB_LOG_EVENT_MIGRATION_STARTED,
    VB_LOG_EVENT_MIGRATION_FINISHED,
    VB_LOG_EVENT_MIGRATION_FAILED,   /* failed or aborted (VB_OUTCOME says which) */
    VB_LOG_EVENT_HOST_DOWN,          /* a host stopped answering */
    VB_LOG_EVENT_HOST_UP,            /* ... and answers again */
    VB_LOG_EVENT_LAST
} VbLogEvent;

extern const char *const vb_cli_log_message_ids[];

/* What a line is about: each non-NULL member becomes a journal field. */
typedef struct {
    const char *vm;      /* VB_VM */
    const char *host;    /* VB_HOST */
    const char *from;    /* VB_FROM: a migration's source */
    const char *to;      /* VB_TO: its destination */
    const char *outcome; /* VB_OUTCOME: finished, failed, aborted, ... */
    const char *reason;  /* VB_REASON */
    gint64 plan_id;      /* VB_PLAN: the journal's plan id, when > 0 */
} VbLogAbout;

/* Installs the log writer (once, before anything logs): the journal when
 * stderr is the journal, else lines on stderr. Can't fail. */
void vb_cli_log_init(void);
/* -1: --quiet (warnings and worse), 0: default (info and worse), 1:
 * --verbose (debug too). */
void vb_cli_log_set_verbosity(int verbosity);
/* TRUE: the daemon's style, "DATE TIME virt-balancer run: TEXT" on stderr. */
void vb_cli_log_set_daemon(gboolean daemon);
/* TRUE when a line of @priority would be kept. */
gboolean vb_cli_log_enabled(VbLogPriority priority);
/* An event line (stderr: "TEXT", the executor's and daemon's lines). */
void vb_cli_log(VbLogPriority priority, VbLogEvent event, const VbLogAbout *about,
                const char *format, ...) G_GNUC_PRINTF(4, 5);
/* A note of the program (stderr: "virt-balancer: TEXT"). */
void vb_cli_note(VbLogPriority priority, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* ------------------------------------------------------------- systemd */

/* The service manager's notifications (Type=notify; cli/notify.c). Each does
 * nothing without $NOTIFY_SOCKET, and none can fail. */
void vb_cli_notify_ready(void);
void vb_cli_notify_reloading(void);
/* Sent once per process; later calls do nothing. */
void vb_cli_notify_stopping(void);
/* STATUS=: the first line of the message. */
void vb_cli_notify_status(const char *format, ...) G_GNUC_PRINTF(1, 2);
/* WATCHDOG=1 when systemd asked for keep-alives, at most once a second. */
void vb_cli_notify_watchdog(void);

/* The global help text (transfer full), listing every command. */
char *vb_cli_global_help(void);

/* Parses a command's options, plus --format (accepted after the command
 * too, since people write `place ... --format json`). --format html, here or
 * before the command, is a usage error unless ctx->html_ok. Handles --help
 * (prints @usage, @description and the options, sets *ret_exit to
 * VB_EXIT_OK and returns FALSE). On a bad
 * option prints the error and the usage line, sets *ret_exit to VB_EXIT_USAGE
 * and returns FALSE. On success argv keeps only the non-option arguments
 * (argv[0] is the command) and returns TRUE. */
gboolean vb_cli_parse_options(VbCliContext *ctx, int *argc, char ***argv, const char *usage,
                              const char *description, const GOptionEntry *entries,
                              int *ret_exit);

/* Options several commands take, as GOptionEntry initialisers (so that one
 * option reads the same in every command's --help): the journal database
 * and the drain limit (the acting commands), the move budget, and listing
 * every host. */
#define VB_CLI_OPTION_DATABASE(var)                                                          \
    { "database", 0, 0, G_OPTION_ARG_FILENAME, &(var),                                     \
      "journal database (default: the config's)", "FILE" }
#define VB_CLI_OPTION_MAX_MOVES(var)                                                         \
    { "max-moves", 0, 0, G_OPTION_ARG_INT, &(var),                                          \
      "plan at most N moves (default: the policy's max_migrations)", "N" }
#define VB_CLI_OPTION_DRAIN_TIMEOUT(var)                                                     \
    { "drain-timeout", 0, 0, G_OPTION_ARG_INT, &(var),                                      \
      "on SIGTERM/SIGINT, abort migrations after S s (default 600)", "S" }
#define VB_CLI_OPTION_ALL_HOSTS(var)                                                         \
    { "all-hosts", 0, 0, G_OPTION_ARG_NONE, &(var),                                         \
      "text, html: list every host (a big pool lists only hosts with moves, hotspots or "  \
      "not up)", NULL }

#define VB_CLI_OPTION_FORCE(var)                                                             \
    { "force", 0, 0, G_OPTION_ARG_NONE, &(var),                                             \
      "evacuate a HOST that cannot be read: put it in maintenance as it is, move nothing",  \
      NULL }

/* Prints "virt-balancer: <message>" on stderr and returns the exit code for
 * @error's code (usage 2, invalid input 3, unplaceable 4, else 1). */
int vb_cli_report_error(const GError *error);
int vb_cli_exit_code(const GError *error);
/* Prints "virt-balancer: <formatted message>" and returns VB_EXIT_USAGE. */
int vb_cli_usage_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* --------------------------------------------------- partial views (partial.c) */

/* Hosts of @inv that could not be read: `down` once the maintenance set is
 * applied (hosts in maintenance are expected to be unreachable). */
guint vb_cli_unreachable_count(const VbInventory *inv);
/* @rc, or VB_EXIT_PARTIAL when @rc is VB_EXIT_OK and a host of @inv could
 * not be read. */
int vb_cli_partial_exit_code(const VbInventory *inv, int rc);
/* Why @host could not be read, without the "HOST: " drivers put first
 * (transfer none). */
const char *vb_cli_unreachable_reason(const VbHost *host);
/* What changed since the previous snapshot: @down holds the names of the
 * hosts that could not be read then (a set of owned strings); on return it
 * holds those of @inv, @ret_down (borrowed VbHost *) the hosts of @inv that
 * went down since, @ret_up those that answer again. A host that left the pool
 * is forgotten. Can't fail. */
void vb_cli_unreachable_changes(GHashTable *down, const VbInventory *inv, GPtrArray *ret_down,
                                GPtrArray *ret_up);
/* Text: "Not read: N of M hosts could not be read; @consequence:" and one
 * line per host with its pool and reason; nothing when every host was read. */
void vb_cli_print_unreachable(FILE *out, const VbInventory *inv, const char *consequence,
                              gboolean color);
/* JSON member "unreachable": [{name, pool, reason}] (docs/plan-json.md). */
void vb_cli_json_add_unreachable(JsonBuilder *b, const VbInventory *inv);
/* Sets @error (VB_ERROR_CONNECT) to the refusal to evacuate @host, which
 * could not be read (its guests' state is unknown), saying what to do. */
void vb_cli_evacuate_refuse(const VbHost *host, gboolean dry_run, GError **error);
/* What a plan does with the hosts it could not read (text). */
#define VB_CLI_LEFT_OUT "the plan leaves them out (no guest moves to or from them)"

/* ----------------------------------------------------------- renderers */

/* What the plan renderers show besides the plan itself. */
typedef struct {
    const VbInventory *inv;
    const VbPolicy *policy;
    const VbPlan *plan;
    const char *source_name; /* where the snapshot came from */
    gboolean all_hosts;      /* text, html: list every host, even in a big pool */
    const char *html_note;   /* html: the line under the heading, or NULL for
                              * "Dry run: nothing is migrated." (a daemon that
                              * publishes its round's plan says what it did) */
    gint64 created_unix;     /* json: > 0 adds created_unix, created_at and
                              * policy_fingerprint (plan --output, cli/plan-file.c) */
} VbCliPlanView;

/* Text: above this many hosts, only those with moves, hotspots or not up
 * are listed unless all_hosts is set. */
#define VB_CLI_HOSTS_SHOWN 30

void vb_cli_render_plan_text(FILE *out, const VbCliPlanView *view, gboolean color);
/* Text and HTML: whether a big pool lists @host (moves in or out, a hotspot
 * before or after, not up). */
gboolean vb_cli_host_is_remarkable(const VbCliPlanView *view, const VbHost *host, guint n_out,
                                   guint n_in);
/* One self-contained HTML page (inline CSS and SVG, loads nothing) showing
 * what the text shows, with a chart per host (cli/render-html.c; transfer
 * full). Never fails. */
char *vb_cli_render_plan_html(const VbCliPlanView *view);
/* The Content-Type of the pages above, as the daemon serves them. */
#define VB_CLI_HTML_TYPE "text/html; charset=utf-8"
/* `history --format html`: @plans (VbJournalPlan *, as vb_journal_history
 * returns them) as one page: per plan a chart of its moves by state and
 * the table of its moves (transfer full). Never fails. */
char *vb_cli_render_history_html(const GPtrArray *plans);
/* Appends @text (may be NULL: nothing) escaped for HTML text and quoted
 * attribute values: & < > " ' as references, invalid UTF-8 repaired, C0 and
 * C1 control characters but tab and newline replaced by U+FFFD. */
void vb_cli_html_append_text(GString *out, const char *text);
/* <TAG>text</TAG> with @text escaped; @tag may carry attributes
 * ("th scope=\"col\""), the closing tag is its first word. */
void vb_cli_html_element(GString *out, const char *tag, const char *text);
/* <thead> with one <th scope="col"> per non-NULL name of @names. */
void vb_cli_html_head(GString *out, const char *const *names, guint n);
/* The page's head (charset, Content-Security-Policy, style, @title escaped)
 * up to <body>, and its end. */
void vb_cli_html_page_begin(GString *out, const char *title);
void vb_cli_html_page_end(GString *out);
/* The JSON document of docs/plan-json.md (transfer full, ends with a newline). */
char *vb_cli_render_plan_json(const VbCliPlanView *view);

/* ------------------------------------------------ approved plans (plan-file.c) */

/* "sha256:<hex>" of @policy written back as YAML (transfer full). */
char *vb_cli_policy_fingerprint(const VbPolicy *policy);
/* Writes @view's plan as JSON to @path (mode 0600) with created_unix =
 * @created_unix and the policy's fingerprint; FALSE with VB_ERROR_IO. */
gboolean vb_cli_plan_file_write(const VbCliPlanView *view, gint64 created_unix,
                                const char *path, GError **error);

typedef struct _VbCliApprovedMove VbCliApprovedMove;
/* A plan file read back, by names. */
typedef struct {
    char *path;
    gint64 created_unix;       /* when the plan was made */
    GPtrArray *moves;          /* owned VbCliApprovedMove *, in the file's order */
} VbCliApprovedPlan;

/* Reads a plan saved by plan --output (transfer full). NULL with
 * VB_ERROR_INVALID_INPUT (VB_ERROR_IO: unreadable) and "FILE: why" when it
 * is not such a plan, is of another format_version, was made under another
 * policy than @policy, or is older at @now than budget.max_plan_age. */
VbCliApprovedPlan *vb_cli_approved_plan_load(const char *path, const VbPolicy *policy,
                                             gint64 now, GError **error);
void vb_cli_approved_plan_free(VbCliApprovedPlan *ap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbCliApprovedPlan, vb_cli_approved_plan_free)
/* The plan of @ap's moves on @inv (transfer full), in the file's order; NULL
 * with VB_ERROR_INVALID_INPUT when it names a guest or host @inv lacks. */
VbPlan *vb_cli_approved_plan_bind(const VbCliApprovedPlan *ap, const VbInventory *inv,
                                  const VbPolicy *policy, GError **error);
/* render-objectives.c: the plan's target_met, rule_violations and hotspots
 * (JSON members, docs/plan-json.md), and the same as text sections. */
void vb_cli_json_add_objectives(JsonBuilder *b, const VbCliPlanView *view);
void vb_cli_print_objectives(FILE *out, const VbCliPlanView *view, gboolean color);
/* "web-1, web-2" from guest (or, with @hosts, host) ids (transfer full). */
char *vb_cli_names_text(const VbInventory *inv, const GArray *ids, gboolean hosts);
/* How many (host, metric) of the plan's hotspots are above high_water
 * before (or @after) the plan. */
guint vb_cli_hotspot_count(const VbCliPlanView *view, gboolean after);
/* "relieved", "stays above" or "pushed above" (transfer none). */
const char *vb_cli_hotspot_outcome(const VbPolicy *policy, const VbHotspot *h);

typedef struct {
    const VbInventory *inv;
    const VbPolicy *policy;
    const VbVmSpec *spec;
    const VbRanking *ranking; /* the hosts best first, the refused ones grouped */
    const char *source_name;
} VbCliPlaceView;

void vb_cli_render_place_text(FILE *out, const VbCliPlaceView *view, gboolean color);
char *vb_cli_render_place_json(const VbCliPlaceView *view);

/* JSON helpers the renderers share: the "policy" member, and the document
 * as pretty text ending with a newline (transfer full; cli/json-write.c:
 * json-glib's pretty form with each fractional number in its shortest form
 * that reads back the same). This function can't fail. */
void vb_cli_json_add_policy(JsonBuilder *b, const VbPolicy *policy);
char *vb_cli_json_finish(JsonBuilder *b);
/* The same JSON text written as it is produced, without a JsonNode per value
 * (cli/json-write.c), for the large parts of a document. Calls mirror
 * JsonBuilder's: _member() names the next value of the innermost object;
 * a string's NULL writes null; _node() writes a built subtree as a value;
 * _members() writes every member of @b's root object (built with
 * JsonBuilder's begin_object ... end_object) into the innermost object.
 * _finish() gives the text with a newline (transfer full) and frees @o;
 * calls out of order are programmer errors (asserted). */
typedef struct _VbCliJsonOut VbCliJsonOut;
VbCliJsonOut *vb_cli_json_out_new(void);
void vb_cli_json_out_free(VbCliJsonOut *o);
void vb_cli_json_out_member(VbCliJsonOut *o, const char *name);
void vb_cli_json_out_begin_object(VbCliJsonOut *o);
void vb_cli_json_out_end_object(VbCliJsonOut *o);
void vb_cli_json_out_begin_array(VbCliJsonOut *o);
void vb_cli_json_out_end_array(VbCliJsonOut *o);
void vb_cli_json_out_string(VbCliJsonOut *o, const char *value);
void vb_cli_json_out_double(VbCliJsonOut *o, double value);
void vb_cli_json_out_int(VbCliJsonOut *o, gint64 value);
void vb_cli_json_out_bool(VbCliJsonOut *o, gboolean value);
void vb_cli_json_out_node(VbCliJsonOut *o, JsonNode *node);
void vb_cli_json_out_members(VbCliJsonOut *o, JsonBuilder *b);
char *vb_cli_json_out_finish(VbCliJsonOut *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbCliJsonOut, vb_cli_json_out_free)
/* One member of the object being built: a string (null when @value is
 * NULL), a number (null unless @known; not rounded), an integer, a boolean. */
void vb_cli_json_add_string(JsonBuilder *b, const char *name, const char *value);
void vb_cli_json_add_number(JsonBuilder *b, const char *name, gboolean known, double value);
/* @value rounded to 1/@scale (half away from zero; 0 when not finite), as
 * every number of the plan JSON is: loads and imbalance to 1e6, seconds to 10.
 * Other renderers that must agree with the JSON (html) use it too. */
double vb_cli_json_round(double value, double scale);
void vb_cli_json_add_int(JsonBuilder *b, const char *name, gint64 value);
void vb_cli_json_add_bool(JsonBuilder *b, const char *name, gboolean value);

/* A short name for a rejection code ("memory", "cpu-vendor", ...). */
const char *vb_cli_reject_code_name(VbRejectCode code);
/* Why @host (in group @group of @groups) refused: the group's sentence for
 * its first host or when it holds for all, else "<host> <what it lacks>"
 * without figures (transfer full). */
char *vb_cli_rejection_text(const VbInventory *inv, const GArray *groups, guint host,
                            guint group);
/* The line of one group: "kvm2: <reason>", or "7 hosts (kvm2, kvm3, kvm4
 * and 4 more), memory: e.g. kvm2: <reason>" (transfer full). */
char *vb_cli_reject_group_text(const VbInventory *inv, const VbRejectGroup *g);
/* One line per group of @groups (VbRejectGroup), each after @indent. */
void vb_cli_print_reject_groups(FILE *out, const VbInventory *inv, const GArray *groups,
                                const char *indent);
/* The member @name: an array of @groups, each {code, reason, count,
 * examples (host names), shared}. */
void vb_cli_json_add_reject_groups(JsonBuilder *b, const char *name, const VbInventory *inv,
                                   const GArray *groups);

/* Helpers the text renderers share. */
#define VB_BOLD "\033[1m"
#define VB_RED "\033[31m"
#define VB_YELLOW "\033[33m"
#define VB_GREEN "\033[32m"
#define VB_RESET "\033[0m"
/* @code when @color, else "" (transfer none). */
const char *vb_cli_paint(gboolean color, const char *code);
/* "42s", "3m05s", "1h02m" (transfer full). */
char *vb_cli_duration_text(double seconds);
/* A counted metric (weight > 0) or the weighted load above high_water. */
/* What @move costs under @policy (cost_per_minute times its estimated
 * minutes), in the units of VbMove.gain. */
double vb_cli_move_cost(const VbPolicy *policy, const VbMove *move);
gboolean vb_cli_host_is_hotspot(const VbPolicy *policy, const VbHostLoad *load);
/* "FILE (goal balance, load measured, ...)" (transfer full). */
char *vb_cli_policy_text(const VbPolicy *policy);
/* The "Unplaced guests" section of a plan (nothing when there are none). */
void vb_cli_print_unplaced(FILE *out, const VbCliPlanView *view, gboolean color);

/* Rules that do not match the pool (cli/render-warnings.c; the findings are
 * vb_placement_rule_warnings()'s). The sentence of one finding, without and
 * with its "file:line:column: " and an optional "@severity: " after it
 * (transfer full); the "Warnings" section of a plan (nothing when there are
 * none); the "warnings" member of a JSON document (an empty array when @inv
 * is NULL). */
char *vb_cli_rule_warning_text(const VbPolicy *policy, const VbRuleWarning *w);
char *vb_cli_rule_warning_line(const VbPolicy *policy, const VbRuleWarning *w,
                               const char *severity);
void vb_cli_print_rule_warnings(FILE *out, const VbInventory *inv, const VbPolicy *policy,
                                gboolean color);
void vb_cli_json_add_rule_warnings(JsonBuilder *b, const VbInventory *inv,
                                   const VbPolicy *policy);
/* Each finding of @warnings on stderr as "virt-balancer: FILE:LINE:COLUMN:
 * warning: ..." ("error" for rules matching no guest when @no_guest_is_error). */
void vb_cli_report_rule_warnings(const VbPolicy *policy, const GArray *warnings,
                                 gboolean no_guest_is_error);

/* Aligned text tables: add rows of cells, then print with columns padded to
 * their widest cell. Cells may contain ANSI colour codes (not counted). */
typedef struct _VbCliTable VbCliTable;
VbCliTable *vb_cli_table_new(guint n_columns);
void vb_cli_table_free(VbCliTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbCliTable, vb_cli_table_free)
/* Adds a row of n_columns cells (copied); NULL cells print as empty. */
void vb_cli_table_add(VbCliTable *table, const char *const *cells);
/* Right-aligns column @column (numbers). */
void vb_cli_table_align_right(VbCliTable *table, guint column);
void vb_cli_table_print(const VbCliTable *table, FILE *out, const char *indent);

G_END_DECLS
