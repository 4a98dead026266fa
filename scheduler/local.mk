# scheduler/: see Makefile.am
