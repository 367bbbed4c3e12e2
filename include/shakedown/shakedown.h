/*
 * shakedown — makes handshakes succeed and, when they fail, says why.
 * Umbrella header: include this one.
 */
#ifndef SHAKEDOWN_H
#define SHAKEDOWN_H

#define SD_VERSION_MAJOR 0
#define SD_VERSION_MINOR 1
#define SD_VERSION_PATCH 0
#define SD_VERSION_STRING "0.1.0"

#include "shakedown/export.h"
#include "shakedown/error.h"
#include "shakedown/clock.h"
#include "shakedown/line.h"
#include "shakedown/transcript.h"
#include "shakedown/link.h"
#include "shakedown/engine.h"
#include "shakedown/client.h"
#include "shakedown/diag.h"
#include "shakedown/uart.h"
#include "shakedown/classify.h"
#include "shakedown/seq.h"
#include "shakedown/proto.h"
#include "shakedown/uri.h"
#include "shakedown/sim.h"
#include "shakedown/fmt.h"
#include "shakedown/listen.h"
#include "shakedown/usbid.h"
#include "shakedown/ports.h"
#include "shakedown/tls.h"
#include "shakedown/diagnose.h"
#include "shakedown/probe.h"
#include "shakedown/doctor.h"
#include "shakedown/loopback.h"
#include "shakedown/replay.h"
#include "shakedown/telnet.h"
#include "shakedown/remote.h"

#ifdef __cplusplus
extern "C" {
#endif
/* "0.1.0" */
SD_API const char *sd_version(void);
#ifdef __cplusplus
}
#endif
#endif
