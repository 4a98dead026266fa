# cli/: argument parsing, subcommands, text and JSON rendering.
bin_PROGRAMS += virt-balancer
virt_balancer_SOURCES = cli/main.c
virt_balancer_LDADD = $(VB_LIBS)
