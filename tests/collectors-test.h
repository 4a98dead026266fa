/*
 * collectors-test.h: the collectors suite is split over two files; this is
 * how the main one (collectors-test.c) gets the other's cases.
 */
#pragma once

#include <check.h>

/* Adds the "sim" and "cli" cases of collectors-live-test.c to @s. */
void vb_collectors_test_add_live(Suite *s);

/* collectors-v1.c: databases as history schema version 1 wrote them. */
#include "collectors/collectors.h"

/* Creates the version 1 history schema in @store. */
void vb_test_v1_create(VbStore *store);
/* Records @set the way version 1 did (text names, a lookup per row). */
void vb_test_v1_record(VbStore *store, const VbSampleSet *set);

/* Appends every aggregate row of both levels of @store, one line each with
 * min/mean/max rounded for reading (collectors-test.c). */
void vb_test_render_levels(GString *out, VbStore *store);
/* Adds the "rollup" case of collectors-rollup-test.c to @s. */
void vb_collectors_test_add_rollup(Suite *s);
