/*
 * config.c: the main config file (docs/config.md): which pools and hosts to
 * manage (libvirt URIs) or which simulated inventory to load, the policy, the
 * database, and the daemon's timings.
 *
 * The file is small and read once per run, so keys are looked up by name
 * (vb_yaml_mapping_get) after vb_yaml_check_mapping has refused unknown and
 * repeated keys. Every mistake gives "file:line:column: what is wrong" with
 * what is allowed; nothing is guessed.
 *
 * Invariants of a loaded VbConfig: driver is "libvirt" or "sim"; sim has an
 * inventory path and no pools; libvirt has at least one pool and every host
 * has a name and a URI; pool names and host names are unique across the file,
 * and so are host URIs; every duration is positive and the window is at least
 * one sample interval long; relative paths (policy, database, inventory) are
 * resolved against the config file's folder; http_listen, when set, is an
 * IP address and a port (vb_config_parse_listen).
 */
#include "config.h"

#include <string.h>

#include "pool/pool.h"

#define DEFAULT_DATABASE "/var/lib/virt-balancer/state.db"

static const char *const driver_names[] = { "libvirt", "sim", NULL };
static const char *const top_keys[] = {
    "driver", "inventory", "pools", "policy", "database", "sample_interval", "window",
    "retention", "rebalance_interval", "connect_timeout", "http_listen",
    "max_parallel_hosts", NULL
};
static const char *const pool_keys[] = { "name", "shared_storage", "hosts", NULL };
static const char *const host_keys[] = {
    "name", "uri", "labels", "migration_host", "cpu_vendor", NULL
};

/* ------------------------------------------------------------ lifecycle */

void
vb_config_host_free(VbConfigHost *host)
{
    if (!host)
        return;
    g_free(host->name);
    g_free(host->uri);
    g_strfreev(host->labels);
    g_free(host->migration_host);
    g_free(host->cpu_vendor);
    g_free(host);
}

void
vb_config_pool_free(VbConfigPool *pool)
{
    if (!pool)
        return;
    g_free(pool->name);
    if (pool->hosts)
        g_ptr_array_unref(pool->hosts);
    g_free(pool);
}

VbConfig *
vb_config_new_default(void)
{
    VbConfig *config = g_new0(VbConfig, 1);

    config->driver = g_strdup("libvirt");
    config->pools = g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_pool_free);
    config->database = g_strdup(DEFAULT_DATABASE);
    config->sample_interval_seconds = 30;
    config->window_seconds = 300;
    config->retention_seconds = 7 * 86400;
    config->rebalance_interval_seconds = 600;
    config->connect_timeout_seconds = 10;
    config->max_parallel_hosts = VB_CONFIG_MAX_PARALLEL_HOSTS_DEFAULT;
    return config;
}

void
vb_config_free(VbConfig *config)
{
    if (!config)
        return;
    g_free(config->filename);
    g_free(config->driver);
    g_free(config->inventory);
    if (config->pools)
        g_ptr_array_unref(config->pools);
    g_free(config->policy);
    g_free(config->database);
    g_free(config->http_listen);
    g_free(config);
}

/* ------------------------------------------------------------- readers */

/* Reader state. */
typedef struct {
    const VbYamlDoc *doc;
    VbConfig *config;
    char *dir;                /* folder of the config file, for relative paths */
    GHashTable *host_names;   /* name -> VbConfigHost * (borrowed) */
    GHashTable *uris;         /* uri -> VbConfigHost * (borrowed) */
} Reader;

/* Accepts "90", "90s", "5m", "1h", "7d" (a whole number, one unit). */
static gboolean
read_duration(const Reader *r, const VbYamlNode *node, const char *what, guint *ret,
              GError **error)
{
    static const struct {
        char unit;
        guint64 seconds;
    } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
    const char *text;
    char *end = NULL;
    guint64 value, scale = 1;
    g_autofree char *shown = NULL;

    if (!vb_yaml_expect_kind(r->doc, node, VB_YAML_SCALAR, what, error))
        return FALSE;
    text = vb_yaml_node_value(r->doc, node);
    value = g_ascii_isdigit(text[0]) ? g_ascii_strtoull(text, &end, 10) : 0;
    if (end && end != text && end[0] && !end[1]) {
        for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
            if (units[i].unit == end[0]) {
                scale = units[i].seconds;
                end++;
            }
        }
    }
    shown = vb_text_quote(text);
    if (!end || end == text || *end != '\0')
        return vb_yaml_error(error, r->doc, node,
                             "%s: expected a duration such as 30, 30s, 5m, 1h or 7d, got '%s'",
                             what, shown);
    if (value == 0 || value > G_MAXUINT32 / scale)
        return vb_yaml_error(error, r->doc, node,
                             "%s: %s is out of range; allowed: 1s to 136 years", what, shown);
    *ret = (guint) (value * scale);
    return TRUE;
}

/* A whole number from @min to @max, written plainly (no sign, no unit). */
static gboolean
read_count(const Reader *r, const VbYamlNode *node, const char *what, guint min, guint max,
           guint *ret, GError **error)
{
    const char *text;
    char *end = NULL;
    guint64 value;

    if (!vb_yaml_expect_kind(r->doc, node, VB_YAML_SCALAR, what, error))
        return FALSE;
    text = vb_yaml_node_value(r->doc, node);
    value = g_ascii_isdigit(text[0]) ? g_ascii_strtoull(text, &end, 10) : 0;
    if (!end || end == text || *end != '\0' || value < min || value > max)
        return vb_yaml_error(error, r->doc, node,
                             "%s: expected a whole number from %u to %u, got '%s'", what, min,
                             max, text);
    *ret = (guint) value;
    return TRUE;
}

/* A path; relative ones are taken from the config file's folder. */
static gboolean
read_path(const Reader *r, const VbYamlNode *node, const char *what, char **ret,
          GError **error)
{
    g_autofree char *path = NULL;

    if (!vb_yaml_get_string(r->doc, node, what, &path, error))
        return FALSE;
    g_free(*ret);
    if (g_path_is_absolute(path) || g_str_equal(path, ":memory:"))
        *ret = g_steal_pointer(&path);
    else
        *ret = g_build_filename(r->dir, path, NULL);
    return TRUE;
}

static gboolean
read_optional_string(const Reader *r, const VbYamlNode *map, const char *key, const char *what,
                     char **ret, GError **error)
{
    const VbYamlNode *node = vb_yaml_mapping_get(r->doc, map, key);
    g_autofree char *subject = NULL;

    if (!node)
        return TRUE;
    subject = g_strdup_printf("%s %s", what, key);
    return vb_yaml_get_string(r->doc, node, subject, ret, error);
}

/* A libvirt URI: scheme "driver[+transport]", then "://". */
static gboolean
check_uri(const Reader *r, const VbYamlNode *node, const char *host, const char *uri,
          GError **error)
{
    VbConfigHost *other = g_hash_table_lookup(r->uris, uri);
    g_autofree char *qhost = NULL, *quri = NULL, *qother = NULL;

    if (!strstr(uri, "://") || !g_uri_is_valid(uri, G_URI_FLAGS_NONE, NULL)) {
        qhost = vb_text_quote(host);
        quri = vb_text_quote(uri);
        return vb_yaml_error(error, r->doc, node,
                             "host '%s' uri: '%s' is not a libvirt URI; expected one like "
                             "qemu+ssh://root@%s/system, qemu+tls://%s/system or "
                             "qemu+unix:///system?socket=PATH", qhost, quri, qhost, qhost);
    }
    if (other) {
        qhost = vb_text_quote(host);
        quri = vb_text_quote(uri);
        qother = vb_text_quote(other->name);
        return vb_yaml_error(error, r->doc, node,
                             "host '%s' uri: '%s' is already the URI of host '%s' (line %u)",
                             qhost, quri, qother, other->line);
    }
    return TRUE;
}

/* ---------------------------------------------------------------- hosts */

static gboolean
read_host_name(Reader *r, const VbYamlNode *node, VbConfigHost *host, GError **error)
{
    const VbYamlNode *name = vb_yaml_mapping_get(r->doc, node, "name");
    VbConfigHost *other;

    if (!name)
        return vb_yaml_error(error, r->doc, node, "host: missing required key 'name'");
    if (!vb_yaml_get_string(r->doc, name, "host name", &host->name, error))
        return FALSE;
    if (!host->name[0])
        return vb_yaml_error(error, r->doc, name, "host name: must not be empty");
    other = g_hash_table_lookup(r->host_names, host->name);
    if (other) {
        g_autofree char *shown = vb_text_quote(host->name);

        return vb_yaml_error(error, r->doc, name, "host '%s' is defined twice (first at line %u)",
                             shown, other->line);
    }
    return TRUE;
}

static gboolean
read_host(Reader *r, VbConfigPool *pool, const VbYamlNode *node, GError **error)
{
    g_autoptr(GPtrArray) guard =
        g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_host_free);
    VbConfigHost *host = g_new0(VbConfigHost, 1);
    const VbYamlNode *uri, *labels;
    g_autofree char *what = NULL;
    g_autofree char *shown = NULL;

    g_ptr_array_add(guard, host);
    host->line = vb_yaml_node_line(node);
    host->column = vb_yaml_node_column(node);
    if (!vb_yaml_check_mapping(r->doc, node, "host", host_keys, error) ||
        !read_host_name(r, node, host, error))
        return FALSE;
    shown = vb_text_quote(host->name);
    what = g_strdup_printf("host '%s'", shown);
    uri = vb_yaml_mapping_get(r->doc, node, "uri");
    if (!uri)
        return vb_yaml_error(error, r->doc, node, "%s: missing required key 'uri'", what);
    if (!read_optional_string(r, node, "uri", what, &host->uri, error) ||
        !check_uri(r, uri, host->name, host->uri, error))
        return FALSE;
    labels = vb_yaml_mapping_get(r->doc, node, "labels");
    if (labels) {
        g_autofree char *subject = g_strdup_printf("%s labels", what);

        if (!vb_yaml_get_strv(r->doc, labels, subject, &host->labels, error))
            return FALSE;
    }
    if (!read_optional_string(r, node, "migration_host", what, &host->migration_host, error) ||
        !read_optional_string(r, node, "cpu_vendor", what, &host->cpu_vendor, error))
        return FALSE;
    /* The driver builds tcp://ADDRESS itself: a URI here would become tcp://tcp://... */
    if (host->migration_host && strstr(host->migration_host, "://")) {
        g_autofree char *address = vb_text_quote(host->migration_host);

        return vb_yaml_error(error, r->doc, vb_yaml_mapping_get(r->doc, node, "migration_host"),
                             "%s migration_host: '%s' is a URI; give the address only "
                             "(e.g. 10.20.0.2), virt-balancer migrates to tcp://ADDRESS",
                             what, address);
    }
    g_hash_table_insert(r->host_names, host->name, host);
    g_hash_table_insert(r->uris, host->uri, host);
    g_ptr_array_add(pool->hosts, g_ptr_array_steal_index(guard, 0));
    return TRUE;
}

/* ---------------------------------------------------------------- pools */

static gboolean
read_pool_hosts(Reader *r, VbConfigPool *pool, const VbYamlNode *map, GError **error)
{
    const VbYamlNode *hosts = vb_yaml_mapping_get(r->doc, map, "hosts");
    g_autofree char *shown = vb_text_quote(pool->name);
    g_autofree char *what = g_strdup_printf("pool '%s' hosts", shown);

    if (!hosts)
        return vb_yaml_error(error, r->doc, map, "pool '%s': missing required key 'hosts'",
                             shown);
    if (!vb_yaml_expect_kind(r->doc, hosts, VB_YAML_SEQUENCE, what, error))
        return FALSE;
    if (vb_yaml_node_n_children(hosts) == 0)
        return vb_yaml_error(error, r->doc, hosts, "%s: a pool needs at least one host", what);
    for (const VbYamlNode *h = vb_yaml_node_first(r->doc, hosts); h;
         h = vb_yaml_node_next(r->doc, h)) {
        if (!read_host(r, pool, h, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
read_pool(Reader *r, const VbYamlNode *map, GError **error)
{
    g_autoptr(GPtrArray) guard =
        g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_pool_free);
    VbConfigPool *pool = g_new0(VbConfigPool, 1);
    const VbYamlNode *name, *shared;
    g_autofree char *shown = NULL;

    g_ptr_array_add(guard, pool);
    pool->hosts = g_ptr_array_new_with_free_func((GDestroyNotify) vb_config_host_free);
    if (!vb_yaml_check_mapping(r->doc, map, "pool", pool_keys, error))
        return FALSE;
    name = vb_yaml_mapping_get(r->doc, map, "name");
    if (!name)
        return vb_yaml_error(error, r->doc, map, "pool: missing required key 'name'");
    if (!vb_yaml_get_string(r->doc, name, "pool name", &pool->name, error))
        return FALSE;
    if (!pool->name[0])
        return vb_yaml_error(error, r->doc, name, "pool name: must not be empty");
    shown = vb_text_quote(pool->name);
    for (guint i = 0; i < r->config->pools->len; i++) {
        if (g_str_equal(((VbConfigPool *) g_ptr_array_index(r->config->pools, i))->name,
                        pool->name))
            return vb_yaml_error(error, r->doc, name, "pool '%s' is defined twice", shown);
    }
    shared = vb_yaml_mapping_get(r->doc, map, "shared_storage");
    if (shared) {
        g_autofree char *what = g_strdup_printf("pool '%s' shared_storage", shown);

        if (!vb_yaml_get_bool(r->doc, shared, what, &pool->shared_storage, error))
            return FALSE;
    }
    if (!read_pool_hosts(r, pool, map, error))
        return FALSE;
    g_ptr_array_add(r->config->pools, g_ptr_array_steal_index(guard, 0));
    return TRUE;
}

/* ------------------------------------------------------------- the file */

static gboolean
read_driver(Reader *r, const VbYamlNode *root, GError **error)
{
    const VbYamlNode *driver = vb_yaml_mapping_get(r->doc, root, "driver");
    const VbYamlNode *inventory = vb_yaml_mapping_get(r->doc, root, "inventory");
    const VbYamlNode *pools = vb_yaml_mapping_get(r->doc, root, "pools");
    guint kind = inventory && !pools ? 1 : 0; /* no driver: sim when only an inventory */

    if (driver && !vb_yaml_get_enum(r->doc, driver, "driver", driver_names, &kind, error))
        return FALSE;
    g_free(r->config->driver);
    r->config->driver = g_strdup(driver_names[kind]);
    if (kind == 1) {
        if (!inventory)
            return vb_yaml_error(error, r->doc, driver,
                                 "driver sim needs 'inventory: FILE' (the simulated pool)");
        if (pools)
            return vb_yaml_error(error, r->doc, pools,
                                 "pools: the sim driver takes its pools from the inventory "
                                 "file; remove 'pools' or use driver libvirt");
        return read_path(r, inventory, "inventory", &r->config->inventory, error);
    }
    if (inventory)
        return vb_yaml_error(error, r->doc, inventory,
                             "inventory: only the sim driver reads an inventory file; "
                             "the libvirt driver asks the hosts listed under 'pools'");
    if (!pools)
        return vb_yaml_error(error, r->doc, root,
                             "config: missing required key 'pools' (or driver: sim with "
                             "inventory: FILE)");
    if (!vb_yaml_expect_kind(r->doc, pools, VB_YAML_SEQUENCE, "pools", error))
        return FALSE;
    if (vb_yaml_node_n_children(pools) == 0)
        return vb_yaml_error(error, r->doc, pools, "pools: list at least one pool");
    for (const VbYamlNode *p = vb_yaml_node_first(r->doc, pools); p;
         p = vb_yaml_node_next(r->doc, p)) {
        if (!read_pool(r, p, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
read_timings(Reader *r, const VbYamlNode *root, GError **error)
{
    static const char *const keys[] = {
        "sample_interval", "window", "retention", "rebalance_interval", "connect_timeout"
    };
    VbConfig *c = r->config;
    guint *fields[] = {
        &c->sample_interval_seconds, &c->window_seconds, &c->retention_seconds,
        &c->rebalance_interval_seconds, &c->connect_timeout_seconds
    };
    const VbYamlNode *window = vb_yaml_mapping_get(r->doc, root, "window");
    const VbYamlNode *retention = vb_yaml_mapping_get(r->doc, root, "retention");

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        const VbYamlNode *node = vb_yaml_mapping_get(r->doc, root, keys[i]);

        if (node && !read_duration(r, node, keys[i], fields[i], error))
            return FALSE;
    }
    if (c->window_seconds < c->sample_interval_seconds)
        return vb_yaml_error(error, r->doc, window ? window : root,
                             "window: %us is shorter than sample_interval (%us); the window "
                             "must hold at least one sample", c->window_seconds,
                             c->sample_interval_seconds);
    if (c->retention_seconds < c->window_seconds)
        return vb_yaml_error(error, r->doc, retention ? retention : root,
                             "retention: %us is shorter than window (%us); samples would be "
                             "deleted before they are averaged", c->retention_seconds,
                             c->window_seconds);
    return TRUE;
}

gboolean
vb_config_parse_listen(const char *text, char **ret_address, guint *ret_port)
{
    const char *colon = strrchr(text, ':');
    g_autofree char *address = NULL;
    guint64 port;
    char *end = NULL;

    if (!colon || colon == text || !g_ascii_isdigit(colon[1]))
        return FALSE;
    port = g_ascii_strtoull(colon + 1, &end, 10);
    if (*end || port > 65535 || end - (colon + 1) > 5)
        return FALSE;
    if (text[0] == '[') {
        /* [IPv6]:PORT, as in URLs: the brackets tell the port from the address. */
        if (colon[-1] != ']')
            return FALSE;
        address = g_strndup(text + 1, (gsize) (colon - text - 2));
        if (!strchr(address, ':'))
            return FALSE;
    } else {
        address = g_strndup(text, (gsize) (colon - text));
        if (strchr(address, ':'))
            return FALSE;
    }
    if (!g_hostname_is_ip_address(address))
        return FALSE;
    if (ret_address)
        *ret_address = g_steal_pointer(&address);
    if (ret_port)
        *ret_port = (guint) port;
    return TRUE;
}

static gboolean
read_http_listen(Reader *r, const VbYamlNode *root, GError **error)
{
    const VbYamlNode *node = vb_yaml_mapping_get(r->doc, root, "http_listen");
    g_autofree char *text = NULL;
    g_autofree char *quoted = NULL;

    if (!node)
        return TRUE;
    if (!vb_yaml_get_string(r->doc, node, "http_listen", &text, error))
        return FALSE;
    if (!vb_config_parse_listen(text, NULL, NULL)) {
        quoted = vb_text_quote(text);
        return vb_yaml_error(error, r->doc, node,
                             "http_listen: expected ADDRESS:PORT with an IP address and a port "
                             "from 0 to 65535, such as 127.0.0.1:9747 or [::1]:9747, got '%s'",
                             quoted);
    }
    r->config->http_listen = g_steal_pointer(&text);
    return TRUE;
}

static gboolean
read_config(Reader *r, GError **error)
{
    const VbYamlNode *root = vb_yaml_doc_root(r->doc);
    const VbYamlNode *node;

    if (!root)
        return vb_yaml_error(error, r->doc, NULL,
                             "config: the file is empty; expected 'pools' (or driver: sim "
                             "with inventory: FILE)");
    if (!vb_yaml_check_mapping(r->doc, root, "config", top_keys, error) ||
        !read_driver(r, root, error))
        return FALSE;
    node = vb_yaml_mapping_get(r->doc, root, "policy");
    if (node && !read_path(r, node, "policy", &r->config->policy, error))
        return FALSE;
    node = vb_yaml_mapping_get(r->doc, root, "database");
    if (node && !read_path(r, node, "database", &r->config->database, error))
        return FALSE;
    node = vb_yaml_mapping_get(r->doc, root, "max_parallel_hosts");
    if (node && !read_count(r, node, "max_parallel_hosts", 1, VB_CONFIG_MAX_PARALLEL_HOSTS_MAX,
                            &r->config->max_parallel_hosts, error))
        return FALSE;
    return read_http_listen(r, root, error) && read_timings(r, root, error);
}

VbConfig *
vb_config_load_file(const char *path, GError **error)
{
    g_autoptr(VbYamlDoc) doc = vb_yaml_load_file(path, VB_CONFIG_MAX_BYTES,
                                                 "a config file", error);
    g_autoptr(VbConfig) config = NULL;
    g_autoptr(GHashTable) host_names = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) uris = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *dir = NULL;
    Reader r;

    if (!doc)
        return NULL;
    config = vb_config_new_default();
    config->filename = g_strdup(path);
    dir = g_path_get_dirname(path);
    r = (Reader) { .doc = doc, .config = config, .dir = dir, .host_names = host_names,
                   .uris = uris };
    if (!read_config(&r, error))
        return NULL;
    return g_steal_pointer(&config);
}
