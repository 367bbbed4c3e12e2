/*
 * shakedown — host checks: parsers of the text the host hands us (lock
 * files, udev database lines, /proc/PID/status and cmdline, /etc/group,
 * /etc/passwd, udev rules). Pure functions over (bytes, length): any of
 * these files may be truncated, binary or hostile, and fuzz/fuzz_env.c
 * feeds them arbitrary bytes.
 */
#include <ctype.h>
#include "env/env.h"

/* Next line of text[0..n) from *pos: sets *line, *len (without '\n');
 * 0 at the end. */
static int next_line(const char *text, size_t n, size_t *pos, const char **line, size_t *len)
{
	if (*pos >= n)
		return 0;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', n - *pos);
	size_t l = nl ? (size_t)(nl - s) : n - *pos;
	*line = s;
	*len = l;
	*pos += l + (nl ? 1 : 0);
	return 1;
}

static void copy_field(char *out, size_t outlen, const char *s, size_t n)
{
	if (!outlen)
		return;
	size_t k = n < outlen - 1 ? n : outlen - 1;
	memcpy(out, s, k);
	out[k] = '\0';
}

/* A decimal u32 at s[0..n) starting at *i (leading blanks skipped); -1
 * when there is none or it overflows. */
static long long dec_at(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
	if (*i >= n || !isdigit((unsigned char)s[*i]))
		return -1;
	long long v = 0;
	while (*i < n && isdigit((unsigned char)s[*i])) {
		v = v * 10 + (s[*i] - '0');
		if (v > 0xFFFFFFFFll)
			return -1;
		(*i)++;
	}
	return v;
}

int sdi_env_lock_pid(const uint8_t *b, size_t n)
{
	if (!b)
		return -1;
	size_t i = 0;
	long long v = dec_at((const char *)b, n, &i);
	/* HDB: the digits end at whitespace or the end (some tools add their
	 * name after a blank) */
	if (v > 0 && v <= 0x7FFFFFFF && (i == n || isspace(b[i])))
		return (int)v;
	if (n == 4 && v < 0) {
		/* the old binary form: a native int, written by the same host */
		int32_t pid;
		memcpy(&pid, b, 4);
		return pid > 0 ? pid : -1;
	}
	return -1;
}

int sdi_env_udev_get(const char *text, size_t n, const char *key, char *val, size_t vallen)
{
	if (!text || !key)
		return 0;
	size_t pos = 0, len, klen = strlen(key);
	const char *line;
	while (next_line(text, n, &pos, &line, &len)) {
		if (len < klen + 3 || line[0] != 'E' || line[1] != ':')
			continue;
		if (memcmp(line + 2, key, klen) != 0 || line[2 + klen] != '=')
			continue;
		if (val)
			copy_field(val, vallen, line + 3 + klen, len - 3 - klen);
		return 1;
	}
	return 0;
}

/* The n-th number (0-based) after "Key:" on its line, or -1. */
static long long status_field(const char *text, size_t n, const char *key, int nth)
{
	size_t pos = 0, len, klen = strlen(key);
	const char *line;
	while (next_line(text, n, &pos, &line, &len)) {
		if (len <= klen || memcmp(line, key, klen) != 0 || line[klen] != ':')
			continue;
		size_t i = klen + 1;
		long long v = -1;
		for (int k = 0; k <= nth; k++)
			if ((v = dec_at(line, len, &i)) < 0)
				return -1;
		return v;
	}
	return -1;
}

int sdi_env_status_ident(const char *text, size_t n, sd_ident *id)
{
	if (!text || !id)
		return -1;
	memset(id, 0, sizeof *id);
	/* effective ids: what the kernel checks on open() */
	long long uid = status_field(text, n, "Uid", 1), gid = status_field(text, n, "Gid", 1);
	if (uid < 0 || gid < 0)
		return -1;
	id->uid = (uint32_t)uid;
	id->gid = (uint32_t)gid;
	size_t pos = 0, len;
	const char *line;
	while (next_line(text, n, &pos, &line, &len)) {
		if (len < 7 || memcmp(line, "Groups:", 7) != 0)
			continue;
		size_t i = 7;
		long long g;
		while (id->ngroups < SD_IDENT_MAX_GROUPS && (g = dec_at(line, len, &i)) >= 0)
			id->groups[id->ngroups++] = (uint32_t)g;
		break;
	}
	return 0;
}

long sdi_env_status_uid(const char *text, size_t n)
{
	long long v = text ? status_field(text, n, "Uid", 0) : -1;
	return (long)v;
}

size_t sdi_env_cmdline(const uint8_t *raw, size_t n, char *out, size_t outlen)
{
	if (!outlen)
		return 0;
	size_t k = 0;
	/* the trailing NUL of the last argument is no separator */
	while (n && raw[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n && k + 1 < outlen; i++)
		out[k++] = raw[i] == '\0' ? ' ' : (raw[i] >= 0x20 && raw[i] < 0x7f ? (char)raw[i] : '?');
	out[k] = '\0';
	return k;
}

int sdi_env_cmdline_arg(const uint8_t *raw, size_t n, size_t i, char *out, size_t outlen)
{
	size_t start = 0, arg = 0;
	for (size_t k = 0; k <= n; k++) {
		if (k < n && raw[k] != '\0')
			continue;
		if (k == n && k == start)
			break;
		if (arg == i) {
			copy_field(out, outlen, (const char *)raw + start, k - start);
			return 1;
		}
		arg++;
		start = k + 1;
	}
	if (outlen)
		out[0] = '\0';
	return 0;
}

/* Field f (0-based) of a ':'-separated line. */
static int colon_field(const char *line, size_t len, int f, const char **s, size_t *flen)
{
	size_t i = 0;
	for (int k = 0; k < f; k++) {
		const char *c = memchr(line + i, ':', len - i);
		if (!c)
			return 0;
		i = (size_t)(c - line) + 1;
	}
	const char *c = memchr(line + i, ':', len - i);
	*s = line + i;
	*flen = c ? (size_t)(c - (line + i)) : len - i;
	return 1;
}

static int field_is(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(s, want, n) == 0;
}

static int field_u32(const char *s, size_t n, uint32_t *v)
{
	size_t i = 0;
	long long x = dec_at(s, n, &i);
	if (x < 0 || i != n)
		return 0;
	*v = (uint32_t)x;
	return 1;
}

int sdi_env_group_gid(const char *text, size_t n, const char *name, uint32_t *gid)
{
	size_t pos = 0, len, fl;
	const char *line, *f;
	while (text && next_line(text, n, &pos, &line, &len)) {
		if (colon_field(line, len, 0, &f, &fl) && field_is(f, fl, name) &&
		    colon_field(line, len, 2, &f, &fl) && field_u32(f, fl, gid))
			return 1;
	}
	return 0;
}

int sdi_env_group_name(const char *text, size_t n, uint32_t gid, char *name, size_t namelen)
{
	size_t pos = 0, len, fl, nl;
	const char *line, *f, *nm;
	uint32_t g;
	while (text && next_line(text, n, &pos, &line, &len)) {
		if (colon_field(line, len, 2, &f, &fl) && field_u32(f, fl, &g) && g == gid &&
		    colon_field(line, len, 0, &nm, &nl) && nl) {
			copy_field(name, namelen, nm, nl);
			return 1;
		}
	}
	return 0;
}

int sdi_env_group_lists(const char *text, size_t n, const char *group, const char *user)
{
	size_t pos = 0, len, fl, ul = strlen(user);
	const char *line, *f;
	while (text && ul && next_line(text, n, &pos, &line, &len)) {
		if (!colon_field(line, len, 0, &f, &fl) || !field_is(f, fl, group) ||
		    !colon_field(line, len, 3, &f, &fl))
			continue;
		for (size_t i = 0; i < fl;) {
			const char *c = memchr(f + i, ',', fl - i);
			size_t m = c ? (size_t)(c - (f + i)) : fl - i;
			if (m == ul && memcmp(f + i, user, ul) == 0)
				return 1;
			i += m + 1;
		}
	}
	return 0;
}

int sdi_env_passwd_name(const char *text, size_t n, uint32_t uid, char *name, size_t namelen)
{
	size_t pos = 0, len, fl, nl;
	const char *line, *f, *nm;
	uint32_t u;
	while (text && next_line(text, n, &pos, &line, &len)) {
		if (colon_field(line, len, 2, &f, &fl) && field_u32(f, fl, &u) && u == uid &&
		    colon_field(line, len, 0, &nm, &nl) && nl) {
			copy_field(name, namelen, nm, nl);
			return 1;
		}
	}
	return 0;
}

int sdi_env_rules_claim(const char *text, size_t n, uint16_t vid, uint16_t pid)
{
	char want[16];
	sdi_fmt(want, sizeof want, "\"%x/%x/", vid, pid);
	size_t wl = strlen(want), pos = 0, len;
	const char *line;
	while (text && next_line(text, n, &pos, &line, &len)) {
		size_t i = 0;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i < len && line[i] == '#')
			continue;
		for (; i + wl <= len; i++) {
			size_t k = 0;
			while (k < wl && tolower((unsigned char)line[i + k]) == want[k])
				k++;
			if (k == wl)
				return 1;
		}
	}
	return 0;
}

int sdi_env_devnum(const char *text, size_t n, uint32_t *major, uint32_t *minor)
{
	size_t i = 0;
	long long a = text ? dec_at(text, n, &i) : -1;
	if (a < 0 || i >= n || text[i] != ':')
		return -1;
	i++;
	long long b = dec_at(text, n, &i);
	if (b < 0)
		return -1;
	*major = (uint32_t)a;
	*minor = (uint32_t)b;
	return 0;
}

int sdi_env_ident_in(const sd_ident *id, uint32_t gid)
{
	if (id->gid == gid)
		return 1;
	for (size_t i = 0; i < id->ngroups && i < SD_IDENT_MAX_GROUPS; i++)
		if (id->groups[i] == gid)
			return 1;
	return 0;
}

int sdi_env_may_open(uint32_t mode, uint32_t owner, uint32_t group, const sd_ident *id)
{
	if (id->uid == 0)
		return 1;
	/* the kernel takes the first class that applies, not the best one */
	unsigned bits;
	if (id->uid == owner)
		bits = (mode >> 6) & 7u;
	else if (sdi_env_ident_in(id, group))
		bits = (mode >> 3) & 7u;
	else
		bits = mode & 7u;
	return (bits & 6u) == 6u;
}
