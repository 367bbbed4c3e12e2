/*
 * shakedown — what the network did to a session over an RFC 2217 link
 * (include/shakedown/remote.h). Reads only what the link measured.
 */
#include "internal.h"

static double ms(sd_time t)
{
	return (double)t / 1000.0;
}

int sd_remote_report(const sd_link *l, sd_report *r)
{
	sd_remote_info ri;
	if (!l || !r || sd_link_remote_info(l, &ri) != SD_OK)
		return 0;
	int added = 0;
	if (ri.signature[0])
		sd_report_fact(r, "remote_server", "%s", ri.signature);
	if (ri.lines_acked)
		sd_report_fact(r, "remote_line_ack", "%.1f ms (longest DTR/RTS change, sent to acknowledged, of %u)",
			       ms(ri.line_rtt_max), ri.lines_acked);
	if (ri.have_modemstate)
		sd_report_fact(r, "remote_modemstate", "0x%02x", ri.modemstate);
	if (ri.have_linestate && (ri.linestate & 0x1e))
		sd_report_fact(r, "remote_linestate", "0x%02x (%s%s%s%s)", ri.linestate,
			       (ri.linestate & 0x02) ? "overrun " : "", (ri.linestate & 0x04) ? "parity-error " : "",
			       (ri.linestate & 0x08) ? "framing-error " : "", (ri.linestate & 0x10) ? "break" : "");

	if (ri.lines_unacked && !ri.ign_set_control) {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_REMOTE_NO_LINES, r->ok ? 0.5f : 0.93f);
		if (f) {
			sd_finding_summary(f, "the remote port server%s%s%s never acknowledged a DTR/RTS change: no reset reached the board",
					   ri.signature[0] ? " (" : "", ri.signature, ri.signature[0] ? ")" : "");
			sd_finding_detail(f, "%u line change%s sent, %u acknowledged; settings were acknowledged, so the server speaks RFC 2217 but cannot drive the modem lines of that device (ser2net on a pty, a bridge without them)",
					  ri.lines_sent, ri.lines_sent == 1 ? "" : "s", ri.lines_acked);
			added++;
		}
	} else if (ri.lines_unacked && !r->ok) {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_REMOTE_NO_LINES, 0.6f);
		if (f) {
			sd_finding_summary(f, "%u of %u DTR/RTS changes were sent without an acknowledgement (ign_set_control): whether the reset reached the board is unknown",
					   ri.lines_unacked, ri.lines_sent);
			sd_finding_fix(f, "drop ign_set_control to see whether the server acknowledges them, or reset the board on the exporter side");
			added++;
		}
	}
	int slow = ri.line_rtt_max > SD_REMOTE_LINE_SLOW, spread = ri.pair_gap_max > SD_REMOTE_PAIR_SLOW;
	if (ri.pair_gap_max)
		sd_report_fact(r, "remote_pair_gap", "%.1f ms (DTR and RTS asked together, acknowledged this far apart)",
			       ms(ri.pair_gap_max));
	/* a stretched reset is a cause only when the handshake failed; when
	 * it worked the facts above say what the network did */
	if ((slow || spread) && !r->ok) {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_REMOTE_RESET_SLOW, 0.75f);
		if (f) {
			if (spread)
				sd_finding_summary(f, "DTR and RTS, asked together, reached the board %.1f ms apart (measured from the server's acknowledgements)",
						   ms(ri.pair_gap_max));
			else
				sd_finding_summary(f, "a line change took %.1f ms from sent to acknowledged: the reset pulse is stretched by the network",
						   ms(ri.line_rtt_max));
			sd_finding_detail(f, "RFC 2217 has no message that sets both lines at once; each change costs a round trip");
			added++;
		}
	}
	return added;
}
