# pool/: the model, the inventory file format and the main config.
libvb_a_SOURCES += pool/pool.h pool/pool.c pool/inventory.c pool/inventory-dump.c pool/generate.c pool/config.c

check_PROGRAMS += tests/pool-test
TESTS += tests/pool-test
tests_pool_test_SOURCES = tests/pool-test.c tests/testutil.h
tests_pool_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_pool_test_LDADD = $(VB_TEST_LIBS)
