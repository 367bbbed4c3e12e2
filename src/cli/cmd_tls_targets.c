/*
 * shakedown tls --targets FILE: many targets, each in a child process
 * running cli_tls_one (cmd_tls.c), their JSON reports printed whole, in
 * the order they finish.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "cmd_tls.h"

/* --targets: one target a line; each runs in a child process with its
 * output on a pipe, so reports come out as whole JSON lines, in the order
 * they finish. At most `jobs` targets run at once, and at most `per_host`
 * of them against the same host (each target uses one connection at a time). */
typedef struct job {
	pid_t  pid;
	int    fd;
	size_t target;
	char  *out;
	size_t len, cap;
} job;

static int host_running(const job *jobs, size_t njobs, char **targets, const char *host)
{
	int n = 0;
	for (size_t i = 0; i < njobs; i++) {
		char h[256], p[16];
		if (jobs[i].pid > 0 && cli_tls_split_target(targets[jobs[i].target], h, sizeof h, p, sizeof p) == 0 &&
		    strcmp(h, host) == 0)
			n++;
	}
	return n;
}

/* --targets bounds: a line holds one HOST[:PORT] (and a comment) */
#define TLS_TARGETS_LINE_MAX 511u
#define TLS_TARGETS_MAX      100000u

int cli_tls_targets(sd_cli *cli, const char *file, const tls_opts *o)
{
	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (!in)
		return cli_error(cli, SD_EXIT_OPEN, "cannot read --targets %s: %s", file, strerror(errno));
	struct stat fst;
	if (fstat(fileno(in), &fst) == 0 && S_ISDIR(fst.st_mode)) {
		fclose(in);
		return cli_usage_error(cli, "--targets %s is a directory; it takes a file of HOST[:PORT] lines", file);
	}
	char line[TLS_TARGETS_LINE_MAX + 2], **targets = NULL;
	size_t nt = 0, cap = 0, lineno = 0;
	int worst = SD_EXIT_OK;
	while (fgets(line, sizeof line, in)) {
		lineno++;
		size_t ll = strlen(line);
		if (ll == sizeof line - 1 && line[ll - 1] != '\n') {
			worst = cli_usage_error(cli, "--targets %s: line %zu is longer than %u bytes", file, lineno,
						TLS_TARGETS_LINE_MAX);
			goto out;
		}
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, " \t\r\n#")] = '\0';
		if (!*s)
			continue;
		if (nt >= TLS_TARGETS_MAX) {
			worst = cli_usage_error(cli, "--targets %s: more than %u targets; split the file", file,
						TLS_TARGETS_MAX);
			goto out;
		}
		if (nt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **t = realloc(targets, ncap * sizeof *t);
			if (!t) {
				worst = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
				goto out;
			}
			targets = t;
			cap = ncap;
		}
		if (!(targets[nt] = strdup(s))) {
			worst = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
			goto out;
		}
		nt++;
	}
	if (ferror(in)) {
		worst = cli_error(cli, SD_EXIT_OPEN, "cannot read --targets %s: %s", file, strerror(errno));
		goto out;
	}
	if (nt == 0) {
		worst = cli_usage_error(cli, "--targets %s holds no HOST[:PORT] line", file);
		goto out;
	}
	cli->json = 1;
	fflush(cli->out);
	fflush(cli->err);
	size_t njobs = o->jobs, next = 0, running = 0;
	job *jobs = calloc(njobs, sizeof *jobs);
	char *started = calloc(nt ? nt : 1, 1);
	if (!jobs || !started) {
		free(jobs);
		free(started);
		worst = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	while (next < nt || running) {
		/* start what the limits allow, in file order where possible */
		for (size_t t = next; t < nt && running < njobs; t++) {
			char h[256], p[16];
			if (started[t])
				continue;
			if (cli_tls_split_target(targets[t], h, sizeof h, p, sizeof p) == 0 &&
			    host_running(jobs, njobs, targets, h) >= (int)o->per_host)
				continue;
			size_t slot = 0;
			while (jobs[slot].pid > 0)
				slot++;
			int fds[2];
			if (pipe(fds) < 0)
				break;
			pid_t pid = fork();
			if (pid < 0) {
				close(fds[0]);
				close(fds[1]);
				break;
			}
			if (pid == 0) {
				close(fds[0]);
				FILE *f = fdopen(fds[1], "w");
				if (!f)
					_exit(SD_EXIT_INTERNAL);
				cli->out = f;
				int rc = cli_tls_one(cli, targets[t], o);
				fflush(f);
				fflush(cli->err);
				_exit(rc);
			}
			close(fds[1]);
			jobs[slot] = (job){ .pid = pid, .fd = fds[0], .target = t };
			started[t] = 1;
			running++;
		}
		while (next < nt && started[next])
			next++;
		/* collect output; a child whose pipe closed is reaped and printed */
		struct pollfd pf[64];
		size_t map[64], np = 0;
		for (size_t i = 0; i < njobs && np < 64; i++)
			if (jobs[i].pid > 0) {
				pf[np] = (struct pollfd){ .fd = jobs[i].fd, .events = POLLIN };
				map[np++] = i;
			}
		if (np == 0)
			break;
		if (poll(pf, np, -1) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < np; k++) {
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			job *j = &jobs[map[k]];
			if (j->len + 4096 > j->cap) {
				size_t ncap = j->cap ? j->cap * 2 : 8192;
				char *nb = realloc(j->out, ncap);
				if (!nb)
					continue;
				j->out = nb;
				j->cap = ncap;
			}
			ssize_t r = read(j->fd, j->out + j->len, j->cap - j->len);
			if (r > 0) {
				j->len += (size_t)r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			int st = 0;
			close(j->fd);
			waitpid(j->pid, &st, 0);
			if (j->len)
				fwrite(j->out, 1, j->len, cli->out);
			fflush(cli->out);
			int rc = WIFEXITED(st) ? WEXITSTATUS(st) : SD_EXIT_INTERNAL;
			if (rc > worst)
				worst = rc;
			free(j->out);
			*j = (job){ .pid = 0 };
			running--;
		}
	}
	free(jobs);
	free(started);
out:
	for (size_t i = 0; i < nt; i++)
		free(targets[i]);
	free(targets);
	if (in != stdin)
		fclose(in);
	return worst;
}

