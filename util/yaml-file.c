/*
 * yaml-file.c: reading a YAML file from disk, at most up to a size cap.
 *
 * The loaders read whole files into memory and parse them there (util/yaml.c);
 * this is the only I/O of util/. A file larger than the caller's cap is
 * refused after reading at most cap + 1 bytes, so that a pipe, a device or a
 * huge file costs no more than the cap. Workload: inventories of up to a few
 * hundred MB, read once per process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

/* "16 MiB", "512 KiB" or "100 bytes" (transfer full). */
static char *
format_cap(gsize bytes)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        return g_strdup_printf("%zu MiB", bytes / (1024 * 1024));
    if (bytes >= 1024 && bytes % 1024 == 0)
        return g_strdup_printf("%zu KiB", bytes / 1024);
    return g_strdup_printf("%zu bytes", bytes);
}

/* See util.h. Messages for files that cannot be read are worded like
 * g_file_get_contents()'s. A regular file's buffer is sized from its length
 * once (growing it by doubling would hold up to twice a large inventory). */
gboolean
vb_yaml_read_file(const char *path, gsize max_bytes, const char *what, char **ret_data,
                  gsize *ret_len, GError **error)
{
    g_autoptr(GByteArray) data = NULL;
    g_autofree char *shown = vb_text_escape(path);
    g_autofree char *cap = NULL;
    guint8 chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int saved;

    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (guint64) st.st_size <= max_bytes)
        data = g_byte_array_sized_new((guint) st.st_size + 1);
    else
        data = g_byte_array_new();
    if (fd < 0) {
        saved = errno;
        g_set_error(error, VB_ERROR, VB_ERROR_IO, "Failed to open file \u201c%s\u201d: %s", shown,
                    g_strerror(saved));
        return FALSE;
    }
    while (data->len <= max_bytes) {
        gssize n = read(fd, chunk, MIN(sizeof(chunk), max_bytes + 1 - data->len));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved = errno;
            close(fd);
            g_set_error(error, VB_ERROR, VB_ERROR_IO,
                        "Failed to read from file \u201c%s\u201d: %s", shown, g_strerror(saved));
            return FALSE;
        }
        if (n == 0)
            break;
        g_byte_array_append(data, chunk, (guint) n);
    }
    close(fd);
    if (data->len > max_bytes) {
        cap = format_cap(max_bytes);
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "%s: this file is larger than %s, the most %s may be", shown, cap, what);
        return FALSE;
    }
    *ret_len = data->len;
    g_byte_array_append(data, (const guint8 *) "", 1);
    *ret_data = (char *) g_byte_array_free(g_steal_pointer(&data), FALSE);
    return TRUE;
}

VbYamlDoc *
vb_yaml_load_file(const char *path, gsize max_bytes, const char *what, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;

    if (!vb_yaml_read_file(path, max_bytes, what, &data, &len, error))
        return NULL;
    return vb_yaml_load_data(data, len, path, error);
}
