/*
 * aiops-exec: decide about remediation steps, and run the ones that are
 * allowed and approved.  Reads `remediation` records, forwards each one
 * unchanged, and after it writes an `execution` record for every decision
 * about each of its steps: dry-run, refused (with the rule that refused
 * it), approved (by whom), then executed or failed.  Every other kind
 * passes through byte for byte.
 *
 * The noop executor (the default) runs nothing.  The command executor runs
 * a step only when its action is in the allowlist, its target and every
 * parameter pass their declared type and pattern, the policy lets the actor
 * do it, no guard stops it and it is approved; the program then runs from
 * an absolute path through posix_spawn (never a shell), each value being one
 * whole argv element, with only the allowlisted environment, in a process
 * group of its own that is killed at the deadline.
 *
 * The allowlist and its checks are lib/allowlist, the policy and the target
 * scope lib/policy, the approval modes lib/approve (their headers say how);
 * the guards, the environment, the records and running a step are here.
 *
 * Memory: the allowlist and the policy, one counter per group and one time
 * per target seen, and the bounded output tails of the running step.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "allowlist.h"
#include "approval.h"
#include "approve.h"
#include "buf.h"
#include "catalog.h"
#include "cfg.h"
#include "err.h"
#include "js.h"
#include "policy.h"
#include "proc.h"
#include "rec.h"
#include "rx.h"
#include "smap.h"
#include "stage.h"
#include "ts.h"

#define DEFAULT_ALLOWLIST "examples/executors/commands.yaml"
#define SAFE_PATH "/usr/local/bin:/usr/bin:/bin"

static const char *opt_type = "noop";
static const char *opt_allowlist, *opt_approve, *opt_approvals_file, *opt_policy;
static const char *opt_as, *opt_audit;
static int opt_dry_run;
static long long opt_max_groups = 1024;
static long long opt_max_group = 3, opt_max_run = 10, opt_tail = 4096;
static double opt_cooldown = 300, opt_timeout = 60, opt_grace = 5;
static json_object *opt_env;

static const struct opt opts[] = {
	{"type", OPT_STRING, &opt_type, "TYPE", "executor: noop (default, runs nothing) or command", 0, 0},
	{"allowlist", OPT_STRING, &opt_allowlist, "FILE", "actions and their argv templates", 0, 0},
	{"approve", OPT_STRING, &opt_approve, "MODE", "never, file[:PATH], tty or auto:low|medium|high", 0, 0},
	{"approvals_file", OPT_STRING, &opt_approvals_file, "FILE", "approvals JSONL for --approve file", 0, 0},
	{"policy", OPT_STRING, &opt_policy, "FILE", "RBAC policy: roles and actors", 0, 0},
	{"as", OPT_STRING, &opt_as, "ACTOR", "who runs the executor (default $AIOPS_ACTOR)", OPT_NOCONFIG, 0},
	{"dry_run", OPT_FLAG, &opt_dry_run, NULL, "run nothing, whatever else is configured", 0, 'n'},
	{"max_steps_per_group", OPT_INT, &opt_max_group, "N", "run at most N steps of a group (0: no limit)", 0, 0},
	{"max_steps_per_run", OPT_INT, &opt_max_run, "N", "run at most N steps in all (0: no limit)", 0, 0},
	{"cooldown_s", OPT_DURATION, &opt_cooldown, "SECONDS", "refuse a step on a target that ran one this recently", 0, 0},
	{"timeout_s", OPT_DURATION, &opt_timeout, "SECONDS", "kill a step's process group after this (0: never)", 0, 0},
	{"kill_grace_s", OPT_DURATION, &opt_grace, "SECONDS", "wait between SIGTERM and SIGKILL", 0, 0},
	{"tail_bytes", OPT_INT, &opt_tail, "BYTES", "bytes kept from the end of stdout and stderr", 0, 0},
	{"env", OPT_JSON, &opt_env, "NAMES", "variables passed to programs (a list; PATH is fixed unless listed)", 0, 0},
	{"audit", OPT_STRING, &opt_audit, "FILE", "append every decision to this JSONL file", 0, 0},
	{"max_groups", OPT_INT, &opt_max_groups, "N", "groups whose services are remembered for the target scope (default 1024)", 0, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* ---- state ---- */

static struct allowlist allow;  /* allow.doc NULL: no allowlist */
static struct policy pol;       /* pol.doc NULL: no policy */
static struct approve appr = {.used = SMAP_INIT};

/* The run (from the stream's run record) and the groups' services, the
 * last max_groups groups by id. */
static char *run_id;
static json_object *group_services;
static char **group_ring;
static size_t ring_head, ring_n;

static const char *actor;
static char **env_names;
static int nenv;
static int audit_fd = -1;
static int is_command;

struct grp {
	long long runs;
	int halted;
};
static struct smap groups = SMAP_INIT, cooldowns = SMAP_INIT;
static long long run_count;

enum { D_DRY, D_REFUSED, D_APPROVED, D_EXECUTED, D_FAILED, ND };
static const char *const dname[ND] = {"dry-run", "refused", "approved", "executed", "failed"};
static unsigned long dcount[ND];



/* Reads the env option: a list of names, or one string of names. */
static void
parse_env(void)
{
	struct buf b = BUF_INIT(0);
	size_t i, n;
	char *s, *tok, *save;

	if (opt_env == NULL)
		return;
	if (json_object_is_type(opt_env, json_type_array)) {
		n = json_object_array_length(opt_env);
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(opt_env, i);
			if (!json_object_is_type(e, json_type_string))
				efatal(EXIT_USAGE, "env: expected variable names");
			buf_adds(&b, json_object_get_string(e));
			buf_addc(&b, ',');
		}
	} else if (json_object_is_type(opt_env, json_type_string)) {
		buf_adds(&b, json_object_get_string(opt_env));
	} else {
		efatal(EXIT_USAGE, "env: expected a list of variable names");
	}
	s = buf_detach(&b);
	env_names = ecalloc(strlen(s) + 1, sizeof *env_names);
	for (tok = strtok_r(s, ", []", &save); tok; tok = strtok_r(NULL, ", []", &save)) {
		if (strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
		    strlen(tok) || (tok[0] >= '0' && tok[0] <= '9'))
			efatal(EXIT_USAGE, "env: '%s' is not a variable name", tok);
		env_names[nenv++] = tok;
	}
}

static char **
build_env(void)
{
	char **envp = ecalloc((size_t)nenv + 2, sizeof *envp);
	int i, k = 0, path = 0;

	for (i = 0; i < nenv; i++) {
		const char *v = getenv(env_names[i]);
		struct buf b = BUF_INIT(0);
		if (strcmp(env_names[i], "PATH") == 0)
			path = 1;
		if (v == NULL)
			continue;
		buf_printf(&b, "%s=%s", env_names[i], v);
		envp[k++] = buf_detach(&b);
	}
	if (!path)
		envp[k++] = estrdup("PATH=" SAFE_PATH);
	return envp;
}

static void
free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* ---- records ---- */

/* A JSON string of s[0..n) made valid UTF-8 (bad bytes become U+FFFD). */
static json_object *
clean_str(const char *s, size_t n)
{
	struct buf b = BUF_INIT(0);
	json_object *o;
	size_t i = 0;

	if (js_utf8_valid(s, n))
		return json_object_new_string_len(s, (int)n);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			   c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (k > 0 && i + k <= n && js_utf8_valid(s + i, k)) {
			buf_add(&b, s + i, k);
			i += k;
		} else {
			buf_adds(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	o = json_object_new_string_len(b.p ? b.p : "", (int)b.len);
	buf_free(&b);
	return o;
}

static void
add_cstr(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? clean_str(s, strlen(s)) : NULL);
}

/* Adds a member taken from the step: a string is cleaned, anything else is
 * copied as it came. */
static void
add_from(json_object *o, const char *key, json_object *v)
{
	if (v && json_object_is_type(v, json_type_string))
		json_object_object_add(o, key, clean_str(json_object_get_string(v),
							 (size_t)json_object_get_string_len(v)));
	else
		json_object_object_add(o, key, v ? js_copy(v) : NULL);
}

/* A tail: drops the partial character a cut may have left at its start. */
static void
add_tail(json_object *o, const char *key, const char *s, size_t n, size_t total)
{
	if (s == NULL) {
		json_object_object_add(o, key, NULL);
		return;
	}
	if (total > n)
		for (int k = 0; k < 3 && n > 0 && ((unsigned char)*s & 0xc0) == 0x80; k++)
			s++, n--;
	json_object_object_add(o, key, clean_str(s, n));
}

/* What is known about one decision. */
struct xr {
	const char *gid;
	json_object *step_id, *action, *target;
	int decision;
	const char *rule, *approver;
	int risk;               /* the effective risk, 0 when unknown */
	char digest[65];        /* "" when the step has no shape to hash */
	char reason[640];
	char **argv;
	int has_exit, exit_code;
	int64_t started, ended;
	struct proc_result *res;
};

static void
audit_write(json_object *o)
{
	size_t n, off = 0;
	const char *s = js_dump(o, &n);
	char *line = emalloc(n + 1);

	memcpy(line, s, n);
	line[n] = '\n';
	while (off < n + 1) {
		ssize_t w = write(audit_fd, line + off, n + 1 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			efatal(EXIT_FAIL, "%s: write error: %s", opt_audit, strerror(errno));
		off += (size_t)w;
	}
	free(line);
	if (fdatasync(audit_fd) < 0 && errno != EINVAL && errno != EROFS)
		efatal(EXIT_FAIL, "%s: write error: %s", opt_audit, strerror(errno));
}

static void
emit(struct stage *st, struct xr *x)
{
	json_object *o = stage_record("execution"), *a;

	add_cstr(o, "group_id", x->gid);
	add_from(o, "step_id", x->step_id);
	add_from(o, "action", x->action);
	add_from(o, "target", x->target);
	js_add_str(o, "decision", dname[x->decision]);
	add_cstr(o, "reason", x->reason);
	add_cstr(o, "rule", x->rule);
	add_cstr(o, "actor", actor);
	add_cstr(o, "approver", x->approver);
	json_object_object_add(o, "risk", x->risk ? json_object_new_string(allow_risk_name[x->risk]) : NULL);
	add_cstr(o, "run_id", run_id);
	add_cstr(o, "digest", x->digest[0] ? x->digest : NULL);
	if (x->argv) {
		a = json_object_new_array();
		for (char **p = x->argv; *p; p++)
			json_object_array_add(a, clean_str(*p, strlen(*p)));
		json_object_object_add(o, "argv", a);
	} else {
		json_object_object_add(o, "argv", NULL);
	}
	if (x->has_exit)
		js_add_int(o, "exit_code", x->exit_code);
	else
		json_object_object_add(o, "exit_code", NULL);
	js_add_ts(o, "started_at", x->started);
	js_add_ts(o, "ended_at", x->ended);
	add_tail(o, "stdout_tail", x->res ? x->res->out : NULL, x->res ? x->res->out_len : 0,
		 x->res ? x->res->out_total : 0);
	add_tail(o, "stderr_tail", x->res ? x->res->errout : NULL, x->res ? x->res->err_len : 0,
		 x->res ? x->res->err_total : 0);
	js_add_ts(o, "decided_at", ts_now());
	stage_emit(st, o);
	if (audit_fd >= 0)
		audit_write(o);
	dcount[x->decision]++;
	json_object_put(o);
}

/* ---- the checks ---- */

static int
has_nul(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && js_has_nul(v);
}

/* The step's shape.  Returns NULL or the rule, with why set. */
static const char *
check_shape(json_object *step, int *risk, char *why, size_t wn)
{
	json_object *v;

	if (!json_object_is_type(step, json_type_object)) {
		snprintf(why, wn, "the step is not an object");
		return "step-invalid";
	}
	/* A NUL would cut these C strings short; params are checked value by
	 * value in allowlist_check. */
	if (has_nul(step, "id") || has_nul(step, "action") || has_nul(step, "target")) {
		snprintf(why, wn, "the step contains a NUL character (refused, never cut there)");
		return "step-invalid";
	}
	if (js_str(step, "id") == NULL || *js_str(step, "id") == '\0') {
		snprintf(why, wn, "the step has no string id");
		return "step-invalid";
	}
	if (js_str(step, "action") == NULL) {
		snprintf(why, wn, "the step has no string action");
		return "step-invalid";
	}
	if (js_str(step, "target") == NULL) {
		snprintf(why, wn, "the step has no string target");
		return "step-invalid";
	}
	if (json_object_object_get_ex(step, "params", &v) && v &&
	    !json_object_is_type(v, json_type_object)) {
		snprintf(why, wn, "params is not an object");
		return "step-invalid";
	}
	if ((*risk = allow_risk_parse(js_str(step, "risk"))) == 0) {
		snprintf(why, wn, "risk is not low, medium or high");
		return "step-invalid";
	}
	return NULL;
}










/* ---- the steps ---- */

static struct grp *
group_of(const char *gid)
{
	void **slot = smap_put(&groups, gid, strlen(gid), NULL);
	if (*slot == NULL)
		*slot = ecalloc(1, sizeof(struct grp));
	return *slot;
}

/* Runs an approved step and fills x with what happened. */
static void
run_step(struct xr *x, struct proc_result *res)
{
	struct proc_opts po = {opt_timeout, opt_grace, (size_t)opt_tail};
	char **envp = build_env();

	out_flush();
	if (proc_run(x->argv, envp, &po, res) < 0) {
		x->decision = D_FAILED;
		snprintf(x->reason, sizeof x->reason, "cannot run %s: %s", x->argv[0], strerror(res->err));
	} else if (res->timed_out) {
		x->decision = D_FAILED;
		snprintf(x->reason, sizeof x->reason, "timed out after %gs: process group killed (%s)",
			 opt_timeout, res->exited ? "exited" : res->sig == 9 ? "SIGKILL" : "SIGTERM");
	} else if (!res->exited) {
		x->decision = D_FAILED;
		snprintf(x->reason, sizeof x->reason, "killed by signal %d", res->sig);
	} else {
		x->decision = res->code == 0 ? D_EXECUTED : D_FAILED;
		snprintf(x->reason, sizeof x->reason, "exited with status %d", res->code);
	}
	if (res->exited) {
		x->has_exit = 1;
		x->exit_code = res->code;
	}
	x->started = res->started_ns;
	x->ended = res->ended_ns;
	x->res = res;
	free_strv(envp);
}

static void
do_step(struct stage *st, const char *gid, json_object *step, struct grp *g)
{
	struct xr x;
	char why[512] = "";
	const char *rule, *approver = NULL, *target;
	int risk = 0;
	int64_t now, *last;
	void **slot;
	struct proc_result res;

	memset(&x, 0, sizeof x);
	x.gid = gid;
	x.started = x.ended = TS_NONE;
	if (json_object_is_type(step, json_type_object)) {
		json_object_object_get_ex(step, "id", &x.step_id);
		json_object_object_get_ex(step, "action", &x.action);
		json_object_object_get_ex(step, "target", &x.target);
	}
	rule = check_shape(step, &risk, why, sizeof why);
	if (rule == NULL) {
		/* The effective risk: the higher of the allowlist's and the record's. */
		const struct allow_action *a = allow.doc ? allowlist_find(&allow, js_str(step, "action")) : NULL;
		json_object *ps = NULL;
		if (a && a->risk > risk)
			risk = a->risk;
		x.risk = risk;
		json_object_object_get_ex(step, "params", &ps);
		approval_digest(js_str(step, "action"), js_str(step, "target"), ps, x.digest);
	}
	if (rule == NULL && allow.doc)
		rule = allowlist_check(&allow, step, &x.argv, why, sizeof why);
	if (rule == NULL)
		rule = policy_check_scope(&pol, group_services, gid, js_str(step, "target"), why,
					  sizeof why);
	if (rule == NULL && pol.doc)
		rule = policy_check_rbac(&pol, actor, js_str(step, "action"), js_str(step, "target"),
					 risk, why, sizeof why);

	if (!is_command || opt_dry_run) {
		x.decision = D_DRY;
		x.rule = rule;
		if (rule)
			snprintf(x.reason, sizeof x.reason, "would be refused: %s", why);
		else if (allow.doc == NULL)
			snprintf(x.reason, sizeof x.reason, "noop executor: no allowlist, nothing runs");
		else
			snprintf(x.reason, sizeof x.reason, "%s: nothing runs",
				 is_command ? "dry run" : "noop executor");
		emit(st, &x);
		free_strv(x.argv);
		return;
	}

	target = js_str(step, "target");
	now = ts_mono();
	if (rule == NULL && g->halted) {
		rule = "group-halted";
		snprintf(why, sizeof why, "an earlier step of this group failed");
	}
	if (rule == NULL && opt_max_group > 0 && g->runs >= opt_max_group) {
		rule = "max-steps-per-group";
		snprintf(why, sizeof why, "this group already ran %lld steps (max_steps_per_group)",
			 g->runs);
	}
	if (rule == NULL && opt_max_run > 0 && run_count >= opt_max_run) {
		rule = "max-steps-per-run";
		snprintf(why, sizeof why, "this run already ran %lld steps (max_steps_per_run)",
			 run_count);
	}
	if (rule == NULL && opt_cooldown > 0 &&
	    (slot = smap_get(&cooldowns, target, strlen(target))) != NULL &&
	    now - *(int64_t *)*slot < (int64_t)(opt_cooldown * 1e9)) {
		rule = "cooldown";
		snprintf(why, sizeof why, "a step ran on this target %.0fs ago (cooldown_s %g)",
			 (double)(now - *(int64_t *)*slot) / 1e9, opt_cooldown);
	}
	if (rule == NULL)
		rule = approve_step(&appr, run_id, gid, step, risk, x.digest, x.argv, &approver, why,
				    sizeof why);
	if (rule) {
		x.decision = D_REFUSED;
		x.rule = rule;
		snprintf(x.reason, sizeof x.reason, "%s", why);
		emit(st, &x);
		free_strv(x.argv);
		return;
	}

	x.decision = D_APPROVED;
	x.approver = approver;
	snprintf(x.reason, sizeof x.reason, "approved by %s", approver);
	emit(st, &x);
	g->runs++;
	run_count++;
	slot = smap_put(&cooldowns, target, strlen(target), NULL);
	if (*slot == NULL)
		*slot = emalloc(sizeof(int64_t));
	last = *slot;
	*last = ts_mono();

	run_step(&x, &res);
	if (x.decision == D_FAILED)
		g->halted = 1;
	emit(st, &x);
	proc_result_free(&res);
	free_strv(x.argv);
}

static int
on_remediation(struct stage *st, struct rec *r)
{
	const char *gid = js_str(r->obj, "group_id");
	json_object *steps = NULL;
	struct grp *g;
	size_t i, n;

	json_object_object_get_ex(r->obj, "steps", &steps);
	if (gid == NULL || (steps && !json_object_is_type(steps, json_type_array))) {
		stage_reject(st, r->source, r->line, r->raw, r->len, r->len,
			     "remediation needs a string group_id and a steps list");
		return 0;
	}
	stage_forward(st, r);
	if (steps == NULL)
		return 0;
	g = group_of(gid);
	n = json_object_array_length(steps);
	for (i = 0; i < n; i++)
		do_step(st, gid, json_object_array_get_idx(steps, i), g);
	return 0;
}

/* The run record: its run_id is what approvals name. */
static int
on_run(struct stage *st, struct rec *r)
{
	const char *id = js_str(r->obj, "run_id");

	stage_forward(st, r);
	free(run_id);
	run_id = id && *id ? estrdup(id) : NULL;
	return 0;
}

/* A group record: its services are the scope of its steps' targets. */
static int
on_group(struct stage *st, struct rec *r)
{
	const char *gid = js_str(r->obj, "id");
	json_object *svcs = NULL, *names;
	size_t cap = (size_t)opt_max_groups;

	stage_forward(st, r);
	if (gid == NULL)
		return 0;
	json_object_object_get_ex(r->obj, "services", &svcs);
	names = json_object_new_array();
	for (size_t i = 0; json_object_is_type(svcs, json_type_array) &&
	     i < json_object_array_length(svcs); i++) {
		json_object *e = json_object_array_get_idx(svcs, i);
		const char *n = json_object_is_type(e, json_type_string) ? json_object_get_string(e) :
				js_str(e, "service");
		if (n)
			json_object_array_add(names, json_object_new_string(n));
	}
	if (ring_n == cap) {
		json_object_object_del(group_services, group_ring[ring_head]);
		free(group_ring[ring_head]);
		ring_head = (ring_head + 1) % cap;
		ring_n--;
	}
	group_ring[(ring_head + ring_n++) % cap] = estrdup(gid);
	json_object_object_add(group_services, gid, names);
	return 0;
}

static int
on_start(struct stage *st)
{
	json_object *params = stage_params(st);

	/* A SIGCHLD ignored by our parent would make waitpid() lose statuses. */
	signal(SIGCHLD, SIG_DFL);
	if (opt_type == NULL)
		opt_type = "noop";
	if (strcmp(opt_type, "command") == 0)
		is_command = 1;
	else if (strcmp(opt_type, "noop") != 0)
		efatal(EXIT_USAGE, "type: unknown executor '%s' (noop or command)", opt_type);
	if (opt_max_group < 0 || opt_max_run < 0 || opt_cooldown < 0 || opt_timeout < 0 ||
	    opt_grace < 0)
		efatal(EXIT_USAGE, "limits and durations must not be negative");
	if (opt_tail < 16 || opt_tail > (1 << 20))
		efatal(EXIT_USAGE, "tail_bytes: expected 16 to 1048576");
	if (opt_max_groups < 1)
		efatal(EXIT_USAGE, "max_groups: expected at least 1");
	group_services = json_object_new_object();
	group_ring = ecalloc((size_t)opt_max_groups, sizeof *group_ring);
	if (opt_allowlist == NULL && is_command) {
		/* The bundled example, installed or in the tree. */
		static char *found;
		found = stage_datafile("executors/commands.yaml");
		opt_allowlist = found ? found : DEFAULT_ALLOWLIST;
		json_object_object_add(params, "allowlist", json_object_new_string(opt_allowlist));
	}
	if (opt_allowlist)
		allowlist_load(&allow, opt_allowlist);
	if (opt_policy)
		policy_load(&pol, opt_policy);
	approve_init(&appr, opt_approve, opt_approvals_file);
	appr.pol = &pol;
	if (appr.mode == APPROVE_FILE && pol.doc == NULL && is_command && !opt_dry_run)
		efatal(EXIT_USAGE, "approve file needs a policy: every approver's rights are checked against it");
	json_object_object_add(params, "approve", json_object_new_string(opt_approve ? opt_approve : "never"));
	parse_env();
	actor = opt_as ? opt_as : getenv("AIOPS_ACTOR");
	if (actor && *actor == '\0')
		actor = NULL;
	appr.actor = actor;
	json_object_object_add(params, "as", actor ? json_object_new_string(actor) : NULL);
	if (opt_audit && !stage_preflighting()) {
		audit_fd = open(opt_audit, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (audit_fd < 0)
			efatal(EXIT_FAIL, "%s: %s", opt_audit, strerror(errno));
	}
	return 0;
}

static void
add_end(struct stage *st, json_object *end)
{
	json_object *o = json_object_new_object();

	(void)st;
	for (int i = 0; i < ND; i++)
		js_add_int(o, dname[i], (int64_t)dcount[i]);
	json_object_object_add(end, "executions", o);
}

static int
on_end(struct stage *st)
{
	(void)st;
	if (audit_fd >= 0 && close(audit_fd) < 0)
		efatal(EXIT_FAIL, "%s: %s", opt_audit, strerror(errno));
	audit_fd = -1;
	for (size_t i = 0; i < ring_n; i++)
		free(group_ring[(ring_head + i) % (size_t)opt_max_groups]);
	free(group_ring);
	group_ring = NULL;
	ring_n = 0;
	json_object_put(group_services);
	group_services = NULL;
	approve_free(&appr);
	free(run_id);
	run_id = NULL;
	return 0;
}

static const struct handler handlers[] = {
	{"remediation", on_remediation},
	{"run", on_run},
	{"group", on_group},
	{NULL, NULL},
};

/*
 * --preflight, for the command executor: the allowlist and the catalog of
 * the remediation stage (pipeline.remediation.catalog, else the built-in
 * one) agree.  Every catalog action must be allowlisted, with each of its
 * parameters declared; a parameter the allowlist requires (no default) must
 * be one the catalog lets the model give.  One line per disagreement.
 */
static int
preflight(struct stage *st)
{
	const char *cpath = js_str(js_path(st->config, "pipeline.remediation"), "catalog");
	char err[1024];
	struct catalog *cat;
	int bad = 0;

	if (!is_command || allow.path == NULL)
		return 0;
	cat = cpath ? catalog_load(cpath, err, sizeof err) : catalog_builtin(err, sizeof err);
	if (cat == NULL) {
		warnf("%s", err);
		return 1;
	}
	if (cpath == NULL)
		cpath = "the built-in catalog";
	for (size_t i = 0; i < catalog_count(cat); i++) {
		const char *an = catalog_name(cat, i);
		const struct allow_action *a = allowlist_find(&allow, an);
		if (a == NULL) {
			warnf("%s: action '%s' of %s is not in the allowlist: its steps would all be refused",
			      allow.path, an, cpath);
			bad++;
			continue;
		}
		for (size_t j = 0; j < catalog_nparams(cat, an); j++) {
			const char *pn = catalog_param(cat, an, j);
			int k;
			for (k = 0; k < a->nparams && strcmp(a->params[k].name, pn) != 0; k++)
				;
			if (k == a->nparams) {
				warnf("%s: actions.%s: parameter '%s' of %s is not declared: a step that sets "
				      "it would be refused", allow.path, an, pn, cpath);
				bad++;
			}
		}
		for (int k = 0; k < a->nparams; k++) {
			size_t j;
			if (a->params[k].def != NULL)
				continue;
			for (j = 0; j < catalog_nparams(cat, an) &&
			     strcmp(catalog_param(cat, an, j), a->params[k].name) != 0; j++)
				;
			if (j == catalog_nparams(cat, an)) {
				warnf("%s: actions.%s: required parameter '%s' is not in %s: no step can give it",
				      allow.path, an, a->params[k].name, cpath);
				bad++;
			}
		}
	}
	catalog_free(cat);
	return bad;
}

int
main(int argc, char **argv)
{
	static struct stage st = {
		.name = "exec",
		.section = "pipeline.executor",
		.synopsis = "[--dry-run] [--as ACTOR] [options] [FILE...]",
		.description = "Decide about the steps of remediation records and write an execution "
			       "record for each decision; the noop executor (default) runs nothing.",
		.opts = opts,
		.handlers = handlers,
		.on_start = on_start,
		.preflight = preflight,
		.on_end = on_end,
		.add_end = add_end,
	};
	return stage_main(&st, argc, argv);
}
