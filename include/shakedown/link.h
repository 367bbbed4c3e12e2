/*
 * shakedown — links: byte pipes with deadlines, and where the medium has
 * them, modem lines and line settings.
 *
 * A backend "subclasses" sd_link by embedding it first and supplying a const
 * sd_link_ops at the bottom of its own file (src/link/<medium>.c). Callers
 * use only the sd_link_* wrappers, which
 *   1. return SD_ERR_UNSUPPORTED for a NULL optional member,
 *   2. keep the first fatal error (SD_ERR_CLOSED, SD_ERR_IO) sticky: later
 *      calls return it without touching the medium,
 *   3. record every byte and line change into the tap transcript (the one
 *      choke point), and
 *   4. build read_exact / write_all on the >=1-byte primitives.
 *
 * Contract for backends (SD_LINK_OPS_V1):
 * - read/write move at least 1 and at most len bytes (len <= SD_LINK_MAX_IO)
 *   or fail; they return the count (>0) or a negative sd_err, never 0.
 * - They block no later than the absolute deadline dl (in l->clock's time)
 *   and return SD_ERR_TIMEOUT then. A deadline already passed still tries
 *   once without blocking. EINTR is retried inside.
 * - EOF, hang-up, EIO and ENODEV are SD_ERR_CLOSED ("device disconnected").
 *   errno values are mapped in the backend file; anything unmapped is
 *   SD_ERR_IO with os_errno kept.
 * - A backend writes a one-line reason into l->why when it fails.
 * New members are appended in blocks; `version` says which blocks exist.
 *
 * SD_LINK_OPS_V2 adds reopen (optional): close the medium and open the same
 * target again (a USB device that left the bus and re-enumerated under the
 * same path). SD_OK, or a negative sd_err (SD_ERR_NOTFOUND: not there yet)
 * and l->why; on failure the link stays as dead as it was. The wrapper
 * clears the sticky error and re-applies l->cfg and l->lines afterwards.
 */
#ifndef SHAKEDOWN_LINK_H
#define SHAKEDOWN_LINK_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/line.h"
#ifndef SD_FREESTANDING
#include "shakedown/transcript.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define SD_LINK_OPS_V1 1u
#define SD_LINK_OPS_V2 2u /* + reopen */
#ifdef SD_FREESTANDING
#define SD_LINK_MAX_IO 255u   /* int may be 16 bits; an MCU moves a ring's worth */
#else
#define SD_LINK_MAX_IO 65536u
#endif

/* Capability flags (sd_link_ops.caps, refined per instance in sd_link.caps) */
#define SD_LINK_BYTES  0x01u /* a byte stream */
#define SD_LINK_BAUD   0x02u /* set_cfg changes rate and framing for real */
#define SD_LINK_PARITY 0x04u /* can carry a parity bit */
#define SD_LINK_LINES  0x08u /* DTR/RTS outputs */
#define SD_LINK_BREAK  0x10u /* can send a break */
#define SD_LINK_FRAMED 0x20u /* message boundaries (USB bulk) */
#define SD_LINK_NET    0x40u /* a network stream (TCP) */
#define SD_LINK_VIRTUAL 0x80u /* runs on virtual time (in-process simulator) */
#define SD_LINK_REMOTE 0x100u /* a serial port across a network (RFC 2217): line
				 changes and settings cost a round trip each */

/* flush directions */
#define SD_FLUSH_IN  0x1u
#define SD_FLUSH_OUT 0x2u

typedef struct sd_link sd_link;

typedef struct sd_link_ops {
	unsigned    version;  /* SD_LINK_OPS_V1 or _V2 */
	const char *name;     /* "serial", "tty", "pty", "tcp", "mem", "fault", "null", "sim" */
	unsigned    caps;     /* what the backend can do at most */
	int  (*read)(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl);
	int  (*write)(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl);
	int  (*flush)(sd_link *l, unsigned dirs);                     /* optional */
	int  (*set_cfg)(sd_link *l, const sd_line_cfg *cfg);          /* optional */
	int  (*set_lines)(sd_link *l, unsigned mask, unsigned level); /* optional */
	int  (*get_lines)(sd_link *l, unsigned *level);               /* optional */
	int  (*send_break)(sd_link *l, sd_time duration);             /* optional */
	void (*close)(sd_link *l); /* frees the link itself if the opener allocated it */
	/* ---- SD_LINK_OPS_V2 ---- */
	int  (*reopen)(sd_link *l, sd_deadline dl);                   /* optional */
} sd_link_ops;

struct sd_link {
	const sd_link_ops *ops;
	const sd_clock    *clock;    /* never NULL once opened */
#ifndef SD_FREESTANDING
	sd_transcript     *tap;      /* optional; written only by the wrappers */
#endif
	unsigned           caps;     /* this instance's capabilities */
	int                sticky;   /* first fatal error, until sd_link_clear_error */
	int                os_errno; /* saved with SD_ERR_IO */
	sd_line_cfg        cfg;      /* last settings applied */
	unsigned           lines;    /* last DTR/RTS levels set */
#ifndef SD_FREESTANDING
	char               why[160]; /* one-line reason of the last failure */
#endif
	/* The port's USB identity as the OS enumerates it (serial ports through
	 * libserialport; a simulated device may claim one; a wrapping link
	 * copies its inner link's); 0:0 when unknown or not USB. Protocols
	 * pick a reset by it (ESP: 303a:1001 is the chip's own USB-Serial/JTAG). */
	uint16_t           usb_vid, usb_pid;
};

/* Initialise the base part (backends call this from their opener). */
SD_API void sd_link_init(sd_link *l, const sd_link_ops *ops, const sd_clock *clock);
#ifndef SD_FREESTANDING
/* Attach (or detach with NULL) a transcript. Records an OPEN note with
 * `target` when both are non-NULL. */
SD_API void sd_link_tap(sd_link *l, sd_transcript *t, const char *target);
#endif

SD_API int  sd_link_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl);
SD_API int  sd_link_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl);
/* Read exactly len bytes; on timeout returns SD_ERR_TIMEOUT with *got set. */
SD_API int  sd_link_read_exact(sd_link *l, uint8_t *buf, size_t len,
			       sd_deadline dl, size_t *got);
/* Write all len bytes or fail; returns SD_OK. */
SD_API int  sd_link_write_all(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl);
/* Read and discard until `quiet` µs pass with no byte or dl is reached.
 * Returns the number of bytes discarded (they are in the transcript). */
SD_API int  sd_link_drain(sd_link *l, sd_time quiet, sd_deadline dl);
SD_API int  sd_link_flush(sd_link *l, unsigned dirs);
SD_API int  sd_link_set_cfg(sd_link *l, const sd_line_cfg *cfg);
SD_API int  sd_link_set_lines(sd_link *l, unsigned mask, unsigned level);
SD_API int  sd_link_get_lines(sd_link *l, unsigned *level);
SD_API int  sd_link_break(sd_link *l, sd_time duration);
/* Wait until t on the link's clock (real sleep, or a virtual-time jump). */
SD_API void sd_link_sleep_until(sd_link *l, sd_time t);
SD_API void sd_link_clear_error(sd_link *l);
/* Close the medium and open the same target again, before dl: the way back
 * for a port whose device left the bus and re-enumerated (an ESP's own
 * USB-Serial/JTAG while it resets; esptool does the same). On success the
 * sticky error is cleared and the last settings (l->cfg) and DTR/RTS levels
 * (l->lines) are applied again; bytes in flight are lost. Records a
 * `reopen` record in the tap transcript (with the reason the link had
 * failed, if it had), and an `error` record after it when the reopen
 * fails. SD_ERR_UNSUPPORTED when the backend cannot (no path: tcp, pty
 * master, mem); SD_ERR_NOTFOUND while the device is not back. */
SD_API int  sd_link_reopen(sd_link *l, sd_deadline dl);
/* 1 when this link can be opened again (sd_link_reopen is not UNSUPPORTED). */
SD_API int  sd_link_can_reopen(const sd_link *l);
/* Records CLOSE, closes and (for opened links) frees. NULL is fine. */
SD_API void sd_link_close(sd_link *l);

#ifndef SD_FREESTANDING /* names, reasons, and the host's own backends */
SD_API const char *sd_link_name(const sd_link *l);
/* The one-line reason of the last failure, or sd_strerror(err) if none. */
SD_API const char *sd_link_why(const sd_link *l, int err);

/* ---- Opening by target ------------------------------------------------- */

typedef struct sd_link_opts {
	const sd_clock *clock;    /* NULL = sd_clock_real() (sim: uses virtual time) */
	sd_line_cfg     cfg;      /* initial line settings for serial-like links;
				     baud 0 = the link's default */
	sd_deadline     open_by;  /* for connecting links (tcp); SD_FOREVER = 5 s */
} sd_link_opts;

/* Open a target:
 *   /dev/ttyUSB0, COM3, serial:PATH?baud=..&parity=..  serial (libserialport;
 *                                   a pty slave falls back to the tty link)
 *   tcp://host:port                 raw TCP
 *   rfc2217://host:port?baud=..&ign_set_control&timeout=MS
 *                                   a remote serial port (RFC 2217, e.g.
 *                                   ser2net's telnet(rfc2217) accepter)
 *   sim:PROTO?key=value&...         in-process simulated device
 *   null:                           does nothing, reads time out
 * On failure returns a negative sd_err, *out is NULL, and `why` (if given)
 * holds a one-line cause. */
SD_API int sd_link_open(const char *target, const sd_link_opts *opts,
			sd_link **out, char *why, size_t whylen);

/* ---- Backends openable directly ---------------------------------------- */
SD_API int sd_link_open_serial(const char *path, const sd_line_cfg *cfg,
			       const sd_clock *clock, sd_link **out,
			       char *why, size_t whylen);
/* A tty through plain termios (pty slaves; no modem lines). */
SD_API int sd_link_open_tty(const char *path, const sd_line_cfg *cfg,
			    const sd_clock *clock, sd_link **out,
			    char *why, size_t whylen);
/* Create a pty; the link is the master (device) side. The slave path goes to
 * slave (NUL-terminated). The slave stays open inside the link, so clients
 * may come and go without the master seeing a hang-up. */
SD_API int sd_link_open_pty(const sd_clock *clock, sd_link **out,
			    char *slave, size_t slavelen, char *why, size_t whylen);
/* Modem lines for the device side of a pty (the link from
 * sd_link_open_pty): whoever plays the host's adapter (a test's RFC 2217
 * server) writes one byte per change into the FIFO at `fifo`, bit 0 DTR and
 * bit 1 RTS as asserted; get_lines returns the latest, and the link gains
 * SD_LINK_LINES, so a simulator served on it sees resets (sd_sim_serve).
 * A Linux pty carries no modem lines of its own: this is the side channel.
 * SD_OK, or SD_ERR_ARG (not a pty link) / SD_ERR_NOTFOUND and why. */
SD_API int sd_link_pty_lines(sd_link *pty, const char *fifo, char *why, size_t whylen);
SD_API int sd_link_open_tcp(const char *host, const char *port,
			    const sd_clock *clock, sd_deadline dl, sd_link **out,
			    char *why, size_t whylen);
SD_API int sd_link_open_null(const sd_clock *clock, sd_link **out);

/* ---- rfc2217: a remote serial port -------------------------------------
 *
 * rfc2217://host:port opens a Telnet session (RFC 854) with BINARY both
 * ways (RFC 856) and COM-PORT-OPTION (RFC 2217). It listens first: the
 * access server must start the negotiation (ser2net and pyserial's server
 * do); a port that sends data or nothing instead is reported as raw, and no
 * Telnet byte is sent into it. Settings (set_cfg), DTR/RTS (set_lines),
 * break and flush (PURGE-DATA) are subnegotiations whose answers are
 * awaited until `timeout` (ms, default 1500) and checked: a value other
 * than the one asked is SD_ERR_NACK, no answer SD_ERR_TIMEOUT for settings.
 * A DTR/RTS change never acknowledged is SD_ERR_UNSUPPORTED (the link then
 * drops SD_LINK_LINES: the server cannot drive the lines of that device),
 * unless `ign_set_control` is given: then line changes are sent without
 * waiting and counted as unacknowledged (labgrid's and pyserial's knob).
 * Opening does not touch DTR/RTS (pyserial asserts both on open, which
 * resets an auto-reset board). Server notifications (NOTIFY-MODEMSTATE,
 * -LINESTATE, the SIGNATURE, every acknowledgement and its latency) are
 * written into the tap transcript as notes. */
#define SD_REMOTE_MAX_CTL 32
typedef struct sd_remote_ctl {
	uint8_t value;      /* SET-CONTROL value sent (8 DTR on, 9 off, 11 RTS on ...) */
	uint8_t acked;      /* the server answered with that value */
	sd_time sent, ack;  /* link clock, µs; ack 0 = never */
} sd_remote_ctl;

typedef struct sd_remote_info {
	char     signature[64];  /* the server's SIGNATURE ("ser2net"), "" if none */
	int      have_modemstate, have_linestate;
	uint8_t  modemstate, linestate; /* the last notified values */
	unsigned notifications;  /* NOTIFY-* received */
	unsigned lines_sent;     /* DTR/RTS changes sent */
	unsigned lines_acked;    /* ... and acknowledged with the value asked */
	unsigned lines_unacked;  /* ... never acknowledged (ign_set_control, or the first one) */
	int      ign_set_control;
	int      lines_dead;     /* a change went unacknowledged: SD_LINK_LINES dropped */
	sd_time  line_rtt_max;   /* longest send-to-ack of a line change, µs */
	sd_time  pair_gap_max;   /* longest gap between the acks of DTR and RTS changes
				    asked in one set_lines call, µs */
	sd_time  cfg_rtt;        /* the last settings exchange, µs */
	size_t   nctl;           /* the latest SET-CONTROL exchanges (ring of SD_REMOTE_MAX_CTL) */
	sd_remote_ctl ctl[SD_REMOTE_MAX_CTL];
} sd_remote_info;

/* What the RFC 2217 link learnt so far. SD_ERR_ARG when l is not an
 * rfc2217 link. */
SD_API int sd_link_remote_info(const sd_link *l, sd_remote_info *out);

/* ---- replay: a recorded transcript served back ---------------------------
 *
 * Serves the records of t (a parsed trace, docs/transcript-format.md) to
 * whatever runs over the link, on a fake clock of its own starting at 0 (the
 * trace's origin):
 * - a read returns the next recorded rx chunk (or part of it), the clock
 *   jumping to the chunk's recorded time, once the host has done everything
 *   the recording had it do before; when the next record is the host's, or
 *   the trace has ended, or the chunk arrived after the read's deadline
 *   (beyond `slack`), the read times out and the clock moves to the deadline
 *   (SD_FOREVER: at once, the clock unmoved);
 * - writes, cfg, lines, flush and break are accepted and compared with the
 *   next record: bytes or values that differ, or an action the recording
 *   does not have there, count as divergences (sd_link_replay_stats);
 * - a recorded link error (SD_ERR_CLOSED ...) is returned by the call that
 *   meets it;
 * - sd_link_reopen consumes the recorded `reopen` and, when the recorded
 *   one failed, returns its `error` again (no `reopen` there: a divergence
 *   and SD_ERR_NOTFOUND);
 * - what the recorded link could not do (by its caps: set_cfg without
 *   SD_LINK_BAUD, lines without SD_LINK_LINES, break without SD_LINK_BREAK,
 *   flush on SD_LINK_NET) returns SD_ERR_UNSUPPORTED, as it did live.
 * Notes, open, close, run and outcome records are skipped. Nothing blocks,
 * nothing is allocated after open; t must outlive the link. */
typedef struct sd_replay_opts {
	unsigned    caps;   /* the recorded link's SD_LINK_* caps; 0 = a serial port's */
	sd_line_cfg cfg;    /* the settings the link opened with (sd_link.cfg) */
	sd_time     slack;  /* a chunk recorded this long after a read's deadline still
			       arrives (real-time traces jitter); 0 = exact (sim: traces) */
	uint16_t    usb_vid, usb_pid; /* the recorded port's USB identity (0:0 none) */
} sd_replay_opts;

typedef struct sd_replay_stats {
	size_t   records;          /* records in the transcript */
	size_t   used;             /* records reached so far */
	size_t   divergences;      /* host actions unlike the recording */
	long     first_divergence; /* record index (0-based), -1 = none */
	size_t   unread;           /* I/O records the run never reached */
	long     first_unread;     /* record index, -1 = none */
	uint64_t tx_bytes, rx_bytes; /* written by the host, served to it */
	uint64_t tx_diff;          /* bytes written unlike (or beyond) the recording */
} sd_replay_stats;

SD_API int sd_link_open_replay(const sd_transcript *t, const sd_replay_opts *o, sd_link **out);
/* Counts so far (unread: from the cursor to the end). SD_ERR_ARG if l is
 * not a replay link. */
SD_API int sd_link_replay_stats(const sd_link *l, sd_replay_stats *st);

/* ---- mem: an in-memory pair, caller-allocated -------------------------- */

#define SD_MEM_RING 8192u

typedef struct sd_mem sd_mem;
/* Called when a read on an end would block: lets whoever drives the peer
 * (a simulator) produce bytes up to `until`. Returns 0 or a negative sd_err. */
typedef int (*sd_mem_pump)(void *ctx, sd_mem *end, sd_time until);

struct sd_mem {
	sd_link       base;
	sd_mem       *peer;
	uint8_t       ring[SD_MEM_RING]; /* bytes waiting to be read at this end */
	size_t        head, count;
	unsigned      lines_in;   /* DTR/RTS levels the peer set */
	sd_line_cfg   cfg_in;     /* line settings the peer set */
	unsigned      events;     /* SD_MEM_EV_* since last sd_mem_events() */
	int           closed;     /* peer closed */
	sd_mem_pump   pump;
	void         *pump_ctx;
};

#define SD_MEM_EV_LINES 0x1u
#define SD_MEM_EV_CFG   0x2u
#define SD_MEM_EV_BREAK 0x4u

/* Join a and b. With a clock that can jump (fake), a read that would block
 * calls the pump, then jumps the clock to the deadline and times out. */
SD_API void sd_mem_pair(sd_mem *a, sd_mem *b, const sd_clock *clock);
SD_API void sd_mem_set_pump(sd_mem *end, sd_mem_pump pump, void *ctx);
/* Fetch and clear pending line/cfg/break events seen at this end. */
SD_API unsigned sd_mem_events(sd_mem *end);
/* Bytes waiting at this end. */
SD_API size_t sd_mem_pending(const sd_mem *end);

/* ---- fault: wraps any link --------------------------------------------- */

#define SD_FLOOD_RANDOM 0u
#define SD_FLOOD_TEXT   1u
#define SD_FLOOD_ZERO   2u
#define SD_FLOOD_FF     3u

typedef struct sd_fault_cfg {
	double   ber;             /* bit error rate applied to bytes read */
	double   ber_tx;          /* bit error rate applied to bytes written */
	double   drop;            /* probability a read byte is lost */
	double   dup;             /* probability a read byte is doubled */
	uint32_t seed;            /* PRNG seed: same seed, same faults */
	size_t   flood_before;    /* garbage bytes read before the first real byte */
	size_t   flood_after;     /* garbage bytes read after the inner link goes quiet */
	unsigned flood_kind;      /* SD_FLOOD_* */
	sd_time  delay;           /* latency: each byte read arrives this much later (a delay
				     line: the device is not stalled) */
	int      echo;            /* bytes written are read back (loopback) */
	uint64_t disconnect_after;/* after this many bytes (both ways) the link closes; 0 = never */
	uint64_t hang_after;      /* after this many bytes read since the first write, nothing
				     more is read (a device hung mid-session; the port stays
				     open); 0 = never */
	sd_line_cfg device;       /* the device's own line settings; baud 0 = same as host.
				     When it differs from the host's, bytes read are resampled
				     bit by bit through the UART model (uart.h). */
} sd_fault_cfg;

/* Wrap inner (ownership passes to the fault link: closing it closes inner).
 * The fault link's clock is inner's. */
SD_API int sd_link_open_fault(sd_link *inner, const sd_fault_cfg *cfg, sd_link **out);

#endif /* SD_FREESTANDING */

#ifdef __cplusplus
}
#endif
#endif
