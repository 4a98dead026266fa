# tests/: shared test helpers and cross-module suites. Each module's own suite
# is declared in that module's local.mk (tests/<module>-test).
EXTRA_DIST += tests/testutil.h
