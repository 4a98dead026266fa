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
 *
 * Hostile files: the admin owns these files, but a wrong or damaged one must
 * still be refused quickly and readably. Nesting deeper than
 * VB_YAML_MAX_DEPTH is refused as soon as the event opening it arrives:
 * libyaml's scanner keeps one simple-key slot per open flow level and walks
 * them all for every token, so 500,000 levels of '[' (a 1 MB file) would take
 * it about half an hour, while it only ever reads about 1 KB ahead of the
 * events we see. A NUL written as "\0" is refused (C strings would silently
 * cut the text there). vb_yaml_load_file reads at most the caller's size cap.
 *
 * Two parsers fill the same tree. libyaml is the reference and the only one
 * that reports errors. In front of it, a fast path reads the subset that
 * vb_inventory_to_yaml() writes (block mappings and sequences, one-line flow
 * collections, identifier-like plain scalars, one-line double-quoted scalars
 * with simple escapes, whole-line comments, printable ASCII only) straight
 * into the tree, without libyaml's per-token allocations: it is what keeps
 * loading 200,000 guests under 2 s. Anything outside that subset, including
 * anything malformed, makes the fast path give up; the tree is reset and
 * libyaml parses the whole text, so every message and line:column is
 * libyaml's. The fast path only accepts text that libyaml parses into the
 * identical tree (tests compare both on every data file).
 */
#include "config.h"

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

/* The arrays are plain (not GArray/GString): appending a node is the inner
 * loop of loading, a few million times for a large inventory. */
struct _VbYamlDoc {
    char *filename;     /* for messages */
    VbYamlNode *nodes;  /* n_nodes of nodes_size; [0] is unused */
    guint32 n_nodes;
    guint32 nodes_size;
    char *strings;      /* NUL-separated scalar texts, strings_len of strings_size */
    gsize strings_len;
    gsize strings_size;
    guint32 root;       /* 0 for an empty document */
};

/* Parser state: the chain of open containers and their last child. */
typedef struct {
    guint32 node;
    guint32 last_child;
} VbYamlOpen;

gboolean vb_yaml_slow_only = FALSE;

void
vb_yaml_doc_free(VbYamlDoc *doc)
{
    if (!doc)
        return;
    g_free(doc->filename);
    g_free(doc->nodes);
    g_free(doc->strings);
    g_free(doc);
}

static VbYamlNode *
node_at(const VbYamlDoc *doc, guint32 index)
{
    if (index == 0)
        return NULL;
    return &doc->nodes[index];
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

/* Room for @n more nodes and @bytes more text (doubling). */
static void
doc_reserve(VbYamlDoc *doc, guint32 n, gsize bytes)
{
    if (doc->n_nodes + n > doc->nodes_size) {
        doc->nodes_size = MAX(doc->nodes_size * 2, doc->n_nodes + n);
        doc->nodes = g_renew(VbYamlNode, doc->nodes, doc->nodes_size);
    }
    if (doc->strings_len + bytes > doc->strings_size) {
        doc->strings_size = MAX(doc->strings_size * 2, doc->strings_len + bytes);
        doc->strings = g_realloc(doc->strings, doc->strings_size);
    }
}

/* Appends a node at @line:@column (1-based) under the innermost open
 * container; a scalar's @text of @len bytes is copied into the arena. */
static guint32
append_node(VbYamlDoc *doc, GArray *open, VbYamlKind kind, gsize line, gsize column,
            gboolean plain, const char *text, gsize len)
{
    guint32 index;
    VbYamlNode *node;

    doc_reserve(doc, 1, kind == VB_YAML_SCALAR ? len + 1 : 0);
    index = doc->n_nodes++;
    node = &doc->nodes[index];
    *node = (VbYamlNode){
        .kind = kind,
        .line = MIN(line, (1u << 29) - 1),
        .column = column,
    };
    if (kind == VB_YAML_SCALAR) {
        node->value = doc->strings_len;
        node->plain = plain;
        memcpy(doc->strings + doc->strings_len, text, len);
        doc->strings[doc->strings_len + len] = '\0';
        doc->strings_len += len + 1;
    }

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

/* Appends a node for @event under the innermost open container. */
static guint32
add_node(VbYamlDoc *doc, GArray *open, VbYamlKind kind, const yaml_event_t *event)
{
    gboolean scalar = kind == VB_YAML_SCALAR;

    return append_node(doc, open, kind, event->start_mark.line + 1,
                       event->start_mark.column + 1,
                       scalar && event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
                       scalar ? (const char *) event->data.scalar.value : NULL,
                       scalar ? event->data.scalar.length : 0);
}

/* ------------------------------------------------------------ fast path */

/* The fast path's cursor. Every function returns FALSE to give up (never an
 * error: libyaml then reads the text and says what is wrong, if anything). */
typedef struct {
    VbYamlDoc *doc;
    GArray *open;
    const char *p;          /* current byte */
    const char *end;
    const char *line_start; /* first byte of the current line */
    gsize line;             /* 1-based */
    GString *buf;           /* decoded quoted scalar */
    VbYamlEntryFunc entry;  /* streaming: sees each entry of a top-level list, or NULL */
    VbYamlLineFunc line_func; /* streaming: offered such an entry's line first, or NULL */
    gpointer entry_data;    /* for @entry and @line_func */
} Fast;

#define FAST_EOF (-1)

static gsize
fast_column(const Fast *f)
{
    return (gsize) (f->p - f->line_start) + 1;
}

/* Letters, digits and _ - . / (a table: this is asked of every byte of
 * every plain scalar). */
static const guint8 plain_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['/'] = 1, ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['_'] = 1,
    ['a' ... 'z'] = 1,
};

static gboolean
fast_plain_char(char c)
{
    return plain_chars[(guchar) c];
}

static void
fast_open(Fast *f, VbYamlKind kind)
{
    VbYamlOpen entry = { 0 };

    entry.node = append_node(f->doc, f->open, kind, f->line, fast_column(f), FALSE, NULL, 0);
    g_array_append_val(f->open, entry);
}

static void
fast_close(Fast *f)
{
    g_array_set_size(f->open, f->open->len - 1);
}

/* A plain scalar of identifier-like characters (letters, digits, _ - . /),
 * starting with a letter or digit: the same text in block and flow context
 * for every YAML reader. */
static gboolean
fast_plain(Fast *f)
{
    const char *start = f->p;
    gsize column = fast_column(f);

    if (f->p >= f->end || !g_ascii_isalnum(*f->p))
        return FALSE;
    while (f->p < f->end && fast_plain_char(*f->p))
        f->p++;
    if (f->p - start > 1000) /* libyaml's simple keys are bounded */
        return FALSE;
    append_node(f->doc, f->open, VB_YAML_SCALAR, f->line, column, TRUE, start,
                (gsize) (f->p - start));
    return TRUE;
}

static int
fast_hex(char c)
{
    return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

/* A double-quoted scalar on one line with \" \\ \n \t \xHH (7-bit) escapes. */
static gboolean
fast_quoted(Fast *f)
{
    gsize column = fast_column(f);

    g_string_truncate(f->buf, 0);
    for (f->p++; f->p < f->end && *f->p != '"'; f->p++) {
        char c = *f->p;
        int hi, lo;

        if (c == '\n')
            return FALSE;
        if (c != '\\') {
            g_string_append_c(f->buf, c);
            continue;
        }
        if (++f->p >= f->end)
            return FALSE;
        switch (*f->p) {
        case '"': case '\\': g_string_append_c(f->buf, *f->p); break;
        case 'n': g_string_append_c(f->buf, '\n'); break;
        case 't': g_string_append_c(f->buf, '\t'); break;
        case 'x':
            if (f->end - f->p < 3 || (hi = fast_hex(f->p[1])) < 0 || (lo = fast_hex(f->p[2])) < 0 ||
                hi * 16 + lo == 0 || hi >= 8)
                return FALSE;
            g_string_append_c(f->buf, (char) (hi * 16 + lo));
            f->p += 2;
            break;
        default:
            return FALSE;
        }
    }
    if (f->p >= f->end)
        return FALSE;
    f->p++;
    append_node(f->doc, f->open, VB_YAML_SCALAR, f->line, column, FALSE, f->buf->str,
                f->buf->len);
    return TRUE;
}

static void
fast_spaces(Fast *f)
{
    while (f->p < f->end && *f->p == ' ')
        f->p++;
}

static gboolean fast_flow(Fast *f);

/* The entries of a one-line flow mapping or sequence, after its opener. */
static gboolean
fast_flow_entries(Fast *f, gboolean mapping)
{
    char closer = mapping ? '}' : ']';

    fast_spaces(f);
    if (f->p < f->end && *f->p == closer)
        return f->p++, TRUE;
    for (;;) {
        if (mapping) {
            if (!fast_plain(f) || f->p + 1 >= f->end || f->p[0] != ':' || f->p[1] != ' ')
                return FALSE;
            f->p++;
            fast_spaces(f);
        }
        if (!fast_flow(f))
            return FALSE;
        fast_spaces(f);
        if (f->p < f->end && *f->p == closer)
            return f->p++, TRUE;
        if (f->p + 1 >= f->end || f->p[0] != ',' || f->p[1] != ' ')
            return FALSE;
        f->p++;
        fast_spaces(f);
        if (f->p < f->end && (*f->p == closer || *f->p == ','))
            return FALSE; /* trailing or empty entries: leave them to libyaml */
    }
}

/* One flow node: {...}, [...], "..." or a plain scalar, on the current line. */
static gboolean
fast_flow(Fast *f)
{
    gboolean mapping;

    if (f->p >= f->end)
        return FALSE;
    if (*f->p == '"')
        return fast_quoted(f);
    if (*f->p != '{' && *f->p != '[')
        return fast_plain(f);
    if (f->open->len >= VB_YAML_MAX_DEPTH) /* too deep: libyaml's events refuse it */
        return FALSE;
    mapping = *f->p == '{';
    fast_open(f, mapping ? VB_YAML_MAPPING : VB_YAML_SEQUENCE);
    f->p++;
    if (!fast_flow_entries(f, mapping))
        return FALSE;
    fast_close(f);
    return TRUE;
}

/* Moves to the first content of the next line that is not blank or a
 * comment (the current line must be finished); its indentation, or FAST_EOF. */
static int
fast_next_line(Fast *f)
{
    for (;;) {
        const char *nl = memchr(f->p, '\n', (gsize) (f->end - f->p));

        if (!nl) {
            f->p = f->end;
            return FAST_EOF;
        }
        f->p = f->line_start = nl + 1;
        f->line++;
        fast_spaces(f);
        if (f->p < f->end && *f->p != '\n' && *f->p != '#')
            return (int) (f->p - f->line_start);
    }
}

/* TRUE at the end of the line (no trailing blanks or comments accepted). */
static gboolean
fast_at_eol(const Fast *f)
{
    return f->p >= f->end || *f->p == '\n';
}

static gboolean
fast_at_entry(const Fast *f)
{
    return f->p + 1 < f->end && f->p[0] == '-' && f->p[1] == ' ';
}

static gboolean fast_block_mapping(Fast *f, int indent, int *ret_next);

/* Streaming: offers the one-line flow mapping at the cursor, an entry of a
 * top-level list, to f->line_func. 1: it was read (the cursor is on the next
 * line, its indentation in @ret_next), 0: parse it, -1: stop. */
static int
fast_offer_line(Fast *f, int *ret_next)
{
    const char *nl;

    if (!f->line_func || f->open->len != 2 || f->p >= f->end || *f->p != '{')
        return 0;
    nl = memchr(f->p, '\n', (gsize) (f->end - f->p));
    if (!nl)
        nl = f->end;
    switch (f->line_func(f->doc, f->p, (gsize) (nl - f->p), f->line, f->entry_data)) {
    case VB_YAML_LINE_READ:
        f->p = nl;
        *ret_next = fast_next_line(f);
        return 1;
    case VB_YAML_LINE_PARSE:
        return 0;
    case VB_YAML_LINE_STOP:
    default:
        return -1;
    }
}

/* A scalar or flow value that ends its line, then the next line. */
static gboolean
fast_line_value(Fast *f, int *ret_next)
{
    if (!fast_flow(f) || !fast_at_eol(f))
        return FALSE;
    *ret_next = fast_next_line(f);
    return TRUE;
}

/* One entry of a block sequence, the cursor on its '-'. Returns the
 * indentation of the line after it in @ret_next. */
static gboolean
fast_sequence_entry(Fast *f, int *ret_next)
{
    const char *start;

    if (!fast_at_entry(f))
        return FALSE;
    f->p++;
    fast_spaces(f);
    switch (fast_offer_line(f, ret_next)) {
    case 1:
        return TRUE;
    case -1:
        return FALSE;
    default:
        break;
    }
    start = f->p;
    if (f->p < f->end && g_ascii_isalnum(*f->p)) {
        /* "- key: ..." opens a block mapping at this column. */
        while (f->p < f->end && fast_plain_char(*f->p))
            f->p++;
        if (f->p < f->end && *f->p == ':') {
            f->p = start;
            return fast_block_mapping(f, (int) (start - f->line_start), ret_next);
        }
        f->p = start;
    }
    return fast_line_value(f, ret_next);
}

/* Streaming: hands the entry just read (node @node_mark, its texts from
 * @text_mark; the list's last child before it was @prev) to f->entry when its
 * list is the value of a top-level key, and drops it from the tree when asked
 * to. FALSE stops the fast path. */
static gboolean
fast_hand_out(Fast *f, guint32 prev, guint32 node_mark, gsize text_mark)
{
    VbYamlOpen *list;
    VbYamlNode *node;

    if (!f->entry || f->open->len != 2 || f->doc->n_nodes == node_mark)
        return TRUE; /* not streamed, or read by f->line_func */
    switch (f->entry(f->doc, node_at(f->doc, node_mark), f->entry_data)) {
    case VB_YAML_ENTRY_KEEP:
        return TRUE;
    case VB_YAML_ENTRY_DROP:
        break;
    case VB_YAML_ENTRY_STOP:
    default:
        return FALSE;
    }
    list = &g_array_index(f->open, VbYamlOpen, 1);
    node = node_at(f->doc, list->node);
    g_assert(list->last_child == node_mark && node->n_children > 0);
    if (prev)
        node_at(f->doc, prev)->next = 0;
    else
        node->first = 0;
    node->n_children--;
    list->last_child = prev;
    f->doc->n_nodes = node_mark;
    f->doc->strings_len = text_mark;
    return TRUE;
}

/* A block sequence whose '-' entries sit at @indent; the cursor is on the
 * first '-'. Returns the indentation of the line after it in @ret_next. */
static gboolean
fast_block_sequence(Fast *f, int indent, int *ret_next)
{
    int next;

    fast_open(f, VB_YAML_SEQUENCE);
    do {
        guint32 prev = g_array_index(f->open, VbYamlOpen, f->open->len - 1).last_child;
        guint32 node_mark = f->doc->n_nodes;
        gsize text_mark = f->doc->strings_len;

        if (!fast_sequence_entry(f, &next) || !fast_hand_out(f, prev, node_mark, text_mark))
            return FALSE;
    } while (next == indent && fast_at_entry(f));
    if (next > indent)
        return FALSE;
    fast_close(f);
    *ret_next = next;
    return TRUE;
}

/* The value of a block mapping key whose line ends after the ':'. */
static gboolean
fast_block_value(Fast *f, int indent, int *ret_next)
{
    int next = fast_next_line(f);

    if (next > indent)
        return fast_at_entry(f) ? fast_block_sequence(f, next, ret_next)
                                : fast_block_mapping(f, next, ret_next);
    if (next == indent && fast_at_entry(f))
        return fast_block_sequence(f, next, ret_next); /* indentless sequence */
    return FALSE; /* an empty value */
}

/* A block mapping whose keys sit at @indent; the cursor is on the first key. */
static gboolean
fast_block_mapping(Fast *f, int indent, int *ret_next)
{
    int next;

    if (f->open->len >= VB_YAML_MAX_DEPTH)
        return FALSE;
    fast_open(f, VB_YAML_MAPPING);
    do {
        if (!fast_plain(f) || f->p >= f->end || *f->p != ':')
            return FALSE;
        f->p++;
        if (fast_at_eol(f)) {
            if (!fast_block_value(f, indent, &next))
                return FALSE;
            continue;
        }
        if (*f->p != ' ')
            return FALSE;
        fast_spaces(f);
        if (fast_at_eol(f) || !fast_line_value(f, &next))
            return FALSE;
    } while (next == indent && !fast_at_entry(f));
    if (next > indent)
        return FALSE;
    fast_close(f);
    *ret_next = next;
    return TRUE;
}

static gboolean
fast_printable_byte(char c)
{
    return ((guchar) c >= 0x20 && (guchar) c <= 0x7e) || c == '\n';
}

/* TRUE when @data is printable ASCII and newlines only: no tabs, CR, NUL,
 * DEL, BOM or UTF-8. Eight bytes at a time (this reads every byte of the
 * file): a word with no byte below 0x20, none equal to 0x7F and none above
 * is printable; a word with one of them (most often a newline) is checked
 * byte by byte. The tests below have no false negatives: the lowest byte
 * below n (or equal to 0x7F) always sets its high bit in the difference. */
static gboolean
fast_printable(const char *data, gsize len)
{
    const guint64 ones = G_GUINT64_CONSTANT(0x0101010101010101);
    const guint64 highs = ones * 0x80;
    gsize i = 0;

    for (; i + 8 <= len; i += 8) {
        guint64 x, del;

        memcpy(&x, data + i, sizeof(x));
        del = x ^ (ones * 0x7f);
        if (!((x & highs) | ((x - ones * 0x20) & ~x & highs) | ((del - ones) & ~del & highs)))
            continue;
        for (gsize j = i; j < i + 8; j++) {
            if (!fast_printable_byte(data[j]))
                return FALSE;
        }
    }
    for (; i < len; i++) {
        if (!fast_printable_byte(data[i]))
            return FALSE;
    }
    return TRUE;
}

/* Parses all of @data into @doc when it is in the subset; FALSE otherwise
 * (the caller then resets @doc and asks libyaml). */
static gboolean
fast_parse(VbYamlDoc *doc, const char *data, gsize len, VbYamlEntryFunc entry,
           VbYamlLineFunc line_func, gpointer entry_data)
{
    g_autoptr(GArray) open = g_array_new(FALSE, FALSE, sizeof(VbYamlOpen));
    g_autoptr(GString) buf = g_string_new(NULL);
    Fast f = { .doc = doc, .open = open, .p = data, .end = data + len, .line_start = data,
               .line = 1, .buf = buf, .entry = entry, .line_func = line_func,
               .entry_data = entry_data };
    int next;

    if (!fast_printable(data, len))
        return FALSE;
    /* The first line counts like the others: step back onto a virtual
     * newline before it. */
    fast_spaces(&f);
    if (f.p < f.end && *f.p != '\n' && *f.p != '#')
        next = (int) (f.p - f.line_start);
    else
        next = fast_next_line(&f);
    if (next != 0 || fast_at_entry(&f))
        return FALSE;
    return fast_block_mapping(&f, 0, &next) && next == FAST_EOF && open->len == 0;
}

static gboolean
refuse_anchor(GError **error, const char *filename, const yaml_event_t *event,
              const yaml_char_t *anchor)
{
    g_autofree char *shown = NULL;

    if (!anchor)
        return TRUE;
    shown = vb_text_quote((const char *) anchor);
    g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                "%s:%zu:%zu: anchors and aliases (&%s, *%s) are not supported; "
                "write the value out in full",
                filename, event->start_mark.line + 1, event->start_mark.column + 1,
                shown, shown);
    return FALSE;
}

/* Refuses a mapping or list that would open level VB_YAML_MAX_DEPTH + 1. */
static gboolean
refuse_depth(GError **error, const char *filename, const yaml_event_t *event,
             const GArray *open)
{
    if (open->len < VB_YAML_MAX_DEPTH)
        return TRUE;
    g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                "%s:%zu:%zu: mappings and lists are nested more than %d levels deep here; "
                "virt-balancer's files need a few levels (is this the right file?)",
                filename, event->start_mark.line + 1, event->start_mark.column + 1,
                VB_YAML_MAX_DEPTH);
    return FALSE;
}

/* Refuses a scalar with a NUL in it ("\0" in a double-quoted value). */
static gboolean
refuse_nul(GError **error, const char *filename, const yaml_event_t *event)
{
    if (!memchr(event->data.scalar.value, '\0', event->data.scalar.length))
        return TRUE;
    g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                "%s:%zu:%zu: this value contains a NUL character (\\0); names and values "
                "must be printable text on one line",
                filename, event->start_mark.line + 1, event->start_mark.column + 1);
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
        if (!refuse_anchor(error, doc->filename, event, event->data.scalar.anchor) ||
            !refuse_nul(error, doc->filename, event))
            return FALSE;
        add_node(doc, open, VB_YAML_SCALAR, event);
        return TRUE;
    case YAML_SEQUENCE_START_EVENT:
        if (!refuse_anchor(error, doc->filename, event, event->data.sequence_start.anchor) ||
            !refuse_depth(error, doc->filename, event, open))
            return FALSE;
        entry.node = add_node(doc, open, VB_YAML_SEQUENCE, event);
        g_array_append_val(open, entry);
        return TRUE;
    case YAML_MAPPING_START_EVENT:
        if (!refuse_anchor(error, doc->filename, event, event->data.mapping_start.anchor) ||
            !refuse_depth(error, doc->filename, event, open))
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

/* An empty document: node 0 is the dummy. */
static VbYamlDoc *
doc_new(const char *filename, gsize n_nodes, gsize text_bytes)
{
    VbYamlDoc *doc = g_new0(VbYamlDoc, 1);
    VbYamlNode dummy = { 0 };

    doc->filename = g_strdup(filename);
    doc_reserve(doc, n_nodes, text_bytes);
    doc->nodes[doc->n_nodes++] = dummy;
    return doc;
}

VbYamlDoc *
vb_yaml_stream_data(const char *data, gsize len, const char *filename, VbYamlEntryFunc entry,
                    gpointer entry_data)
{
    return vb_yaml_stream_data_lines(data, len, filename, entry, NULL, entry_data);
}

VbYamlDoc *
vb_yaml_stream_data_lines(const char *data, gsize len, const char *filename,
                          VbYamlEntryFunc entry, VbYamlLineFunc line_func, gpointer entry_data)
{
    /* The tree only holds what is kept: start small and let it grow. */
    g_autoptr(VbYamlDoc) doc = doc_new(filename, 4096, 65536);

    g_return_val_if_fail(entry != NULL, NULL);
    if (vb_yaml_slow_only || !fast_parse(doc, data, len, entry, line_func, entry_data))
        return NULL;
    return g_steal_pointer(&doc);
}

VbYamlDoc *
vb_yaml_load_data(const char *data, gsize len, const char *filename, GError **error)
{
    g_autoptr(VbYamlDoc) doc = doc_new(filename, 64 + len / 8, 64 + len / 2);
    g_autoptr(GArray) open = g_array_new(FALSE, FALSE, sizeof(VbYamlOpen));
    yaml_parser_t parser;
    gboolean done = FALSE;
    gboolean ok = TRUE;

    if (!vb_yaml_slow_only && fast_parse(doc, data, len, NULL, NULL, NULL))
        return g_steal_pointer(&doc);
    /* Not in the subset: start again with libyaml. */
    doc->n_nodes = 1;
    doc->strings_len = 0;
    doc->root = 0;

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
    return doc->strings + node->value;
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
