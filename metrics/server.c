/*
 * server.c: /metrics over HTTP (libsoup 3), in a thread of its own.
 *
 * The daemon's main loop is blocked while the executor runs migrations
 * (cli/cmd-run.c), which is when an admin most wants to watch: so the server
 * runs its own GMainContext in its own thread and answers from the pages the
 * daemon last published (vb_metrics_server_publish for /metrics,
 * vb_metrics_server_publish_page for others, such as a report at /), under a
 * mutex. It never touches the model, the journal or the pool.
 *
 * Invariants: once vb_metrics_server_new returns, the thread listens (or the
 * server was never returned); only that thread uses the SoupServer; a page
 * is replaced, never edited, under the lock.
 *
 * Workload: one scrape every few seconds at most; a response is a copy of a
 * few kB.
 */
#include "config.h"

#include <libsoup/soup.h>

#include "metrics/metrics.h"

struct _VbMetricsServer {
    GThread *thread;
    GMainContext *context;  /* the thread's */
    GMainLoop *loop;        /* runs in the thread until freed */
    char *address;          /* to listen on */
    guint port;             /* ... 0: any free one */
    GMutex lock;            /* guards everything below */
    GCond cond;             /* signalled once the thread knows whether it listens */
    gboolean started;       /* the thread is past listening */
    GError *error;          /* why it could not listen, or NULL */
    char *url;              /* http://ADDRESS:PORT/metrics once listening */
    GHashTable *pages;      /* path -> owned ServerPage *: what GET answers */
};

/* One published page. */
typedef struct {
    char *content_type;
    char *body;
} ServerPage;

static void
server_page_free(ServerPage *page)
{
    g_free(page->content_type);
    g_free(page->body);
    g_free(page);
}

static void
server_answer(SoupServerMessage *msg, guint status, const char *type, char *body)
{
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, body, strlen(body));
}

static void
server_on_request(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer data)
{
    VbMetricsServer *s = data;
    const char *method = soup_server_message_get_method(msg);
    const ServerPage *page;
    g_autofree char *type = NULL;
    char *body = NULL;

    g_mutex_lock(&s->lock);
    page = g_hash_table_lookup(s->pages, path);
    if (page) {
        type = g_strdup(page->content_type);
        body = g_strdup(page->body);
    }
    g_mutex_unlock(&s->lock);
    if (!body) {
        /* /metrics is published before the daemon logs the URL, so a 503
         * here is defensive. */
        gboolean metrics = g_str_equal(path, "/metrics");

        server_answer(msg, metrics ? SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_NOT_FOUND,
                      "text/plain; charset=utf-8",
                      g_strdup(metrics ? "Starting\n" : "Not found: metrics are at /metrics\n"));
        return;
    }
    if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
        g_free(body);
        soup_message_headers_append(soup_server_message_get_response_headers(msg), "Allow",
                                    "GET, HEAD");
        server_answer(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                      g_strdup("Only GET and HEAD\n"));
        return;
    }
    server_answer(msg, SOUP_STATUS_OK, type, body);
}

/* Listens; the URL of /metrics, or NULL with @error. */
static char *
server_listen(VbMetricsServer *s, SoupServer *soup, GError **error)
{
    g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(s->address);
    g_autoptr(GSocketAddress) sa = NULL;
    g_autoptr(GError) local = NULL;
    GSList *uris;
    char *url;

    /* Defensive: the config checked the address (vb_config_parse_listen). */
    if (!ia)
        return g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                           "http_listen: '%s' is not an IP address", s->address), NULL;
    sa = g_inet_socket_address_new(ia, (guint16) s->port);
    if (!soup_server_listen(soup, sa, 0, &local))
        return g_set_error(error, VB_ERROR, VB_ERROR_IO, "http_listen: cannot listen on %s%s%s:%u: %s",
                           strchr(s->address, ':') ? "[" : "", s->address,
                           strchr(s->address, ':') ? "]" : "", s->port, local->message), NULL;
    uris = soup_server_get_uris(soup);
    url = g_strdup_printf("http://%s%s%s:%d/metrics", strchr(s->address, ':') ? "[" : "",
                          s->address, strchr(s->address, ':') ? "]" : "",
                          g_uri_get_port(uris->data));
    g_slist_free_full(uris, (GDestroyNotify) g_uri_unref);
    return url;
}

static gpointer
server_thread(gpointer data)
{
    VbMetricsServer *s = data;
    g_autoptr(SoupServer) soup = NULL;
    g_autoptr(GError) error = NULL;
    char *url;

    g_main_context_push_thread_default(s->context);
    soup = soup_server_new("server-header", PACKAGE_NAME "/" PACKAGE_VERSION, NULL);
    soup_server_add_handler(soup, NULL, server_on_request, s, NULL);
    url = server_listen(s, soup, &error);
    g_mutex_lock(&s->lock);
    s->url = url;
    s->error = g_steal_pointer(&error);
    s->started = TRUE;
    g_cond_signal(&s->cond);
    g_mutex_unlock(&s->lock);
    if (url)
        g_main_loop_run(s->loop);
    soup_server_disconnect(soup);
    g_clear_object(&soup);
    g_main_context_pop_thread_default(s->context);
    return NULL;
}

VbMetricsServer *
vb_metrics_server_new(const char *listen, char **ret_url, GError **error)
{
    g_autoptr(VbMetricsServer) s = g_new0(VbMetricsServer, 1);
    gboolean ok;

    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    if (!vb_config_parse_listen(listen, &s->address, &s->port))
        return g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                           "http_listen: '%s' is not ADDRESS:PORT", listen), NULL;
    s->pages = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) server_page_free);
    s->context = g_main_context_new();
    s->loop = g_main_loop_new(s->context, FALSE);
    s->thread = g_thread_new("vb-metrics", server_thread, s);
    g_mutex_lock(&s->lock);
    while (!s->started)
        g_cond_wait(&s->cond, &s->lock);
    ok = s->error == NULL;
    if (!ok)
        g_propagate_error(error, g_steal_pointer(&s->error));
    g_mutex_unlock(&s->lock);
    if (!ok)
        return NULL;
    if (ret_url)
        *ret_url = g_strdup(s->url);
    return g_steal_pointer(&s);
}

void
vb_metrics_server_publish_page(VbMetricsServer *server, const char *path,
                               const char *content_type, char *body)
{
    ServerPage *page = g_new0(ServerPage, 1);

    g_assert(path[0] == '/' && content_type);
    page->content_type = g_strdup(content_type);
    page->body = body;
    g_mutex_lock(&server->lock);
    /* The old page is freed under the lock: readers copy under it too. */
    g_hash_table_replace(server->pages, g_strdup(path), page);
    g_mutex_unlock(&server->lock);
}

void
vb_metrics_server_publish(VbMetricsServer *server, char *text)
{
    vb_metrics_server_publish_page(server, "/metrics", VB_METRICS_CONTENT_TYPE, text);
}

static gboolean
server_quit(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void
vb_metrics_server_free(VbMetricsServer *server)
{
    if (!server)
        return;
    if (server->thread) {
        /* From inside the loop: a quit before the thread reached
         * g_main_loop_run would be lost. */
        g_autoptr(GSource) quit = g_idle_source_new();

        g_source_set_callback(quit, server_quit, server->loop, NULL);
        g_source_attach(quit, server->context);
        g_thread_join(server->thread);
    }
    if (server->loop)
        g_main_loop_unref(server->loop);
    if (server->context)
        g_main_context_unref(server->context);
    g_clear_error(&server->error);
    g_free(server->address);
    g_free(server->url);
    if (server->pages)
        g_hash_table_unref(server->pages);
    g_mutex_clear(&server->lock);
    g_cond_clear(&server->cond);
    g_free(server);
}
