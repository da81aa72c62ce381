/*
 * policy: who may have aiops-exec run what, and on which targets.  The
 * policy file (YAML or JSON, read with cfg_load) is
 *
 *   roles:
 *     NAME: {actions: [ACTION...], targets: [RE...], max_risk: low|medium|high,
 *            description: ...}
 *   actors:
 *     WHO: ROLE | [ROLE...]
 *   extra_targets: [RE...]      (optional)
 *
 * Patterns are anchored at both ends (lib/allowlist's allow_re_compile).
 * A step's target must be in scope (policy_check_scope: one of its group's
 * services, or matching an extra_targets pattern), and when a policy is
 * loaded some role of the actor, and of each approver, must allow the
 * action, the target and the risk together (policy_check_rbac).
 *
 * Ownership: policy_load() keeps the parsed document in pol->doc; role
 * names and action lists are borrowed from it.  Nothing is freed: the
 * policy lives as long as the stage.  A config error prints
 * "PROG: FILE: WHAT" and exits 2 (EXIT_USAGE); the checks print nothing
 * and never exit.
 */
#ifndef AIOPS_POLICY_H
#define AIOPS_POLICY_H

#include <stddef.h>
#include <regex.h>

#include <json-c/json.h>

struct policy_role {
	const char *name;
	json_object *actions;   /* array of strings (borrowed) */
	regex_t *targets;
	int ntargets;
	int max_risk;
};

struct policy {
	json_object *doc;       /* NULL: no policy loaded */
	json_object *actors;    /* the actors mapping (borrowed from doc) */
	struct policy_role *roles;
	int nroles;
	regex_t *extra;         /* targets allowed beyond a group's services */
	int nextra;
};

/* Loads the policy at path into *pol (zeroed by the caller); a bad file
 * exits 2. */
void policy_load(struct policy *pol, const char *path);

/*
 * The target scope: target must match one of pol's extra_targets (none
 * when no policy is loaded), or be one of the services group_services
 * (an object: group id -> array of service names) lists for gid.  Returns
 * NULL, or "target-out-of-scope" with why set.
 */
const char *policy_check_scope(const struct policy *pol, json_object *group_services,
			       const char *gid, const char *target, char *why, size_t wn);

/*
 * RBAC: some role of who (the actor, or an approver; NULL: none given)
 * must allow the action, the target and the risk (1 to 3) together.
 * Returns NULL, or the rule with why set: rbac-actor (no who, or who has
 * no role), rbac-action, rbac-target or rbac-risk (how far the closest
 * role came).
 */
const char *policy_check_rbac(const struct policy *pol, const char *who, const char *action,
			      const char *target, int risk, char *why, size_t wn);

#endif
