# drivers/: see Makefile.am
