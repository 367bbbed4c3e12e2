/* shakedown CLI — one entry point and one --help text per subcommand. */
#ifndef SHAKEDOWN_COMMANDS_H
#define SHAKEDOWN_COMMANDS_H
#include "cli.h"

int cmd_probe(sd_cli *cli, int argc, char **argv);
int cmd_explain(sd_cli *cli, int argc, char **argv);
int cmd_replay(sd_cli *cli, int argc, char **argv);
int cmd_sim(sd_cli *cli, int argc, char **argv);
int cmd_sync(sd_cli *cli, int argc, char **argv);
int cmd_info(sd_cli *cli, int argc, char **argv);
int cmd_ports(sd_cli *cli, int argc, char **argv);
int cmd_tls(sd_cli *cli, int argc, char **argv);
int cmd_doctor(sd_cli *cli, int argc, char **argv);
int cmd_loopback(sd_cli *cli, int argc, char **argv);
/* sync and info: one protocol session (cmd_sync.c); identify = info. */
int cli_session(sd_cli *cli, int argc, char **argv, int identify);
/* The trace's run record of a sync/info session (cmd_sync.c). */
void cli_session_run(sd_trace_run *run, const char *cmd, const char *proto, const sd_link *l,
		     const sd_proto_args *a, const char *enter, const char *exit_text);

extern const char cmd_probe_usage[];
extern const char cmd_explain_usage[];
extern const char cmd_replay_usage[];
extern const char cmd_sim_usage[];
extern const char cmd_sync_usage[];
extern const char cmd_info_usage[];
extern const char cmd_ports_usage[];
extern const char cmd_tls_usage[];
extern const char cmd_doctor_usage[];
extern const char cmd_loopback_usage[];
#endif
