/* libFuzzer target: the run-data side of lib/mlf, which turns what records
 * carry (stage params, score names, free text) into MLflow items: mlf_key,
 * mlf_shorten, mlf_flatten_params and the log-batch chunker.  Invariants:
 * keys are valid MLflow keys of at most MLF_MAX_KEY bytes, shortened values
 * fit, and every log-batch body is one JSON object within the limits. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "js.h"
#include "mlf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_key(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > MLF_MAX_KEY)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_-./ :~", c)))
			abort();
	}
	if (k[0] == '/' || strstr(k, "//") || strstr(k, "/./") || strstr(k, "/../"))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *k, *v, num[32];
	struct mlf_data d;
	struct mlf_chunker ch;
	struct buf body = {0};
	size_t counts[3], max;
	const char *why;
	json_object *o;
	int cut;

	memcpy(s, data, size);
	s[size] = '\0';
	k = mlf_key(s);
	check_key(k);
	free(k);
	max = size ? data[0] % 64 + 24 : 24;
	v = mlf_shorten(s, max, &cut);
	if (strlen(v) > max && strlen(s) > max)
		abort();
	if (!cut && strcmp(v, s) != 0)
		abort();
	free(v);

	mlf_data_init(&d);
	o = js_parse(NULL, (const char *)data, size, &why);
	if (o != NULL) {
		mlf_flatten_params(&d, "p", o);
		if (json_object_is_type(o, json_type_object)) {
			json_object_object_foreach(o, key, val) {
				double x;
				mlf_tag(&d, key, json_object_get_string(val));
				if (json_object_is_type(val, json_type_double) ||
				    json_object_is_type(val, json_type_int)) {
					x = json_object_get_double(val);
					mlf_metric(&d, key, x, 0, 0);
					mlf_fmt_double(x, num);
					if (isfinite(x) && strtod(num, NULL) != x)
						abort();
				}
			}
		}
		json_object_put(o);
	}
	mlf_param(&d, s, s);
	for (size_t i = 0; i < d.nparams; i++)
		check_key(d.params[i].key);
	for (size_t i = 0; i < d.ntags; i++)
		check_key(d.tags[i].key);
	mlf_chunker_init(&ch, &d, "0123456789abcdef0123456789abcdef", 4096);
	while (mlf_chunk_next(&ch, &body, counts) == 1) {
		json_object *b = js_parse(NULL, body.p, body.len, &why);
		if (b == NULL || !json_object_is_type(b, json_type_object))
			abort();
		if (counts[0] > MLF_BATCH_PARAMS || counts[1] > MLF_BATCH_TAGS ||
		    counts[2] > MLF_BATCH_METRICS || counts[0] + counts[1] + counts[2] == 0)
			abort();
		json_object_put(b);
	}
	buf_free(&body);
	mlf_data_free(&d);
	free(s);
	return 0;
}
