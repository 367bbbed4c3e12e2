/* shakedown tls: shared by cmd_tls.c and cmd_tls_targets.c (CLI only). */
#ifndef SD_CLI_CMD_TLS_H
#define SD_CLI_CMD_TLS_H
#include <stddef.h>
#include <stdint.h>
#include "cli.h"

typedef struct tls_opts {
	const char *sni;
	const char *alpn;
	uint32_t    pad_to;
	unsigned    versions;
	int         no_groups, no_order;
	uint32_t    wait_ms, delay_ms;
	uint32_t    jobs, per_host;  /* --targets: concurrent targets, in total and per host */
	uint32_t    parallel;        /* versions probed at once for one target */
	const char *ca_file;         /* --ca FILE */
	const char *name;            /* --name HOST: the name the client checks */
	int         no_cert;         /* --no-cert */
	const char *expect_text;     /* --expect RULES (or the text of @FILE) */
	sd_tls_policy expect;        /* parsed */
	const char *client_name;     /* --client PROFILE (default: "default") */
	const char *client_set[4];   /* --client-versions, -ciphers, -groups, -sigalgs */
	int         no_client;       /* --no-client */
	int         starttls;        /* --starttls (SD_STARTTLS_*), -1 = by port */
	sd_tls_client client;        /* built from them */
} tls_opts;

/* HOST[:PORT], [V6]:PORT or a bare IPv6 address: 0, or -1 when not. */
int cli_tls_split_target(const char *s, char *host, size_t hl, char *port, size_t pl);
/* One target: the scan, its report printed; the exit code. */
int cli_tls_one(sd_cli *cli, const char *target, const tls_opts *o);
/* The table of versions, suites and groups (text mode). */
void cli_tls_print_table(sd_cli *cli, const sd_tls_scan *sc, const char *service);
/* The command's own JSON members (a cJSON object, for cli_print_report). */
struct cJSON *cli_tls_extra_json(const sd_tls_scan *sc, const char *service);
/* --targets FILE (- = stdin): the worst exit code of all. */
int cli_tls_targets(sd_cli *cli, const char *file, const tls_opts *o);

#endif
