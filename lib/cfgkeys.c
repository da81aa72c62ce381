/* cfgkeys: the keys outside the stages' option sections; see cfgkeys.h. */
#include <string.h>

#include "buf.h"
#include "cfgkeys.h"
#include "llm.h"

static const char *const top_keys[] = {"experiment", "provider", "pipeline", "dataset", "mlflow",
	"eval", "max_failure_share", NULL};
static const char *const pipeline_keys[] = {"correlation", "rca", "remediation", "executor",
	"metrics", NULL};
static const char *const experiment_keys[] = {"name", "tags", "description", NULL};
/* The sections whose stage may call a model: each may override provider. */
static const char *const model_sections[] = {"provider", "pipeline.correlation.provider",
	"pipeline.rca.provider", "pipeline.remediation.provider", NULL};

static int
listed(const char *const *list, const char *k)
{
	for (; *list; list++)
		if (strcmp(*list, k) == 0)
			return 1;
	return 0;
}

static json_object *
at(json_object *o, const char *dotted)
{
	char part[64];
	const char *p = dotted, *dot;

	while (o != NULL && *p) {
		size_t n;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof part)
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, part, &o))
			return NULL;
		p = dot ? dot + 1 : p + n;
	}
	return json_object_is_type(o, json_type_object) ? o : NULL;
}

static void
check(json_object *root, const char *dotted, const char *const *known,
      void (*fn)(void *, const char *), void *ctx)
{
	json_object *o = dotted ? at(root, dotted) : root;

	if (o == NULL)
		return;
	json_object_object_foreach(o, k, v) {
		(void)v;
		if (listed(known, k))
			continue;
		struct buf b = BUF_INIT(0);
		if (dotted)
			buf_printf(&b, "%s.", dotted);
		buf_adds(&b, k);
		fn(ctx, b.p);
		buf_free(&b);
	}
}

void
cfgkeys_unknown(json_object *root, void (*fn)(void *ctx, const char *dotted), void *ctx)
{
	check(root, NULL, top_keys, fn, ctx);
	check(root, "pipeline", pipeline_keys, fn, ctx);
	check(root, "experiment", experiment_keys, fn, ctx);
	for (size_t i = 0; model_sections[i]; i++) {
		struct buf b = BUF_INIT(0);
		check(root, model_sections[i], llm_keys, fn, ctx);
		buf_printf(&b, "%s.params", model_sections[i]);
		check(root, b.p, llm_param_keys, fn, ctx);
		buf_free(&b);
	}
}
