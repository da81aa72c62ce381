/*
 * approve: whether a step aiops-exec would run is approved, and by whom.
 * The modes (the executor's `approve` option):
 *
 *   never              nothing is approved (approval-never)
 *   auto:LEVEL         a step whose risk is at most LEVEL (low, medium,
 *                      high) is approved by "auto:LEVEL" (else approval-auto)
 *   file[:PATH]        an approval line in PATH (or approvals_file) for the
 *                      run, group, step and digest (lib/approval), whose
 *                      approver some role of the policy allows to do the
 *                      step itself (lib/policy's RBAC check); each approval
 *                      approves one step once per run (approval-used)
 *   tty                a question on /dev/tty (the step, its risk,
 *                      rationale and argv, control characters shown as
 *                      \xNN); only "y" or "yes" approves, by the actor or
 *                      "tty" (else approval-tty)
 *
 * State: struct approve, which the caller owns (zero it, or set .used to
 * SMAP_INIT), sets .pol and .actor in, and frees with approve_free().  The
 * approvals file is read at each step, never kept.  approve_init() prints
 * "PROG: what" and exits 2 on a bad mode; approve_step() prints only on
 * the terminal (tty mode, after flushing the standard output) and never
 * exits.
 */
#ifndef AIOPS_APPROVE_H
#define AIOPS_APPROVE_H

#include <stddef.h>

#include <json-c/json.h>

#include "policy.h"
#include "smap.h"

enum { APPROVE_NEVER, APPROVE_FILE, APPROVE_TTY, APPROVE_AUTO };

struct approve {
	int mode;               /* APPROVE_* */
	int level;              /* auto's level: 1 low, 2 medium, 3 high */
	const char *file;       /* file mode's approvals file (borrowed) */
	const struct policy *pol;  /* the approvers' rights (file mode) */
	const char *actor;      /* who a tty approval is by (NULL: "tty") */
	char name[256];         /* the approver of the last approved step */
	struct smap used;       /* run/group/step approved from the file */
};

/* Sets the mode from mode (NULL: never) and approvals_file (file mode
 * without :PATH); a bad mode, or file mode without a file or with "-",
 * exits 2. */
void approve_init(struct approve *ap, const char *mode, const char *approvals_file);

/*
 * Is step (an object with string id, action and target) of group gid in
 * run run_id (NULL: none seen), at effective risk risk (1 to 3), with the
 * digest and rendered argv given, approved?  Returns NULL with *approver
 * set to ap->name (valid until the next call), or the rule that refuses it
 * with why set and *approver NULL.
 */
const char *approve_step(struct approve *ap, const char *run_id, const char *gid,
			 json_object *step, int risk, const char *digest, char **argv,
			 const char **approver, char *why, size_t wn);

/* Frees what approve_step() remembered of used approvals. */
void approve_free(struct approve *ap);

#endif
