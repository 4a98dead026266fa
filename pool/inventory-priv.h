/*
 * inventory-priv.h: the inventory loader's parts shared by its files.
 *
 * pool/inventory.c reads an inventory from a YAML tree (every message comes
 * from there); pool/inventory-stream.c streams a large file's guests through
 * it, and reads the common one-line guest straight into the model without a
 * tree entry. Not for use outside pool/ but by tests.
 */
#pragma once

#include "pool/pool.h"

G_BEGIN_DECLS

#define VB_MAX_MIB ((guint64) 1 << 32)   /* 4 PiB: larger is a typo */
#define VB_MAX_GIB 1e9                   /* 1 EiB */
#define VB_MAX_CORES 65536
#define VB_MAX_RATE 1e9                  /* MiB/s */
#define VB_MAX_MOVES_PER_DAY 86400       /* one a second */

/* Loader state shared by the readers. */
typedef struct {
    const VbYamlDoc *doc;  /* the parsed file */
    VbInventory *inv;      /* what is being built (owned by the caller) */
    GArray *pool_lines;    /* guint line where each pool id is defined */
    GArray *host_lines;    /* same for hosts */
    GArray *vm_lines;      /* same for guests */
    const char *kind;      /* "pool", "host", "guest": for messages */
    const char *name;      /* the current object's name, or NULL before it is known */
    const char *sub;       /* the sub-mapping being read ("cpu", "disks"), or NULL */
    gint sub_index;        /* index in a list sub (disks[N]), or -1 */
    guint n_quick;         /* guests read straight from their line (inventory-stream.c) */
} VbInventoryLoader;

typedef gboolean (*VbInventoryLoadOne)(VbInventoryLoader *l, const VbYamlNode *node,
                                       GError **error);

/* A loader with its own new inventory and line arrays; @doc may be NULL and
 * set later. */
void vb_inventory_loader_init(VbInventoryLoader *l, const VbYamlDoc *doc);
/* Frees what vb_inventory_loader_init() made but the inventory, which is
 * returned when @ok (transfer full) and freed otherwise (NULL). */
VbInventory *vb_inventory_loader_finish(VbInventoryLoader *l, gboolean ok);

/* The tree readers: FALSE with "file:line:column: ..." on the first mistake. */
gboolean vb_inventory_load_doc(VbInventoryLoader *l, GError **error);
gboolean vb_inventory_load_list(VbInventoryLoader *l, const VbYamlNode *list, const char *key,
                                VbInventoryLoadOne load_one, GError **error);
gboolean vb_inventory_load_pool(VbInventoryLoader *l, const VbYamlNode *map, GError **error);
gboolean vb_inventory_load_vm(VbInventoryLoader *l, const VbYamlNode *map, GError **error);
/* TRUE when the root of l->doc holds only the known top-level keys, once each. */
gboolean vb_inventory_loader_root_ok(VbInventoryLoader *l);

/* The inventory of @data, streamed (inventory-stream.c); NULL (no error)
 * when it must be loaded from the whole tree instead. @ret_n_quick (may be
 * NULL) is set to the number of guests read straight from their line. */
VbInventory *vb_inventory_load_streaming(const char *data, gsize len, const char *filename,
                                         guint *ret_n_quick);
/* FALSE makes streaming read every guest through its tree entry (tests that
 * compare both readers). Set it before loading, from one thread. */
extern gboolean vb_inventory_quick_guests;

G_END_DECLS
