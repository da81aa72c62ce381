/* prompt: template files with {{placeholders}} (see prompt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "js.h"
#include "prompt.h"

/* If s starts a placeholder, returns the length of its name and sets *end
 * past the closing braces; else 0. */
static size_t
placeholder(const char *s, const char **name, const char **end)
{
	const char *p;

	if (s[0] != '{' || s[1] != '{')
		return 0;
	for (p = s + 2; (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'; p++)
		;
	if (p == s + 2 || p[0] != '}' || p[1] != '}')
		return 0;
	*name = s + 2;
	*end = p + 2;
	return (size_t)(p - (s + 2));
}

/* Trims blank lines at both ends of a section. */
static char *
section(const char *s, size_t n)
{
	while (n > 0 && (*s == '\n' || *s == '\r'))
		s++, n--;
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	return estrndup(s, n);
}

static int
is_marker(const char *line, size_t n, const char *m)
{
	size_t k = strlen(m);

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
		n--;
	return n == k && memcmp(line, m, k) == 0;
}

int
prompt_load(struct prompt *p, const char *path, char *err, size_t errlen)
{
	struct buf b = BUF_INIT((size_t)64 << 20);
	FILE *f;
	char chunk[8192];
	size_t n;
	const char *s, *sys = NULL, *user = NULL;
	size_t syslen = 0, userlen = 0;

	memset(p, 0, sizeof *p);
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(&b, chunk, n) < 0) {
			fclose(f);
			buf_free(&b);
			snprintf(err, errlen, "%s: template too large", path);
			return -1;
		}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	s = b.p ? b.p : "";
	if (strlen(s) != b.len || !js_utf8_valid(s, b.len)) {
		snprintf(err, errlen, "%s: not UTF-8 text", path);
		buf_free(&b);
		return -1;
	}
	js_sha256_hex(s, b.len, p->sha256);
	p->bytes = b.len;

	/* Split on "[system]" / "[user]" lines. */
	{
		const char *line = s, **cur = NULL;
		size_t *curlen = NULL;
		int markers = 0;
		while (*line) {
			const char *nl = strchr(line, '\n');
			size_t ll = nl ? (size_t)(nl - line) : strlen(line);
			const char *next = nl ? nl + 1 : line + ll;
			if (is_marker(line, ll, "[system]")) {
				cur = &sys, curlen = &syslen, markers = 1;
				*cur = next, *curlen = 0;
			} else if (is_marker(line, ll, "[user]")) {
				cur = &user, curlen = &userlen, markers = 1;
				*cur = next, *curlen = 0;
			} else if (cur) {
				*curlen = (size_t)(next - *cur);
			}
			line = next;
		}
		if (!markers)
			user = s, userlen = b.len;
	}
	if (sys)
		p->system = section(sys, syslen);
	p->user = section(user ? user : "", user ? userlen : 0);
	buf_free(&b);
	if (p->user[0] == '\0') {
		snprintf(err, errlen, "%s: the template has no user message", path);
		prompt_free(p);
		return -1;
	}
	return 0;
}

void
prompt_free(struct prompt *p)
{
	free(p->system);
	free(p->user);
	p->system = p->user = NULL;
}

/*
 * Adds a value: telemetry and earlier answers are untrusted, and the
 * templates fence them between <<<DATA and DATA>>> lines, so a value never
 * holds three '<' or '>' in a row (a space goes after the second): it
 * cannot close the fence it sits in.
 */
static int
add_value(struct buf *out, const char *v)
{
	const char *p = v ? v : "", *q;

	for (q = p; *q; q++)
		if ((q[0] == '<' || q[0] == '>') && q[1] == q[0] && q[2] == q[0]) {
			if (buf_add(out, p, (size_t)(q - p) + 2) < 0 || buf_adds(out, " ") < 0)
				return -1;
			p = q + 2;
			q++;
		}
	return buf_adds(out, p);
}

static int
check_part(const char *t, const char *const *names, char *err, size_t errlen)
{
	const char *name, *end;
	size_t n;

	for (; t && *t; t++) {
		if ((n = placeholder(t, &name, &end)) == 0)
			continue;
		const char *const *k;
		for (k = names; *k; k++)
			if (strlen(*k) == n && memcmp(*k, name, n) == 0)
				break;
		if (*k == NULL) {
			struct buf b = BUF_INIT(0);
			for (k = names; *k; k++)
				buf_printf(&b, "%s%s", k == names ? "" : ", ", *k);
			snprintf(err, errlen, "unknown placeholder '{{%.*s}}' (known: %s)", (int)n,
				 name, b.p ? b.p : "");
			buf_free(&b);
			return -1;
		}
		t = end - 1;
	}
	return 0;
}

int
prompt_check(const struct prompt *p, const char *const *names, char *err, size_t errlen)
{
	if (check_part(p->system, names, err, errlen) < 0)
		return -1;
	return check_part(p->user, names, err, errlen);
}

int
prompt_render(const char *tmpl, const struct prompt_var *vars, struct buf *out, char *err,
	      size_t errlen)
{
	const char *t = tmpl, *lit = tmpl, *name, *end;
	size_t n;

	for (; *t; t++) {
		if ((n = placeholder(t, &name, &end)) == 0)
			continue;
		const struct prompt_var *v;
		for (v = vars; v && v->name; v++)
			if (strlen(v->name) == n && memcmp(v->name, name, n) == 0)
				break;
		if (v == NULL || v->name == NULL) {
			snprintf(err, errlen, "no value for placeholder '{{%.*s}}'", (int)n, name);
			return -1;
		}
		if (buf_add(out, lit, (size_t)(t - lit)) < 0 || add_value(out, v->value) < 0)
			goto toolong;
		lit = end;
		t = end - 1;
	}
	if (buf_add(out, lit, (size_t)(t - lit)) < 0)
		goto toolong;
	return 0;
toolong:
	snprintf(err, errlen, "rendered prompt is longer than %zu bytes", out->max);
	return -1;
}

json_object *
prompt_messages(const struct prompt *p, const struct prompt_var *vars, size_t *bytes,
		char *err, size_t errlen)
{
	struct buf sys = BUF_INIT(0), user = BUF_INIT(0);
	json_object *msgs, *m;

	if ((p->system && prompt_render(p->system, vars, &sys, err, errlen) < 0) ||
	    prompt_render(p->user, vars, &user, err, errlen) < 0) {
		buf_free(&sys);
		buf_free(&user);
		return NULL;
	}
	msgs = json_object_new_array();
	if (p->system) {
		m = json_object_new_object();
		js_add_str(m, "role", "system");
		js_add_strn(m, "content", sys.p ? sys.p : "", sys.len);
		json_object_array_add(msgs, m);
	}
	m = json_object_new_object();
	js_add_str(m, "role", "user");
	js_add_strn(m, "content", user.p ? user.p : "", user.len);
	json_object_array_add(msgs, m);
	*bytes = sys.len + user.len;
	buf_free(&sys);
	buf_free(&user);
	return msgs;
}
