/*
 * shakedown — the one private header every library .c includes.
 * Cross-file internal names are sdi_*; nothing here is installed.
 */
#ifndef SHAKEDOWN_INTERNAL_H
#define SHAKEDOWN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SDI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SDI_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SDI_MAX(a, b) ((a) > (b) ? (a) : (b))
/* sd_link_drain's stack buffer: a microcontroller's stack is small. */
#ifdef SD_FREESTANDING
#define SDI_DRAIN_BUF 16
#define SDI_DRAIN_MAX INT16_MAX /* int may be 16 bits (AVR) */
#else
#define SDI_DRAIN_BUF 256
#define SDI_DRAIN_MAX (1 << 30)
#endif

#ifdef SD_FREESTANDING
/* The engine layer alone (core run/link/expect and the compact protocol
 * clients): only the headers it needs, none that hold text or the OS. */
#include "shakedown/error.h"
#include "shakedown/clock.h"
#include "shakedown/line.h"
#include "shakedown/link.h"
#include "shakedown/engine.h"
#include "shakedown/diag.h"
#include "shakedown/client.h"
#else
#include "shakedown/shakedown.h"

/* Bounded formatting into a fixed buffer; always NUL-terminates. */
void sdi_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sdi_vfmt(char *buf, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Append to a NUL-terminated buffer, truncating safely. */
void sdi_append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set l->why and return err (for backends' error exits). */
int sdi_link_fail(sd_link *l, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Small deterministic PRNG (xorshift32) for faults and simulators. */
static inline uint32_t sdi_rand(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}
/* A well-spread PRNG state from any seed (splitmix32's finaliser): small
 * seeds such as 1..10 would otherwise start xorshift32 on tiny outputs,
 * which at any bit-error rate flip the first bytes of every run. */
static inline uint32_t sdi_seed(uint32_t seed)
{
	uint32_t z = seed + 0x9e3779b9u;
	z = (z ^ (z >> 16)) * 0x85ebca6bu;
	z = (z ^ (z >> 13)) * 0xc2b2ae35u;
	z ^= z >> 16;
	return z ? z : 0x9e3779b9u;
}
/* Uniform in [0,1). */
static inline double sdi_rand01(uint32_t *s)
{
	return (double)(sdi_rand(s) >> 8) / (double)(1u << 24);
}

/* Printable ASCII or common whitespace (\t \r \n). */
static inline int sdi_is_text(uint8_t b)
{
	return (b >= 0x20 && b < 0x7f) || b == '\t' || b == '\r' || b == '\n';
}

/* ---- classify: byte-stream helpers the protocols' diagnose hooks share ---- */
/* First occurrence of the C string s in b[0..n), or NULL. */
const uint8_t *sdi_find(const uint8_t *b, size_t n, const char *s);
/* Non-overlapping occurrences of s in b[0..n). */
size_t sdi_count_of(const uint8_t *b, size_t n, const char *s);
/* Bytes of b that are printable text (sdi_is_text). */
size_t sdi_text_count(const uint8_t *b, size_t n);

/* ---- xact: one exchange, the building block of the sessions (xact.c) ----
 * Applies a few control steps (lines, pauses, settings, a flush, a drain),
 * writes a frame, then feeds what comes back to a parser until it is
 * satisfied, the first byte is late (`wait`), the next byte is late
 * (`more`) or a hard cap passes. It never sends anything else: a retry is a
 * new exchange decided by the session. Protocol-free (STM32, ESP). */
enum { SDI_XR_DONE = 1, SDI_XR_TIMEOUT, SDI_XR_BAD, SDI_XR_LINK };
/* 1 done, 0 more, <0 bad */
typedef int (*sdi_xact_feed)(void *arg, const uint8_t *b, size_t n);
#define SDI_XACT_MAXCTRL (SD_SEQ_MAX + 4)
typedef struct sdi_xact {
	sd_engine      eng;
	sd_ctrl        ctrl[SDI_XACT_MAXCTRL]; /* WAIT .duration and DRAIN .until are
						  relative here, made absolute when served */
	size_t         nctrl, ci;
	const uint8_t *tx;
	size_t         txn, txoff;
	sdi_xact_feed  feed;
	void          *arg;
	sd_time        wait, more, cap;
	sd_deadline    end;
	sd_time        t_sent, t_first, t_done; /* frame out, first byte in, parser satisfied */
	int            got_any, result, err, lines_err;
	int            err_in_ctrl; /* err came from a control step (a line change, a flush) */
	int            out_of_time; /* the overall deadline ended the last exchange */
	uint8_t        buf[256];
} sdi_xact;
/* Run one exchange on l within `overall`; SDI_XR_*. feed NULL: no answer
 * awaited (controls and frame only). x->err holds a link error (XR_LINK),
 * x->err_in_ctrl whether a control step met it, x->lines_err a refused
 * DTR/RTS change. */
int sdi_xact_run(sdi_xact *x, sd_link *l, sd_deadline overall, const sd_ctrl *ctrl, size_t nctrl,
		 const uint8_t *tx, size_t txn, sdi_xact_feed feed, void *arg, sd_time wait, sd_time more,
		 sd_time cap);

/* ---- uri: serial line keys (baud, data, parity, stop, flow) into cfg ---- */
int sdi_line_cfg_from_kv(const sd_kv *kv, size_t n, sd_line_cfg *cfg, char *why, size_t whylen);

/* ---- link: poll()-based fd I/O with deadlines (src/link/fdio.c) ---- */
int sdi_fd_errno(sd_link *l, int err, const char *what);
int sdi_fd_wait(sd_link *l, int fd, short events, sd_deadline dl);
/* drained (may be NULL): the link's memory of whether its last read
 * emptied the kernel's buffer; if so the next read waits first. */
int sdi_fd_read(sd_link *l, int fd, uint8_t *buf, size_t len, sd_deadline dl, int sock,
		int *drained);
int sdi_fd_write(sd_link *l, int fd, const uint8_t *buf, size_t len, sd_deadline dl, int sock);
/* TCP connect to host:port before dl (src/link/tcp.c): SD_OK and *fd
 * (non-blocking, TCP_NODELAY), or an sd_err and a one-line reason. */
int sdi_tcp_connect(sd_link *l, const char *host, const char *port, sd_deadline dl, int *fd,
		    char *why, size_t whylen);
/* The host a TCP link was opened for (sd_link_open_tcp), NULL for any
 * other link. */
const char *sdi_tcp_host(const sd_link *l);
/* rfc2217://host:port?key=value (src/link/rfc2217.c) */
int sdi_link_open_rfc2217(const char *host, const char *port, const sd_kv *q, size_t nq,
			  const sd_line_cfg *cfg, const sd_clock *clock, sd_deadline dl,
			  sd_link **out, char *why, size_t whylen);
/* termios for a tty fd: raw, cfg applied as far as the tty allows; clears
 * SD_LINK_PARITY in l->caps when the tty silently drops parity (a pty). */
int sdi_tty_apply(sd_link *l, int fd, const sd_line_cfg *cfg);
/* usb:VID:PID[@BUS.ADDR] through libusb (src/link/usb.c; UNSUPPORTED when
 * built without SD_WITH_LIBUSB). */
int sdi_link_open_usb(const char *path, const sd_kv *q, size_t nq, const sd_clock *clock,
		      sd_link **out, char *why, size_t whylen);
/* libusb-1.0, loaded with dlopen on first use (src/link/usb.c): SD_OK, or
 * SD_ERR_UNSUPPORTED and why (not installed, too old, or a build without
 * SD_WITH_LIBUSB). Safe to call again; loads once. */
int sdi_usb_load(char *why, size_t whylen);
/* Every USB device libusb sees, into out[0..cap): VID:PID, bus, address,
 * physical port path, serial_driver -1; with want_strings, the strings of
 * those the user may open. More than cap: counted in *cut (may be NULL).
 * SD_OK, or an sd_err and why (libusb absent, no USB access). */
int sdi_usb_enumerate(sd_usb_device *out, size_t cap, size_t *n, size_t *cut, int want_strings,
		      char *why, size_t whylen);
/* ---- env: what Linux's sysfs says of a USB device (src/env/ports.c) ---- */
/* From root/PATH (root is /sys/bus/usb/devices; tests pass a recorded
 * tree): the strings d lacks, and the driver of the first of its
 * interfaces (PATH:CONFIG.IFACE/driver) that has one. 1 when root knows
 * the device, else 0 (d untouched). */
int sdi_usb_sysfs_fill(const char *root, sd_usb_device *d);

/* ---- env: a worker pool (src/env/pool.c) ---- */
typedef void (*sdi_pool_fn)(void *ctx, size_t index);
/* Run fn(ctx, i) for i in 0..n-1 on at most `jobs` threads; returns when
 * all are done. SD_ERR_IO / SD_ERR_NOMEM if no worker could start. */
int sdi_pool_run(unsigned jobs, size_t n, sdi_pool_fn fn, void *ctx);
/* One process-wide lock, to serialise callbacks from workers. */
void sdi_pool_lock(void);
void sdi_pool_unlock(void);

/* ---- proto: the protocol table's rows, one per src/proto/<p>.c ---- */
extern const sd_proto sdi_proto_stk500;
extern const sd_proto sdi_proto_stm32;
extern const sd_proto sdi_proto_mtk;
extern const sd_proto sdi_proto_esp;
extern const sd_proto sdi_proto_tls;
/* Write one line into out and return `likely` (for explain hooks). */
int sdi_say(char *out, size_t outlen, int likely, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* tx ends with want[0..n). */
int sdi_sent_is(const uint8_t *tx, size_t tx_len, const uint8_t *want, size_t n);

/* ---- sim: the device kinds, one per src/sim/<kind>_sim.c ---- */
extern const sd_sim_kind sdi_sim_app;
/* Decode a `text=` option (\r \n \t \\ \0 \xHH) into out; the length,
 * or -1 for a bad escape or more than cap bytes. */
int sdi_sim_unescape(const char *s, uint8_t *out, size_t cap);
extern const sd_sim_kind sdi_sim_stm32;
extern const sd_sim_kind sdi_sim_stk500;
extern const sd_sim_kind sdi_sim_mtk;
extern const sd_sim_kind sdi_sim_esp;

/* ---- diag: the TLS diagnosis (src/diag/tls_*.c) ---- */
/* The scan's certificate record, marked as read (tls_scan.c). */
sd_tls_cert *sdi_tls_scan_cert_slot(sd_tls_scan *s);
sd_tls_policy_result *sdi_tls_scan_policy_slot(sd_tls_scan *s);
/* An OpenSSL cipher string expanded by libssl (tls_cert.c): the TLS <= 1.2
 * suites in its order. SD_OK, SD_ERR_ARG, SD_ERR_UNSUPPORTED (no libssl). */
int sdi_tls_expand_ciphers(const char *list, uint16_t *out, size_t max, size_t *n, char *why, size_t whylen);
/* The certificate check of a TLS target into the scan's record (version
 * 0 = the highest both speak), then its findings into rep (tls_cert.c;
 * called by sd_tls_diagnose, the read possibly in a thread of its own). */
int sdi_tls_cert_read(sd_tls_scan *s, const sd_tls_diag_cfg *cfg, uint16_t version, char *why, size_t whylen);
void sdi_tls_cert_findings(sd_tls_scan *s, int rc, const char *why, sd_report *rep);
uint16_t sdi_tls_best_version(const sd_tls_scan *s);
/* TLS on connect vs STARTTLS confused: the fix names the port and the mode
 * (src/diag/tls_starttls.c). st: the dialog that failed, or NULL. 1 when
 * it said so. */
int sdi_starttls_advise(sd_report *rep, int proto, const char *port, const char *service,
			const sd_starttls_result *st);

#endif /* SD_FREESTANDING */

#endif
