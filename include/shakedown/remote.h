/*
 * shakedown — remote serial ports: what the network did to a session.
 *
 * After a session or probe over an rfc2217:// link, sd_remote_report()
 * adds what the link measured (link.h, sd_remote_info) to the report:
 * facts (the server's signature, the line-change round trip) and findings
 * for the network's own failures: a server that never acknowledged DTR/RTS
 * (remote-no-lines: the reset never reached the board) and, when the
 * handshake failed, line changes asked together that the network spread
 * apart or delayed (remote-reset-slow). Durations are the measured ones.
 * Any other link: nothing is added.
 */
#ifndef SHAKEDOWN_REMOTE_H
#define SHAKEDOWN_REMOTE_H

#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/diag.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sd_link sd_link;

/* A line change acknowledged later than this after it was sent, or two
 * changes asked together acknowledged this far apart, is a stretched reset
 * (an ESP auto-reset circuit needs DTR and RTS within a few ms; optiboot's
 * window after the pulse is about 1 s, but the pulse itself is short). */
#define SD_REMOTE_LINE_SLOW SD_MS(50)
#define SD_REMOTE_PAIR_SLOW SD_MS(10)

/* Add l's remote facts and findings to r (sorted afterwards by the
 * caller). Returns the number of findings added (0 for a link that is not
 * rfc2217, or one that behaved). */
SD_API int sd_remote_report(const sd_link *l, sd_report *r);

#ifdef __cplusplus
}
#endif
#endif
