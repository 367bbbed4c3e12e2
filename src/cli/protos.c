/*
 * shakedown CLI — protocol names, as each command takes them: the lists in
 * --help texts, `--list`, and the one-line refusals all come from the
 * protocol table (sd_proto_serves) and the simulator table, never from a
 * list kept by hand.
 */
#include <string.h>
#include <cJSON.h>
#include "cli.h"

/* Placeholders a usage text may carry; each becomes the names that serve. */
static const struct {
	const char  *mark;
	sd_proto_use use;  /* 0: the simulated device kinds */
} marks[] = {
	{ "{protos:session}", SD_PROTO_USE_SESSION },
	{ "{protos:poke}", SD_PROTO_USE_POKE },
	{ "{protos:explain}", SD_PROTO_USE_EXPLAIN },
	{ "{sims}", 0 },
};

static void sim_names(char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sd_sim_count() && n < outlen; i++) {
		int w = snprintf(out + n, outlen - n, "%s%s", i ? ", " : "", sd_sim_at(i)->name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

void cli_usage_print(FILE *f, const char *usage)
{
	const char *s = usage;
	while (*s) {
		const char *open = strchr(s, '{');
		if (!open) {
			fputs(s, f);
			return;
		}
		fwrite(s, 1, (size_t)(open - s), f);
		size_t i;
		for (i = 0; i < sizeof marks / sizeof marks[0]; i++)
			if (strncmp(open, marks[i].mark, strlen(marks[i].mark)) == 0)
				break;
		if (i == sizeof marks / sizeof marks[0]) {
			fputc('{', f);
			s = open + 1;
			continue;
		}
		char names[256];
		if (marks[i].use)
			sd_proto_names_for(marks[i].use, names, sizeof names);
		else
			sim_names(names, sizeof names);
		fputs(names, f);
		s = open + strlen(marks[i].mark);
	}
}

int cli_proto_list(sd_cli *cli, sd_proto_use use)
{
	char why[200];
	cJSON *arr = cli->json ? cJSON_CreateArray() : NULL;
	if (cli->json && !arr)
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	/* the rows that serve first, then the others with the reason */
	int others = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sd_proto_count(); i++) {
			const sd_proto *p = sd_proto_at(i);
			int ok = sd_proto_serves(p, use, why, sizeof why);
			if (ok != (pass == 0))
				continue;
			if (arr) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "name", p->name);
				cJSON_AddStringToObject(o, "title", p->title);
				cJSON_AddBoolToObject(o, "available", ok);
				if (!ok)
					cJSON_AddStringToObject(o, "why_not", why);
				cJSON_AddItemToArray(arr, o);
			} else if (ok) {
				fprintf(cli->out, "%-8s %s\n", p->name, p->title);
			} else {
				if (!others++)
					fprintf(cli->out, "not here:\n");
				fprintf(cli->out, "  %s %s\n", p->name, why);
			}
		}
	}
	if (arr) {
		char *s = cJSON_PrintUnformatted(arr);
		cJSON_Delete(arr);
		if (!s)
			return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
		fprintf(cli->out, "%s\n", s);
		cJSON_free(s);
	}
	return SD_EXIT_OK;
}

int cli_proto_pick(sd_cli *cli, const char *name, sd_proto_use use, const char *what,
		   const sd_proto **out)
{
	char why[256];
	int err = sd_proto_find_for(name, use, out, why, sizeof why);
	if (err == SD_OK)
		return 0;
	return cli_usage_error(cli, "%s%s%s", what ? what : "", what ? ": " : "", why);
}
