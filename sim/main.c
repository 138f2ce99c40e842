/* main.c - the s3sim command (placeholder until the command lands). */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "s3sim: not built yet\n");
    return 2;
}
