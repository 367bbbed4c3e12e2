/* probe --targets FILE (cmd_probe_targets.c) */
#ifndef SHAKEDOWN_CMD_PROBE_TARGETS_H
#define SHAKEDOWN_CMD_PROBE_TARGETS_H
#include "cli.h"
int cli_probe_targets(sd_cli *cli, const char *file, unsigned jobs, const sd_probe_opts *po);
#endif
