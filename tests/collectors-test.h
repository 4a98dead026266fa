/*
 * collectors-test.h: the collectors suite is split over two files; this is
 * how the main one (collectors-test.c) gets the other's cases.
 */
#pragma once

#include <check.h>

/* Adds the "sim" and "cli" cases of collectors-live-test.c to @s. */
void vb_collectors_test_add_live(Suite *s);
