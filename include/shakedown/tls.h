/*
 * shakedown — the TLS prober: raw ClientHellos, a bounded parser of what the
 * server sends back, and the enumeration strategy ("offer everything still
 * untested, drop what the server picks, repeat").
 *
 * Nothing here does crypto or I/O: hellos are built into caller buffers, the
 * parser reads caller buffers, the enumerator is a state machine that says
 * which hello to send next and learns from each answer. The probe engine
 * (sd_tls_probe) is an sd_engine that sends one hello and reads the answer,
 * for sd_run over a tcp link. Nothing allocates.
 *
 * Sources: RFC 8446 (TLS 1.3) 4.1-4.2, RFC 5246 (TLS 1.2) 7.4, RFC 6101
 * (SSLv3), RFC 8422 (ECC), RFC 7685 (padding), RFC 6066 (SNI), RFC 7301
 * (ALPN), IANA TLS parameters registries. docs/protocols/tls.md.
 */
#ifndef SHAKEDOWN_TLS_H
#define SHAKEDOWN_TLS_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/engine.h"
#include "shakedown/diag.h"
#include "shakedown/transcript.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_TLS_SSL3  0x0300u
#define SD_TLS_TLS10 0x0301u
#define SD_TLS_TLS11 0x0302u
#define SD_TLS_TLS12 0x0303u
#define SD_TLS_TLS13 0x0304u

/* ---- names ------------------------------------------------------------- */

typedef struct sd_tls_suite {
	uint16_t    id;       /* IANA code point */
	const char *iana;     /* "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" */
	const char *openssl;  /* "ECDHE-RSA-AES256-GCM-SHA384"; NULL when OpenSSL has none */
} sd_tls_suite;

/* The whole IANA registry of assigned suites (signalling values included). */
SD_API size_t sd_tls_suite_count(void);
SD_API const sd_tls_suite *sd_tls_suite_at(size_t i);
/* NULL for an unassigned code point. */
SD_API const sd_tls_suite *sd_tls_suite_find(uint16_t id);
/* "x25519", "secp256r1", "ffdhe2048" ... (IANA names), or NULL. */
SD_API const char *sd_tls_group_name(uint16_t group);
/* "SSLv3", "TLSv1.0" ... "TLSv1.3", or NULL. */
SD_API const char *sd_tls_version_name(uint16_t v);

/* ---- ClientHello ------------------------------------------------------- */

/* A hello fits one record; bigger lists fail with SD_ERR_OVERFLOW. */
#define SD_TLS_HELLO_MAX (16384u + 5u)

typedef struct sd_tls_hello_cfg {
	uint16_t        version;   /* the one version offered (SD_TLS_SSL3..TLS13) */
	const uint16_t *suites;    /* in preference order; any code points */
	size_t          nsuites;
	const uint16_t *groups;    /* supported_groups (TLS 1.0+); NULL = none */
	size_t          ngroups;
	const uint16_t *shares;    /* TLS 1.3 key_share entries; 0 = an empty list,
				      which asks the server to name its group (HRR) */
	size_t          nshares;
	const uint16_t *sigalgs;   /* TLS 1.2+; NULL = a broad default list */
	size_t          nsigalgs;
	const char     *sni;       /* host name; NULL, "" or an IP literal = none */
	const char     *alpn;      /* comma-separated protocols ("h2,http/1.1"); NULL = none */
	size_t          pad_to;    /* pad the record to at least this many bytes (RFC 7685);
				      0 = only pad a hello of 256..511 bytes to 517 (F5 bug) */
	uint32_t        seed;      /* client random and key-share bytes */
} sd_tls_hello_cfg;

/* Build the record (header included) into buf. Key shares are syntactically
 * valid: random X25519/X448 keys, the curve's generator for the NIST curves,
 * y = 2 for the FFDHE groups (enough to be accepted for a ServerHello; we
 * never finish a handshake). Returns the length, or SD_ERR_ARG (bad version,
 * no suites, a share for a group we cannot encode), SD_ERR_OVERFLOW. */
SD_API int sd_tls_hello_build(const sd_tls_hello_cfg *c, uint8_t *buf, size_t cap);

/* ---- what the server sent ----------------------------------------------- */

typedef enum sd_tls_answer {
	SD_TLS_MORE = 0,     /* nothing decided yet: read more */
	SD_TLS_HELLO,        /* a ServerHello */
	SD_TLS_HRR,          /* a HelloRetryRequest (TLS 1.3) */
	SD_TLS_ALERT,        /* an alert before any ServerHello */
	SD_TLS_NOT_TLS,      /* the first bytes are no TLS record */
	SD_TLS_MALFORMED     /* TLS-looking records that break the rules (why says which) */
} sd_tls_answer;

#define SD_TLS_GOT_CERT 0x01u  /* Certificate (TLS <= 1.2) */
#define SD_TLS_GOT_SKE  0x02u  /* ServerKeyExchange */
#define SD_TLS_GOT_DONE 0x04u  /* ServerHelloDone */
#define SD_TLS_GOT_CCS  0x08u  /* ChangeCipherSpec or encrypted records after the hello */
#define SD_TLS_CUT      0x10u  /* the flight outgrew the scratch buffer */

typedef struct sd_tls_server {
	int      answer;          /* sd_tls_answer */
	int      complete;        /* 1: nothing more to wait for */
	uint16_t record_version;  /* of the first record */
	uint16_t version;         /* negotiated (supported_versions when present) */
	uint16_t suite;
	uint16_t group;           /* key_share, HRR selected_group or SKE named curve; 0 = none */
	uint8_t  compression;
	uint8_t  alert_level;     /* of the first alert seen */
	uint8_t  alert_desc;
	int      alert_seen;
	unsigned got;             /* SD_TLS_GOT_* */
	size_t   ncerts;          /* certificates in the chain */
	size_t   cert0_len;       /* DER length of the first */
	size_t   used;            /* bytes of input read */
	char     why[120];        /* MALFORMED: the rule broken */
} sd_tls_server;

/* Parse the bytes a server sent so far (b[0..n), from the first byte). With
 * want_flight SD_TLS_FLIGHT_ALL, a TLS <= 1.2 answer is complete only at
 * ServerHelloDone (or an alert / the end of what the scratch buffer holds);
 * with SD_TLS_FLIGHT_CURVE only as far as the curve: at the ServerHello of a
 * pick that is no ECDHE suite, at the ServerKeyExchange of one that is;
 * with 0 at the ServerHello. hs is scratch for reassembling handshake messages across
 * records (4096 bytes is enough for a hello; 64 KiB for most chains).
 * Stateless: call again with more bytes. Returns out->answer. */
#define SD_TLS_FLIGHT_ALL   1
#define SD_TLS_FLIGHT_CURVE 2
#define SD_TLS_FLIGHT_EE    3 /* a TLS 1.3 ServerHello: on to the first encrypted record */
SD_API int sd_tls_parse(const uint8_t *b, size_t n, int want_flight,
			uint8_t *hs, size_t hscap, sd_tls_server *out);

/* ---- TLS 1.3: the server's own group list ------------------------------ */

/* After a TLS 1.3 ServerHello that took one of our P-256/384/521 shares
 * (which sd_tls_hello_build makes the curve's base point: private key 1),
 * read the supported_groups of the server's EncryptedExtensions: hello is
 * our ClientHello record, rx what the server sent from its first byte to at
 * least the first encrypted record; scratch (SD_TLS_RX_CAP is always
 * enough) holds the transcript and then the plaintext. Returns 1 with the list in the
 * server's order, 0 when its EncryptedExtensions has none, SD_ERR_PROTO for
 * bytes that break the rules (or fail to decrypt), SD_ERR_UNSUPPORTED for a
 * CCM suite or no libcrypto, SD_ERR_ARG when the share taken is not one of
 * ours, SD_ERR_NOMEM when scratch is too small. libcrypto is loaded at the first call. */
SD_API int sd_tls13_listed_groups(const uint8_t *hello, size_t hello_len, const uint8_t *rx,
				  size_t rx_len, uint8_t *scratch, size_t scratch_cap,
				  uint16_t *groups, size_t max, size_t *count);
/* Load libcrypto and make its first calls now: about 2 ms of CPU that
 * sd_tls13_listed_groups otherwise pays at its first call. Meant for a
 * thread of its own while the probes run. SD_OK or SD_ERR_UNSUPPORTED. */
SD_API int sd_tls_crypto_prepare(void);
/* The parser of the decrypted EncryptedExtensions message (m[0] = 8): 1 and
 * the list, 0 without supported_groups, SD_ERR_PROTO. */
SD_API int sd_tls13_ee_groups(const uint8_t *m, size_t n, uint16_t *groups, size_t max, size_t *count);

/* ---- one probe as an engine --------------------------------------------- */

#define SD_TLS_RX_CAP (64u * 1024u)
#define SD_TLS_MAX_GROUPS  48u

typedef struct sd_tls_probe {
	sd_engine      base;        /* first: the driver sees an sd_engine */
	const uint8_t *hello;
	size_t         hello_len;
	int            want_flight;
	sd_time        wait;        /* the whole probe's time, from START (absolute) */
	uint8_t       *rx;          /* caller's buffers: rx_cap received bytes, hs scratch */
	size_t         rx_cap, rx_len;
	uint8_t       *hs;
	size_t         hs_cap;
	int            sent;
	int            timed_out;   /* the server went quiet before the answer was complete */
	int            closed;      /* the server closed (or reset) the connection */
	int            link_err;    /* the link error that ended it, if any */
	int            lingering;   /* not TLS: reading the rest of a banner */
	sd_deadline    linger_until;
	sd_tls_server  srv;
	/* with SD_TLS_FLIGHT_EE: the groups of the server's EncryptedExtensions
	 * (sd_tls13_listed_groups: listed_rc 1 = found) */
	int            listed_rc;
	uint16_t       listed[SD_TLS_MAX_GROUPS];
	size_t         nlisted;
	/* time: the probe has one absolute deadline, started + wait, which
	 * bytes that trickle in never move (a server that drips its answer
	 * costs `wait`, not `wait` per byte) */
	sd_time        started;     /* clock at START */
	sd_time        ended;       /* clock when it ended (0 = still running) */
	sd_deadline    until;       /* started + wait */
	int            cut;         /* the caller's overall deadline stopped it
				       (sd_tls_probe_finish), not `wait` */
} sd_tls_probe;

SD_API void sd_tls_probe_init(sd_tls_probe *p, const uint8_t *hello, size_t hello_len,
			      int want_flight, sd_time wait, uint8_t *rx, size_t rx_cap,
			      uint8_t *hs, size_t hs_cap);
/* Call after sd_run(&p->base, ...) with its result: when the run's overall
 * deadline stopped the probe before it ended on its own (run_rc
 * SD_ERR_TIMEOUT), marks it timed out and `cut`, and stamps `ended`, so
 * that what it received and how long it took are told as measured. */
SD_API void sd_tls_probe_finish(sd_tls_probe *p, int run_rc, const sd_clock *clock);
/* Milliseconds the probe ran (START to its end). */
SD_API uint32_t sd_tls_probe_ms(const sd_tls_probe *p);

/* Check the names a user asks to send, before any connection: sni (NULL =
 * none) at most 255 bytes without control characters or blanks; alpn (NULL
 * = none) a comma-separated list of 1..255-byte protocols, at most
 * SD_TLS_ALPN_MAX bytes in all. SD_OK, or SD_ERR_ARG with why filled in
 * (one line). */
#define SD_TLS_ALPN_MAX 1024u
SD_API int sd_tls_names_check(const char *sni, const char *alpn, char *why, size_t whylen);

/* ---- enumeration -------------------------------------------------------- */

#define SD_TLS_NVERSIONS   5u
#define SD_TLS_MAX_ACCEPT  96u
#define SD_TLS_MAX_OFFER   512u

#define SD_TLS_ORDER_NONE   0  /* fewer than two suites */
#define SD_TLS_ORDER_SERVER 1
#define SD_TLS_ORDER_CLIENT 2

typedef struct sd_tls_vresult {
	uint16_t version;
	int      probed;           /* at least one probe went out, or implied_by says why not */
	uint16_t implied_by;       /* not probed: a higher version (TLS 1.1 or 1.0) was refused
				      with protocol_version, so a server that has this one
				      would have answered that hello with it (RFC 5246 E.1) */
	int      supported;
	uint16_t suites[SD_TLS_MAX_ACCEPT]; /* in pick order */
	size_t   nsuites;
	int      order;            /* SD_TLS_ORDER_* */
	uint16_t groups[SD_TLS_MAX_GROUPS]; /* in pick order */
	size_t   ngroups;
	int      groups_done;      /* no group left to find */
	int      groups_listed;    /* TLS 1.3: the groups are the server's own list (its
				      EncryptedExtensions), in its order */
	int      list_tried;       /* internal: the probe that asks for that list went out */
	int      order_done;       /* internal: the order probe has its answer */
	int      suites_pending;   /* internal: a refusal that may mean "no suite left"
				      or "no group left" (TLS 1.3 folds the group search
				      into the suite probes); the next probe tells */
	uint8_t  refusal_alert;    /* the alert that ended the suite pass (0 = none) */
	int      refusal;          /* how the last probe failed: SD_TLS_* answer, or -1 closed, -2 timeout */
	int      chunked;          /* the full list was refused oddly; chunks of SD_TLS_CHUNK went on */
	int      big_refusal;      /* then: how the full-list hello failed (as refusal) */
	uint8_t  big_alert;        /*       and its alert, if any */
	size_t   big_nsuites;      /*       with this many suites */
	/* the server broke the protocol on this version (its enumeration then
	 * stops: what such a server accepts cannot be trusted) */
	unsigned violations;       /* probes whose answer broke a rule */
	char     violation[120];   /* the first rule broken, in words */
	/* a probe ended by a deadline after part of an answer had come */
	size_t   stall_bytes;      /* bytes received before it (0 = none stalled) */
	uint32_t stall_ms;         /* how long that probe ran, measured */
	int      stall_cut;        /* 1: the overall deadline stopped it, 0: the probe's wait */
} sd_tls_vresult;

/* Suites per hello after a server refused the whole list in a way that is
 * not "no shared suite" (closed, reset, silence, decode_error ...): the
 * size nmap uses for every hello. */
#define SD_TLS_CHUNK 64u

typedef struct sd_tls_enum_cfg {
	const char *sni;
	unsigned    versions;      /* bit per version: 1<<0 SSLv3 .. 1<<4 TLS 1.3; 0 = all */
	int         no_groups;     /* skip the group passes */
	int         no_order;      /* skip the order probes */
	int         no_chunks;     /* never fall back to chunks of SD_TLS_CHUNK suites */
	const char *alpn;          /* ALPN list to send ("h2,http/1.1"), NULL = none */
	size_t      pad_to;        /* pad every hello record to this size (0 = RFC 7685 default) */
	uint32_t    seed;
	/* a share of the search, for enumerators that run side by side on
	 * parallel connections (tls_scan.c): only the candidate suites (or
	 * groups) whose index modulo parts (gparts) is part (gpart); 0 or 1
	 * part = all of them */
	unsigned    parts, part;
	unsigned    gparts, gpart;
	int         no_group_pass; /* leave the groups left after the suites to another */
} sd_tls_enum_cfg;

typedef struct sd_tls_enum {
	sd_tls_enum_cfg cfg;
	sd_tls_vresult  v[SD_TLS_NVERSIONS]; /* TLS 1.3 first, SSLv3 last */
	size_t          vi;        /* current version */
	int             phase;     /* internal */
	unsigned        probes;    /* hellos handed out */
	/* the probe handed out last (what the answer refers to) */
	uint16_t        offer[SD_TLS_MAX_OFFER];
	size_t          noffer;
	uint16_t        goffer[SD_TLS_MAX_GROUPS];
	size_t          ngoffer;
	sd_tls_hello_cfg hello;
	int             want_flight;
	int             greduced;  /* that probe offered only groups not yet found */
	uint16_t        share;     /* that probe's key share (TLS 1.3), 0 = none */
	/* what the very first answer was (service detection) */
	int             first_answer; /* sd_tls_answer, -1 closed, -2 timeout, -3 none yet */
	uint32_t        first_ms;  /* how long that first probe ran, measured */
	int             first_cut; /* the overall deadline stopped it */
	int             stop;      /* not TLS, or a server that stalls mid-answer:
				      stop after this probe */
	size_t          chunk;     /* chunked suite pass: the chunk being offered */
	int             job;       /* -1 a main enumerator, else its SD_TLS_JOB_* */
} sd_tls_enum;

SD_API void sd_tls_enum_init(sd_tls_enum *e, const sd_tls_enum_cfg *cfg);
/* The next hello to send: fills e->hello (pointing into e) and returns 1,
 * or 0 when the enumeration is finished. */
SD_API int sd_tls_enum_next(sd_tls_enum *e);
/* The answer to that hello: the parsed server bytes, or closed / timed out. */
SD_API void sd_tls_enum_feed(sd_tls_enum *e, const sd_tls_probe *p);
/* The result for a version, or NULL. */
SD_API const sd_tls_vresult *sd_tls_enum_result(const sd_tls_enum *e, uint16_t version);

/* A side enumerator for one version, seeded with what another one has
 * found there (known: its accepted suites and groups), that does one job
 * of that version's search on a connection of its own:
 *  SD_TLS_JOB_SUITES  the suites not known yet (of cfg's part);
 *  SD_TLS_JOB_ORDER   the order probe: the known suites reversed;
 *  SD_TLS_JOB_GROUPS  the groups not known yet (of cfg's gpart), offering
 *                     the known suites (TLS 1.3 first asks for the server's
 *                     list, see enum.c).
 * Its result for that version is merged by the caller (suites and groups
 * are sets; the order and the pick order are the main enumerator's). */
#define SD_TLS_JOB_SUITES 0
#define SD_TLS_JOB_ORDER  1
#define SD_TLS_JOB_GROUPS 2
SD_API void sd_tls_enum_init_job(sd_tls_enum *e, const sd_tls_enum_cfg *cfg, const sd_tls_vresult *known,
				 int job);
/* Whether e is still in its suite search of that version (not chunked):
 * what a split of that search (cfg.parts) can still speed up. */
SD_API int sd_tls_enum_searching(const sd_tls_enum *e, uint16_t version);
/* Fold what a side enumerator found into the main result of its version:
 * suites and groups as sets, the order from an order job, the first rule
 * broken. With the client's order the suites end in the order we offer
 * them, which is the order such a server picks them. */
SD_API void sd_tls_enum_merge(sd_tls_vresult *into, const sd_tls_enum *side);

/* ---- STARTTLS: the plaintext dialog before the hello ------------------- */

#define SD_STARTTLS_NONE     0
#define SD_STARTTLS_SMTP     1  /* RFC 3207: EHLO, STARTTLS, 220 */
#define SD_STARTTLS_IMAP     2  /* RFC 3501 6.2.1: CAPABILITY, STARTTLS, OK */
#define SD_STARTTLS_POP3     3  /* RFC 2595 4: CAPA, STLS, +OK */
#define SD_STARTTLS_FTP      4  /* RFC 4217 4: AUTH TLS, 234 */
#define SD_STARTTLS_POSTGRES 5  /* PostgreSQL protocol 53.2.10: SSLRequest, 'S' */
#define SD_STARTTLS_XMPP     6  /* RFC 6120 5.4: stream header, <starttls/>, <proceed/> */
#define SD_STARTTLS_XMPP_SERVER 7 /* the same, server to server (jabber:server, 5269) */
#define SD_STARTTLS_LDAP     8  /* RFC 4511 4.14, RFC 4513 3: ExtendedRequest 1.3.6.1.4.1.1466.20037 */
#define SD_STARTTLS_MYSQL    9  /* MySQL Handshake v10, CLIENT_SSL, SSLRequest */
#define SD_STARTTLS_COUNT    10

/* "smtp" (also "submission"), "imap", "pop3", "ftp", "postgres", "xmpp",
 * "xmpp-server", "ldap", "mysql": the SD_STARTTLS_* value, or -1. */
SD_API int sd_starttls_from_name(const char *name);
SD_API const char *sd_starttls_name(int proto);
/* The STARTTLS protocol usual on that port (25, 587: smtp; 143: imap;
 * 110: pop3; 21: ftp; 5432: postgres; 5222: xmpp; 5269: xmpp-server;
 * 389: ldap; 3306: mysql), else SD_STARTTLS_NONE. */
SD_API int sd_starttls_for_port(unsigned port);
/* The port where that protocol speaks TLS at once instead (smtp 465, imap
 * 993, pop3 995, ftp 990, xmpp 5223, ldap 636), or 0 when it has none. */
SD_API unsigned sd_starttls_tls_port(int proto);
/* The STARTTLS protocol whose TLS-on-connect port this is (465: smtp, 993:
 * imap, 995: pop3, 990: ftp, 5223: xmpp, 636: ldap), else SD_STARTTLS_NONE. */
SD_API int sd_starttls_for_tls_port(unsigned port);

/* The steps of a dialog: the greeting, the capability question, the
 * upgrade command's answer. */
#define SD_STARTTLS_STEP_GREETING 0
#define SD_STARTTLS_STEP_CAPA     1
#define SD_STARTTLS_STEP_UPGRADE  2

typedef struct sd_starttls_reply {
	int      complete;   /* 1: the reply is whole (else: read more) */
	int      ok;         /* the step succeeded (2xx/3xx greeting, OK, +OK, 234, 'S',
				<proceed/>, LDAP resultCode 0, a MySQL Handshake v10) */
	int      code;       /* the numeric code (SMTP, FTP), the LDAP resultCode, the
				MySQL error number of an ERR packet, else 0 */
	int      offered;    /* STEP_CAPA: the server lists STARTTLS / STLS / <starttls>;
				MySQL (at its greeting): CLIENT_SSL is set */
	size_t   used;       /* bytes of the reply */
	char     line[160];  /* its last line, printable (what to quote) */
} sd_starttls_reply;

/* Parse a server's reply at a step (b[0..n), from its first byte): fills
 * out and returns out->complete, or SD_ERR_PROTO for bytes that are no such
 * reply (a TLS record, binary, a line longer than 1000 bytes). Pure: no
 * I/O, no allocation; bounded by n. */
SD_API int sd_starttls_reply_parse(int proto, int step, const uint8_t *b, size_t n, sd_starttls_reply *out);

typedef struct sd_starttls_result {
	int      ok;         /* the server said go: TLS starts now */
	int      step;       /* the step that failed (SD_STARTTLS_STEP_*) */
	int      not_offered; /* the capabilities lack STARTTLS, or the command is unknown */
	int      link_err;   /* a link error ended it (0 = none); timeout = the server waited */
	sd_starttls_reply last; /* the server's last reply */
	uint8_t  rx[1024];   /* what the server sent in the failing step (evidence) */
	size_t   rx_len;
} sd_starttls_result;

/* Run the dialog on a fresh connection, every read before dl. SD_OK when
 * res->ok, else SD_ERR_NACK (refused or not offered: res says which and
 * quotes the server), SD_ERR_PROTO (not that protocol), or the link error.
 * XMPP's stream header names the host the link was opened for (a TCP link;
 * none on other links): sd_starttls_run_cfg names another. */
SD_API int sd_starttls_run(sd_link *l, int proto, sd_deadline dl, sd_starttls_result *res);

typedef struct sd_starttls_cfg {
	int         proto;   /* SD_STARTTLS_* */
	const char *domain;  /* XMPP: the stream header's to= (the SNI name, else the
				host); NULL = the TCP link's host. At most 255 bytes
				of [A-Za-z0-9.-] are sent; other names are refused
				with SD_ERR_ARG. */
} sd_starttls_cfg;

/* sd_starttls_run with the options above. @since 0.2 */
SD_API int sd_starttls_run_cfg(sd_link *l, const sd_starttls_cfg *cfg, sd_deadline dl, sd_starttls_result *res);

/* ---- the scan of one target (what `shakedown tls HOST` runs) ----------- */

typedef struct sd_tls_scan_cfg {
	const char     *host;        /* a name or an IP literal (no brackets) */
	const char     *port;        /* "443" */
	sd_tls_enum_cfg enm;         /* what to enumerate (versions 0 = all) */
	uint32_t        wait_ms;     /* one probe's absolute deadline; 0 = TLS_PROBE_WAIT_MS (3000) */
	uint32_t        delay_ms;    /* between two connections of the scan (all lanes); 0 = none */
	unsigned        parallel;    /* lanes probed at once (versions); 0 or 1 = one at a time */
	sd_time         budget;      /* the whole scan; 0 = 60 s (TLS_OVERALL_S) */
	int             budget_given; /* the user set budget (findings name --timeout then) */
	const sd_clock *clock;       /* NULL = sd_clock_real() */
	sd_transcript  *tap;         /* optional: every connection's bytes (use parallel 1) */
	const char     *tap_name;
	/* optional, called after each probe (from the worker that ran it):
	 * the version probed, the probe, its start and end from the scan's start */
	void          (*on_probe)(void *ctx, uint16_t version, const sd_tls_probe *p,
				  sd_time began, sd_time ended);
	void           *ctx;
	int             starttls;    /* SD_STARTTLS_*: every connection runs that dialog first */
} sd_tls_scan_cfg;

typedef struct sd_tls_scan sd_tls_scan;

/* Allocate a scan (sd_tls_scan_close frees it): SD_OK, SD_ERR_ARG (no host
 * or port, or too long), SD_ERR_NOMEM. Nothing is sent yet. */
SD_API int sd_tls_scan_open(sd_tls_scan **out, const sd_tls_scan_cfg *cfg);
/* The first connection, alone: it says what answers the port. Returns 1
 * when the versions are to be enumerated (then start sd_tls_scan_workers()
 * threads on sd_tls_scan_work, or call it once), 0 when that one connection
 * says it all, or the link error of the connection (why filled in). */
SD_API int sd_tls_scan_first(sd_tls_scan *s, char *why, size_t whylen);
/* How many workers are worth running (0 after sd_tls_scan_first said 0). */
SD_API size_t sd_tls_scan_workers(const sd_tls_scan *s);
/* Whether a TLS 1.3 group list will be read (sd_tls_crypto_prepare in a
 * thread of its own spares the probes its first-call cost). */
SD_API int sd_tls_scan_wants_crypto(const sd_tls_scan *s);
/* A worker: takes lanes not started yet and runs each to its end. Safe to
 * call from several threads at once; blocks within the scan's budget. */
SD_API void sd_tls_scan_work(sd_tls_scan *s);
/* After the workers: gathers the lanes' results. SD_OK, or the error of a
 * hello that could not be built (a bug of ours or of the cfg). */
SD_API int sd_tls_scan_finish(sd_tls_scan *s);
/* The findings into rep (initialised by the caller; rep->ok set); returns
 * the service: "tls", "http" ... "unknown", "silent", "closed", "reset". */
SD_API const char *sd_tls_scan_report(sd_tls_scan *s, sd_report *rep);
/* The results per version (every lane's folded in after finish). */
SD_API const sd_tls_enum *sd_tls_scan_enum(const sd_tls_scan *s);
SD_API unsigned sd_tls_scan_connections(const sd_tls_scan *s);
/* The longest chain of probes the scan made one after another (each began
 * after the one before it had ended): what its time costs in round trips. */
SD_API unsigned sd_tls_scan_chain(const sd_tls_scan *s);
/* The STARTTLS dialog that failed (NULL when none did): on the first
 * connection, or later (then the enumeration is incomplete). */
SD_API const sd_starttls_result *sd_tls_scan_starttls(const sd_tls_scan *s);
/* 0 when the budget ended the scan before its enumeration was done. */
SD_API int sd_tls_scan_complete(const sd_tls_scan *s);
SD_API void sd_tls_scan_close(sd_tls_scan *s);
/* The service sd_tls_scan_report named ("tls", "http" ...; "unknown" before). */
SD_API const char *sd_tls_scan_service(const sd_tls_scan *s);

/* ---- the certificate: one full handshake with OpenSSL 3 (libssl) -------- */

#define SD_TLS_CERT_ERRS 8u

typedef struct sd_tls_cert_cfg {
	const char     *host, *port;
	const char     *sni;       /* sent unless NULL or an IP literal */
	const char     *name;      /* checked against the SAN; NULL = sni, else host */
	const char     *ca_file;   /* PEM CAs to trust; NULL = the system's store */
	uint16_t        version;   /* the version to shake hands with (SD_TLS_TLS10..13);
				      0 = the highest both speak (OpenSSL negotiates it) */
	int             level;     /* the client's OpenSSL security level judged (0..5); -1 = 2 */
	uint32_t        wait_ms;   /* the whole handshake; 0 = 5000 */
	const sd_clock *clock;     /* NULL = sd_clock_real() */
	sd_transcript  *tap;       /* optional: the handshake's bytes */
	const char     *tap_name;
	int             starttls;  /* SD_STARTTLS_*: that dialog first */
} sd_tls_cert_cfg;

typedef struct sd_tls_cert {
	int      got;              /* 1: the server sent a chain (the fields below are set) */
	uint16_t version;          /* negotiated */
	char     suite[64];        /* OpenSSL name of the suite */
	char     handshake_error[160]; /* OpenSSL's reason when the handshake failed ("" = it completed) */
	size_t   nchain;           /* certificates the server sent */
	/* the server's own (first) certificate */
	char     subject[200], issuer[200];
	char     not_before[32], not_after[32]; /* "2024-02-01 00:00:00 UTC" */
	long     days_left;        /* whole days from now to notAfter (negative: expired that long ago) */
	long     days_to_start;    /* whole days from now to notBefore (> 0: not valid yet) */
	char     san[240];         /* "DNS:localhost, IP:127.0.0.1" ("" = no SAN) */
	char     key[16];          /* "RSA", "EC", "ED25519" ... */
	int      key_bits;
	int      key_security_bits;
	char     sigalg[48];       /* "sha256WithRSAEncryption" */
	int      self_signed;      /* issued by itself */
	int      is_ca;
	char     top_subject[200]; /* the last certificate sent, and its issuer */
	char     top_issuer[200];
	int      top_is_ca;
	char     name[256];        /* the name checked */
	int      name_ok;          /* the SAN (or CN when there is no SAN) names it */
	/* what OpenSSL's verification meets, in the order a client meets them
	 * (curl and Python stop at the first): X509_V_ERR_* codes, the depth in
	 * the chain, and OpenSSL's words */
	size_t   nerr;
	int      err[SD_TLS_CERT_ERRS];
	int      err_depth[SD_TLS_CERT_ERRS];
	char     err_text[SD_TLS_CERT_ERRS][80];
	char     trust[64];        /* "the system's trust store" or the --ca file's name */
	int      level;            /* the security level judged */
	int      client_cert_asked;   /* the server sent a CertificateRequest */
	int      client_cert_refused; /* and ended the handshake when none came */
	int      ocsp_stapled;     /* the server stapled an OCSP response (we ask for one) */
	int      ocsp_revoked;     /* and it says revoked, with a signature that verifies */
	char     ocsp[160];        /* "not stapled", "stapled: good (this update ..., next update ...;
				      signature valid)" */
	/* the staple's signature, checked with OCSP_basic_verify against the
	 * chain the server sent and the trust store in use (ca_file or the
	 * system's): SD_TLS_OCSP_SIG_* */
#define SD_TLS_OCSP_SIG_NONE     0  /* nothing stapled, or no basic response to check */
#define SD_TLS_OCSP_SIG_VALID    1  /* it verifies, by an authorised signer, for this certificate */
#define SD_TLS_OCSP_SIG_INVALID  2  /* it does not: ocsp_sig_error says why */
	int      ocsp_sig;
	char     ocsp_signer[200]; /* the signer's subject ("" when none was found) */
	char     ocsp_sig_error[120]; /* OpenSSL's reason, "signature failure", or ours
					 ("the response is for serial 0A, not the server's 01") */
	int      ocsp_stale;       /* its nextUpdate has passed (or thisUpdate is ahead of us) */
} sd_tls_cert;

/* One full handshake (libssl over memory BIOs, driven over a tcp link with
 * one deadline; OpenSSL verifies nothing during it, at security level 0, so
 * the chain comes whatever it holds), then the chain verified as a client of
 * that level would (trust store or ca_file, the name, the dates, key and
 * digest strength), every problem collected, not only the first.
 * SD_OK with out filled (out->got 0 and handshake_error set when no chain
 * came); the link error of the connection (why filled in);
 * SD_ERR_UNSUPPORTED without libssl.so.3 (why says so); SD_ERR_ARG. */
SD_API int sd_tls_cert_check(const sd_tls_cert_cfg *c, sd_tls_cert *out, char *why, size_t whylen);

/* ---- policy for CI: `--expect 'min=1.2,no-cbc,cert-days>=14'` ---------- */

/* Rules, separated by commas, blanks or new lines ('#' starts a comment to
 * the end of the line):
 *   min=V          no version below V is accepted (V: ssl3 1.0 1.1 1.2 1.3)
 *   tls13          TLS 1.3 is accepted
 *   no-cbc         no CBC suite is accepted, at any version
 *   no-rsa-kx      no static-RSA key exchange (TLS_RSA_WITH_*)
 *   pfs            every suite has forward secrecy (ECDHE, DHE or TLS 1.3)
 *   no-weak        no NULL, EXPORT, anon, RC4, DES or 3DES suite
 *   order=server   the server enforces its order at every version with two suites or more
 *   cert-valid     the chain verifies (as sd_tls_cert_check judges it)
 *   cert-days>=N   the certificate is valid N more days at least (0..36500)
 *   key-bits>=N    the certificate's key has N bits at least (RSA; EC keys count their
 *                  security bits twice, so 256 for P-256)
 * At most SD_TLS_POLICY_TEXT_MAX bytes. */
#define SD_TLS_POLICY_TEXT_MAX 4096u
#define SD_TLS_POLICY_DEV_MAX  24u

typedef struct sd_tls_policy {
	unsigned nrules;       /* rules parsed (a rule given twice counts once) */
	uint16_t min_version;  /* 0 = no min= rule */
	int      tls13, no_cbc, no_rsa_kx, pfs, no_weak, order_server, cert_valid;
	int      cert_days;    /* -1 = no cert-days rule */
	int      key_bits;     /* 0 = no key-bits rule */
} sd_tls_policy;

typedef struct sd_tls_deviation {
	char rule[24];         /* "min=1.2" as written canonically */
	char found[168];       /* what breaks it: "TLSv1.0 is accepted (3 suites)" */
} sd_tls_deviation;

typedef struct sd_tls_policy_result {
	size_t           n;    /* deviations (up to SD_TLS_POLICY_DEV_MAX kept) */
	size_t           more; /* deviations beyond those */
	sd_tls_deviation d[SD_TLS_POLICY_DEV_MAX];
} sd_tls_policy_result;

/* Parse the rules in s: SD_OK, or SD_ERR_ARG with why (one line naming the
 * rule and what is accepted). Never reads past SD_TLS_POLICY_TEXT_MAX bytes. */
SD_API int sd_tls_policy_parse(const char *s, sd_tls_policy *p, char *why, size_t whylen);
/* Judge an enumeration (and the certificate, NULL when none was read: every
 * cert- rule then deviates) against p. Returns the number of deviations
 * (out->n + out->more). */
SD_API size_t sd_tls_policy_check(const sd_tls_policy *p, const sd_tls_enum *e, const sd_tls_cert *c,
				  sd_tls_policy_result *out);
/* The deviations as one policy-deviation finding (a detail line each);
 * rep->ok becomes 0 when there is any. */
SD_API void sd_tls_policy_report(const sd_tls_policy_result *res, sd_report *rep);

/* ---- client fit: would this client get through? ------------------------ */

/* A client: what it offers and what it refuses. Profiles (sd_tls_client_profile)
 * are data with their source named (src/diag/tls_clients.def); the
 * --client-* options change one part of one (sd_tls_client_set). */
typedef struct sd_tls_client {
	char     name[32];
	char     source[640];       /* where the values come from */
	unsigned versions;          /* bit per version: 1<<0 SSLv3 .. 1<<4 TLS 1.3 */
	uint16_t suites[SD_TLS_MAX_OFFER]; /* TLS <= 1.2, in the client's order */
	size_t   nsuites;
	uint16_t suites13[8];       /* TLS 1.3 */
	size_t   nsuites13;
	uint16_t groups[SD_TLS_MAX_GROUPS];
	size_t   ngroups;
	uint16_t sigalgs[32];       /* TLS 1.2+ signature schemes; 0 entries = any the
				       certificate's key can use */
	size_t   nsigalgs;
	int      level;             /* OpenSSL security level, or -1 (not OpenSSL: no
				       level rules) */
	int      sni;               /* sends the server's name when it connects by name */
	char     cipher_words[200]; /* the client's own cipher setting (OpenSSL syntax)
				       a fix changes: "DEFAULT", "" when none */
	/* its certificate policy (0 = no rule): keys below these sizes and
	 * signatures with these hashes are refused, with the source named */
	int      min_rsa_bits;      /* RSA (and DSA) keys */
	int      min_ec_bits;       /* EC keys (the curve's size: 256 for P-256) */
	int      min_dh_bits;       /* DHE groups; stated, not judged (the enumeration
				       does not measure the server's DH size) */
	unsigned refused_hashes;    /* SD_TLS_HASH_* */
	char     cert_source[480];
} sd_tls_client;

/* Certificate signature hashes a client refuses (sd_tls_client.refused_hashes). */
#define SD_TLS_HASH_MD2         0x01u
#define SD_TLS_HASH_MD5         0x02u
#define SD_TLS_HASH_SHA1        0x04u
/* SHA-1 refused only in a chain that ends at a public root (Java's
 * "SHA1 jdkCA & usage TLSServer": a root of its cacerts). Judged as
 * refused when the chain was verified against the system store, accepted
 * when against a --ca file (a private CA). */
#define SD_TLS_HASH_SHA1_PUBLIC 0x08u

/* The profile of that name (default, openssl-level1, openssl-level0,
 * openssl-1.0.2, java8, tls10-embedded, python, curl, browser, mbedtls,
 * mbedtls-2.28, wolfssl; docs/tls-clients.md): SD_OK; SD_ERR_ARG
 * with why listing the names; SD_ERR_UNSUPPORTED when its cipher list must
 * be expanded by libssl.so.3 and that is missing. */
SD_API int sd_tls_client_profile(const char *name, sd_tls_client *out, char *why, size_t whylen);
/* The profile names, in order; NULL past the end. */
SD_API const char *sd_tls_client_profile_name(size_t i);
/* Change one part: what = "versions" ("1.2,1.3"), "ciphers" (OpenSSL cipher
 * string, expanded by libssl: "ECDHE+AESGCM:!aNULL"; TLS 1.3 names
 * "TLS_AES_128_GCM_SHA256" go to suites13), "groups" ("x25519:P-256" or
 * IANA names), "sigalgs" ("rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256").
 * SD_OK or SD_ERR_ARG with why. */
SD_API int sd_tls_client_set(sd_tls_client *c, const char *what, const char *value, char *why, size_t whylen);

typedef struct sd_tls_fit {
	int      ok;                /* 1: the handshake would complete */
	uint16_t version;           /* the version it would negotiate (0 = none) */
	uint16_t suite;             /* and the suite, and the group (0 = none) */
	uint16_t group;
	int      cause;             /* sd_cause of the mismatch (SD_CAUSE_OK when ok) */
	char     why[SD_SUMMARY_MAX];  /* the exact mismatch */
	char     fix[SD_FIX_MAX];      /* the smallest change, in that side's words */
	char     client_says[160];  /* what that client prints, when known */
	/* the certificate judged by the client's own policy (empty when no
	 * chain was read): the fields that decide, and the rule applied */
	char     cert[SD_SUMMARY_MAX];
} sd_tls_fit;

/* Decide from an enumeration (no new connection) whether client c gets
 * through: common version, then a common suite at the best common version,
 * a common group when the suite needs one, a signature it accepts (TLS 1.0
 * and 1.1 sign with MD5+SHA-1, refused by OpenSSL 3 from level 1),
 * SNI when the server requires it (sni_required), and the certificate
 * (cert, NULL = not judged): the errors every verifying client meets
 * (dates, name, trust), then the server's key size and signature hash
 * against the client's own policy (min_rsa_bits, min_ec_bits,
 * refused_hashes), not the level the chain was checked at; out->cert says
 * the fields and the rule. When the enumeration found no version accepted,
 * the mismatch comes from how the server refused the versions c offers:
 * unrecognized_name (or sni_required) SD_CAUSE_TLS_SNI_REQUIRED,
 * handshake_failure or insufficient_security SD_CAUSE_TLS_NO_SHARED_CIPHER,
 * protocol_version at every one SD_CAUSE_TLS_VERSION_MISMATCH; versions c
 * offers that were not probed give SD_CAUSE_UNKNOWN ("not judged"), no
 * answer at all SD_CAUSE_MIDDLEBOX_RESET or SD_CAUSE_TLS_ALERT (out->why
 * says which). Returns out->ok. */
SD_API int sd_tls_client_fit(const sd_tls_client *c, const sd_tls_enum *e, const sd_tls_cert *cert,
			     int sni_required, sd_tls_fit *out);

/* ---- middleboxes: one hello, then variants that change one thing -------- */

#define SD_TLS_VAR_PASS    0  /* a ServerHello or HelloRetryRequest came */
#define SD_TLS_VAR_ALERT   1  /* an alert came */
#define SD_TLS_VAR_RESET   2  /* the connection was reset */
#define SD_TLS_VAR_CLOSED  3  /* closed without a byte */
#define SD_TLS_VAR_SILENT  4  /* nothing within the wait */
#define SD_TLS_VAR_OTHER   5  /* bytes that are no TLS answer, or a partial one */
#define SD_TLS_VAR_NOCONN  6  /* the connection could not be opened */
#define SD_TLS_VARIANTS_MAX 6u

typedef struct sd_tls_variant {
	const char *name;       /* "baseline", "without SNI", "with ALPN", "over 512 bytes",
				   "in two records", "TLS 1.3" */
	const char *what;       /* for "drops hellos that ...": "carry the server name",
				   "offer ALPN h2,http/1.1" ... */
	size_t      hello_len;  /* bytes sent */
	int         outcome;    /* SD_TLS_VAR_* */
	uint8_t     alert;      /* SD_TLS_VAR_ALERT: its description */
	size_t      rx_len;     /* bytes received */
	uint32_t    ms;         /* measured */
} sd_tls_variant;

typedef struct sd_tls_variants_cfg {
	const char     *host, *port;
	const char     *sni;        /* the baseline carries it (when a name); one variant drops it */
	uint32_t        wait_ms;    /* each variant's deadline; 0 = 3000 */
	const sd_clock *clock;
	int             starttls;   /* SD_STARTTLS_* dialog first */
	uint32_t        seed;
} sd_tls_variants_cfg;

/* Send a small TLS 1.2 hello (the baseline, under 256 bytes) and variants
 * that change one thing each: no SNI (when the baseline has one), ALPN
 * h2,http/1.1, padded over 512 bytes, split over two records, TLS 1.3;
 * one connection each, one after the other. Returns how many were run
 * (into out, at most max). */
SD_API size_t sd_tls_variants_run(const sd_tls_variants_cfg *c, sd_tls_variant *out, size_t max);
/* Compare the variants with the baseline: a finding (middlebox-reset or
 * middlebox-size, or tls-alert) per difference, "something on the path
 * drops hellos that ...", the outcomes side by side in its detail. Returns
 * the number of findings added. */
SD_API size_t sd_tls_variants_report(const sd_tls_variant *v, size_t n, sd_report *rep);

/* ---- the diagnosis of one target (what `shakedown tls HOST` prints) ---- */

typedef struct sd_tls_diag_cfg {
	sd_tls_scan_cfg scan;      /* the target and what to enumerate; scan.parallel
				      lanes run in threads of their own */
	const char     *ca_file;   /* PEM file of trusted CAs; NULL = the system's store */
	const char     *name;      /* the name the client checks the certificate against;
				      NULL = scan.enm.sni, else scan.host */
	int             no_cert;   /* skip the certificate check (no full handshake) */
	const sd_tls_policy *expect; /* judge the server against it (NULL = no policy);
				      the result: sd_tls_scan_policy */
	const sd_tls_client *client; /* judge whether this client gets through (NULL = none) */
	int             no_variants; /* no middlebox variants after resets, silence, size limits */
} sd_tls_diag_cfg;

/* Diagnose one target: the scan (sd_tls_scan_*: first connection, then the
 * versions in up to scan.parallel threads), for a TLS server the
 * certificate (sd_tls_cert_check: one full handshake at the highest
 * version, in a thread of its own beside the lanes when scan.parallel > 1
 * and there is no tap), then the middlebox variants when the scan met
 * resets, silence or a size limit, the client fit, the policy, and the findings
 * into rep (initialised by the caller with sd_report_init; rep->ok, by and
 * the certificate facts set). *out gets the scan, for its tables (the
 * caller closes it, also on failure; NULL when it could not be opened).
 * Returns SD_OK; SD_ERR_ARG / SD_ERR_NOMEM from sd_tls_scan_open; the link
 * error of the first connection (why filled in: the target cannot be
 * reached); SD_ERR_PROTO when a hello could not be built (our bug). Blocks
 * within scan.budget (plus the certificate handshake's own deadline).
 * @since 0.2 */
SD_API int sd_tls_diagnose(const sd_tls_diag_cfg *cfg, sd_report *rep, sd_tls_scan **out,
			   char *why, size_t whylen);
/* The certificate sd_tls_diagnose read (NULL when none was read). */
SD_API const sd_tls_cert *sd_tls_scan_cert(const sd_tls_scan *s);
/* The policy verdict of sd_tls_diagnose (NULL without cfg.expect, or when
 * the port is no TLS server). */
SD_API const sd_tls_policy_result *sd_tls_scan_policy(const sd_tls_scan *s);

#ifdef __cplusplus
}
#endif
#endif
