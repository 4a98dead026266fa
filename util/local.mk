# util/: error domain, bit sets, string tables, YAML trees with positions.
libvb_a_SOURCES += util/util.h util/bits.c util/yaml.c util/yaml-file.c util/yaml-read.c util/rng.c util/text.c

check_PROGRAMS += tests/util-test
TESTS += tests/util-test
tests_util_test_SOURCES = tests/util-test.c tests/testutil.h
tests_util_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_util_test_LDADD = $(VB_TEST_LIBS)
