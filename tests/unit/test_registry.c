/* The protocol table says, row by row, which commands a protocol serves
 * (sd_proto_serves): sync/info need a client, probe --expect a read-only
 * first frame on a line, explain --expect a reading of bytes. Synthetic
 * rows pin the rule; the real table pins today's answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static int fake_explain(const uint8_t *rx, size_t n, const uint8_t *tx, size_t tx_len, char *out,
			size_t outlen)
{
	(void)rx;
	(void)n;
	(void)tx;
	(void)tx_len;
	if (outlen)
		out[0] = '\0';
	return 0;
}

static int fake_session(void *ctx, sd_link *l, const sd_proto_args *a, sd_report *r)
{
	(void)ctx;
	(void)l;
	(void)a;
	(void)r;
	return SD_OK;
}

static void synthetic_rows_serve_what_they_have(void **state)
{
	(void)state;
	static const uint8_t poke[] = { 0x7F };
	char why[200];
	const sd_proto bare = { .name = "bare", .title = "nothing yet" };
	const sd_proto reader = { .name = "reader", .title = "r", .explain = fake_explain };
	const sd_proto full = { .name = "full", .title = "f", .line = SD_LINE_CFG_8N1(115200),
				.poke = poke, .poke_len = 1, .explain = fake_explain,
				.ctx_size = 1, .session = fake_session };
	const sd_proto no_line = { .name = "noline", .title = "n", .poke = poke, .poke_len = 1 };
	const sd_proto own = { .name = "own", .title = "o", .explain = fake_explain,
			       .own_command = "shakedown own HOST" };

	assert_true(sd_proto_serves(&full, SD_PROTO_USE_SESSION, why, sizeof why));
	assert_string_equal(why, "");
	assert_true(sd_proto_serves(&full, SD_PROTO_USE_POKE, why, sizeof why));
	assert_true(sd_proto_serves(&full, SD_PROTO_USE_EXPLAIN, why, sizeof why));

	assert_false(sd_proto_serves(&bare, SD_PROTO_USE_SESSION, why, sizeof why));
	assert_string_equal(why, "has no sync/info client yet");
	assert_false(sd_proto_serves(&bare, SD_PROTO_USE_EXPLAIN, why, sizeof why));
	assert_string_equal(why, "has no reading of received bytes yet");

	assert_false(sd_proto_serves(&reader, SD_PROTO_USE_SESSION, why, sizeof why));
	assert_non_null(strstr(why, "shakedown explain --expect reader"));
	assert_false(sd_proto_serves(&reader, SD_PROTO_USE_POKE, why, sizeof why));
	assert_non_null(strstr(why, "no read-only first frame"));
	assert_true(sd_proto_serves(&reader, SD_PROTO_USE_EXPLAIN, NULL, 0));

	/* a first frame with no line settings is not a UART poke */
	assert_false(sd_proto_serves(&no_line, SD_PROTO_USE_POKE, NULL, 0));

	/* its own command wins over "no client yet"; explain still works */
	assert_false(sd_proto_serves(&own, SD_PROTO_USE_SESSION, why, sizeof why));
	assert_string_equal(why, "has its own command: shakedown own HOST");
	assert_false(sd_proto_serves(&own, SD_PROTO_USE_POKE, why, sizeof why));
	assert_string_equal(why, "has its own command: shakedown own HOST");
	assert_true(sd_proto_serves(&own, SD_PROTO_USE_EXPLAIN, why, sizeof why));

	assert_false(sd_proto_serves(NULL, SD_PROTO_USE_SESSION, why, sizeof why));
	assert_false(sd_proto_serves(&full, (sd_proto_use)99, why, sizeof why));
	/* a tiny buffer is cut, never overrun */
	char small[8];
	assert_false(sd_proto_serves(&own, SD_PROTO_USE_SESSION, small, sizeof small));
	assert_int_equal(strlen(small), sizeof small - 1);
}

static void the_table_today(void **state)
{
	(void)state;
	char names[160], why[200];
	const sd_proto *p = NULL;
	assert_int_equal(sd_proto_names_for(SD_PROTO_USE_SESSION, names, sizeof names), 4);
	assert_string_equal(names, "stk500, stm32, mtk, esp");
	assert_int_equal(sd_proto_names_for(SD_PROTO_USE_POKE, names, sizeof names), 4);
	assert_string_equal(names, "stk500, stm32, mtk, esp");
	assert_int_equal(sd_proto_names_for(SD_PROTO_USE_EXPLAIN, names, sizeof names), 5);
	assert_string_equal(names, "stk500, stm32, mtk, esp, tls");
	/* counted even without room */
	assert_int_equal(sd_proto_names_for(SD_PROTO_USE_EXPLAIN, NULL, 0), 5);

	assert_int_equal(sd_proto_find_for("stm32", SD_PROTO_USE_SESSION, &p, why, sizeof why), SD_OK);
	assert_string_equal(p->name, "stm32");
	assert_string_equal(why, "");
	assert_int_equal(sd_proto_find_for("esp", SD_PROTO_USE_SESSION, &p, why, sizeof why), SD_OK);
	assert_non_null(p);
	assert_int_equal(sd_proto_find_for("esp", SD_PROTO_USE_POKE, &p, why, sizeof why), SD_OK);
	assert_int_equal(sd_proto_find_for("tls", SD_PROTO_USE_POKE, &p, why, sizeof why), SD_ERR_UNSUPPORTED);
	assert_string_equal(why, "tls has its own command: shakedown tls HOST[:PORT]");
	assert_int_equal(sd_proto_find_for("tls", SD_PROTO_USE_EXPLAIN, &p, why, sizeof why), SD_OK);
	assert_int_equal(sd_proto_find_for("zmodem", SD_PROTO_USE_SESSION, &p, why, sizeof why),
			 SD_ERR_NOTFOUND);
	assert_null(p);
	assert_string_equal(why, "unknown protocol 'zmodem' (stk500, stm32, mtk, esp)");
	assert_int_equal(sd_proto_find_for(NULL, SD_PROTO_USE_SESSION, &p, why, sizeof why), SD_ERR_NOTFOUND);

	/* sim: the device kinds, and an honest word for the protocols without one */
	const sd_sim_kind *k = NULL;
	assert_int_equal(sd_sim_find_for("stm32", &k, why, sizeof why), SD_OK);
	assert_non_null(k);
	assert_int_equal(sd_sim_find_for("esp", &k, why, sizeof why), SD_OK);
	assert_non_null(k);
	assert_int_equal(sd_sim_find_for("tls", &k, why, sizeof why), SD_ERR_NOTFOUND);
	assert_non_null(strstr(why, "its own command: shakedown tls"));
	assert_int_equal(sd_sim_find_for("zz", &k, why, sizeof why), SD_ERR_NOTFOUND);
	assert_string_equal(why, "no simulated device 'zz' (app, stm32, stk500, mtk, esp)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(synthetic_rows_serve_what_they_have),
		cmocka_unit_test(the_table_today),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
