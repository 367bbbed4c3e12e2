/*
 * shakedown — host checks: files under a root prefix. Reads are bounded and
 * never touch anything but regular files (a FIFO planted in a fixture, or
 * a device node, would block or have side effects).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "env/env.h"

int sdi_env_root_is_live(const char *root)
{
	return !root || !root[0] || strcmp(root, "/") == 0;
}

int sdi_env_path(char *out, size_t len, const char *root, const char *fmt, ...)
{
	char host[SDI_ENV_PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(host, sizeof host, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof host)
		return -1;
	const char *r = sdi_env_root_is_live(root) ? "" : root;
	size_t rl = strlen(r);
	while (rl && r[rl - 1] == '/')
		rl--;
	n = snprintf(out, len, "%.*s%s", (int)rl, r, host);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

long sdi_env_read(const char *path, char *buf, size_t cap)
{
	if (!cap)
		return -1;
	buf[0] = '\0';
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	size_t got = 0;
	while (got + 1 < cap) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	return (long)got;
}

long sdi_env_readlink(const char *path, char *out, size_t len)
{
	if (len < 2)
		return -1;
	ssize_t n = readlink(path, out, len - 1);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return (long)n;
}

const char *sdi_env_base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* "/a/./b/../c//d" -> "/a/c/d" in place (paths are absolute). */
static void clean(char *p)
{
	char out[SDI_ENV_PATH_MAX];
	size_t k = 0;
	const char *s = p;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0)
			break;
		if (n == 1 && s[0] == '.') {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (k && out[k - 1] != '/')
				k--;
			if (k)
				k--;
		} else if (k + 1 + n < sizeof out) {
			out[k++] = '/';
			memcpy(out + k, s, n);
			k += n;
		}
		s += n;
	}
	if (!k)
		out[k++] = '/';
	out[k] = '\0';
	memcpy(p, out, k + 1);
}

int sdi_env_resolve(const char *root, const char *in, char *out, size_t len)
{
	char cur[SDI_ENV_PATH_MAX], full[SDI_ENV_PATH_MAX], link[SDI_ENV_PATH_MAX];
	if (!in || in[0] != '/' || strlen(in) >= sizeof cur)
		return -1;
	memcpy(cur, in, strlen(in) + 1);
	/* udev's /dev/serial/by-id links are one hop; 8 is plenty and ends loops */
	for (int depth = 0; depth < 8; depth++) {
		clean(cur);
		if (sdi_env_path(full, sizeof full, root, "%s", cur) != 0)
			return -1;
		if (sdi_env_readlink(full, link, sizeof link) < 0)
			break;
		if (link[0] == '/') {
			memcpy(cur, link, strlen(link) + 1);
		} else {
			char *slash = strrchr(cur, '/');
			slash[1] = '\0';
			if (strlen(cur) + strlen(link) >= sizeof cur)
				return -1;
			strcat(cur, link);
		}
	}
	clean(cur);
	if (strlen(cur) >= len)
		return -1;
	memcpy(out, cur, strlen(cur) + 1);
	return 0;
}
