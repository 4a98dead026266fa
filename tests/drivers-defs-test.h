/*
 * drivers-defs-test.h: the drivers suite is split over two files; this is
 * how the main one (drivers-test.c) gets the cases of drivers-defs-test.c.
 */
#pragma once

#include <check.h>

/* Adds the "kept-definitions" case (guest definitions kept between
 * snapshots, libvirt-defs.c) to @s. */
void vb_drivers_defs_tests(Suite *s);
