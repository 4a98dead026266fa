# man/: the manual pages, one scdoc source each, generated at build time and
# installed by automake. The paths of this build (vb_edit, contrib/local.mk)
# are put in after scdoc: scdoc would read a '_' in a path as underlining.
#   virt-balancer(8)         every command, option, exit code, environment, file
#   virt-balancer.yaml(5)    the main config
#   virt-balancer-policy(5)  the policy
# tests/man-test.sh keeps them true to the program: every long option of
# every --help, every exit code, every key the config and policy loaders allow.
VB_MAN_SCD = man/virt-balancer.8.scd man/virt-balancer.yaml.5.scd \
	man/virt-balancer-policy.5.scd
nodist_man_MANS = man/virt-balancer.8 man/virt-balancer.yaml.5 man/virt-balancer-policy.5
EXTRA_DIST += $(VB_MAN_SCD)
CLEANFILES += $(nodist_man_MANS)

vb_scdoc = $(AM_V_GEN)$(MKDIR_P) man && \
	{ $(SCDOC) < $(srcdir)/$@.scd > $@.roff && $(vb_edit) $@.roff > $@.tmp && \
	  mv $@.tmp $@ && rm -f $@.roff; } || { rm -f $@.roff $@.tmp; exit 1; }
man/virt-balancer.8: $(srcdir)/man/virt-balancer.8.scd Makefile
	$(vb_scdoc)
man/virt-balancer.yaml.5: $(srcdir)/man/virt-balancer.yaml.5.scd Makefile
	$(vb_scdoc)
man/virt-balancer-policy.5: $(srcdir)/man/virt-balancer-policy.5.scd Makefile
	$(vb_scdoc)

TESTS += tests/man-test.sh
EXTRA_DIST += tests/man-test.sh
