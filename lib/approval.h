/*
 * approval: the approvals file of aiops-exec.  An approval is one JSON line
 *
 *   {"run_id": R, "group_id": G, "step_id": S, "digest": D, "approver": A,
 *    "expires_at": T (optional, RFC 3339), "comment": ... (ignored)}
 *
 * and approves exactly one step: the step S of group G in the run R whose
 * action, target and params hash to D (approval_digest).  A line that names
 * the group and step but another run, another digest, has expired, lacks
 * run_id or digest (the old form), or whose approver the caller's rights
 * check refuses, approves nothing; the closest such line gives the reason.
 */
#ifndef AIOPS_APPROVAL_H
#define AIOPS_APPROVAL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/*
 * The digest of a step: the lowercase hex SHA-256 of the compact JSON of
 * {"action": action, "params": params, "target": target} with the keys of
 * every object sorted (what `jq -cS '{action, params, target}'` prints for
 * printable values).  params NULL counts as {}.
 */
void approval_digest(const char *action, const char *target, json_object *params, char out[65]);

/* What a step needs from an approval. */
struct approval_want {
	const char *run_id;     /* NULL: the stream named no run, nothing matches */
	const char *group_id, *step_id, *digest;
	int64_t now;            /* ns since the epoch, for expires_at */
};

/*
 * The rights check of an approver: returns NULL when the approver may
 * approve the step, else a rule with why set.
 */
typedef const char *(*approval_rights_fn)(const char *approver, void *ctx, char *why, size_t wn);

/*
 * Looks for an approval of w in the file at path.  Returns NULL with the
 * approver copied into approver[an], or the rule that refuses the step with
 * why set: approval-file (no line for the group and step, or the file cannot
 * be read), approval-stale (another run, or the old form without run_id or
 * digest), approval-mismatch (another digest), approval-expired, or the
 * approval-rights (the rights check refused every approver that matched).
 */
const char *approval_find(const char *path, const struct approval_want *w,
			  approval_rights_fn rights, void *ctx, char *approver, size_t an,
			  char *why, size_t wn);

#endif
