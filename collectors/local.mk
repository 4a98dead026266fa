# collectors/: see Makefile.am
