/*
 * Embedding shakedown: open a target, listen for a second, and print what the
 * classifier makes of the bytes. Exits 0 when it could listen.
 *   listen_and_explain 'sim:app?text=hello'
 *   listen_and_explain /dev/ttyUSB0
 */
#include <stdio.h>
#include <shakedown/shakedown.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s TARGET\n", argv[0]);
		return 2;
	}
	sd_link *l;
	char why[160];
	int err = sd_link_open(argv[1], NULL, &l, why, sizeof why);
	if (err < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], why);
		return 3;
	}
	static uint8_t buf[4096];
	sd_listen L;
	sd_listen_init(&L, buf, sizeof buf, SD_MS(1000), NULL, 0, 0);
	err = sd_run(&L.eng, l, sd_deadline_in(l->clock, SD_S(5)));

	static sd_diag d;
	sd_diag_init(&d);
	sd_classify_in in = { .rx = buf, .rx_len = L.len, .link_caps = l->caps,
			      .host_baud = l->cfg.baud, .listen_ms = 1000 };
	sd_diagnose_bytes(&in, &d);
	sd_diag_sort(&d);
	printf("%zu bytes (%s)\n", L.len, sd_strerror(err));
	for (size_t i = 0; i < d.n; i++)
		printf("%zu. %s: %s\n", i + 1, sd_cause_name(d.f[i].cause), d.f[i].summary);
	sd_link_close(l);
	return 0;
}
