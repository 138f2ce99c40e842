/* campaign.c - placeholder replaced below. */
#include "cmd.h"
int cmd_campaign(int argc, char **argv) { (void)argc, (void)argv; return 2; }
