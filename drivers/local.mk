# drivers/: the ops table, the registry, the libvirt driver (and sim, from the
# scheduler side). Sources of the libvirt driver are split by concern:
# connections, calls with deadlines (the worker pool), XML parsing, inventory, sampling, migration.
libvb_a_SOURCES += drivers/drivers.h drivers/drivers.c \
	drivers/libvirt-priv.h drivers/libvirt-conn.c drivers/libvirt-calls.c drivers/libvirt-xml.c \
	drivers/libvirt-inventory.c drivers/libvirt-sample.c drivers/libvirt-migrate.c \
	drivers/libvirt-cold.c drivers/libvirt-partial.c drivers/libvirt-defs.c

check_PROGRAMS += tests/drivers-test
TESTS += tests/drivers-test
tests_drivers_test_SOURCES = tests/drivers-test.c tests/drivers-defs-test.c \
	tests/drivers-defs-test.h tests/testutil.h
tests_drivers_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_drivers_test_LDADD = $(VB_TEST_LIBS)
libvb_a_SOURCES += drivers/sim.c

check_PROGRAMS += tests/drivers-contract-test
TESTS += tests/drivers-contract-test
tests_drivers_contract_test_SOURCES = tests/drivers-contract-test.c tests/testutil.h
tests_drivers_contract_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_drivers_contract_test_LDADD = $(VB_TEST_LIBS)
