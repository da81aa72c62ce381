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

#include "approval.h"
#include "buf.h"
#include "catalog.h"
#include "cfg.h"
#include "err.h"
#include "js.h"
#include "proc.h"
#include "rec.h"
#include "rx.h"
#include "smap.h"
#include "stage.h"
#include "ts.h"

#define DEFAULT_ALLOWLIST "examples/executors/commands.yaml"
#define DEFAULT_TARGET_RE "[a-z0-9][a-z0-9-]{0,62}"
#define SAFE_PATH "/usr/local/bin:/usr/bin:/bin"
#define MAX_VALUE 4096          /* no value is ever longer than this */
#define MAX_TARGET 253

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

/* ---- the allowlist ---- */

enum ptype { P_STRING, P_ENUM, P_INT };

struct param {
	const char *name;
	enum ptype type;
	regex_t re;
	int has_re;
	json_object *values;    /* enum: the allowed strings (borrowed) */
	long long min, max;
	size_t max_len;
	json_object *def;       /* the default (borrowed), NULL: required */
};

/* One argv element: a literal, or pre{name}suf. */
struct elem {
	const char *lit;
	char *pre, *suf;
	int param;              /* -1: {target}, else an index in params */
};

struct action {
	const char *name;
	struct elem *argv;
	int argc;
	regex_t target_re;
	struct param *params;
	int nparams;
	int risk;               /* the action's own risk: 1 low, 2 medium, 3 high */
};

static json_object *allow_doc;
static struct action *actions;
static int nactions;
static const char *allow_path;

/* ---- the policy ---- */

struct role {
	const char *name;
	json_object *actions;   /* array of strings (borrowed) */
	regex_t *targets;
	int ntargets;
	int max_risk;
};

static json_object *policy_doc, *policy_actors;
static struct role *roles;
static int nroles;
static regex_t *extra_targets;  /* targets allowed beyond a group's services */
static int nextra;

/* ---- approvals, guards, state ---- */

enum { AP_NEVER, AP_FILE, AP_TTY, AP_AUTO };
static int ap_mode = AP_NEVER, ap_level;
static const char *ap_file;
static char approver_buf[256];
static struct smap used_approvals = SMAP_INIT;  /* run/group/step already approved */

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

static const char *const risk_name[] = {"", "low", "medium", "high"};

static int
risk_parse(const char *s)
{
	for (int i = 1; i <= 3; i++)
		if (s && strcmp(s, risk_name[i]) == 0)
			return i;
	return 0;
}

static void cfail(const char *file, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* A config error in file: exits 2. */
static void
cfail(const char *file, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	efatal(EXIT_USAGE, "%s: %s", file, msg);
}

/* Compiles pat anchored at both ends (lib/rx bounds what it may cost). */
static void
re_compile(regex_t *re, const char *pat, const char *file, const char *where)
{
	char e[256];

	if (rx_compile(re, pat, e, sizeof e) < 0)
		cfail(file, "%s: bad pattern '%.200s': %s", where, pat, e);
}

static int
is_name(const char *s, size_t n)
{
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * The checks every value and target goes through, whatever its type: not
 * empty, at most max bytes, valid UTF-8, no NUL, newline or other control
 * character.  Returns NULL, or what is wrong.
 */
static const char *
check_text(const char *s, size_t n, size_t max)
{
	if (n == 0)
		return "is empty";
	if (n > max)
		return "is too long";
	if (memchr(s, '\0', n))
		return "contains a NUL byte";
	if (!js_utf8_valid(s, n))
		return "is not valid UTF-8";
	if (memchr(s, '\n', n) || memchr(s, '\r', n))
		return "contains a line break";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

/*
 * Checks value v of parameter p.  Returns NULL and sets *out (malloc'd) to
 * the text to substitute, or returns what is wrong.
 */
static const char *
check_value(const struct param *p, json_object *v, char **out)
{
	const char *s, *why;
	size_t n;
	char num[32];

	*out = NULL;
	if (p->type == P_INT) {
		long long x;
		if (json_object_is_type(v, json_type_int)) {
			errno = 0;
			x = (long long)json_object_get_int64(v);
		} else if (json_object_is_type(v, json_type_string)) {
			char *end;
			s = json_object_get_string(v);
			n = (size_t)json_object_get_string_len(v);
			if (n == 0 || n > 19 || strspn(s + (s[0] == '-'), "0123456789") !=
			    n - (s[0] == '-') || n == (size_t)(s[0] == '-'))
				return "is not an integer";
			errno = 0;
			x = strtoll(s, &end, 10);
			if (errno)
				return "is out of range";
		} else {
			return "is not an integer";
		}
		if (x < p->min || x > p->max)
			return "is out of range";
		snprintf(num, sizeof num, "%lld", x);
		*out = estrdup(num);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string))
		return "is not a string";
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if ((why = check_text(s, n, p->max_len)) != NULL)
		return why;
	if (p->type == P_ENUM) {
		size_t i, k = json_object_array_length(p->values);
		for (i = 0; i < k; i++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(p->values, i)), s) == 0)
				break;
		if (i == k)
			return "is not one of the allowed values";
	} else if (s[0] == '-') {
		return "starts with '-'";
	}
	if (p->has_re && regexec(&p->re, s, 0, NULL, 0) != 0)
		return "does not match its pattern";
	*out = estrndup(s, n);
	return NULL;
}

static void
load_param(const char *path, const char *an, struct param *p, const char *name, json_object *spec)
{
	const char *type, *pat;
	char where[256], *tmp;
	int64_t x;
	json_object *v;

	snprintf(where, sizeof where, "actions.%s.params.%s", an, name);
	p->name = name;
	if (!is_name(name, strlen(name)))
		cfail(path, "%s: a parameter name is [a-z_][a-z0-9_]*", where);
	if (strcmp(name, "target") == 0)
		cfail(path, "%s: 'target' is reserved", where);
	if (!json_object_is_type(spec, json_type_object))
		cfail(path, "%s: expected a mapping", where);
	json_object_object_foreach(spec, k, kv) {
		(void)kv;
		if (strcmp(k, "type") && strcmp(k, "pattern") && strcmp(k, "values") &&
		    strcmp(k, "min") && strcmp(k, "max") && strcmp(k, "max_len") &&
		    strcmp(k, "default") && strcmp(k, "description"))
			cfail(path, "%s: unknown key '%s'", where, k);
	}
	type = js_str(spec, "type");
	if (type && strcmp(type, "string") == 0)
		p->type = P_STRING;
	else if (type && strcmp(type, "enum") == 0)
		p->type = P_ENUM;
	else if (type && strcmp(type, "integer") == 0)
		p->type = P_INT;
	else
		cfail(path, "%s: type must be string, enum or integer", where);
	p->max_len = 128;
	if (json_object_object_get_ex(spec, "max_len", &v)) {
		if (js_int(spec, "max_len", &x) < 0 || x < 1 || x > MAX_VALUE)
			cfail(path, "%s.max_len: expected an integer from 1 to %d", where, MAX_VALUE);
		p->max_len = (size_t)x;
	}
	pat = js_str(spec, "pattern");
	if (json_object_object_get_ex(spec, "pattern", &v) && pat == NULL)
		cfail(path, "%s.pattern: expected a string", where);
	if (pat) {
		re_compile(&p->re, pat, path, where);
		p->has_re = 1;
	}
	if (p->type == P_STRING && !p->has_re)
		cfail(path, "%s: a string parameter needs a pattern", where);
	if (p->type == P_ENUM) {
		size_t i;
		if (!json_object_object_get_ex(spec, "values", &p->values) ||
		    !json_object_is_type(p->values, json_type_array) ||
		    json_object_array_length(p->values) == 0)
			cfail(path, "%s.values: expected a non-empty list", where);
		for (i = 0; i < json_object_array_length(p->values); i++)
			if (!json_object_is_type(json_object_array_get_idx(p->values, i), json_type_string))
				cfail(path, "%s.values: expected strings (quote numbers)", where);
	}
	p->min = 0;
	p->max = 1000000;
	if (json_object_object_get_ex(spec, "min", &v)) {
		if (js_int(spec, "min", &x) < 0 || !json_object_is_type(v, json_type_int))
			cfail(path, "%s.min: expected an integer", where);
		p->min = x;
	}
	if (json_object_object_get_ex(spec, "max", &v)) {
		if (js_int(spec, "max", &x) < 0 || !json_object_is_type(v, json_type_int))
			cfail(path, "%s.max: expected an integer", where);
		p->max = x;
	}
	if (p->min > p->max)
		cfail(path, "%s: min is above max", where);
	if (json_object_object_get_ex(spec, "default", &p->def) && p->def) {
		const char *why = check_value(p, p->def, &tmp);
		if (why)
			cfail(path, "%s.default: the default %s", where, why);
		free(tmp);
	}
}

/* Parses one argv template element. */
static void
load_elem(const char *path, const char *an, struct action *a, int i, const char *s)
{
	struct elem *e = &a->argv[i];
	const char *o = strchr(s, '{'), *c;
	int k;

	e->param = -1;
	if (o == NULL) {
		if (strchr(s, '}'))
			cfail(path, "actions.%s.argv[%d]: unmatched '}'", an, i);
		if (i == 0 && s[0] != '/')
			cfail(path, "actions.%s.argv[0]: the program must be an absolute path", an);
		e->lit = s;
		return;
	}
	if (i == 0)
		cfail(path, "actions.%s.argv[0]: the program must be a literal absolute path", an);
	c = strchr(o, '}');
	if (c == NULL || memchr(s, '}', (size_t)(o - s)) || strchr(c + 1, '{') || strchr(c + 1, '}'))
		cfail(path, "actions.%s.argv[%d]: at most one {placeholder} per element", an, i);
	if (!is_name(o + 1, (size_t)(c - o - 1)))
		cfail(path, "actions.%s.argv[%d]: bad placeholder name", an, i);
	e->pre = estrndup(s, (size_t)(o - s));
	e->suf = estrdup(c + 1);
	if ((size_t)(c - o - 1) == 6 && strncmp(o + 1, "target", 6) == 0)
		return;
	for (k = 0; k < a->nparams; k++)
		if (strlen(a->params[k].name) == (size_t)(c - o - 1) &&
		    strncmp(a->params[k].name, o + 1, (size_t)(c - o - 1)) == 0)
			break;
	if (k == a->nparams)
		cfail(path, "actions.%s.argv[%d]: '%s' names no parameter", an, i, s);
	e->param = k;
}

static void
load_action(const char *path, struct action *a, const char *name, json_object *spec,
	    const char *tpat)
{
	json_object *av, *ps;
	const char *pat;
	char where[256];
	int i;

	a->name = name;
	if (!json_object_is_type(spec, json_type_object))
		cfail(path, "actions.%s: expected a mapping", name);
	json_object_object_foreach(spec, k, kv) {
		(void)kv;
		if (strcmp(k, "argv") && strcmp(k, "params") && strcmp(k, "target_pattern") &&
		    strcmp(k, "description") && strcmp(k, "risk"))
			cfail(path, "actions.%s: unknown key '%s'", name, k);
	}
	if (json_object_object_get_ex(spec, "params", &ps) && ps) {
		if (!json_object_is_type(ps, json_type_object))
			cfail(path, "actions.%s.params: expected a mapping", name);
		a->params = ecalloc((size_t)json_object_object_length(ps) + 1, sizeof *a->params);
		json_object_object_foreach(ps, pn, pv)
			load_param(path, name, &a->params[a->nparams++], pn, pv);
	}
	if (!json_object_object_get_ex(spec, "argv", &av) ||
	    !json_object_is_type(av, json_type_array) || json_object_array_length(av) == 0)
		cfail(path, "actions.%s.argv: expected a non-empty list", name);
	a->argc = (int)json_object_array_length(av);
	a->argv = ecalloc((size_t)a->argc, sizeof *a->argv);
	for (i = 0; i < a->argc; i++) {
		json_object *e = json_object_array_get_idx(av, i);
		if (!json_object_is_type(e, json_type_string))
			cfail(path, "actions.%s.argv[%d]: expected a string (quote it)", name, i);
		load_elem(path, name, a, i, json_object_get_string(e));
	}
	pat = js_str(spec, "target_pattern");
	snprintf(where, sizeof where, "actions.%s.target_pattern", name);
	re_compile(&a->target_re, pat ? pat : tpat, path, where);
	if ((a->risk = risk_parse(js_str(spec, "risk"))) == 0)
		cfail(path, "actions.%s.risk: expected low, medium or high", name);
}

static void
load_allowlist(const char *path)
{
	char err[1024];
	json_object *acts, *v;
	const char *tpat = DEFAULT_TARGET_RE;

	allow_doc = cfg_load(path, err, sizeof err);
	if (allow_doc == NULL)
		efatal(EXIT_USAGE, "%s", err);
	allow_path = path;
	if (!json_object_is_type(allow_doc, json_type_object))
		cfail(path, "expected a mapping");
	json_object_object_foreach(allow_doc, k, kv) {
		(void)kv;
		if (strcmp(k, "actions") && strcmp(k, "target_pattern"))
			cfail(path, "unknown key '%s'", k);
	}
	if (json_object_object_get_ex(allow_doc, "target_pattern", &v)) {
		if (!json_object_is_type(v, json_type_string))
			cfail(path, "target_pattern: expected a string");
		regex_t re;
		tpat = json_object_get_string(v);
		re_compile(&re, tpat, path, "target_pattern");
		regfree(&re);
	}
	if (!json_object_object_get_ex(allow_doc, "actions", &acts) ||
	    !json_object_is_type(acts, json_type_object))
		cfail(path, "expected an 'actions' mapping");
	actions = ecalloc((size_t)json_object_object_length(acts) + 1, sizeof *actions);
	json_object_object_foreach(acts, an, av)
		load_action(path, &actions[nactions++], an, av, tpat);
}

static void
load_policy(const char *path)
{
	char err[1024];
	json_object *rs, *as;

	policy_doc = cfg_load(path, err, sizeof err);
	if (policy_doc == NULL)
		efatal(EXIT_USAGE, "%s", err);
	if (!json_object_is_type(policy_doc, json_type_object))
		cfail(path, "expected a mapping");
	json_object_object_foreach(policy_doc, k, kv) {
		(void)kv;
		if (strcmp(k, "roles") && strcmp(k, "actors") && strcmp(k, "extra_targets"))
			cfail(path, "unknown key '%s'", k);
	}
	if (json_object_object_get_ex(policy_doc, "extra_targets", &as)) {
		if (!json_object_is_type(as, json_type_array))
			cfail(path, "extra_targets: expected a list of patterns");
		nextra = (int)json_object_array_length(as);
		extra_targets = ecalloc((size_t)nextra + 1, sizeof *extra_targets);
		for (int i = 0; i < nextra; i++) {
			json_object *t = json_object_array_get_idx(as, i);
			char where[64];
			if (!json_object_is_type(t, json_type_string))
				cfail(path, "extra_targets: expected patterns");
			snprintf(where, sizeof where, "extra_targets[%d]", i);
			re_compile(&extra_targets[i], json_object_get_string(t), path, where);
		}
	}
	if (!json_object_object_get_ex(policy_doc, "roles", &rs) ||
	    !json_object_is_type(rs, json_type_object))
		cfail(path, "expected a 'roles' mapping");
	roles = ecalloc((size_t)json_object_object_length(rs) + 1, sizeof *roles);
	json_object_object_foreach(rs, rn, rv) {
		struct role *r = &roles[nroles++];
		json_object *ts;
		const char *mr;
		size_t i;

		r->name = rn;
		if (!json_object_is_type(rv, json_type_object))
			cfail(path, "roles.%s: expected a mapping", rn);
		json_object_object_foreach(rv, k2, v2) {
			(void)v2;
			if (strcmp(k2, "actions") && strcmp(k2, "targets") && strcmp(k2, "max_risk") &&
			    strcmp(k2, "description"))
				cfail(path, "roles.%s: unknown key '%s'", rn, k2);
		}
		if (!json_object_object_get_ex(rv, "actions", &r->actions) ||
		    !json_object_is_type(r->actions, json_type_array))
			cfail(path, "roles.%s.actions: expected a list", rn);
		for (i = 0; i < json_object_array_length(r->actions); i++)
			if (!json_object_is_type(json_object_array_get_idx(r->actions, i), json_type_string))
				cfail(path, "roles.%s.actions: expected action names", rn);
		if (!json_object_object_get_ex(rv, "targets", &ts) ||
		    !json_object_is_type(ts, json_type_array))
			cfail(path, "roles.%s.targets: expected a list of patterns", rn);
		r->ntargets = (int)json_object_array_length(ts);
		r->targets = ecalloc((size_t)r->ntargets + 1, sizeof *r->targets);
		for (i = 0; i < (size_t)r->ntargets; i++) {
			json_object *t = json_object_array_get_idx(ts, i);
			char where[256];
			if (!json_object_is_type(t, json_type_string))
				cfail(path, "roles.%s.targets: expected patterns", rn);
			snprintf(where, sizeof where, "roles.%s.targets[%zu]", rn, i);
			re_compile(&r->targets[i], json_object_get_string(t), path, where);
		}
		mr = js_str(rv, "max_risk");
		if ((r->max_risk = risk_parse(mr)) == 0)
			cfail(path, "roles.%s.max_risk: expected low, medium or high", rn);
	}
	if (!json_object_object_get_ex(policy_doc, "actors", &as) ||
	    !json_object_is_type(as, json_type_object))
		cfail(path, "expected an 'actors' mapping");
	policy_actors = as;
	json_object_object_foreach(as, an, av) {
		size_t i, n = json_object_is_type(av, json_type_array) ? json_object_array_length(av) : 1;
		for (i = 0; i < n; i++) {
			json_object *e = json_object_is_type(av, json_type_array) ?
					 json_object_array_get_idx(av, i) : av;
			int j;
			if (!json_object_is_type(e, json_type_string))
				cfail(path, "actors.%s: expected a role or a list of roles", an);
			for (j = 0; j < nroles; j++)
				if (strcmp(roles[j].name, json_object_get_string(e)) == 0)
					break;
			if (j == nroles)
				cfail(path, "actors.%s: no role '%s'", an, json_object_get_string(e));
		}
	}
}

static void
parse_approve(void)
{
	const char *a = opt_approve ? opt_approve : "never";

	ap_file = opt_approvals_file;
	if (strcmp(a, "never") == 0) {
		ap_mode = AP_NEVER;
	} else if (strcmp(a, "tty") == 0) {
		ap_mode = AP_TTY;
	} else if (strcmp(a, "file") == 0 || strncmp(a, "file:", 5) == 0) {
		ap_mode = AP_FILE;
		if (a[4] == ':')
			ap_file = a + 5;
		if (ap_file == NULL || *ap_file == '\0')
			efatal(EXIT_USAGE, "approve file needs approvals_file or file:PATH");
		if (strcmp(ap_file, "-") == 0)
			efatal(EXIT_USAGE, "approvals_file: the standard input carries the records");
	} else if (strncmp(a, "auto:", 5) == 0 && (ap_level = risk_parse(a + 5)) != 0) {
		ap_mode = AP_AUTO;
	} else {
		efatal(EXIT_USAGE, "approve: unknown mode '%s' (never, file:PATH, tty, auto:low|medium|high)", a);
	}
}

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
	json_object_object_add(o, "risk", x->risk ? json_object_new_string(risk_name[x->risk]) : NULL);
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

static struct action *
find_action(const char *name)
{
	for (int i = 0; i < nactions; i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

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
	 * value in check_allow. */
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
	if ((*risk = risk_parse(js_str(step, "risk"))) == 0) {
		snprintf(why, wn, "risk is not low, medium or high");
		return "step-invalid";
	}
	return NULL;
}

/* The allowlist: action, target, parameters.  Returns NULL with *argvp set
 * to the rendered argv, or the rule with why set. */
static const char *
check_allow(json_object *step, char ***argvp, char *why, size_t wn)
{
	const char *an = js_str(step, "action"), *t, *bad;
	json_object *tv, *ps = NULL;
	struct action *a = find_action(an);
	char **vals, **argv;
	size_t tn;
	int i;

	*argvp = NULL;
	if (a == NULL) {
		snprintf(why, wn, "action '%.64s' is not in the allowlist", an);
		return "allowlist-action";
	}
	json_object_object_get_ex(step, "target", &tv);
	t = json_object_get_string(tv);
	tn = (size_t)json_object_get_string_len(tv);
	if ((bad = check_text(t, tn, MAX_TARGET)) == NULL) {
		if (t[0] == '-')
			bad = "starts with '-'";
		else if (regexec(&a->target_re, t, 0, NULL, 0) != 0)
			bad = "does not match the target pattern";
	}
	if (bad) {
		snprintf(why, wn, "target %s", bad);
		return "allowlist-target";
	}
	json_object_object_get_ex(step, "params", &ps);
	vals = ecalloc((size_t)a->nparams + 1, sizeof *vals);
	if (ps) {
		json_object_object_foreach(ps, k, v) {
			for (i = 0; i < a->nparams; i++)
				if (strcmp(a->params[i].name, k) == 0)
					break;
			if (i == a->nparams) {
				snprintf(why, wn, "unknown parameter '%.64s'", k);
				goto refuse;
			}
			if ((bad = check_value(&a->params[i], v, &vals[i])) != NULL) {
				snprintf(why, wn, "parameter '%s' %s", k, bad);
				goto refuse;
			}
		}
	}
	for (i = 0; i < a->nparams; i++) {
		if (vals[i])
			continue;
		if (a->params[i].def == NULL) {
			snprintf(why, wn, "missing parameter '%s'", a->params[i].name);
			goto refuse;
		}
		check_value(&a->params[i], a->params[i].def, &vals[i]);
	}
	argv = ecalloc((size_t)a->argc + 1, sizeof *argv);
	for (i = 0; i < a->argc; i++) {
		struct elem *e = &a->argv[i];
		struct buf b = BUF_INIT(0);
		if (e->lit) {
			argv[i] = estrdup(e->lit);
			continue;
		}
		buf_adds(&b, e->pre);
		buf_add(&b, e->param < 0 ? t : vals[e->param], e->param < 0 ? tn : strlen(vals[e->param]));
		buf_adds(&b, e->suf);
		argv[i] = buf_detach(&b);
	}
	for (i = 0; i < a->nparams; i++)
		free(vals[i]);
	free(vals);
	*argvp = argv;
	return NULL;
refuse:
	for (i = 0; i < a->nparams; i++)
		free(vals[i]);
	free(vals);
	return "allowlist-param";
}

/* The target scope: the target must be one of the group's services, or
 * match one of the policy's extra_targets.  Returns NULL or the rule. */
static const char *
check_scope(const char *gid, const char *target, char *why, size_t wn)
{
	json_object *svcs = NULL;
	size_t i, n;

	for (int k = 0; k < nextra; k++)
		if (regexec(&extra_targets[k], target, 0, NULL, 0) == 0)
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
role_allows_action(const struct role *r, const char *action)
{
	size_t n = json_object_array_length(r->actions);
	for (size_t i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(r->actions, i)), action) == 0)
			return 1;
	return 0;
}

/* RBAC: some role of who (the actor, or an approver) must allow the action,
 * the target and the risk together.  Returns NULL or the rule. */
static const char *
check_rbac(const char *who, const char *action, const char *target, int risk, char *why,
	   size_t wn)
{
	json_object *rv;
	size_t i, n;
	int best = 0;

	if (who == NULL) {
		snprintf(why, wn, "no actor (--as or AIOPS_ACTOR) to check the policy against");
		return "rbac-actor";
	}
	if (!json_object_object_get_ex(policy_actors, who, &rv)) {
		snprintf(why, wn, "actor '%.64s' has no role in the policy", who);
		return "rbac-actor";
	}
	n = json_object_is_type(rv, json_type_array) ? json_object_array_length(rv) : 1;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_is_type(rv, json_type_array) ?
				 json_object_array_get_idx(rv, i) : rv;
		const struct role *r = NULL;
		int j, m = 0;
		for (j = 0; j < nroles; j++)
			if (strcmp(roles[j].name, json_object_get_string(e)) == 0)
				r = &roles[j];
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
			 risk_name[risk]);
	return best == 0 ? "rbac-action" : best == 1 ? "rbac-target" : "rbac-risk";
}

/* What an approver must be allowed to do: the step itself. */
struct need {
	const char *action, *target;
	int risk;
};

static const char *
approver_rights(const char *approver, void *ctx, char *why, size_t wn)
{
	const struct need *nd = ctx;
	return check_rbac(approver, nd->action, nd->target, nd->risk, why, wn);
}

/* Looks for an approval of this run's gid/sid with the step's digest in
 * the approvals file; each approval approves one step once. */
static const char *
approve_file(const char *gid, json_object *step, int risk, const char *digest, char *why,
	     size_t wn)
{
	struct need nd = {js_str(step, "action"), js_str(step, "target"), risk};
	struct approval_want w = {run_id, gid, js_str(step, "id"), digest, ts_now()};
	struct buf key = BUF_INIT(0);
	const char *rule;
	int created;

	rule = approval_find(ap_file, &w, approver_rights, &nd, approver_buf, sizeof approver_buf,
			     why, wn);
	if (rule)
		return rule;
	buf_printf(&key, "%s/%s/%s", run_id, gid, w.step_id);
	smap_put(&used_approvals, key.p, key.len, &created);
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
approve_tty(const char *gid, json_object *step, int risk, char **argv, char *why, size_t wn)
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
	tty_put(fd, risk_name[risk]);
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
		snprintf(approver_buf, sizeof approver_buf, "%s", actor ? actor : "tty");
		return NULL;
	}
	snprintf(why, wn, "not approved on the terminal");
	return "approval-tty";
}

static const char *
approve(const char *gid, json_object *step, int risk, const char *digest, char **argv,
	const char **approver, char *why, size_t wn)
{
	const char *rule = NULL;

	*approver = NULL;
	switch (ap_mode) {
	case AP_NEVER:
		snprintf(why, wn, "approve is never: no step is approved");
		return "approval-never";
	case AP_AUTO:
		if (risk > ap_level) {
			snprintf(why, wn, "risk %s is above auto:%s", risk_name[risk], risk_name[ap_level]);
			return "approval-auto";
		}
		snprintf(approver_buf, sizeof approver_buf, "auto:%s", risk_name[ap_level]);
		break;
	case AP_FILE:
		rule = approve_file(gid, step, risk, digest, why, wn);
		break;
	case AP_TTY:
		rule = approve_tty(gid, step, risk, argv, why, wn);
		break;
	}
	if (rule == NULL)
		*approver = approver_buf;
	return rule;
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
		const struct action *a = allow_doc ? find_action(js_str(step, "action")) : NULL;
		json_object *ps = NULL;
		if (a && a->risk > risk)
			risk = a->risk;
		x.risk = risk;
		json_object_object_get_ex(step, "params", &ps);
		approval_digest(js_str(step, "action"), js_str(step, "target"), ps, x.digest);
	}
	if (rule == NULL && allow_doc)
		rule = check_allow(step, &x.argv, why, sizeof why);
	if (rule == NULL)
		rule = check_scope(gid, js_str(step, "target"), why, sizeof why);
	if (rule == NULL && policy_doc)
		rule = check_rbac(actor, js_str(step, "action"), js_str(step, "target"), risk, why,
				  sizeof why);

	if (!is_command || opt_dry_run) {
		x.decision = D_DRY;
		x.rule = rule;
		if (rule)
			snprintf(x.reason, sizeof x.reason, "would be refused: %s", why);
		else if (allow_doc == NULL)
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
		rule = approve(gid, step, risk, x.digest, x.argv, &approver, why, sizeof why);
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
		load_allowlist(opt_allowlist);
	if (opt_policy)
		load_policy(opt_policy);
	parse_approve();
	if (ap_mode == AP_FILE && policy_doc == NULL && is_command && !opt_dry_run)
		efatal(EXIT_USAGE, "approve file needs a policy: every approver's rights are checked against it");
	json_object_object_add(params, "approve", json_object_new_string(opt_approve ? opt_approve : "never"));
	parse_env();
	actor = opt_as ? opt_as : getenv("AIOPS_ACTOR");
	if (actor && *actor == '\0')
		actor = NULL;
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
	smap_free(&used_approvals, NULL);
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

	if (!is_command || allow_path == NULL)
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
		struct action *a = find_action(an);
		if (a == NULL) {
			warnf("%s: action '%s' of %s is not in the allowlist: its steps would all be refused",
			      allow_path, an, cpath);
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
				      "it would be refused", allow_path, an, pn, cpath);
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
				      allow_path, an, a->params[k].name, cpath);
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
