/*
 * policies-priv.h: what the policy loader's files share, and what its tests
 * reach into (the duration and fraction parsers are tested by table).
 *
 * Not for other folders: they use policies/policies.h only.
 */
#pragma once

#include "policies/policies.h"

G_BEGIN_DECLS

/* Longest duration any key accepts: 30 days. */
#define VB_POLICY_MAX_DURATION (30u * 24u * 3600u)
/* Weight of a should rule that does not give one. */
#define VB_RULE_DEFAULT_WEIGHT 0.05

/* Parses a duration: plain seconds ("90") or numbers with units s, m, h, d,
 * largest first, each unit at most once ("30s", "10m", "1h30m", "2d").
 * Writes @ret_seconds only on success; FALSE for anything else (no error set:
 * the caller knows the node to point at). */
gboolean vb_policy_parse_duration(const char *text, guint64 *ret_seconds);

/* Formats @seconds the way the parser reads it back ("0", "45s", "1h30m").
 * (transfer full) */
char *vb_policy_format_duration(guint64 seconds);

/* Parses a fraction: a number ("0.8") or a percentage ("80%"). The result is
 * the fraction (0.8 for both). Range is the caller's business. */
gboolean vb_policy_parse_fraction(const char *text, double *ret_fraction);
/* Appends the shortest text that reads back as exactly @value. */
void vb_policy_append_number(GString *out, double value);

/* The loader's state while reading one document. */
typedef struct {
    const VbYamlDoc *doc;  /* the document being read */
    VbPolicy *policy;      /* the policy being filled (owned by the caller) */
    GHashTable *nodes;     /* "section.key" -> value node, for cross-key checks */
} VbPolicyLoad;

/* Section readers. Each reads @node (the value of the top-level key) into
 * load->policy and returns FALSE with @error set at the culprit's position. */
gboolean vb_policy_read_metrics(VbPolicyLoad *load, const VbYamlNode *node, GError **error);
gboolean vb_policy_read_thresholds(VbPolicyLoad *load, const VbYamlNode *node, GError **error);
gboolean vb_policy_read_budget(VbPolicyLoad *load, const VbYamlNode *node, GError **error);
gboolean vb_policy_read_reserves(VbPolicyLoad *load, const VbYamlNode *node, GError **error);
gboolean vb_policy_read_exclude(VbPolicyLoad *load, const VbYamlNode *node, GError **error);
gboolean vb_policy_read_migration(VbPolicyLoad *load, const VbYamlNode *node, GError **error);
gboolean vb_policy_read_rules(VbPolicyLoad *load, const VbYamlNode *node, GError **error);

/* Checks between keys of different places, once everything is read. */
gboolean vb_policy_check_whole(VbPolicyLoad *load, GError **error);

/* Appends section @section ("metrics", "thresholds", "budget", "reserves"
 * or "migration") of @policy as block YAML, every key included. */
void vb_policy_write_section(GString *out, const VbPolicy *policy, const char *section);

/* Reads a list of names, refusing a name given twice. @what names the list
 * in messages, @noun what each item is ("host", "guest", "label"). */
gboolean vb_policy_read_names(VbPolicyLoad *load, const VbYamlNode *node, const char *what,
                              const char *noun, char ***ret, GError **error);

/* Frees one rule; accepts NULL and half-built rules. */
void vb_policy_rule_free(VbRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbRule, vb_policy_rule_free)

G_END_DECLS
