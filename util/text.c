/*
 * text.c: text from files a person writes, made safe to print.
 *
 * Names and values in policies, inventories and configs end up on a
 * terminal (tables, error messages) and in the journal. A name written as
 * "kvm1\nFAKE" would forge a second line; "\e[31m" would drive the terminal;
 * a U+202E would show a name backwards. The loaders refuse such characters
 * in names and values (vb_text_find_unsafe), and every message that quotes
 * what a file says goes through vb_text_quote, which escapes them and cuts
 * the text to VB_QUOTE_MAX_CHARS characters, so that a 20 MB value does not
 * become a 20 MB error line.
 *
 * Unsafe, here: C0 controls (tab and newline included), DEL, C1 controls
 * (U+0080 to U+009F: U+009B is a CSI to some terminals), the line and
 * paragraph separators U+2028/U+2029, the bidirectional marks and overrides
 * (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) and any byte
 * that is not part of valid UTF-8. Everything else prints as itself.
 *
 * Workload: vb_text_find_unsafe runs on every name of an inventory of
 * 200,000 guests, so printable ASCII is checked a byte at a time with no
 * decoding; the quoting functions only run on the way to a message.
 */
#include "config.h"

#include <string.h>

#include "util/util.h"

/* TRUE for the code points listed above (decoded, valid ones). */
static gboolean
unsafe_char(gunichar c)
{
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return TRUE;
    if (c == 0x061c || c == 0x200e || c == 0x200f || c == 0x2028 || c == 0x2029)
        return TRUE;
    return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The character at @p (of at most @max bytes) and its length in @ret_len;
 * an invalid sequence is one byte long and returned as (gunichar) -1. */
static gunichar
next_char(const char *p, gsize max, gsize *ret_len)
{
    gunichar c;

    if ((guchar) *p < 0x80) {
        *ret_len = 1;
        return (guchar) *p;
    }
    c = g_utf8_get_char_validated(p, (gssize) max);
    if (c == (gunichar) -1 || c == (gunichar) -2) {
        *ret_len = 1;
        return (gunichar) -1;
    }
    *ret_len = (gsize) (g_utf8_next_char(p) - p);
    return c;
}

const char *
vb_text_find_unsafe(const char *text)
{
    const char *end = text + strlen(text);

    for (const char *p = text; p < end;) {
        gsize len;
        gunichar c;

        if ((guchar) *p >= 0x20 && (guchar) *p < 0x7f) {
            p++;
            continue;
        }
        c = next_char(p, (gsize) (end - p), &len);
        if (c == (gunichar) -1 || unsafe_char(c))
            return p;
        p += len;
    }
    return NULL;
}

/* Appends the escaped form of the character @c of @len bytes at @p. */
static void
append_escaped(GString *out, const char *p, gsize len, gunichar c)
{
    if (c == (gunichar) -1) {
        g_string_append_printf(out, "\\x%02X", (guchar) *p);
        return;
    }
    if (!unsafe_char(c)) {
        g_string_append_len(out, p, (gssize) len);
        return;
    }
    switch (c) {
    case '\n': g_string_append(out, "\\n"); return;
    case '\t': g_string_append(out, "\\t"); return;
    case '\r': g_string_append(out, "\\r"); return;
    case 0x1b: g_string_append(out, "\\e"); return;
    default:
        break;
    }
    if (c < 0x80)
        g_string_append_printf(out, "\\x%02X", c);
    else
        g_string_append_printf(out, "\\u%04X", c);
}

/* Escapes @text, keeping at most @max_chars characters of output (0: all)
 * and then "..." (transfer full). */
static char *
escape(const char *text, guint max_chars)
{
    GString *out = g_string_new(NULL);
    const char *end = text + strlen(text);
    guint chars = 0;

    for (const char *p = text; p < end;) {
        gsize len, before = out->len;
        gunichar c = next_char(p, (gsize) (end - p), &len);
        guint added;

        append_escaped(out, p, len, c);
        added = (c != (gunichar) -1 && !unsafe_char(c)) ? 1 : (guint) (out->len - before);
        if (max_chars && chars + added > max_chars) {
            g_string_truncate(out, before);
            g_string_append(out, "...");
            break;
        }
        chars += added;
        p += len;
    }
    return g_string_free(out, FALSE);
}

char *
vb_text_quote(const char *text)
{
    return escape(text ? text : "", VB_QUOTE_MAX_CHARS);
}

char *
vb_text_escape(const char *text)
{
    return escape(text ? text : "", 0);
}

char *
vb_text_describe_unsafe(const char *text)
{
    const char *at = vb_text_find_unsafe(text);
    const char *end = text + strlen(text);
    g_autoptr(GString) shown = g_string_new(NULL);
    gunichar c;
    gsize len;

    if (!at)
        return NULL;
    c = next_char(at, (gsize) (end - at), &len);
    append_escaped(shown, at, len, c);
    if (c == (gunichar) -1)
        return g_strdup_printf("a byte that is not UTF-8 (%s)", shown->str);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return g_strdup_printf("a control character (%s)", shown->str);
    if (c == 0x2028 || c == 0x2029)
        return g_strdup_printf("a line separator (%s)", shown->str);
    return g_strdup_printf("a bidirectional text mark (%s)", shown->str);
}
