/*
 * libvirt-xml.c: reads what virt-balancer needs from libvirt's XML, with
 * libxml2 and XPath: a host's capabilities (CPU vendor, model, features, KVM
 * support) and a guest's definition (vCPUs, memory, required CPU features,
 * disks, pass-through devices, and virt-balancer's metadata element).
 *
 * Pure: text in, plain structs out, no connection. Missing optional elements
 * give NULL/empty fields; a malformed document or a missing required element
 * (domain name, vcpu, memory; capabilities host/cpu/arch) is an error. Called
 * once per host and guest per snapshot, so a few XPath queries per document.
 */
#include "config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

#include "drivers/libvirt-priv.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

/* A parsed document with its XPath context. */
typedef struct {
    xmlDocPtr doc;
    xmlXPathContextPtr ctx;
} VbXml;

static void
vb_xml_clear(VbXml *xml)
{
    g_clear_pointer(&xml->ctx, xmlXPathFreeContext);
    g_clear_pointer(&xml->doc, xmlFreeDoc);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VbXml, vb_xml_clear)

static gboolean
vb_xml_open(VbXml *xml, const char *text, const char *what, GError **error)
{
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

    if (!text || !*text) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s XML is empty", what);
        return FALSE;
    }
    xml->doc = xmlReadMemory(text, (int) strlen(text), what, NULL, opts);
    if (!xml->doc) {
        const xmlError *err = xmlGetLastError();

        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT, "%s XML is malformed: line %d: %s",
                    what, err ? err->line : 0, err && err->message ? g_strchomp(err->message) : "");
        return FALSE;
    }
    xml->ctx = xmlXPathNewContext(xml->doc);
    xmlXPathRegisterNs(xml->ctx, BAD_CAST VB_LV_METADATA_PREFIX, BAD_CAST VB_LV_METADATA_NS);
    return TRUE;
}

/* The string value of @expr relative to @node (NULL: the root), or NULL when
 * it is empty or absent (transfer full). */
static char *
vb_xml_string(VbXml *xml, xmlNodePtr node, const char *expr)
{
    g_autoptr(xmlXPathObject) obj = NULL;
    char *ret = NULL;

    xml->ctx->node = node ? node : xmlDocGetRootElement(xml->doc);
    obj = xmlXPathEvalExpression(BAD_CAST expr, xml->ctx);
    if (obj && obj->type == XPATH_STRING && obj->stringval && *obj->stringval)
        ret = g_strstrip(g_strdup((const char *) obj->stringval));
    if (ret && !*ret)
        g_clear_pointer(&ret, g_free);
    return ret;
}

/* The nodes matching @expr relative to @node (transfer full array of
 * borrowed nodes, empty when none). */
static GPtrArray *
vb_xml_nodes(VbXml *xml, xmlNodePtr node, const char *expr)
{
    g_autoptr(xmlXPathObject) obj = NULL;
    GPtrArray *ret = g_ptr_array_new();

    xml->ctx->node = node ? node : xmlDocGetRootElement(xml->doc);
    obj = xmlXPathEvalExpression(BAD_CAST expr, xml->ctx);
    if (obj && obj->type == XPATH_NODESET && obj->nodesetval) {
        for (int i = 0; i < obj->nodesetval->nodeNr; i++)
            g_ptr_array_add(ret, obj->nodesetval->nodeTab[i]);
    }
    return ret;
}

/* The string values of every node matching @expr, as a strv (transfer full). */
static char **
vb_xml_strv(VbXml *xml, xmlNodePtr node, const char *expr)
{
    g_autoptr(GPtrArray) nodes = vb_xml_nodes(xml, node, expr);
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

    for (guint i = 0; i < nodes->len; i++) {
        g_autofree char *text = vb_xml_string(xml, g_ptr_array_index(nodes, i), "string(.)");

        if (text)
            g_strv_builder_add(builder, text);
    }
    return g_strv_builder_end(builder);
}

/* The first node matching @expr serialised as XML, or NULL (transfer full). */
static char *
vb_xml_node_dump(VbXml *xml, const char *expr)
{
    g_autoptr(GPtrArray) nodes = vb_xml_nodes(xml, NULL, expr);
    xmlBufferPtr buf;
    char *ret;

    if (nodes->len == 0)
        return NULL;
    buf = xmlBufferCreate();
    xmlNodeDump(buf, xml->doc, g_ptr_array_index(nodes, 0), 0, 0);
    ret = g_strdup((const char *) xmlBufferContent(buf));
    xmlBufferFree(buf);
    return ret;
}

/* ------------------------------------------------------------ capabilities */

void
vb_lv_caps_free(VbLvCaps *caps)
{
    if (!caps)
        return;
    g_free(caps->arch);
    g_free(caps->vendor);
    g_free(caps->model);
    g_strfreev(caps->features);
    g_free(caps->host_uuid);
    g_free(caps->cpu_xml);
    g_free(caps);
}

VbLvCaps *
vb_lv_caps_parse(const char *xml_text, GError **error)
{
    g_auto(VbXml) xml = { 0 };
    g_autoptr(VbLvCaps) caps = g_new0(VbLvCaps, 1);
    g_autoptr(GPtrArray) kvm = NULL;

    if (!vb_xml_open(&xml, xml_text, "capabilities", error))
        return NULL;
    if (!xmlStrEqual(xmlDocGetRootElement(xml.doc)->name, BAD_CAST "capabilities")) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "capabilities XML: the root element is <%s>, not <capabilities>",
                    (const char *) xmlDocGetRootElement(xml.doc)->name);
        return NULL;
    }
    caps->arch = vb_xml_string(&xml, NULL, "string(/capabilities/host/cpu/arch)");
    if (!caps->arch) {
        g_set_error_literal(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                            "capabilities XML: no <host><cpu><arch> element");
        return NULL;
    }
    caps->vendor = vb_xml_string(&xml, NULL, "string(/capabilities/host/cpu/vendor)");
    caps->model = vb_xml_string(&xml, NULL, "string(/capabilities/host/cpu/model)");
    caps->features = vb_xml_strv(&xml, NULL, "/capabilities/host/cpu/feature/@name");
    caps->host_uuid = vb_xml_string(&xml, NULL, "string(/capabilities/host/uuid)");
    kvm = vb_xml_nodes(&xml, NULL, "/capabilities/guest/arch/domain[@type='kvm']");
    caps->kvm = kvm->len > 0;
    caps->cpu_xml = vb_xml_node_dump(&xml, "/capabilities/host/cpu");
    return g_steal_pointer(&caps);
}

char **
vb_lv_cpu_features_parse(const char *xml_text, GError **error)
{
    g_auto(VbXml) xml = { 0 };

    if (!vb_xml_open(&xml, xml_text, "CPU", error))
        return NULL;
    if (!xmlStrEqual(xmlDocGetRootElement(xml.doc)->name, BAD_CAST "cpu")) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "CPU XML: the root element is <%s>, not <cpu>",
                    (const char *) xmlDocGetRootElement(xml.doc)->name);
        return NULL;
    }
    return vb_xml_strv(&xml, NULL,
                       "/cpu/feature[@policy='require' or @policy='force' or not(@policy)]/@name");
}

char *
vb_lv_volume_format(const char *xml_text)
{
    g_auto(VbXml) xml = { 0 };

    if (!vb_xml_open(&xml, xml_text, "volume", NULL))
        return NULL;
    return vb_xml_string(&xml, NULL, "string(/volume/target/format/@type)");
}

/* ------------------------------------------------------------------ guests */

static void
vb_lv_disk_free(VbLvDisk *disk)
{
    g_free(disk->target);
    g_free(disk->device);
    g_free(disk->source);
    g_free(disk);
}

void
vb_lv_domain_free(VbLvDomain *dom)
{
    if (!dom)
        return;
    g_free(dom->name);
    g_free(dom->type);
    g_strfreev(dom->cpu_features);
    if (dom->disks)
        g_ptr_array_unref(dom->disks);
    g_strfreev(dom->devices);
    g_strfreev(dom->tags);
    g_strfreev(dom->labels);
    g_free(dom->nvram);
    g_free(dom);
}

/* Converts @value in libvirt's @unit (default KiB) to MiB, rounding to the
 * nearest; FALSE for an unknown unit. libvirt's rules: "b"/"bytes"; a prefix
 * k/m/g/t alone or with "iB" is a power of 1024, with "B" a power of 1000. */
static gboolean
vb_lv_memory_to_mib(guint64 value, const char *unit, guint64 *ret_mib)
{
    const char *prefixes = "kmgt";
    const char *p;
    double base, bytes;

    if (!unit)
        unit = "KiB";
    if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "bytes") == 0) {
        *ret_mib = (guint64) ((double) value / 1048576.0 + 0.5);
        return TRUE;
    }
    p = strchr(prefixes, g_ascii_tolower(unit[0]));
    if (!unit[0] || !p)
        return FALSE;
    if (unit[1] == '\0' || strcmp(unit + 1, "iB") == 0)
        base = 1024.0;
    else if (strcmp(unit + 1, "B") == 0)
        base = 1000.0;
    else
        return FALSE;
    bytes = (double) value;
    for (const char *q = prefixes; q <= p; q++)
        bytes *= base;
    *ret_mib = (guint64) (bytes / 1048576.0 + 0.5);
    return TRUE;
}

static gboolean
vb_lv_parse_uint(const char *text, guint64 max, guint64 *ret)
{
    return text && g_ascii_string_to_unsigned(text, 10, 0, max, ret, NULL);
}

static gboolean
vb_lv_domain_memory(VbXml *xml, VbLvDomain *dom, GError **error)
{
    static const char *const elements[] = { "currentMemory", "memory" };

    for (guint i = 0; i < G_N_ELEMENTS(elements); i++) {
        g_autofree char *expr = g_strdup_printf("string(/domain/%s)", elements[i]);
        g_autofree char *uexpr = g_strdup_printf("string(/domain/%s/@unit)", elements[i]);
        g_autofree char *text = vb_xml_string(xml, NULL, expr);
        g_autofree char *unit = vb_xml_string(xml, NULL, uexpr);
        guint64 value;

        if (!text)
            continue;
        if (!vb_lv_parse_uint(text, G_MAXUINT64 / 2, &value) ||
            !vb_lv_memory_to_mib(value, unit, &dom->memory_mib)) {
            g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                        "domain XML of '%s': <%s> is not a size: '%s' %s", dom->name,
                        elements[i], text, unit ? unit : "");
            return FALSE;
        }
        return TRUE;
    }
    g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                "domain XML of '%s': no <memory> element", dom->name);
    return FALSE;
}

static gboolean
vb_lv_domain_vcpus(VbXml *xml, VbLvDomain *dom, GError **error)
{
    g_autofree char *current = vb_xml_string(xml, NULL, "string(/domain/vcpu/@current)");
    g_autofree char *text = vb_xml_string(xml, NULL, "string(/domain/vcpu)");
    const char *use = current ? current : text;
    guint64 value;

    if (!use) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "domain XML of '%s': no <vcpu> element", dom->name);
        return FALSE;
    }
    if (!vb_lv_parse_uint(use, G_MAXUINT, &value) || value == 0) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "domain XML of '%s': <vcpu> is not a positive count: '%s'", dom->name, use);
        return FALSE;
    }
    dom->vcpus = (guint) value;
    return TRUE;
}

/* The source of one <disk>, whatever its type. */
static char *
vb_lv_disk_source(VbXml *xml, xmlNodePtr node)
{
    static const char *const exprs[] = {
        "string(source/@file)", "string(source/@dev)", "string(source/@dir)",
    };
    g_autofree char *pool = vb_xml_string(xml, node, "string(source/@pool)");
    g_autofree char *volume = vb_xml_string(xml, node, "string(source/@volume)");
    g_autofree char *protocol = vb_xml_string(xml, node, "string(source/@protocol)");
    g_autofree char *name = vb_xml_string(xml, node, "string(source/@name)");

    if (pool)
        return g_strdup_printf("%s/%s", pool, volume ? volume : "");
    if (protocol)
        return g_strdup_printf("%s:%s", protocol, name ? name : "");
    for (guint i = 0; i < G_N_ELEMENTS(exprs); i++) {
        char *source = vb_xml_string(xml, node, exprs[i]);

        if (source)
            return source;
    }
    return NULL;
}

static void
vb_lv_domain_disks(VbXml *xml, VbLvDomain *dom)
{
    g_autoptr(GPtrArray) nodes = vb_xml_nodes(xml, NULL, "/domain/devices/disk");

    dom->disks = g_ptr_array_new_with_free_func((GDestroyNotify) vb_lv_disk_free);
    for (guint i = 0; i < nodes->len; i++) {
        xmlNodePtr node = g_ptr_array_index(nodes, i);
        g_autofree char *device = vb_xml_string(xml, node, "string(@device)");
        g_autofree char *type = vb_xml_string(xml, node, "string(@type)");
        VbLvDisk *disk;

        /* Removable media are read-only images, not the guest's storage. */
        if (g_strcmp0(device, "cdrom") == 0 || g_strcmp0(device, "floppy") == 0)
            continue;
        disk = g_new0(VbLvDisk, 1);
        disk->target = vb_xml_string(xml, node, "string(target/@dev)");
        if (!disk->target)
            disk->target = g_strdup_printf("disk%u", i);
        disk->device = device ? g_steal_pointer(&device) : g_strdup("disk");
        disk->source = vb_lv_disk_source(xml, node);
        disk->network = g_strcmp0(type, "network") == 0;
        g_ptr_array_add(dom->disks, disk);
    }
}

/* g_strv_builder_take() is GLib 2.80; this is it for 2.74. */
static void
vb_strv_builder_take(GStrvBuilder *builder, char *value)
{
    g_strv_builder_add(builder, value);
    g_free(value);
}

/* A PCI address as "0000:03:00.0" from an <address> element's attributes. */
static char *
vb_lv_pci_address(VbXml *xml, xmlNodePtr node)
{
    g_autofree char *domain = vb_xml_string(xml, node, "string(source/address/@domain)");
    g_autofree char *bus = vb_xml_string(xml, node, "string(source/address/@bus)");
    g_autofree char *slot = vb_xml_string(xml, node, "string(source/address/@slot)");
    g_autofree char *function = vb_xml_string(xml, node, "string(source/address/@function)");
    guint64 d = 0, b = 0, s = 0, f = 0;

    if (domain)
        d = g_ascii_strtoull(domain, NULL, 0);
    if (bus)
        b = g_ascii_strtoull(bus, NULL, 0);
    if (slot)
        s = g_ascii_strtoull(slot, NULL, 0);
    if (function)
        f = g_ascii_strtoull(function, NULL, 0);
    return g_strdup_printf("pci:%04" G_GINT64_MODIFIER "x:%02" G_GINT64_MODIFIER "x:%02"
                           G_GINT64_MODIFIER "x.%" G_GINT64_MODIFIER "x",
                           d, b, s, f);
}

/* Pass-through devices pin a guest to its host: PCI/USB/SCSI host devices,
 * USB redirection, and host-side mediated devices. */
static void
vb_lv_domain_devices(VbXml *xml, VbLvDomain *dom)
{
    g_autoptr(GPtrArray) hostdevs = vb_xml_nodes(xml, NULL, "/domain/devices/hostdev");
    g_autoptr(GPtrArray) redirs = vb_xml_nodes(xml, NULL, "/domain/devices/redirdev");
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

    for (guint i = 0; i < hostdevs->len; i++) {
        xmlNodePtr node = g_ptr_array_index(hostdevs, i);
        g_autofree char *type = vb_xml_string(xml, node, "string(@type)");

        if (g_strcmp0(type, "pci") == 0) {
            vb_strv_builder_take(builder, vb_lv_pci_address(xml, node));
        } else if (g_strcmp0(type, "usb") == 0) {
            g_autofree char *vendor = vb_xml_string(xml, node, "string(source/vendor/@id)");
            g_autofree char *product = vb_xml_string(xml, node, "string(source/product/@id)");
            g_autofree char *bus = vb_xml_string(xml, node, "string(source/address/@bus)");
            g_autofree char *device = vb_xml_string(xml, node, "string(source/address/@device)");

            if (vendor || product)
                vb_strv_builder_take(builder, g_strdup_printf("usb:%s:%s", vendor ? vendor : "",
                                                             product ? product : ""));
            else
                vb_strv_builder_take(builder, g_strdup_printf("usb:bus%s.dev%s", bus ? bus : "",
                                                             device ? device : ""));
        } else {
            vb_strv_builder_take(builder, g_strdup_printf("hostdev:%s", type ? type : "unknown"));
        }
    }
    for (guint i = 0; i < redirs->len; i++) {
        g_autofree char *bus = vb_xml_string(xml, g_ptr_array_index(redirs, i), "string(@bus)");

        vb_strv_builder_take(builder, g_strdup_printf("redirdev:%s", bus ? bus : "usb"));
    }
    dom->devices = g_strv_builder_end(builder);
}

VbLvDomain *
vb_lv_domain_parse(const char *xml_text, GError **error)
{
    g_auto(VbXml) xml = { 0 };
    g_autoptr(VbLvDomain) dom = g_new0(VbLvDomain, 1);

    if (!vb_xml_open(&xml, xml_text, "domain", error))
        return NULL;
    if (!xmlStrEqual(xmlDocGetRootElement(xml.doc)->name, BAD_CAST "domain")) {
        g_set_error(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                    "domain XML: the root element is <%s>, not <domain>",
                    (const char *) xmlDocGetRootElement(xml.doc)->name);
        return NULL;
    }
    dom->name = vb_xml_string(&xml, NULL, "string(/domain/name)");
    if (!dom->name) {
        g_set_error_literal(error, VB_ERROR, VB_ERROR_INVALID_INPUT,
                            "domain XML: no <name> element");
        return NULL;
    }
    dom->type = vb_xml_string(&xml, NULL, "string(/domain/@type)");
    if (!vb_lv_domain_vcpus(&xml, dom, error) || !vb_lv_domain_memory(&xml, dom, error))
        return NULL;
    dom->cpu_features = vb_xml_strv(&xml, NULL,
                                    "/domain/cpu/feature[@policy='require' or "
                                    "@policy='force' or not(@policy)]/@name");
    vb_lv_domain_disks(&xml, dom);
    vb_lv_domain_devices(&xml, dom);
    dom->tags = vb_xml_strv(&xml, NULL, "/domain/metadata/vb:balancer/vb:tag");
    dom->labels = vb_xml_strv(&xml, NULL, "/domain/metadata/vb:balancer/vb:label");
    /* <nvram>PATH</nvram>, or since libvirt 8.5 <nvram type='file'><source file=PATH/>. */
    dom->nvram = vb_xml_string(&xml, NULL, "string(/domain/os/nvram/source/@file)");
    if (!dom->nvram)
        dom->nvram = vb_xml_string(&xml, NULL, "string(/domain/os/nvram[not(@type) or "
                                                "@type='file'])");
    return g_steal_pointer(&dom);
}
