# placement/: the pure placement core (constraints, load model, planners,
# migration estimates, the independent plan checker). See docs/placement.md.
libvb_a_SOURCES += placement/placement.h placement/placement-priv.h \
	placement/load.c placement/state.c placement/constraints.c \
	placement/estimate.c placement/calibrate.c placement/plan.c placement/planners.c \
	placement/objectives.c placement/repair.c placement/relieve.c \
	placement/rebalance.c placement/consolidate.c placement/evacuate.c \
	placement/place.c placement/reject.c placement/check.c \
	placement/rule-warnings.c

check_PROGRAMS += tests/placement-test
TESTS += tests/placement-test
tests_placement_test_SOURCES = tests/placement-test.c tests/placement-oracle.c \
	tests/placement-props.c tests/placement-costs.c tests/placement-ranking.c \
	tests/placement-testlib.h tests/testutil.h
tests_placement_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_placement_test_LDADD = $(VB_TEST_LIBS)
