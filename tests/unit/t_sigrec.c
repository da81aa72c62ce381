/* Unit tests of lib/sigrec: for every line either sig_flat declines or it
 * gives exactly what sig_json gives; what sig_json rejects and why. */
#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "sigrec.h"
#include "tap.h"

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int
same(const struct sig *a, const struct sig *b)
{
	return a->ts == b->ts && same_str(a->svc, b->svc) && same_str(a->name, b->name) &&
	       same_str(a->tid, b->tid) && same_str(a->sid, b->sid) && same_str(a->pid, b->pid) &&
	       same_str(a->level, b->level) && same_str(a->status, b->status) &&
	       a->msglen == b->msglen && (a->msg == NULL) == (b->msg == NULL) &&
	       (a->msg == NULL || memcmp(a->msg, b->msg, a->msglen) == 0) &&
	       ((isnan(a->x) && isnan(b->x)) || a->x == b->x) && a->labelslen == b->labelslen &&
	       (a->labels == NULL) == (b->labels == NULL) &&
	       (a->labels == NULL || memcmp(a->labels, b->labels, a->labelslen) == 0);
}

static struct sigbuf B;

/* 1: the flat view gave the same fields; 0: it declined; -1: it differed. */
static int
both(const char *line, int k, const char **why)
{
	struct flat f;
	struct sig a, b;
	const char *w;
	json_object *o = json_tokener_parse(line);
	int rc = 0;

	*why = NULL;
	if (o == NULL)
		return -1;
	*why = sig_json(o, k, &a);
	if (flat_parse(line, strlen(line), 1, &f, &w) == 0 && !f.dup && !f.kesc &&
	    sig_flat(&B, &f, strlen(line), k, &b) == 0)
		rc = *why == NULL && same(&a, &b) ? 1 : -1;
	json_object_put(o);
	return rc;
}

int
main(void)
{
	const char *why;

	tap_ok(both("{\"kind\":\"log\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"api\",\"level\":\"ERROR\","
		    "\"msg\":\"boom\",\"trace_id\":\"t1\"}", SIG_LOG, &why) == 1 && why == NULL,
	       "log: the flat view gives what json-c gives");
	tap_ok(both("{\"kind\":\"metric\",\"ts\":\"2024-05-01T00:00:00.5Z\",\"service\":\"db\",\"name\":\"cpu\","
		    "\"value\":0.25,\"labels\":{\"pod\":\"db-1\"}}", SIG_METRIC, &why) == 1,
	       "metric: value and labels alike");
	tap_ok(both("{\"kind\":\"metric\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"db\",\"name\":\"cpu\","
		    "\"value\":null}", SIG_METRIC, &why) == 1, "metric: a null value is NAN both ways");
	tap_ok(both("{\"kind\":\"span\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"api\",\"name\":\"GET /\","
		    "\"span_id\":\"s1\",\"parent_id\":\"s0\",\"trace_id\":\"t1\",\"status\":\"ERROR\",\"duration_ms\":12.5}",
		    SIG_SPAN, &why) == 1, "span: ids, status and duration alike");
	tap_ok(both("{\"kind\":\"span\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"api\"}", SIG_SPAN, &why) == 1,
	       "span: no name and no duration alike");
	tap_ok(both("{\"kind\":\"log\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"a\\u00e9\",\"msg\":\"x\\ty\"}",
		    SIG_LOG, &why) == 1, "log: escapes decoded alike");
	tap_ok(both("{\"kind\":\"log\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"a\",\"msg\":\"\\ud800\"}",
		    SIG_LOG, &why) == 0, "log: a lone surrogate is left to json-c");
	tap_ok(both("{\"kind\":\"metric\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"db\",\"name\":\"m\","
		    "\"value\":-0}", SIG_METRIC, &why) == 0, "metric: -0 is left to json-c");
	tap_ok(both("{\"kind\":\"metric\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"db\",\"name\":\"m\","
		    "\"value\":1,\"labels\":{\"a\": 1}}", SIG_METRIC, &why) == 0,
	       "metric: labels json-c would write otherwise are left to it");
	/* rejects: sig_flat declines, sig_json says why, in order */
	tap_ok(both("{\"kind\":\"log\",\"service\":\"a\",\"msg\":\"x\"}", SIG_LOG, &why) == 0 &&
	       why && strcmp(why, "missing or bad \"ts\"") == 0, "reject: no ts");
	tap_ok(both("{\"kind\":\"log\",\"ts\":\"yesterday\",\"msg\":\"x\"}", SIG_LOG, &why) == 0 &&
	       why && strcmp(why, "missing or bad \"ts\"") == 0, "reject: a bad ts before a missing service");
	tap_ok(both("{\"kind\":\"log\",\"ts\":\"2024-05-01T00:00:00Z\",\"msg\":\"x\"}", SIG_LOG, &why) == 0 &&
	       why && strcmp(why, "missing \"service\"") == 0, "reject: no service");
	tap_ok(both("{\"kind\":\"log\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"a\",\"msg\":3}", SIG_LOG, &why) == 0 &&
	       why && strcmp(why, "missing \"msg\"") == 0, "reject: a msg that is not a string");
	tap_ok(both("{\"kind\":\"metric\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"a\",\"value\":1}", SIG_METRIC,
		    &why) == 0 && why && strcmp(why, "missing \"name\"") == 0, "reject: a metric without a name");
	tap_ok(both("{\"kind\":\"metric\",\"ts\":\"2024-05-01T00:00:00Z\",\"service\":\"a\",\"name\":\"m\"}", SIG_METRIC,
		    &why) == 0 && why && strcmp(why, "missing \"value\"") == 0, "reject: a metric without a value");
	sigbuf_free(&B);
	return tap_done();
}
