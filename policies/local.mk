# policies/: the policy model, its strict YAML loader and writer, example policies.
libvb_a_SOURCES += policies/policies.h policies/policies-priv.h policies/policy.c \
	policies/policy-fields.c policies/policy-rules.c policies/policy-write.c

check_PROGRAMS += tests/policies-test
TESTS += tests/policies-test
tests_policies_test_SOURCES = tests/policies-test.c tests/testutil.h
tests_policies_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_policies_test_LDADD = $(VB_TEST_LIBS)
