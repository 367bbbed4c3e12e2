/*
 * shakedown tls: the printing side of cmd_tls.c (split for size): the
 * per-version table in text, and the command's own JSON members
 * (service, versions, violations, policy, complete, connections; see
 * docs/report.md).
 */
#include <stdio.h>
#include <string.h>
#include <cJSON.h>
#include "cli.h"
#include "cmd_tls.h"

static const char *order_name(int order)
{
	return order == SD_TLS_ORDER_SERVER ? "server" : order == SD_TLS_ORDER_CLIENT ? "client" : NULL;
}

cJSON *cli_tls_extra_json(const sd_tls_scan *sc, const char *service)
{
	cJSON *x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "service", service);
	cJSON *vs = cJSON_AddObjectToObject(x, "versions");
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &sd_tls_scan_enum(sc)->v[i];
		if (!v->supported)
			continue;
		cJSON *o = cJSON_AddObjectToObject(vs, sd_tls_version_name(v->version));
		cJSON *s = cJSON_AddArrayToObject(o, "suites");
		for (size_t k = 0; k < v->nsuites; k++) {
			char hex[8];
			snprintf(hex, sizeof hex, "0x%04X", v->suites[k]);
			cJSON_AddItemToArray(s, cJSON_CreateString(hex));
		}
		const char *on = order_name(v->order);
		if (on)
			cJSON_AddStringToObject(o, "order", on);
		else
			cJSON_AddNullToObject(o, "order");
		cJSON_AddStringToObject(o, "groups_from", v->groups_listed ? "server-list" : "probes");
		cJSON *g = cJSON_AddArrayToObject(o, "groups");
		for (size_t k = 0; k < v->ngroups; k++) {
			const char *gn = sd_tls_group_name(v->groups[k]);
			char hex[8];
			snprintf(hex, sizeof hex, "0x%04X", v->groups[k]);
			cJSON_AddItemToArray(g, cJSON_CreateString(gn ? gn : hex));
		}
	}
	/* versions whose answers broke the protocol: the rule, in words */
	cJSON *broken = cJSON_AddObjectToObject(x, "violations");
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &sd_tls_scan_enum(sc)->v[i];
		if (v->violations)
			cJSON_AddStringToObject(broken, sd_tls_version_name(v->version), v->violation);
	}
	const sd_tls_policy_result *pr = sd_tls_scan_policy(sc);
	if (pr) { /* --expect: every deviation, machine-readable */
		cJSON *po = cJSON_AddObjectToObject(x, "policy");
		cJSON_AddBoolToObject(po, "met", pr->n + pr->more == 0);
		cJSON *dv = cJSON_AddArrayToObject(po, "deviations");
		for (size_t i = 0; i < pr->n; i++) {
			cJSON *d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "rule", pr->d[i].rule);
			cJSON_AddStringToObject(d, "found", pr->d[i].found);
			cJSON_AddItemToArray(dv, d);
		}
		cJSON_AddNumberToObject(po, "more", (double)pr->more);
	}
	cJSON_AddBoolToObject(x, "complete", sd_tls_scan_complete(sc));
	cJSON_AddNumberToObject(x, "connections", sd_tls_scan_connections(sc));
	cJSON_AddNumberToObject(x, "probes_in_a_row", sd_tls_scan_chain(sc));
	return x;
}

void cli_tls_print_table(sd_cli *cli, const sd_tls_scan *sc, const char *service)
{
	FILE *f = cli->out;
	fprintf(f, "service: %s   connections: %u (%u in a row)\n", service, sd_tls_scan_connections(sc),
		sd_tls_scan_chain(sc));
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &sd_tls_scan_enum(sc)->v[i];
		if (!v->probed && !v->implied_by)
			continue;
		if (v->implied_by) {
			fprintf(f, "%-8s not offered (%s was refused with protocol_version)\n",
				sd_tls_version_name(v->version), sd_tls_version_name(v->implied_by));
			continue;
		}
		if (v->violations && !v->supported) {
			fprintf(f, "%-8s unknown: the server broke the protocol (see below)\n", sd_tls_version_name(v->version));
			continue;
		}
		if (v->stall_bytes && !v->supported) {
			fprintf(f, "%-8s unknown: no complete answer in time (see below)\n", sd_tls_version_name(v->version));
			continue;
		}
		if (!v->supported) {
			fprintf(f, "%-8s not offered\n", sd_tls_version_name(v->version));
			continue;
		}
		const char *on = order_name(v->order);
		fprintf(f, "%s%-8s%s %zu suite%s, order: %s\n", cli_c(cli, "1"), sd_tls_version_name(v->version),
			cli_c0(cli), v->nsuites, v->nsuites == 1 ? "" : "s",
			on ? on : "n/a (one suite)");
		for (size_t k = 0; k < v->nsuites; k++) {
			const sd_tls_suite *s = sd_tls_suite_find(v->suites[k]);
			fprintf(f, "  0x%04X  %-45s %s\n", v->suites[k], s ? s->iana : "(unassigned)",
				s && s->openssl ? s->openssl : "-");
		}
		if (v->ngroups) {
			fprintf(f, "  groups%s:", v->groups_listed ? " (the server's list, in its order)" : "");
			for (size_t k = 0; k < v->ngroups; k++) {
				const char *gn = sd_tls_group_name(v->groups[k]);
				if (gn)
					fprintf(f, " %s", gn);
				else
					fprintf(f, " 0x%04X", v->groups[k]);
			}
			fputc('\n', f);
		}
	}
}

