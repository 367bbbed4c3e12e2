/*
 * shakedown — Telnet stream decoding and RFC 2217 (Telnet Com Port Control)
 * values, sans I/O.
 *
 * Sources: RFC 854 (IAC, commands, subnegotiation), RFC 856 (BINARY),
 * RFC 2217 (COM-PORT-OPTION 44, its subnegotiation codes; a server answers
 * client code N with N + 100 and the value it really uses).
 *
 * sd_telnet_feed() splits a received byte stream into data bytes (IAC IAC
 * undoubled) and events (a negotiation, a single command, a finished
 * subnegotiation). It keeps at most SD_TELNET_SB_MAX bytes of one
 * subnegotiation: a longer or malformed one is an error (SD_ERR_PROTO, with
 * a reason), never an unbounded buffer. The decoder is caller-allocated and
 * holds no pointers; errors are sticky until sd_telnet_init().
 */
#ifndef SHAKEDOWN_TELNET_H
#define SHAKEDOWN_TELNET_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 854 */
#define SD_TN_IAC  0xFFu
#define SD_TN_DONT 0xFEu
#define SD_TN_DO   0xFDu
#define SD_TN_WONT 0xFCu
#define SD_TN_WILL 0xFBu
#define SD_TN_SB   0xFAu
#define SD_TN_SE   0xF0u
/* options */
#define SD_TN_OPT_BINARY  0u   /* RFC 856 */
#define SD_TN_OPT_ECHO    1u   /* RFC 857 */
#define SD_TN_OPT_SGA     3u   /* RFC 858 */
#define SD_TN_OPT_COMPORT 44u  /* RFC 2217 */

/* RFC 2217 client -> server subnegotiation codes (server: + 100) */
#define SD_CPO_SIGNATURE      0u
#define SD_CPO_SET_BAUDRATE   1u
#define SD_CPO_SET_DATASIZE   2u
#define SD_CPO_SET_PARITY     3u
#define SD_CPO_SET_STOPSIZE   4u
#define SD_CPO_SET_CONTROL    5u
#define SD_CPO_NOTIFY_LINESTATE  6u
#define SD_CPO_NOTIFY_MODEMSTATE 7u
#define SD_CPO_FLOW_SUSPEND   8u
#define SD_CPO_FLOW_RESUME    9u
#define SD_CPO_SET_LINESTATE_MASK  10u
#define SD_CPO_SET_MODEMSTATE_MASK 11u
#define SD_CPO_PURGE_DATA     12u
#define SD_CPO_SERVER         100u /* added by the server to every code */
/* SET-CONTROL values (RFC 2217 section 3) */
#define SD_CPO_CTL_FLOW_NONE    1u
#define SD_CPO_CTL_FLOW_XONXOFF 2u
#define SD_CPO_CTL_FLOW_HW      3u
#define SD_CPO_CTL_BREAK_ON     5u
#define SD_CPO_CTL_BREAK_OFF    6u
#define SD_CPO_CTL_DTR_ON       8u
#define SD_CPO_CTL_DTR_OFF      9u
#define SD_CPO_CTL_RTS_ON       11u
#define SD_CPO_CTL_RTS_OFF      12u
/* PURGE-DATA values */
#define SD_CPO_PURGE_RX   1u  /* the access server's receive buffer (device -> us) */
#define SD_CPO_PURGE_TX   2u
#define SD_CPO_PURGE_BOTH 3u

#define SD_TELNET_SB_MAX 64u  /* the longest subnegotiation kept (option byte included) */

typedef enum sd_telnet_ev_kind {
	SD_TN_EV_NONE = 0,
	SD_TN_EV_OPTION,  /* cmd = WILL/WONT/DO/DONT, opt */
	SD_TN_EV_COMMAND, /* cmd = a single command (NOP, BRK, AYT, DM, GA ...) */
	SD_TN_EV_SUBNEG   /* opt, data/len = the payload after the option byte, undoubled */
} sd_telnet_ev_kind;

typedef struct sd_telnet_ev {
	int            kind;   /* sd_telnet_ev_kind */
	uint8_t        cmd, opt;
	const uint8_t *data;   /* points into the decoder: valid until the next feed */
	size_t         len;
} sd_telnet_ev;

typedef struct sd_telnet {
	uint8_t  state;
	uint8_t  cmd;
	uint8_t  sb[SD_TELNET_SB_MAX];
	size_t   sb_len;
	int      err;          /* sticky: 0 or SD_ERR_PROTO */
	char     why[96];
	uint64_t data_bytes, commands;
} sd_telnet;

SD_API void sd_telnet_init(sd_telnet *t);

/* Decode in[0..n): data bytes go to out (at most outcap); decoding stops
 * after one event (returned in *ev, kind NONE if none) or when out is
 * full. Returns the number of input bytes consumed (>= 0; < n when it
 * stopped early: call again with the rest), or SD_ERR_PROTO (t->why says
 * why: a subnegotiation longer than SD_TELNET_SB_MAX, IAC followed by a
 * byte that is neither IAC nor SE inside one, a subnegotiation without an
 * option byte). *outlen gets the data byte count. */
SD_API int sd_telnet_feed(sd_telnet *t, const uint8_t *in, size_t n, uint8_t *out, size_t outcap,
			  size_t *outlen, sd_telnet_ev *ev);

/* Escape data for sending: every 0xFF doubled. Writes at most outcap bytes
 * and consumes input up to what fits whole; returns the bytes written and
 * sets *used to the input consumed. */
SD_API size_t sd_telnet_escape(const uint8_t *in, size_t n, uint8_t *out, size_t outcap,
			       size_t *used);

/* Build IAC cmd opt (3 bytes) into out; returns 3. */
SD_API size_t sd_telnet_option(uint8_t *out, uint8_t cmd, uint8_t opt);
/* Build IAC SB 44 code value... IAC SE with 0xFF in the value doubled; returns
 * the length, or 0 if it does not fit outcap (at most 6 + 2 * vlen). */
SD_API size_t sd_telnet_comport(uint8_t *out, size_t outcap, uint8_t code, const uint8_t *val,
				size_t vlen);

/* "SET-BAUDRATE", "NOTIFY-MODEMSTATE" ... for a client or server code
 * (server codes map to the same name); NULL for an unknown code. */
SD_API const char *sd_telnet_comport_name(unsigned code);

/* True when the first bytes of a stream look like a Telnet server's
 * negotiation (IAC WILL/WONT/DO/DONT <opt> or IAC SB): n >= 3. */
SD_API int sd_telnet_looks_like(const uint8_t *b, size_t n);

#ifdef __cplusplus
}
#endif
#endif
