# placement/: see Makefile.am
