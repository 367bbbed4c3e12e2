/*
 * libFuzzer target: the parsers of host text in src/env (doctor): UUCP lock
 * files, udev database lines, /proc/PID/status and cmdline, /etc/group and
 * /etc/passwd, udev rules, sysfs "MAJ:MIN". The first byte picks nothing:
 * every parser sees every input, exactly sized (no NUL after it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "env/env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *t = malloc(size ? size : 1);
	if (!t)
		return 0;
	memcpy(t, data, size);

	sdi_env_lock_pid(data, size);
	char v[64];
	sdi_env_udev_get(t, size, "ID_MM_DEVICE_IGNORE", v, sizeof v);
	sdi_env_udev_get(t, size, "", v, 1);
	sd_ident id;
	sdi_env_status_ident(t, size, &id);
	sdi_env_status_uid(t, size);
	char line[160], arg[32];
	sdi_env_cmdline(data, size, line, sizeof line);
	sdi_env_cmdline_arg(data, size, 1, arg, sizeof arg);
	sd_holder h;
	sdi_env_name_process("python3", data, size, &h);
	sdi_env_name_process("shakedown", data, size, &h);
	uint32_t gid, a, b;
	char name[32];
	sdi_env_group_gid(t, size, "dialout", &gid);
	sdi_env_group_name(t, size, 20, name, sizeof name);
	sdi_env_group_lists(t, size, "dialout", "ada");
	sdi_env_passwd_name(t, size, 1000, name, sizeof name);
	sdi_env_rules_claim(t, size, 0x1a86, 0x7523);
	sdi_env_devnum(t, size, &a, &b);
	free(t);
	return 0;
}
