/*
 * shakedown — entry/exit sequences (seq.h): text in physical pin levels to
 * logical line steps. Bounded: a step is at most STEP_MAX characters, the
 * result at most SD_SEQ_MAX steps.
 */
#include "internal.h"

#define STEP_MAX 64

static int fail(char *why, size_t whylen, const char *step, const char *msg)
{
	sdi_fmt(why, whylen, "entry sequence: '%s': %s", step, msg);
	return SD_ERR_ARG;
}

static int push(sd_seq *s, sd_seq_step st)
{
	if (s->n >= SD_SEQ_MAX)
		return SD_ERR_ARG;
	s->step[s->n++] = st;
	return SD_OK;
}

static int parse_time(const char *t, sd_time *out)
{
	int64_t us;
	if (sd_parse_duration(t, &us) != SD_OK || us > SD_SEQ_TIME_MAX)
		return SD_ERR_ARG;
	*out = us;
	return SD_OK;
}

/* One step, NUL-terminated, already trimmed of the separator. */
static int parse_step(char *step, sd_seq *s, char *why, size_t whylen)
{
	char shown[STEP_MAX + 1];
	sdi_fmt(shown, sizeof shown, "%s", step);
	char *p = strchr(step, '=');
	if (p)
		step = p + 1; /* the label is for the reader */
	char *line = step, *level = strchr(step, ':');
	if (!level) {
		sd_time w;
		if (parse_time(line, &w) != SD_OK)
			return fail(why, whylen, shown, "expected LINE:LEVEL or a pause such as 50ms (at most 10s)");
		return push(s, (sd_seq_step){ .kind = SD_SEQ_WAIT, .wait = w }) == SD_OK
			       ? SD_OK : fail(why, whylen, shown, "too many steps");
	}
	*level++ = '\0';
	char *time = strchr(level, ':');
	if (time)
		*time++ = '\0';

	uint8_t mask;
	if (strcmp(line, "dtr") == 0 || strcmp(line, "DTR") == 0)
		mask = SD_LINE_DTR;
	else if (strcmp(line, "rts") == 0 || strcmp(line, "RTS") == 0)
		mask = SD_LINE_RTS;
	else
		return fail(why, whylen, shown, "the line is dtr or rts");

	int pulse = 0, high;
	if (strcmp(level, "high") == 0)
		high = 1;
	else if (strcmp(level, "low") == 0)
		high = 0;
	else if (strcmp(level, "pulse-high") == 0)
		pulse = 1, high = 1;
	else if (strcmp(level, "pulse-low") == 0)
		pulse = 1, high = 0;
	else
		return fail(why, whylen, shown, "the level is high, low, pulse-high or pulse-low");

	sd_time width = SD_SEQ_PULSE_DEFAULT;
	if (time && (!pulse || parse_time(time, &width) != SD_OK))
		return fail(why, whylen, shown,
			    pulse ? "bad pulse width (e.g. 20ms, at most 10s)" : "only a pulse takes a time");

	/* A pin driven high is the line deasserted (adapters invert). */
	uint8_t on = high ? 0 : mask, off = high ? mask : 0;
	int r = push(s, (sd_seq_step){ .kind = SD_SEQ_LINES, .mask = mask, .level = on });
	if (r == SD_OK && pulse) {
		r = push(s, (sd_seq_step){ .kind = SD_SEQ_WAIT, .wait = width });
		if (r == SD_OK)
			r = push(s, (sd_seq_step){ .kind = SD_SEQ_LINES, .mask = mask, .level = off });
	}
	return r == SD_OK ? SD_OK : fail(why, whylen, shown, "too many steps");
}

int sd_seq_parse(const char *text, size_t len, sd_seq *s, char *why, size_t whylen)
{
	if (!s)
		return SD_ERR_ARG;
	memset(s, 0, sizeof *s);
	if (!text)
		return SD_OK;
	size_t i = 0;
	while (i < len && text[i]) {
		char step[STEP_MAX + 1];
		size_t k = 0;
		while (i < len && text[i] && text[i] != ',' && k < STEP_MAX)
			step[k++] = text[i++];
		step[k] = '\0';
		int r;
		if (k >= STEP_MAX)
			r = fail(why, whylen, "...", "a step longer than 64 characters");
		else if (k == 0)
			r = fail(why, whylen, "", "an empty step (two commas?)");
		else
			r = parse_step(step, s, why, whylen);
		if (r != SD_OK) {
			s->n = 0; /* no partial sequence */
			return r;
		}
		if (i < len && text[i] == ',')
			i++;
	}
	return SD_OK;
}

sd_time sd_seq_duration(const sd_seq *s)
{
	sd_time t = 0;
	for (size_t i = 0; s && i < s->n; i++)
		if (s->step[i].kind == SD_SEQ_WAIT)
			t += s->step[i].wait;
	return t;
}
