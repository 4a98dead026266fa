/*
 * util.h: what every folder of virt-balancer shares.
 *
 * - the project's error domain (VB_ERROR) and its codes: every fallible
 *   function above drivers/ and policies/ reports one of these, with a message
 *   a person can act on;
 * - VbBits, a small growable bit set used for CPU features and labels, so that
 *   "are the guest's features present on the host" is a few word operations;
 * - VbStrtab, a string interning table giving each distinct name a small id
 *   (the bit number in a VbBits);
 * - VbYaml, a compact read-only tree of a YAML document in which every node
 *   remembers its line and column, so that loaders (inventory, policy, config)
 *   can say "file:line:column: what is wrong";
 * - VbRng, a seeded pseudo-random generator for generated pools and tests;
 * - safe text: what may be printed of a file's names and values.
 *
 * Nothing here does I/O except vb_yaml_load_file(), which reads one file.
 */
#pragma once

#include <glib.h>
#include <stdarg.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------ errors */

#define VB_ERROR (vb_error_quark())
GQuark vb_error_quark(void);

typedef enum {
    VB_ERROR_FAILED,        /* anything not listed below */
    VB_ERROR_INVALID_INPUT, /* a file or value a person wrote is wrong */
    VB_ERROR_USAGE,         /* the command line is wrong */
    VB_ERROR_NOT_FOUND,     /* a named host, guest or pool does not exist */
    VB_ERROR_IO,            /* a file cannot be read or written */
    VB_ERROR_CONNECT,       /* a host cannot be reached */
    VB_ERROR_MIGRATION,     /* a migration failed or was aborted */
    VB_ERROR_CONSTRAINT,    /* a move would break a hard constraint */
    VB_ERROR_UNPLACEABLE,   /* nothing could be placed */
    VB_ERROR_DATABASE,      /* the history/journal database failed */
    VB_ERROR_BUSY,          /* another virt-balancer holds the lock */
    VB_ERROR_TIMEOUT,       /* an operation ran out of time */
    VB_ERROR_LAST
} VbErrorCode;

/* ---------------------------------------------------------------- bit sets */

/* A growable set of small integers. Zero-initialised is the empty set. */
typedef struct {
    guint64 *words; /* owned; bit i is words[i / 64] >> (i % 64) */
    guint n_words;  /* number of allocated words */
} VbBits;

void vb_bits_set(VbBits *bits, guint bit);
gboolean vb_bits_test(const VbBits *bits, guint bit);
/* TRUE when every bit of @sub is also in @super. */
gboolean vb_bits_is_subset(const VbBits *sub, const VbBits *super);
/* TRUE when the two sets share at least one bit. */
gboolean vb_bits_intersects(const VbBits *a, const VbBits *b);
guint vb_bits_count(const VbBits *bits);
/* Copies @src into @dst (which must be empty or cleared). */
void vb_bits_copy(VbBits *dst, const VbBits *src);
/* Frees the words; @bits is empty afterwards. Accepts an empty set. */
void vb_bits_clear(VbBits *bits);
/* Calls out the set bits in increasing order: returns the first set bit at or
 * after @from, or -1 when there is none. */
gint vb_bits_next(const VbBits *bits, guint from);

/* ---------------------------------------------------------- string tables */

/* Interns names to dense ids 0, 1, 2, ... in order of first appearance. */
typedef struct _VbStrtab VbStrtab;

VbStrtab *vb_strtab_new(void);
void vb_strtab_free(VbStrtab *tab);
/* Returns the id of @name, adding it when new. Never fails. */
guint vb_strtab_intern(VbStrtab *tab, const char *name);
/* Returns TRUE and the id of @name in @ret_id when it is known. */
gboolean vb_strtab_lookup(const VbStrtab *tab, const char *name, guint *ret_id);
/* Returns the name of @id (transfer none), or NULL when out of range. */
const char *vb_strtab_name(const VbStrtab *tab, guint id);
guint vb_strtab_size(const VbStrtab *tab);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbStrtab, vb_strtab_free)

/* --------------------------------------------------------------- safe text */

/* The most characters of a name or value any message quotes (util/text.c). */
#define VB_QUOTE_MAX_CHARS 80

/* The first character of @text that must not reach a terminal or a log
 * (controls, bidirectional marks, line separators, bytes that are not
 * UTF-8; see util/text.c), or NULL when every character is printable.
 * Can't fail. */
const char *vb_text_find_unsafe(const char *text);
/* What the first unsafe character of @text is, for a message: "a control
 * character (\n)" (transfer full); NULL when there is none. */
char *vb_text_describe_unsafe(const char *text);
/* @text for a message: unsafe characters escaped (\n, \e, \x7F, \u202E),
 * cut to VB_QUOTE_MAX_CHARS characters with "..." after (transfer full).
 * NULL reads as "". Can't fail. */
char *vb_text_quote(const char *text);
/* Same, without the cut: for whole messages on their way to a terminal. */
char *vb_text_escape(const char *text);

/* -------------------------------------------------------------- YAML trees */

/* The deepest nesting of mappings and lists a document may have; deeper is
 * refused while parsing, before libyaml (whose scanner is quadratic in the
 * depth) goes further. The files virt-balancer reads need 6 at most. */
#define VB_YAML_MAX_DEPTH 64

typedef enum {
    VB_YAML_SCALAR,
    VB_YAML_SEQUENCE,
    VB_YAML_MAPPING,
    VB_YAML_KIND_LAST
} VbYamlKind;

/* One node of a parsed document. Nodes live inside their VbYamlDoc and are
 * valid as long as it is; never free one. A mapping's children alternate key
 * node, value node. */
typedef struct _VbYamlNode VbYamlNode;
typedef struct _VbYamlDoc VbYamlDoc;

/* Parses @path (transfer full). On error, NULL is returned and @error says
 * "path:line:column: what is wrong" (VB_ERROR_INVALID_INPUT) or, when the file
 * cannot be read, VB_ERROR_IO. A file larger than @max_bytes is refused
 * (VB_ERROR_INVALID_INPUT; @what names it: "a policy file") without reading
 * more than @max_bytes + 1 of it. An empty document has a NULL root. */
VbYamlDoc *vb_yaml_load_file(const char *path, gsize max_bytes, const char *what,
                             GError **error);
/* Same, from memory; @filename is only used in messages. */
VbYamlDoc *vb_yaml_load_data(const char *data, gsize len, const char *filename,
                             GError **error);
/* Reads all of @path into @ret_data (transfer full, NUL-terminated after
 * @ret_len bytes) when it holds at most @max_bytes, with the same errors as
 * vb_yaml_load_file(); reads no more than @max_bytes + 1 of it, so that a
 * pipe, a device or a huge file costs no more than the cap. */
gboolean vb_yaml_read_file(const char *path, gsize max_bytes, const char *what,
                           char **ret_data, gsize *ret_len, GError **error);

/* Streaming, for files too large to hold as a tree (an inventory of a million
 * guests is some 30 million nodes). What @entry answers for an entry of a
 * top-level list. */
typedef enum {
    VB_YAML_ENTRY_KEEP, /* leave it in the tree */
    VB_YAML_ENTRY_DROP, /* it has been used: drop it from the tree */
    VB_YAML_ENTRY_STOP, /* stop reading: vb_yaml_stream_data() gives NULL */
} VbYamlEntryAnswer;
/* Sees @entry (valid during the call only) of a list that is the value of a
 * key of the root mapping, as soon as it is read, the rest of the document
 * not read yet; the root and the list are open (the list's earlier entries
 * are there unless dropped; its key is the root's last key). */
typedef VbYamlEntryAnswer (*VbYamlEntryFunc)(const VbYamlDoc *doc, const VbYamlNode *entry,
                                             gpointer user_data);
/* Reads @data like vb_yaml_load_data(), calling @entry as above, and returns
 * the tree of what was kept (transfer full). Only the fast path streams: NULL
 * (never an error) when @data is outside its subset, is malformed, or @entry
 * said STOP; the caller then drops what @entry built and loads @data with
 * vb_yaml_load_data(), which words every error. The entries handed out until
 * then are exactly those vb_yaml_load_data()'s tree would hold. */
VbYamlDoc *vb_yaml_stream_data(const char *data, gsize len, const char *filename,
                               VbYamlEntryFunc entry, gpointer user_data);
/* What a VbYamlLineFunc answers. */
typedef enum {
    VB_YAML_LINE_READ,  /* the callback has used the entry: it enters no tree */
    VB_YAML_LINE_PARSE, /* parse it as usual (then the VbYamlEntryFunc sees it) */
    VB_YAML_LINE_STOP,  /* stop reading, as VB_YAML_ENTRY_STOP */
} VbYamlLineAnswer;
/* Sees an entry of the same lists as a VbYamlEntryFunc, before it is parsed,
 * when it is a flow mapping written on one line ("- {...}"): @text (not
 * NUL-terminated; printable ASCII) runs from its '{' to the end of the line,
 * @len bytes without the newline; @line is 1-based. Answering READ promises
 * that the callback accepted only text in the fast path's subset and read it
 * as that tree would be read: the result must not depend on the answer. */
typedef VbYamlLineAnswer (*VbYamlLineFunc)(const VbYamlDoc *doc, const char *text, gsize len,
                                           guint line, gpointer user_data);
/* vb_yaml_stream_data() with @line_func (may be NULL) asked first. */
VbYamlDoc *vb_yaml_stream_data_lines(const char *data, gsize len, const char *filename,
                                     VbYamlEntryFunc entry, VbYamlLineFunc line_func,
                                     gpointer user_data);
/* TRUE makes the loaders above use libyaml only, never the fast path for
 * the subset vb_inventory_to_yaml() writes (see util/yaml.c); for tests that
 * compare both trees. Set it before loading, from one thread. */
extern gboolean vb_yaml_slow_only;
void vb_yaml_doc_free(VbYamlDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VbYamlDoc, vb_yaml_doc_free)

const char *vb_yaml_doc_filename(const VbYamlDoc *doc);
/* The top node, or NULL for an empty document. */
const VbYamlNode *vb_yaml_doc_root(const VbYamlDoc *doc);

VbYamlKind vb_yaml_node_kind(const VbYamlNode *node);
guint vb_yaml_node_line(const VbYamlNode *node);   /* 1-based */
guint vb_yaml_node_column(const VbYamlNode *node); /* 1-based */
/* A scalar's text (transfer none); NULL for other kinds. */
const char *vb_yaml_node_value(const VbYamlDoc *doc, const VbYamlNode *node);
/* TRUE when a scalar was written without quotes (so `null`, `~` and empty
 * plain scalars mean "no value"). */
gboolean vb_yaml_node_is_plain(const VbYamlNode *node);
/* TRUE for a plain `null`, `~` or empty scalar. */
gboolean vb_yaml_node_is_null(const VbYamlDoc *doc, const VbYamlNode *node);
/* Number of children (a mapping counts keys and values: 2 per pair). */
guint vb_yaml_node_n_children(const VbYamlNode *node);
/* Iteration: first child, then next sibling; NULL at the end. */
const VbYamlNode *vb_yaml_node_first(const VbYamlDoc *doc, const VbYamlNode *node);
const VbYamlNode *vb_yaml_node_next(const VbYamlDoc *doc, const VbYamlNode *node);
/* Looks @key up in a mapping: returns its value node or NULL (no error). */
const VbYamlNode *vb_yaml_mapping_get(const VbYamlDoc *doc, const VbYamlNode *map,
                                      const char *key);

/* Sets @error to VB_ERROR_INVALID_INPUT with "file:line:column: message" at
 * @node (or at the start of the file when @node is NULL). Always returns
 * FALSE, so that `return vb_yaml_error(...)` reads naturally. Texts from the
 * file must be quoted with vb_text_quote(); as a last guard, any unsafe
 * character left in the message is escaped. */
gboolean vb_yaml_error(GError **error, const VbYamlDoc *doc, const VbYamlNode *node,
                       const char *format, ...) G_GNUC_PRINTF(4, 5);

/* Checks that @node is a mapping whose keys are all in the NULL-terminated
 * @allowed list, with no key twice. An unknown key gets an error listing the
 * allowed keys (and the closest one, when a typo is likely). @what names the
 * mapping in messages ("host", "policy"). */
gboolean vb_yaml_check_mapping(const VbYamlDoc *doc, const VbYamlNode *node,
                               const char *what, const char *const *allowed,
                               GError **error);
/* Checks the kind of @node; the error says what was expected and what was found. */
gboolean vb_yaml_expect_kind(const VbYamlDoc *doc, const VbYamlNode *node,
                             VbYamlKind kind, const char *what, GError **error);

/* Refuses a scalar whose text has a character vb_text_find_unsafe()
 * finds, saying which and where; TRUE when the text is safe to print. */
gboolean vb_yaml_check_text(const VbYamlDoc *doc, const VbYamlNode *node, const char *what,
                            GError **error);

/* Typed scalar readers. Each writes @ret only on success; on error it says
 * what @what must be and what was found (quoted with vb_text_quote). The
 * string readers refuse unsafe characters (vb_yaml_check_text). */
gboolean vb_yaml_get_string(const VbYamlDoc *doc, const VbYamlNode *node,
                            const char *what, char **ret, GError **error);
gboolean vb_yaml_get_bool(const VbYamlDoc *doc, const VbYamlNode *node,
                          const char *what, gboolean *ret, GError **error);
/* Accepts a whole number in [min, max]. */
gboolean vb_yaml_get_uint64(const VbYamlDoc *doc, const VbYamlNode *node,
                            const char *what, guint64 min, guint64 max,
                            guint64 *ret, GError **error);
/* Accepts a finite number in [min, max]. */
gboolean vb_yaml_get_double(const VbYamlDoc *doc, const VbYamlNode *node,
                            const char *what, double min, double max,
                            double *ret, GError **error);
/* The quick first steps of the two readers above, for text read outside a
 * tree: a plain whole number of 1 to 19 digits, and a plain decimal of at
 * most 15 digits (digits with at most one '.'), read exactly as strtoull and
 * strtod would. FALSE (@ret untouched) leaves the text to the reader. */
gboolean vb_yaml_text_whole(const char *text, guint64 *ret);
gboolean vb_yaml_text_decimal(const char *text, double *ret);
/* Accepts one of the NULL-terminated @names; writes its index. */
gboolean vb_yaml_get_enum(const VbYamlDoc *doc, const VbYamlNode *node,
                          const char *what, const char *const *names,
                          guint *ret, GError **error);
/* Accepts a sequence of strings (or a single string); returns a new strv. */
gboolean vb_yaml_get_strv(const VbYamlDoc *doc, const VbYamlNode *node,
                          const char *what, char ***ret, GError **error);

/* -------------------------------------------------------------------- PRNG */

/* A small deterministic pseudo-random generator (splitmix64): the same seed
 * gives the same sequence on every platform, which is what the pool generator
 * and the property tests need (a failing seed can be replayed). Not for
 * anything secret. Seed it by setting state: `VbRng r = { .state = seed };`. */
typedef struct {
    guint64 state; /* advanced by every draw */
} VbRng;

/* The next 64 random bits. Can't fail. */
guint64 vb_rng_next(VbRng *r);
/* Uniform in [0, 1), from the top 53 bits of one draw. */
double vb_rng_double(VbRng *r);
/* Uniform in [0, n) as floor(vb_rng_double() * n); n > 0. */
guint vb_rng_below(VbRng *r, guint n);
/* TRUE with probability @p (one draw). */
gboolean vb_rng_chance(VbRng *r, double p);

/* Levenshtein-closest of @candidates to @word, or NULL when none is close
 * enough to be a likely typo. */
const char *vb_closest_word(const char *word, const char *const *candidates);

/* Joins a NULL-terminated list as "a, b or c" (transfer full). */
char *vb_join_choices(const char *const *names);

G_END_DECLS
