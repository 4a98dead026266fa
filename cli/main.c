/*
 * main.c: the virt-balancer command line (being built; see cli/cli.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("virt-balancer %s\n", PACKAGE_VERSION);
        return 0;
    }
    fprintf(stderr, "virt-balancer: not built yet\n");
    return 2;
}
