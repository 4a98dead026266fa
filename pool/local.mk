# pool/: the model, the inventory file format and the main config.
libvb_a_SOURCES += pool/pool.h pool/pool.c pool/inventory-priv.h pool/inventory.c \
	pool/inventory-stream.c pool/inventory-dump.c pool/generate.c pool/config.c

check_PROGRAMS += tests/pool-test
TESTS += tests/pool-test
tests_pool_test_SOURCES = tests/pool-test.c tests/testutil.h
tests_pool_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_pool_test_LDADD = $(VB_TEST_LIBS)

# pool/inventory-stream.c's quick guest reader against the tree reader.
check_PROGRAMS += tests/pool-quick-test
TESTS += tests/pool-quick-test
tests_pool_quick_test_SOURCES = tests/pool-quick-test.c tests/testutil.h
tests_pool_quick_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_pool_quick_test_LDADD = $(VB_TEST_LIBS)
