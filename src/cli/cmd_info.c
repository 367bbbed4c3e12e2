/*
 * shakedown info PROTO TARGET — the handshake plus read-only identification
 * (chip id, bootloader version, security flags). The session itself is
 * cli_session() in cmd_sync.c, shared with `sync`.
 */
#include "cli.h"
#include "commands.h"

const char cmd_info_usage[] =
	"usage: shakedown info [options] PROTO TARGET\n"
	"\n"
	"The handshake of `shakedown sync`, then read-only identification: chip\n"
	"and family, bootloader version, signature or hardware code, protection\n"
	"and security flags. Never writes, erases or jumps.\n"
	"\n"
	"PROTO:  {protos:session} (shakedown info --list says why not the others)\n"
	"TARGET: /dev/ttyUSB0, serial:/dev/ttyACM0?baud=57600, tcp://host:port,\n"
	"        sim:stm32 (a simulated device; see shakedown sim --list)\n"
	"\n"
	"options: as for `shakedown sync` (--baud --enter --exit --no-reset --part\n"
	"         --retries --list); global: --json --trace FILE --timeout SECS -v\n"
	"\n"
	"time: the whole session, retries included, ends by --timeout SECS, by\n"
	"default the protocol's own limit (stm32 10 s, stk500 30 s, mtk 4 s, esp 15 s)\n"
	"\n"
	"exit: 0 identified, 1 not (diagnosis printed), 2 usage, 3 cannot open the target\n";

int cmd_info(sd_cli *cli, int argc, char **argv)
{
	return cli_session(cli, argc, argv, 1);
}
