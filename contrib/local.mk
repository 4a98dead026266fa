# contrib/: what `make install` puts beside the binary, and the Debian set-up
# script the README runs.
#   $(systemdsystemunitdir)/virt-balancer.service   the unit, paths substituted here
#   $(sysconfdir)/virt-balancer/virt-balancer.yaml  the example config, only if absent
#   $(sysconfdir)/virt-balancer/policy.yaml         the default policy, only if absent
#   $(docdir)/README.md, docs/*.md, examples/*.yaml, policies/examples/*.yaml
#   $(bashcompletiondir)/virt-balancer               the bash completion
# The docs folder mirrors the source tree so that relative links and the
# examples' relative paths (sim-config.yaml -> ../policies/examples/) still work.
EXTRA_DIST += contrib/debian-deps.sh contrib/lsan.supp contrib/virt-balancer.service.in \
	contrib/virt-balancer.bash-completion

# Make-time substitution (not configure's): the values stay overridable with
# `make prefix=...` and are fully expanded.
vb_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@docdir[@]|$(docdir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

if HAVE_SYSTEMD
systemdsystemunit_DATA = contrib/virt-balancer.service
else
noinst_DATA = contrib/virt-balancer.service
endif
CLEANFILES += contrib/virt-balancer.service
contrib/virt-balancer.service: $(srcdir)/contrib/virt-balancer.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	$(vb_edit) $(srcdir)/contrib/virt-balancer.service.in > $@.tmp && mv $@.tmp $@

# Files installed by shell loops rather than _DATA lists: a doc, example or
# policy added later is installed without touching this file.
vb_confdir = $(sysconfdir)/virt-balancer
VB_DOC_GLOBS = README.md docs/*.md examples/*.yaml policies/examples/*.yaml

install-data-local: vb-install-docs vb-install-completion
uninstall-local: vb-uninstall-docs vb-uninstall-config vb-uninstall-completion
install-data-hook: vb-install-config
.PHONY: vb-install-docs vb-uninstall-docs vb-install-config vb-uninstall-config \
	vb-install-completion vb-uninstall-completion

# bash-completion loads a command's completion from a file named after it.
vb-install-completion:
	$(MKDIR_P) $(DESTDIR)$(bashcompletiondir)
	$(INSTALL_DATA) $(srcdir)/contrib/virt-balancer.bash-completion \
	  $(DESTDIR)$(bashcompletiondir)/virt-balancer

vb-uninstall-completion:
	rm -f $(DESTDIR)$(bashcompletiondir)/virt-balancer

vb-install-docs:
	@cd $(srcdir) && for f in $(VB_DOC_GLOBS); do \
	  d=$(DESTDIR)$(docdir)/`dirname $$f`; \
	  $(MKDIR_P) $$d && echo " $(INSTALL_DATA) $$f $$d" && \
	  $(INSTALL_DATA) $$f $$d || exit 1; \
	done

vb-uninstall-docs:
	@cd $(srcdir) && for f in $(VB_DOC_GLOBS); do \
	  rm -f $(DESTDIR)$(docdir)/$$f; \
	done

# The config and the policy are the admin's once installed: never overwritten,
# removed by uninstall only while they are still the shipped examples (as
# dpkg treats conffiles).
VB_CONF_FILES = examples/virt-balancer.yaml:virt-balancer.yaml \
	policies/examples/balance.yaml:policy.yaml

vb-install-config:
	@$(MKDIR_P) $(DESTDIR)$(vb_confdir)
	@for pair in $(VB_CONF_FILES); do \
	  src=$(srcdir)/$${pair%%:*}; dst=$(DESTDIR)$(vb_confdir)/$${pair##*:}; \
	  if test -e $$dst; then echo " keeping $$dst (already there)"; \
	  else echo " $(INSTALL_DATA) $$src $$dst"; $(INSTALL_DATA) $$src $$dst || exit 1; fi; \
	done

vb-uninstall-config:
	@for pair in $(VB_CONF_FILES); do \
	  src=$(srcdir)/$${pair%%:*}; dst=$(DESTDIR)$(vb_confdir)/$${pair##*:}; \
	  if test -f $$dst && cmp -s $$src $$dst; then rm -f $$dst; \
	  elif test -e $$dst; then echo " keeping $$dst (changed since installed)"; fi; \
	done
	-@rmdir $(DESTDIR)$(vb_confdir) 2>/dev/null || :

DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$$dc_install_base/lib/systemd/system' \
	--with-bash-completion-dir='$$dc_install_base/share/bash-completion/completions'

# make install into a temporary DESTDIR, checked file by file; the bash
# completion driven in bash against the built program; the unit's hardening
# (systemd-analyze security at most 3.0; skipped without systemd-analyze).
TESTS += tests/install-test.sh tests/completion-test.sh tests/unit-security-test.sh
EXTRA_DIST += tests/install-test.sh tests/completion-test.sh tests/unit-security-test.sh

# The tests that need no lab of real libvirtd hosts, one line (debian/rules
# runs these in a package build).
vb-unit-tests:
	@for t in $(TESTS); do \
	  case $$t in tests/lab/*|*lab-test.sh|tests/drivers-contract-test|tests/deb-test.sh) ;; \
	  *) printf '%s ' $$t;; esac; \
	done; echo
.PHONY: vb-unit-tests
EXTRA_DIST += debian
# Every build dependency configure.ac looks for is in contrib/debian-deps.sh
# and in debian/control's Build-Depends (by the package dpkg -S names).
TESTS += tests/deps-test.sh
EXTRA_DIST += tests/deps-test.sh
# The Debian package built from `make dist` and installed in a throwaway
# namespace (opt-in: VB_DEB_TEST=1, root).
TESTS += tests/deb-test.sh
EXTRA_DIST += tests/deb-test.sh
