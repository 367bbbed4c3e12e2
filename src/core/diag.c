/*
 * shakedown — the cause vocabulary (one table) and diagnosis records.
 * docs/causes.md is generated from this table (tests/cli/causes_doc.sh
 * checks that they agree).
 */
#include "internal.h"

static const struct {
	sd_cause    cause;
	const char *name;
	sd_layer    layer;
	const char *summary;
	const char *fix;
} cause_table[] = {
	{ SD_CAUSE_OK, "ok", SD_LAYER_NONE,
	  "the handshake succeeded", "nothing to fix" },
	{ SD_CAUSE_SILENT, "silent", SD_LAYER_PHYSICAL,
	  "nothing came back: the line stayed silent",
	  "check power, that TX/RX are crossed (TX to RX), the port, and that the target was reset into its bootloader" },
	{ SD_CAUSE_IDLE_LINE, "idle-line", SD_LAYER_PHYSICAL,
	  "only 0x00 or 0xFF bytes: the line is held low (break, target in reset, unpowered) or floating",
	  "check ground, the target's power and reset line, and the adapter's voltage level" },
	{ SD_CAUSE_ECHO, "echo", SD_LAYER_PHYSICAL,
	  "our own bytes came back: TX is looped to RX",
	  "TX is looped to RX: to test the adapter and cable, run shakedown loopback TARGET; to reach a device, remove the TX-RX jumper; on a one-wire or RS-485 adapter, ignore the echo or enable echo suppression" },
	{ SD_CAUSE_APP_RUNNING, "app-running", SD_LAYER_PROTOCOL,
	  "the board runs its application, not the bootloader",
	  "reset the board into its bootloader (boot pin/button held during reset) before the handshake" },
	{ SD_CAUSE_BOOT_LOG, "boot-log", SD_LAYER_PROTOCOL,
	  "the device printed a boot log",
	  "read the boot log: it names the boot mode; reset into download mode" },
	{ SD_CAUSE_WRONG_BOOT_MODE, "wrong-boot-mode", SD_LAYER_PROTOCOL,
	  "the device booted in the wrong mode",
	  "hold the boot-mode pin or button while resetting the device" },
	{ SD_CAUSE_BAUD_MISMATCH, "baud-mismatch", SD_LAYER_PHYSICAL,
	  "the bytes look like a baud-rate mismatch",
	  "set the host to the device's baud rate" },
	{ SD_CAUSE_PARITY_MISMATCH, "parity-mismatch", SD_LAYER_PHYSICAL,
	  "parity differs between host and device, or the adapter drops parity",
	  "use the protocol's frame format (e.g. 8E1 for STM32) on a driver that supports parity" },
	{ SD_CAUSE_WRONG_PROTOCOL, "wrong-protocol", SD_LAYER_PROTOCOL,
	  "another protocol answered",
	  "use the tool or option that speaks the protocol that answered" },
	{ SD_CAUSE_BOOTLOADER_OTHER_RATE, "bootloader-other-rate", SD_LAYER_PHYSICAL,
	  "a bootloader answers, but at another baud rate",
	  "use the baud rate the bootloader answered at" },
	{ SD_CAUSE_READ_PROTECTED, "read-protected", SD_LAYER_SECURITY,
	  "the device is read-out protected",
	  "read-out unprotect (this erases the flash) before reading or writing" },
	{ SD_CAUSE_DISCONNECTED, "disconnected", SD_LAYER_PHYSICAL,
	  "the device disconnected",
	  "check the cable and power; a device that re-enumerates may be rebooting" },
	{ SD_CAUSE_PORT_BUSY, "port-busy", SD_LAYER_HOST,
	  "another program holds the port",
	  "close the other program (serial monitor, IDE, ModemManager) and retry" },
	{ SD_CAUSE_PERMISSION, "permission", SD_LAYER_HOST,
	  "no permission to open the port",
	  "add yourself to the port's group (dialout on Debian) and log in again, or fix the udev rule" },
	{ SD_CAUSE_MODEM_MANAGER, "modem-manager", SD_LAYER_HOST,
	  "ModemManager probes the port with AT commands",
	  "stop ModemManager or mark the device ID_MM_DEVICE_IGNORE in a udev rule" },
	{ SD_CAUSE_DRIVER, "driver", SD_LAYER_HOST,
	  "the driver for the device is missing or wrong",
	  "install or bind the right driver (cdc_acm, ch341, cp210x, ftdi_sio)" },
	{ SD_CAUSE_PLAINTEXT_SERVICE, "plaintext-service", SD_LAYER_PROTOCOL,
	  "a plaintext service answers where TLS was expected",
	  "use the plaintext scheme or the TLS port, or STARTTLS where the protocol has it" },
	{ SD_CAUSE_TLS_VERSION_MISMATCH, "tls-version-mismatch", SD_LAYER_SECURITY,
	  "client and server share no TLS version",
	  "enable a TLS version both sides support" },
	{ SD_CAUSE_TLS_NO_SHARED_CIPHER, "tls-no-shared-cipher", SD_LAYER_SECURITY,
	  "client and server share no cipher suite",
	  "enable a cipher suite both sides support" },
	{ SD_CAUSE_TLS_NO_SHARED_GROUP, "tls-no-shared-group", SD_LAYER_SECURITY,
	  "client and server share no key-exchange group",
	  "enable a group (curve) both sides support" },
	{ SD_CAUSE_TLS_SIGALG_REFUSED, "tls-sigalg-refused", SD_LAYER_SECURITY,
	  "the server's signature algorithm is refused",
	  "allow the signature algorithm or give the server a certificate the client accepts" },
	{ SD_CAUSE_CERT_EXPIRED, "cert-expired", SD_LAYER_SECURITY,
	  "the certificate has expired", "renew the certificate" },
	{ SD_CAUSE_CERT_NOT_YET_VALID, "cert-not-yet-valid", SD_LAYER_SECURITY,
	  "the certificate is not valid yet", "check the clocks and the certificate's start date" },
	{ SD_CAUSE_CERT_HOSTNAME, "cert-hostname", SD_LAYER_SECURITY,
	  "the certificate does not name this host", "use a certificate whose SAN names the host, or the right host name" },
	{ SD_CAUSE_CERT_UNTRUSTED, "cert-untrusted", SD_LAYER_SECURITY,
	  "the certificate is not trusted", "use a certificate from a trusted CA, or add the CA to the trust store" },
	{ SD_CAUSE_CERT_INCOMPLETE_CHAIN, "cert-incomplete-chain", SD_LAYER_SECURITY,
	  "the server does not send its intermediate certificates", "configure the full chain on the server" },
	{ SD_CAUSE_CERT_WEAK, "cert-weak", SD_LAYER_SECURITY,
	  "the certificate's key or signature is too weak", "reissue with a stronger key and signature" },
	{ SD_CAUSE_TLS_INTERCEPTION, "tls-interception", SD_LAYER_SECURITY,
	  "a middlebox intercepts TLS", "compare the certificate with the server's own; bypass or trust the inspecting proxy knowingly" },
	{ SD_CAUSE_MIDDLEBOX_RESET, "middlebox-reset", SD_LAYER_PHYSICAL,
	  "the connection is reset during the handshake", "look for a firewall or IDS between client and server" },
	{ SD_CAUSE_MIDDLEBOX_SIZE, "middlebox-size", SD_LAYER_PHYSICAL,
	  "large handshake messages are dropped or cut", "look for a middlebox or MTU problem on the path" },
	{ SD_CAUSE_STARTTLS_REFUSED, "starttls-refused", SD_LAYER_PROTOCOL,
	  "the server refused STARTTLS", "read the server's reply; it may be rate-limiting or misconfigured" },
	{ SD_CAUSE_STARTTLS_NOT_OFFERED, "starttls-not-offered", SD_LAYER_PROTOCOL,
	  "the server does not offer STARTTLS", "use the TLS-on-connect port, or enable STARTTLS on the server" },
	{ SD_CAUSE_PRELOADER_NOT_BROM, "preloader-not-brom", SD_LAYER_PROTOCOL,
	  "the device is in Preloader mode, not BootROM",
	  "power off, hold the volume key(s) while connecting to reach BROM, or use a DA loader for the Preloader" },
	{ SD_CAUSE_DA_MODE, "da-mode", SD_LAYER_PROTOCOL,
	  "a download agent is already running", "continue with the DA protocol or power-cycle the device" },
	{ SD_CAUSE_BOOTLOOP, "bootloop", SD_LAYER_PROTOCOL,
	  "the device reboots over and over", "read the boot log for the reset cause; check power supply and firmware" },
	{ SD_CAUSE_NOISE, "noise", SD_LAYER_PHYSICAL,
	  "bytes are corrupted on the line", "shorten or shield the cable, check ground, lower the baud rate" },
	{ SD_CAUSE_NO_DEVICE, "no-device", SD_LAYER_HOST,
	  "the port or host does not exist", "check the port name (shakedown ports) or the host and port" },
	{ SD_CAUSE_TLS_ALERT, "tls-alert", SD_LAYER_SECURITY,
	  "a TLS peer answered with a record or alert", "use a TLS client, or read the alert it sent" },
	{ SD_CAUSE_UNKNOWN, "unknown", SD_LAYER_PROTOCOL,
	  "bytes came back that match nothing known", "compare the bytes with the device's documentation; run shakedown explain on them" },
	{ SD_CAUSE_PART_MISMATCH, "part-mismatch", SD_LAYER_PROTOCOL,
	  "the chip's signature is not the part that was asked for",
	  "name the part the signature says (avrdude -p), or check that this is the board you meant" },
	{ SD_CAUSE_TLS_PROTOCOL_VIOLATION, "tls-protocol-violation", SD_LAYER_PROTOCOL,
	  "the server's TLS records or ServerHello break the protocol (an oversized or empty record, an impossible length, a suite nobody offered, garbage after the ServerHello)",
	  "the server or a box in front of it is broken or hostile: compare with openssl s_client -msg, and fix or replace it" },
	{ SD_CAUSE_TLS_TIMEOUT, "tls-timeout", SD_LAYER_PROTOCOL,
	  "a deadline ended a TLS answer that had begun, or the run before its enumeration was done",
	  "a server that drips or stalls its handshake: check its load and what sits in front of it; or allow more time (--wait, --timeout)" },
	{ SD_CAUSE_STOPPED_ANSWERING, "stopped-answering", SD_LAYER_PROTOCOL,
	  "the device answered, then stopped answering mid-session",
	  "reset or power-cycle the device and retry; if it stops at the same command, its loader hangs there" },
	{ SD_CAUSE_BROWNOUT, "brownout", SD_LAYER_PHYSICAL,
	  "the device resets on brown-out: its supply voltage sags below the detector's threshold",
	  "a supply (or USB port) that gives enough current, a short thick cable, a bulk capacitor near the module" },
	{ SD_CAUSE_TX_PATH_DEAD, "tx-path-dead", SD_LAYER_PHYSICAL,
	  "the loader is waiting (its boot log says so) but never answers: the host's bytes do not reach its RX",
	  "check the adapter's TX to the chip's RX wire and level, and that no other program writes to the port" },
	{ SD_CAUSE_STUCK_BIT, "stuck-bit", SD_LAYER_PHYSICAL,
	  "every received byte is off from the expected answer by the same bit mask: a signal fault, not random noise",
	  "check the RX line's level, pull-ups, the adapter's I/O voltage and the ground between board and adapter" },
	{ SD_CAUSE_TELNET_FRAMING, "telnet-framing", SD_LAYER_HOST,
	  "the port speaks Telnet / RFC 2217 and was read as raw TCP: every 0xFF arrives doubled",
	  "open it as rfc2217://HOST:PORT, or set the serial server (ser2net) to raw mode" },
	{ SD_CAUSE_REMOTE_NO_LINES, "remote-no-lines", SD_LAYER_PHYSICAL,
	  "the remote port server does not pass DTR/RTS on to the board",
	  "reset the board on the exporter side (esp_rfc2217_server, a labgrid strategy, GPIO), or hold the boot pin and power-cycle" },
	{ SD_CAUSE_REMOTE_RESET_SLOW, "remote-reset-slow", SD_LAYER_PHYSICAL,
	  "the network stretched the reset sequence beyond what the loader's entry allows",
	  "run the reset on the exporter side (esp_rfc2217_server, a labgrid strategy), or hold the boot pin and pulse only the reset" },
	{ SD_CAUSE_TLS_SNI_REQUIRED, "tls-sni-required", SD_LAYER_SECURITY,
	  "the server refuses a ClientHello without a server name it knows (alert unrecognized_name, 112)",
	  "send the server's name (SNI): connect by host name, openssl s_client -servername NAME, curl --resolve NAME:PORT:IP https://NAME:PORT/, shakedown tls --sni NAME" },
	{ SD_CAUSE_POLICY_DEVIATION, "policy-deviation", SD_LAYER_SECURITY,
	  "the server breaks a rule of the expected policy (shakedown tls --expect)",
	  "change the server's configuration to meet the rule, or the policy if the rule is wrong" },
	{ SD_CAUSE_TLS_CLIENT_CERT_REQUIRED, "tls-client-cert-required", SD_LAYER_SECURITY,
	  "the server requires a client certificate and ends the handshake without one",
	  "give the client its certificate and key (curl --cert/--key, openssl s_client -cert/-key), or make the client certificate optional on the server" },
	/* esp2 (issue 13, part 2) */
	{ SD_CAUSE_OVERLAPPING_SYNCS, "overlapping-syncs", SD_LAYER_PHYSICAL,
	  "the loader's replies to a SYNC arrive after the next SYNC was sent: the link is slower than the loader's timeouts, so replies come out of step",
	  "shorten the link's latency (an FTDI's latency_timer to 1 ms, USB passthrough of a VM, a network port); a tool that waits less than the round trip meets the late replies in its later commands" },
	/* starttls + OCSP (issue 12, part 2) */
	{ SD_CAUSE_OCSP_STAPLE_INVALID, "ocsp-staple-invalid", SD_LAYER_SECURITY,
	  "the OCSP response the server staples does not verify: its signature, its signer or the certificate it speaks of is wrong",
	  "have the server fetch a fresh response from its CA's responder (nginx ssl_stapling_verify on, ssl_trusted_certificate; or stop stapling a file made by hand)" },
};

_Static_assert(SDI_ARRAY_LEN(cause_table) == SD_CAUSE_COUNT,
	       "cause table must list every sd_cause, in order");

static int cause_ok(sd_cause c)
{
	return (unsigned)c < SD_CAUSE_COUNT;
}

const char *sd_cause_name(sd_cause c)
{
	return cause_ok(c) ? cause_table[c].name : NULL;
}

int sd_cause_from_name(const char *name)
{
	for (size_t i = 0; name && i < SDI_ARRAY_LEN(cause_table); i++)
		if (strcmp(cause_table[i].name, name) == 0)
			return (int)cause_table[i].cause;
	return -1;
}

sd_layer sd_cause_layer(sd_cause c)
{
	return cause_ok(c) ? cause_table[c].layer : SD_LAYER_NONE;
}

const char *sd_cause_summary(sd_cause c)
{
	return cause_ok(c) ? cause_table[c].summary : "";
}

const char *sd_cause_fix(sd_cause c)
{
	return cause_ok(c) ? cause_table[c].fix : "";
}

const char *sd_layer_name(sd_layer l)
{
	static const char *const names[] = { "", "physical", "host", "protocol", "security" };
	return (unsigned)l < SDI_ARRAY_LEN(names) ? names[l] : "";
}

/* Only the count: a finding is cleared when it is added, and nothing reads
 * past n. Zeroing all SD_DIAG_MAX findings (15 KiB) touched pages that a
 * run seldom uses: a cost in every short run (`info` is timed against
 * stm32flash). */
void sd_diag_init(sd_diag *d)
{
	d->n = 0;
}

void sd_diag_drop(sd_diag *d, sd_cause c)
{
	for (size_t i = 0; d && i < d->n; i++) {
		if (d->f[i].cause != c)
			continue;
		memmove(&d->f[i], &d->f[i + 1], (d->n - i - 1) * sizeof d->f[0]);
		d->n--;
		return;
	}
}

sd_finding *sd_diag_find(sd_diag *d, sd_cause c)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->f[i].cause == c)
			return &d->f[i];
	return NULL;
}

sd_finding *sd_diag_add(sd_diag *d, sd_cause c, float confidence)
{
	if (!d || !cause_ok(c))
		return NULL;
	if (confidence < 0.0f)
		confidence = 0.0f;
	if (confidence > 1.0f)
		confidence = 1.0f;
	sd_finding *f = sd_diag_find(d, c);
	if (f) {
		if (confidence > f->confidence)
			f->confidence = confidence;
		return f;
	}
	if (d->n >= SD_DIAG_MAX)
		return NULL;
	f = &d->f[d->n++];
	memset(f, 0, sizeof *f);
	f->cause = c;
	f->layer = cause_table[c].layer;
	f->confidence = confidence;
	sdi_fmt(f->summary, sizeof f->summary, "%s", cause_table[c].summary);
	sdi_fmt(f->fix, sizeof f->fix, "%s", cause_table[c].fix);
	return f;
}

void sd_finding_summary(sd_finding *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(f->summary, sizeof f->summary, fmt, ap);
	va_end(ap);
}

void sd_finding_fix(sd_finding *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(f->fix, sizeof f->fix, fmt, ap);
	va_end(ap);
}

void sd_finding_detail(sd_finding *f, const char *fmt, ...)
{
	size_t used = strnlen(f->detail, sizeof f->detail);
	if (used && used < sizeof f->detail - 1)
		f->detail[used++] = '\n', f->detail[used] = '\0';
	if (used >= sizeof f->detail - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(f->detail + used, sizeof f->detail - used, fmt, ap);
	va_end(ap);
}

void sd_finding_evidence(sd_finding *f, const uint8_t *sent, size_t sent_len,
			 const uint8_t *rcvd, size_t rcvd_len)
{
	f->sent = sent;
	f->sent_len = sent ? sent_len : 0;
	f->rcvd = rcvd;
	f->rcvd_len = rcvd ? rcvd_len : 0;
}

void sd_diag_sort(sd_diag *d)
{
	/* insertion sort: n <= SD_DIAG_MAX, and it is stable */
	for (size_t i = 1; i < d->n; i++) {
		sd_finding tmp = d->f[i];
		size_t j = i;
		while (j > 0 && d->f[j - 1].confidence < tmp.confidence) {
			d->f[j] = d->f[j - 1];
			j--;
		}
		d->f[j] = tmp;
	}
}

/* Facts and findings are written whole when added and read only up to
 * their counts, so only the scalars are cleared (see sd_diag_init). */
void sd_report_init(sd_report *r, const char *command, const char *target)
{
	r->target = target;
	r->command = command;
	r->ok = 0;
	memset(&r->by, 0, sizeof r->by);
	sd_diag_init(&r->diag);
	r->nfacts = 0;
	r->elapsed_ms = 0;
}

void sd_report_fact(sd_report *r, const char *key, const char *fmt, ...)
{
	if (!r || !key || !fmt)
		return;
	sd_fact *f = NULL;
	for (size_t i = 0; i < r->nfacts && !f; i++)
		if (strcmp(r->facts[i].key, key) == 0)
			f = &r->facts[i];
	if (!f) {
		if (r->nfacts >= SD_FACTS_MAX)
			return;
		f = &r->facts[r->nfacts++];
		sdi_fmt(f->key, sizeof f->key, "%s", key);
	}
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(f->value, sizeof f->value, fmt, ap);
	va_end(ap);
}

const char *sd_report_fact_get(const sd_report *r, const char *key)
{
	for (size_t i = 0; r && key && i < r->nfacts; i++)
		if (strcmp(r->facts[i].key, key) == 0)
			return r->facts[i].value;
	return NULL;
}
