# pool/: the model, the inventory file format and the main config.
libvb_a_SOURCES += pool/pool.h pool/pool.c
