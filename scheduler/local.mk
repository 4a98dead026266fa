# scheduler/: the executor (sliding window under caps), the journal (SQLite),
# reconciliation after a crash.
libvb_a_SOURCES += scheduler/scheduler.h scheduler/executor-priv.h scheduler/journal-priv.h \
	scheduler/journal.c scheduler/journal-state.c scheduler/journal-costs.c \
	scheduler/journal-recent.c scheduler/journal-totals.c \
	scheduler/executor.c scheduler/exec-fresh.c scheduler/exec-stop.c scheduler/reconcile.c

check_PROGRAMS += tests/scheduler-test tests/sim-test
TESTS += tests/scheduler-test tests/sim-test
tests_scheduler_test_SOURCES = tests/scheduler-test.c tests/scheduler-test-crash.c \
	tests/scheduler-test-costs.c tests/scheduler-test-recent.c \
	tests/scheduler-helpers.h tests/testutil.h
tests_scheduler_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_scheduler_test_LDADD = $(VB_TEST_LIBS)
tests_sim_test_SOURCES = tests/sim-test.c tests/testutil.h
tests_sim_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_sim_test_LDADD = $(VB_TEST_LIBS)
# The acting commands end to end on a simulated pool (needs the virt-balancer binary).
TESTS += tests/scheduler-cli-test.sh
EXTRA_DIST += tests/scheduler-cli-test.sh
# The executor on real libvirtd hosts (tests/lab; root, qemu, jq, sqlite3):
# evacuation under a cap of 2 with a storage migration, kill -9 and resume,
# a destination dying mid-evacuation.
TESTS += tests/scheduler-lab-test.sh
EXTRA_DIST += tests/scheduler-lab-test.sh
