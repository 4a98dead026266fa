# policies/: see Makefile.am
