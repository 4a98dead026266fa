# collectors/: the SQLite store, sample history, windowed averages.
libvb_a_SOURCES += collectors/collectors.h collectors/store.c collectors/usage.c \
	collectors/history.c collectors/history-priv.h collectors/history-cache.c collectors/history-acc.c \
	collectors/history-rollup.c collectors/history-upgrade.c collectors/window.c collectors/collector.c \
	collectors/session.c

check_PROGRAMS += tests/collectors-test
TESTS += tests/collectors-test
tests_collectors_test_SOURCES = tests/collectors-test.c tests/collectors-live-test.c \
	tests/collectors-v1.c tests/collectors-rollup-test.c \
	tests/collectors-test.h tests/testutil.h
tests_collectors_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_collectors_test_LDADD = $(VB_TEST_LIBS)
