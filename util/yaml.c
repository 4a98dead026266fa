/*
 * yaml.c: a compact YAML tree with line and column on every node.
 *
 * The loaders of inventories, policies and the main config all want the same
 * thing from libyaml: walk a document freely and, on any mistake, point at the
 * exact place in the file. libyaml's event stream gives marks but no tree; its
 * document API builds a tree of heavy nodes. Here nodes are 24-byte records in
 * one array, and scalar texts live in one string arena, because an inventory of
 * 200,000 guests is several million nodes and must load in well under 2 s.
 *
 * Invariants: node 0 is a dummy (index 0 means "none"); a node's children are
 * linked through `next` in document order; parents are complete before the
 * tree is handed out, so pointers into `nodes` are stable afterwards.
 * Anchors and aliases are refused: an inventory or policy has no use for them
 * and they would let one key silently change another.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/util.h"

struct _VbYamlNode {
    guint32 kind : 2;   /* VbYamlKind */
    guint32 plain : 1;  /* scalar written without quotes */
    guint32 line : 29;  /* 1-based */
    guint32 column;     /* 1-based */
    guint32 value;      /* scalar: offset of its text in doc->strings */
    guint32 first;      /* index of first child, 0 = none */
    guint32 next;       /* index of next sibling, 0 = none */
    guint32 n_children; /* number of children */
};

struct _VbYamlDoc {
    char *filename;   /* for messages */
    GArray *nodes;    /* VbYamlNode; [0] is unused */
    GString *strings; /* NUL-separated scalar texts */
    guint32 root;     /* 0 for an empty document */
};

/* Parser state: the chain of open containers and their last child. */
typedef struct {
    guint32 node;
    guint32 last_child;
} VbYamlOpen;

void
vb_yaml_doc_free(VbYamlDoc *doc)
{
    if (!doc)
        return;
    g_free(doc->filename);
    if (doc->nodes)
        g_array_unref(doc->nodes);
    if (doc->strings)
        g_string_free(doc->strings, TRUE);
    g_free(doc);
}

static VbYamlNode *
node_at(const VbYamlDoc *doc, guint32 index)
{
    if (index == 0)
        return NULL;
    return &g_array_index(doc->nodes, VbYamlNode, index);
}

static gboolean
parser_error(GError **error, const char *filename, const yaml_parser_t *parser)
{
    const yaml_mark_t *mark = &parser->problem_mark;

    if (parser->context) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "%s:%zu:%zu: %s %s (the YAML started at line %zu, column %zu)",
                    filename, mark->line + 1, mark->column + 1, parser->problem,
                    parser->context, parser->context_mark.line + 1,
                    parser->context_mark.column + 1);
    } else {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s:%zu:%zu: %s",
                    filename, mark->line + 1, mark->column + 1,
                    parser->problem ? parser->problem : "malformed YAML");
    }
    return FALSE;
}

/* Appends a node for @event under the innermost open container. */
static guint32
add_node(VbYamlDoc *doc, GArray *open, VbYamlKind kind, const yaml_event_t *event)
{
    VbYamlNode node = {
        .kind = kind,
        .line = MIN(event->start_mark.line + 1, (1u << 29) - 1),
        .column = event->start_mark.column + 1,
    };
    guint32 index = doc->nodes->len;

    if (kind == VB_YAML_SCALAR) {
        node.value = doc->strings->len;
        node.plain = event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        g_string_append_len(doc->strings, (const char *) event->data.scalar.value,
                            event->data.scalar.length);
        g_string_append_c(doc->strings, '\0');
    }
    g_array_append_val(doc->nodes, node);

    if (open->len > 0) {
        VbYamlOpen *parent = &g_array_index(open, VbYamlOpen, open->len - 1);
        VbYamlNode *pnode = node_at(doc, parent->node);

        if (parent->last_child)
            node_at(doc, parent->last_child)->next = index;
        else
            pnode->first = index;
        parent->last_child = index;
        pnode->n_children++;
    } else if (doc->root == 0) {
        doc->root = index;
    }
    return index;
}

static gboolean
refuse_anchor(GError **error, const char *filename, const yaml_event_t *event,
              const yaml_char_t *anchor)
{
    if (!anchor)
        return TRUE;
    g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                "%s:%zu:%zu: anchors and aliases (&%s, *%s) are not supported; "
                "write the value out in full",
                filename, event->start_mark.line + 1, event->start_mark.column + 1,
                (const char *) anchor, (const char *) anchor);
    return FALSE;
}

/* Handles one parser event. Sets @ret_done at the end of the stream. */
static gboolean
handle_event(VbYamlDoc *doc, GArray *open, const yaml_event_t *event,
             gboolean *ret_done, GError **error)
{
    VbYamlOpen entry = { 0 };

    switch (event->type) {
    case YAML_STREAM_END_EVENT:
        *ret_done = TRUE;
        return TRUE;
    case YAML_DOCUMENT_START_EVENT:
        if (doc->root != 0) {
            g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                        "%s:%zu:%zu: only one YAML document is allowed per file",
                        doc->filename, event->start_mark.line + 1,
                        event->start_mark.column + 1);
            return FALSE;
        }
        return TRUE;
    case YAML_ALIAS_EVENT:
        return refuse_anchor(error, doc->filename, event, event->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        if (!refuse_anchor(error, doc->filename, event, event->data.scalar.anchor))
            return FALSE;
        add_node(doc, open, VB_YAML_SCALAR, event);
        return TRUE;
    case YAML_SEQUENCE_START_EVENT:
        if (!refuse_anchor(error, doc->filename, event, event->data.sequence_start.anchor))
            return FALSE;
        entry.node = add_node(doc, open, VB_YAML_SEQUENCE, event);
        g_array_append_val(open, entry);
        return TRUE;
    case YAML_MAPPING_START_EVENT:
        if (!refuse_anchor(error, doc->filename, event, event->data.mapping_start.anchor))
            return FALSE;
        entry.node = add_node(doc, open, VB_YAML_MAPPING, event);
        g_array_append_val(open, entry);
        return TRUE;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        g_assert(open->len > 0);
        g_array_set_size(open, open->len - 1);
        return TRUE;
    default:
        return TRUE;
    }
}

VbYamlDoc *
vb_yaml_load_data(const char *data, gsize len, const char *filename, GError **error)
{
    g_autoptr(VbYamlDoc) doc = g_new0(VbYamlDoc, 1);
    g_autoptr(GArray) open = g_array_new(FALSE, FALSE, sizeof(VbYamlOpen));
    yaml_parser_t parser;
    gboolean done = FALSE;
    gboolean ok = TRUE;
    VbYamlNode dummy = { 0 };

    doc->filename = g_strdup(filename);
    doc->nodes = g_array_sized_new(FALSE, FALSE, sizeof(VbYamlNode), 64 + len / 8);
    doc->strings = g_string_sized_new(64 + len / 2);
    g_array_append_val(doc->nodes, dummy);

    if (!yaml_parser_initialize(&parser)) {
        g_set_error(error, VB_ERROR, VB_ERROR_FAILED, "%s: cannot start the YAML parser",
                    filename);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
    while (ok && !done) {
        yaml_event_t event;

        if (!yaml_parser_parse(&parser, &event)) {
            ok = parser_error(error, filename, &parser);
            break;
        }
        ok = handle_event(doc, open, &event, &done, error);
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    if (!ok)
        return NULL;
    return g_steal_pointer(&doc);
}

VbYamlDoc *
vb_yaml_load_file(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, VB_ERROR, VB_ERROR_IO, "%s", local->message);
        return NULL;
    }
    return vb_yaml_load_data(data, len, path, error);
}

const char *
vb_yaml_doc_filename(const VbYamlDoc *doc)
{
    return doc->filename;
}

const VbYamlNode *
vb_yaml_doc_root(const VbYamlDoc *doc)
{
    return node_at(doc, doc->root);
}

VbYamlKind
vb_yaml_node_kind(const VbYamlNode *node)
{
    return node->kind;
}

guint
vb_yaml_node_line(const VbYamlNode *node)
{
    return node->line;
}

guint
vb_yaml_node_column(const VbYamlNode *node)
{
    return node->column;
}

const char *
vb_yaml_node_value(const VbYamlDoc *doc, const VbYamlNode *node)
{
    if (node->kind != VB_YAML_SCALAR)
        return NULL;
    return doc->strings->str + node->value;
}

gboolean
vb_yaml_node_is_plain(const VbYamlNode *node)
{
    return node->kind == VB_YAML_SCALAR && node->plain;
}

guint
vb_yaml_node_n_children(const VbYamlNode *node)
{
    return node->n_children;
}

const VbYamlNode *
vb_yaml_node_first(const VbYamlDoc *doc, const VbYamlNode *node)
{
    return node ? node_at(doc, node->first) : NULL;
}

const VbYamlNode *
vb_yaml_node_next(const VbYamlDoc *doc, const VbYamlNode *node)
{
    return node ? node_at(doc, node->next) : NULL;
}
