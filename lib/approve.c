/*
 * approve: how aiops-exec approves a step (see approve.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "allowlist.h"
#include "approval.h"
#include "approve.h"
#include "buf.h"
#include "err.h"
#include "js.h"
#include "policy.h"
#include "rec.h"
#include "smap.h"
#include "ts.h"

void
approve_init(struct approve *ap, const char *mode, const char *approvals_file)
{
	const char *a = mode ? mode : "never";

	ap->file = approvals_file;
	if (strcmp(a, "never") == 0) {
		ap->mode = APPROVE_NEVER;
	} else if (strcmp(a, "tty") == 0) {
		ap->mode = APPROVE_TTY;
	} else if (strcmp(a, "file") == 0 || strncmp(a, "file:", 5) == 0) {
		ap->mode = APPROVE_FILE;
		if (a[4] == ':')
			ap->file = a + 5;
		if (ap->file == NULL || *ap->file == '\0')
			efatal(EXIT_USAGE, "approve file needs approvals_file or file:PATH");
		if (strcmp(ap->file, "-") == 0)
			efatal(EXIT_USAGE, "approvals_file: the standard input carries the records");
	} else if (strncmp(a, "auto:", 5) == 0 && (ap->level = allow_risk_parse(a + 5)) != 0) {
		ap->mode = APPROVE_AUTO;
	} else {
		efatal(EXIT_USAGE, "approve: unknown mode '%s' (never, file:PATH, tty, auto:low|medium|high)", a);
	}
}

/* What an approver must be allowed to do: the step itself. */
struct need {
	const struct policy *pol;
	const char *action, *target;
	int risk;
};

static const char *
approver_rights(const char *approver, void *ctx, char *why, size_t wn)
{
	const struct need *nd = ctx;
	return policy_check_rbac(nd->pol, approver, nd->action, nd->target, nd->risk, why, wn);
}

/* Looks for an approval of this run's gid/sid with the step's digest in
 * the approvals file; each approval approves one step once. */
static const char *
approve_file(struct approve *ap, const char *run_id, const char *gid, json_object *step, int risk,
	     const char *digest, char *why, size_t wn)
{
	struct need nd = {ap->pol, js_str(step, "action"), js_str(step, "target"), risk};
	struct approval_want w = {run_id, gid, js_str(step, "id"), digest, ts_now()};
	struct buf key = BUF_INIT(0);
	const char *rule;
	int created;

	rule = approval_find(ap->file, &w, approver_rights, &nd, ap->name, sizeof ap->name,
			     why, wn);
	if (rule)
		return rule;
	buf_printf(&key, "%s/%s/%s", run_id, gid, w.step_id);
	smap_put(&ap->used, key.p, key.len, &created);
	buf_free(&key);
	if (!created) {
		snprintf(why, wn, "the approval of %.64s/%.64s was used already in this run", gid,
			 w.step_id);
		return "approval-used";
	}
	return NULL;
}

/* Writes s on fd with control characters shown as \xNN. */
static void
tty_put(int fd, const char *s)
{
	struct buf b = BUF_INIT(0);

	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			buf_printf(&b, "\\x%02x", (unsigned char)*s);
		else
			buf_addc(&b, *s);
	}
	if (b.len && write(fd, b.p, b.len) < 0)
		(void)0;
	buf_free(&b);
}

/* Asks on /dev/tty; nothing but "y" or "yes" approves. */
static const char *
approve_tty(struct approve *ap, const char *gid, json_object *step, int risk, char **argv,
	    char *why, size_t wn)
{
	char ans[64];
	size_t n = 0;
	int fd;

	out_flush();
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, wn, "no terminal to ask on: /dev/tty: %s", strerror(errno));
		return "approval-tty";
	}
	tty_put(fd, err_prog);
	tty_put(fd, ": approve step ");
	tty_put(fd, js_str(step, "id"));
	tty_put(fd, " of ");
	tty_put(fd, gid);
	tty_put(fd, "?\n  action ");
	tty_put(fd, js_str(step, "action"));
	tty_put(fd, " on ");
	tty_put(fd, js_str(step, "target"));
	tty_put(fd, ", risk ");
	tty_put(fd, allow_risk_name[risk]);
	if (js_str(step, "rationale")) {
		tty_put(fd, "\n  rationale: ");
		tty_put(fd, js_str(step, "rationale"));
	}
	tty_put(fd, "\n  argv:");
	for (char **p = argv; p && *p; p++) {
		tty_put(fd, " '");
		tty_put(fd, *p);
		tty_put(fd, "'");
	}
	tty_put(fd, "\napprove? [y/N] ");
	while (n < sizeof ans - 1) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		ans[n++] = c;
	}
	ans[n] = '\0';
	close(fd);
	if (strcmp(ans, "y") == 0 || strcmp(ans, "yes") == 0) {
		snprintf(ap->name, sizeof ap->name, "%s", ap->actor ? ap->actor : "tty");
		return NULL;
	}
	snprintf(why, wn, "not approved on the terminal");
	return "approval-tty";
}

const char *
approve_step(struct approve *ap, const char *run_id, const char *gid, json_object *step, int risk,
	     const char *digest, char **argv, const char **approver, char *why, size_t wn)
{
	const char *rule = NULL;

	*approver = NULL;
	switch (ap->mode) {
	case APPROVE_NEVER:
		snprintf(why, wn, "approve is never: no step is approved");
		return "approval-never";
	case APPROVE_AUTO:
		if (risk > ap->level) {
			snprintf(why, wn, "risk %s is above auto:%s", allow_risk_name[risk], allow_risk_name[ap->level]);
			return "approval-auto";
		}
		snprintf(ap->name, sizeof ap->name, "auto:%s", allow_risk_name[ap->level]);
		break;
	case APPROVE_FILE:
		rule = approve_file(ap, run_id, gid, step, risk, digest, why, wn);
		break;
	case APPROVE_TTY:
		rule = approve_tty(ap, gid, step, risk, argv, why, wn);
		break;
	}
	if (rule == NULL)
		*approver = ap->name;
	return rule;
}

void
approve_free(struct approve *ap)
{
	smap_free(&ap->used, NULL);
}
