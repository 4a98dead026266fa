# cli/: argument parsing, subcommands, text, JSON and HTML rendering.
# Everything but main.c goes into libvbcli.a, so that tests/cli-test can call
# the renderers and helpers directly as well as run the program.
noinst_LIBRARIES += libvbcli.a
libvbcli_a_SOURCES = cli/cli.h cli/commands.c cli/context.c cli/options.c \
	cli/source.c cli/table.c cli/partial.c cli/cmd-plan.c cli/cmd-place.c cli/cmd-policy.c \
	cli/render-text.c cli/render-unplaced.c cli/render-place.c cli/render-json.c cli/json-write.c \
	cli/render-warnings.c cli/render-objectives.c cli/render-html.c \
	cli/render-history-html.c
nodist_libvbcli_a_SOURCES = cli/demo-resource.c
libvbcli_a_SOURCES += cli/cmd-status.c cli/cmd-inventory.c
libvbcli_a_SOURCES += cli/exec-priv.h cli/exec.c cli/cmd-rebalance.c cli/cmd-maintenance.c cli/cmd-run.c
libvbcli_a_SOURCES += cli/cmd-unlock.c
libvbcli_a_SOURCES += cli/cmd-complete.c cli/notify.c cli/log.c
libvbcli_a_SOURCES += cli/run-metrics.c cli/plan-file.c

sbin_PROGRAMS += virt-balancer
virt_balancer_SOURCES = cli/main.c
virt_balancer_LDADD = libvbcli.a $(VB_LIBS)

# The demo pool is compiled into the binary so that `virt-balancer plan` works
# anywhere (cli/source.c).
EXTRA_DIST += cli/demo.gresource.xml
CLEANFILES += cli/demo-resource.c
cli/demo-resource.c: $(srcdir)/cli/demo.gresource.xml $(srcdir)/examples/demo-pool.yaml
	$(AM_V_GEN)$(MKDIR_P) cli && \
	`$(PKG_CONFIG) --variable=glib_compile_resources gio-2.0` \
	  --sourcedir=$(srcdir)/examples --target=$@ --generate-source \
	  --c-name vb_cli_demo $(srcdir)/cli/demo.gresource.xml

check_PROGRAMS += tests/cli-test
TESTS += tests/cli-test
tests_cli_test_SOURCES = tests/cli-test.c tests/testutil.h
tests_cli_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_cli_test_LDADD = libvbcli.a $(VB_TEST_LIBS)

# cli/json-write.c against the way JSON was written before it (json-glib's
# generator, then numbers shortened), on random trees.
check_PROGRAMS += tests/cli-json-test
TESTS += tests/cli-json-test
tests_cli_json_test_SOURCES = tests/cli-json-test.c tests/testutil.h
tests_cli_json_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_cli_json_test_LDADD = libvbcli.a $(VB_TEST_LIBS)

# The HTML report rendered by headless Chromium, its DOM checked against the
# JSON of the same plan (skipped without chromium; contrib/debian-deps.sh
# installs it).
TESTS += tests/html-browser-test.sh
EXTRA_DIST += tests/html-browser-test.sh tests/html-dom-check.py

# `run` under a stand-in for systemd's notification socket (Type=notify).
check_PROGRAMS += tests/cli-notify-test
TESTS += tests/cli-notify-test
tests_cli_notify_test_SOURCES = tests/cli-notify-test.c tests/testutil.h
tests_cli_notify_test_CFLAGS = $(VB_TEST_CFLAGS)
tests_cli_notify_test_LDADD = $(VB_TEST_LIBS)

# Log lines reach journald as entries with fields when stderr is the journal
# (cli/log.c): checked against a fake journald in a private mount namespace.
TESTS += tests/log-journald-test.sh
EXTRA_DIST += tests/log-journald-test.sh tests/log-journald.py
