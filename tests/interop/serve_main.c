/* serve_main.c - `s3sim_serve_helper serve ...`: cmd_serve() alone, for the
 * interop tests while sim/main.c does not dispatch `serve` yet. */
#include "cmd.h"

int main(int argc, char **argv)
{
    return argc > 1 ? cmd_serve(argc - 1, argv + 1) : 2;
}
