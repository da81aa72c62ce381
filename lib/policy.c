/*
 * policy: aiops-exec's RBAC policy and target scope (see policy.h).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "allowlist.h"
#include "cfg.h"
#include "err.h"
#include "js.h"
#include "policy.h"

void
policy_load(struct policy *pol, const char *path)
{
	char err[1024];
	json_object *rs, *as;

	pol->doc = cfg_load(path, err, sizeof err);
	if (pol->doc == NULL)
		efatal(EXIT_USAGE, "%s", err);
	if (!json_object_is_type(pol->doc, json_type_object))
		allow_fail(path, "expected a mapping");
	json_object_object_foreach(pol->doc, k, kv) {
		(void)kv;
		if (strcmp(k, "roles") && strcmp(k, "actors") && strcmp(k, "extra_targets"))
			allow_fail(path, "unknown key '%s'", k);
	}
	if (json_object_object_get_ex(pol->doc, "extra_targets", &as)) {
		if (!json_object_is_type(as, json_type_array))
			allow_fail(path, "extra_targets: expected a list of patterns");
		pol->nextra = (int)json_object_array_length(as);
		pol->extra = ecalloc((size_t)pol->nextra + 1, sizeof *pol->extra);
		for (int i = 0; i < pol->nextra; i++) {
			json_object *t = json_object_array_get_idx(as, i);
			char where[64];
			if (!json_object_is_type(t, json_type_string))
				allow_fail(path, "extra_targets: expected patterns");
			snprintf(where, sizeof where, "extra_targets[%d]", i);
			allow_re_compile(&pol->extra[i], json_object_get_string(t), path, where);
		}
	}
	if (!json_object_object_get_ex(pol->doc, "roles", &rs) ||
	    !json_object_is_type(rs, json_type_object))
		allow_fail(path, "expected a 'roles' mapping");
	pol->roles = ecalloc((size_t)json_object_object_length(rs) + 1, sizeof *pol->roles);
	json_object_object_foreach(rs, rn, rv) {
		struct policy_role *r = &pol->roles[pol->nroles++];
		json_object *ts;
		const char *mr;
		size_t i;

		r->name = rn;
		if (!json_object_is_type(rv, json_type_object))
			allow_fail(path, "roles.%s: expected a mapping", rn);
		json_object_object_foreach(rv, k2, v2) {
			(void)v2;
			if (strcmp(k2, "actions") && strcmp(k2, "targets") && strcmp(k2, "max_risk") &&
			    strcmp(k2, "description"))
				allow_fail(path, "roles.%s: unknown key '%s'", rn, k2);
		}
		if (!json_object_object_get_ex(rv, "actions", &r->actions) ||
		    !json_object_is_type(r->actions, json_type_array))
			allow_fail(path, "roles.%s.actions: expected a list", rn);
		for (i = 0; i < json_object_array_length(r->actions); i++)
			if (!json_object_is_type(json_object_array_get_idx(r->actions, i), json_type_string))
				allow_fail(path, "roles.%s.actions: expected action names", rn);
		if (!json_object_object_get_ex(rv, "targets", &ts) ||
		    !json_object_is_type(ts, json_type_array))
			allow_fail(path, "roles.%s.targets: expected a list of patterns", rn);
		r->ntargets = (int)json_object_array_length(ts);
		r->targets = ecalloc((size_t)r->ntargets + 1, sizeof *r->targets);
		for (i = 0; i < (size_t)r->ntargets; i++) {
			json_object *t = json_object_array_get_idx(ts, i);
			char where[256];
			if (!json_object_is_type(t, json_type_string))
				allow_fail(path, "roles.%s.targets: expected patterns", rn);
			snprintf(where, sizeof where, "roles.%s.targets[%zu]", rn, i);
			allow_re_compile(&r->targets[i], json_object_get_string(t), path, where);
		}
		mr = js_str(rv, "max_risk");
		if ((r->max_risk = allow_risk_parse(mr)) == 0)
			allow_fail(path, "roles.%s.max_risk: expected low, medium or high", rn);
	}
	if (!json_object_object_get_ex(pol->doc, "actors", &as) ||
	    !json_object_is_type(as, json_type_object))
		allow_fail(path, "expected an 'actors' mapping");
	pol->actors = as;
	json_object_object_foreach(as, an, av) {
		size_t i, n = json_object_is_type(av, json_type_array) ? json_object_array_length(av) : 1;
		for (i = 0; i < n; i++) {
			json_object *e = json_object_is_type(av, json_type_array) ?
					 json_object_array_get_idx(av, i) : av;
			int j;
			if (!json_object_is_type(e, json_type_string))
				allow_fail(path, "actors.%s: expected a role or a list of roles", an);
			for (j = 0; j < pol->nroles; j++)
				if (strcmp(pol->roles[j].name, json_object_get_string(e)) == 0)
					break;
			if (j == pol->nroles)
				allow_fail(path, "actors.%s: no role '%s'", an, json_object_get_string(e));
		}
	}
}

const char *
policy_check_scope(const struct policy *pol, json_object *group_services, const char *gid,
		   const char *target, char *why, size_t wn)
{
	json_object *svcs = NULL;
	size_t i, n;

	for (int k = 0; k < pol->nextra; k++)
		if (regexec(&pol->extra[k], target, 0, NULL, 0) == 0)
			return NULL;
	if (!json_object_object_get_ex(group_services, gid, &svcs)) {
		snprintf(why, wn, "no group record %.64s was seen, so its services (the target scope) "
			 "are unknown", gid);
		return "target-out-of-scope";
	}
	n = json_object_array_length(svcs);
	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(svcs, i)), target) == 0)
			return NULL;
	snprintf(why, wn, "target '%.64s' is not one of the services of group %.64s", target, gid);
	return "target-out-of-scope";
}

static int
role_allows_action(const struct policy_role *r, const char *action)
{
	size_t n = json_object_array_length(r->actions);
	for (size_t i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(r->actions, i)), action) == 0)
			return 1;
	return 0;
}

const char *
policy_check_rbac(const struct policy *pol, const char *who, const char *action,
		  const char *target, int risk, char *why, size_t wn)
{
	json_object *rv;
	size_t i, n;
	int best = 0;

	if (who == NULL) {
		snprintf(why, wn, "no actor (--as or AIOPS_ACTOR) to check the policy against");
		return "rbac-actor";
	}
	if (!json_object_object_get_ex(pol->actors, who, &rv)) {
		snprintf(why, wn, "actor '%.64s' has no role in the policy", who);
		return "rbac-actor";
	}
	n = json_object_is_type(rv, json_type_array) ? json_object_array_length(rv) : 1;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_is_type(rv, json_type_array) ?
				 json_object_array_get_idx(rv, i) : rv;
		const struct policy_role *r = NULL;
		int j, m = 0;
		for (j = 0; j < pol->nroles; j++)
			if (strcmp(pol->roles[j].name, json_object_get_string(e)) == 0)
				r = &pol->roles[j];
		if (r == NULL || !role_allows_action(r, action))
			continue;
		for (j = 0; j < r->ntargets; j++)
			if (regexec(&r->targets[j], target, 0, NULL, 0) == 0)
				m = 1;
		if (!m) {
			best = best > 1 ? best : 1;
			continue;
		}
		if (risk > r->max_risk) {
			best = 2;
			continue;
		}
		return NULL;
	}
	if (best == 0)
		snprintf(why, wn, "no role of '%.64s' allows action '%.64s'", who, action);
	else if (best == 1)
		snprintf(why, wn, "no role of '%.64s' allows action '%.64s' on this target", who, action);
	else
		snprintf(why, wn, "no role of '%.64s' allows action '%.64s' at risk %s", who, action,
			 allow_risk_name[risk]);
	return best == 0 ? "rbac-action" : best == 1 ? "rbac-target" : "rbac-risk";
}
