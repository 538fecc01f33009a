/* overleg: the server. Until signaling and media land, it reports what it will serve. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("overleg 0.1.0\n");
        return 0;
    }
    printf("overleg 0.1.0: the protocol cores are built; the server is not yet.\n"
           "It will serve HTTPS, WSS and ICE-TCP on one TCP port (8443) and SRTP over UDP 10000+.\n");
    return 0;
}
