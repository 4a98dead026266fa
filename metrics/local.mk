# metrics/: the daemon's OpenMetrics exposition: the model, its rendering (a
# pure function) and the HTTP server (libsoup) serving it at /metrics.
# See docs/metrics.md.
libvb_a_SOURCES += metrics/metrics.h metrics/model.c metrics/render.c metrics/server.c

check_PROGRAMS += tests/metrics-test
TESTS += tests/metrics-test
tests_metrics_test_SOURCES = tests/metrics-test.c tests/testutil.h
tests_metrics_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_metrics_test_LDADD = $(VB_TEST_LIBS)
# `run` serving /metrics on the sim pool, read by an independent OpenMetrics
# parser (python3-prometheus-client).
TESTS += tests/metrics-http-test.sh
EXTRA_DIST += tests/metrics-http-test.sh tests/metrics-parse.py
