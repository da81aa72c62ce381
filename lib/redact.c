/*
 * redact: URL userinfo and secret values (see redact.h).
 */
#define _GNU_SOURCE     /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "redact.h"

static char **secrets;
static size_t nsecrets;
static unsigned long count;
static int inited;

void
redact_add(const char *value)
{
	size_t n;

	if (value == NULL || (n = strlen(value)) < REDACT_MIN)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], value) == 0)
			return;
	secrets = erealloc(secrets, (nsecrets + 1) * sizeof *secrets);
	secrets[nsecrets++] = estrdup(value);
}

static char *
msg_filter(const char *s)
{
	size_t n;
	return redact_str(s, strlen(s), &n);
}

void
redact_init(void)
{
	static const char *const vars[] = REDACT_VARS;
	const char *list = getenv("AIOPS_SECRET_VARS");

	if (inited)
		return;
	inited = 1;
	for (size_t i = 0; vars[i]; i++)
		redact_add(getenv(vars[i]));
	if (list) {
		char *copy = estrdup(list), *save, *tok;
		for (tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save))
			redact_add(getenv(tok));
		free(copy);
	}
	err_set_filter(msg_filter);
}

static int
scheme_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '-' || c == '.';
}

static int
ends_authority(char c)
{
	return c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' ||
	       c == '\r' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\0' ||
	       c == '`' || c == ',' || c == ';' || c == '(' || c == ')' || c == '[' || c == ']' ||
	       c == '{' || c == '}' || c == '\\';
}

/*
 * Finds the next URL userinfo at or after s+from: sets *a and *b to the part
 * that becomes "***" (the password, or the whole userinfo without a ':').
 * Returns 0 when there is none.
 */
static int
next_userinfo(const char *s, size_t n, size_t from, size_t *a, size_t *b)
{
	while (from + 3 <= n) {
		const char *p = memmem(s + from, n - from, "://", 3);
		size_t at, i, u, e, colon = 0;
		if (p == NULL)
			return 0;
		at = (size_t)(p - s);
		from = at + 3;
		if (at == 0 || !scheme_char(s[at - 1]))
			continue;
		u = at + 3;
		for (e = u; e < n && !ends_authority(s[e]); e++)
			;
		/* the last '@' of the authority ends the userinfo */
		for (i = e; i > u && s[i - 1] != '@'; i--)
			;
		if (i == u)
			continue;
		e = i - 1;      /* the '@' */
		for (i = u; i < e; i++)
			if (s[i] == ':') {
				colon = i;
				break;
			}
		*a = colon ? colon + 1 : u;
		*b = e;
		if (*b - *a == 3 && memcmp(s + *a, "***", 3) == 0)
			continue;       /* already redacted */
		if (*b == *a)
			continue;       /* user: with an empty password */
		return 1;
	}
	return 0;
}

char *
redact_str(const char *s, size_t n, size_t *outn)
{
	struct buf b = BUF_INIT(0);
	const char *cur = s;
	size_t cn = n, a, e, pos;
	int changed = 0;
	char *tmp = NULL;

	/* the secret values first, then the URLs of what is left */
	for (size_t k = 0; k < nsecrets; k++) {
		size_t sn = strlen(secrets[k]);
		const char *p = memmem(cur, cn, secrets[k], sn);
		if (p == NULL)
			continue;
		b.len = 0;
		pos = 0;
		while (p != NULL) {
			buf_add(&b, cur + pos, (size_t)(p - cur) - pos);
			buf_adds(&b, "***");
			count++;
			pos = (size_t)(p - cur) + sn;
			p = memmem(cur + pos, cn - pos, secrets[k], sn);
		}
		buf_add(&b, cur + pos, cn - pos);
		free(tmp);
		tmp = estrndup(b.p ? b.p : "", b.len);
		cur = tmp;
		cn = b.len;
		changed = 1;
	}
	if (cn >= 3 && memmem(cur, cn, "://", 3) != NULL && next_userinfo(cur, cn, 0, &a, &e)) {
		b.len = 0;
		pos = 0;
		do {
			buf_add(&b, cur + pos, a - pos);
			buf_adds(&b, "***");
			count++;
			pos = e;
		} while (next_userinfo(cur, cn, e, &a, &e));
		buf_add(&b, cur + pos, cn - pos);
		free(tmp);
		tmp = estrndup(b.p ? b.p : "", b.len);
		cn = b.len;
		changed = 1;
	}
	buf_free(&b);
	if (!changed)
		return NULL;
	*outn = cn;
	return tmp;
}

unsigned long
redact_tree(json_object *o)
{
	unsigned long before = count;

	if (json_object_is_type(o, json_type_string)) {
		size_t n;
		char *r = redact_str(json_object_get_string(o), (size_t)json_object_get_string_len(o), &n);
		if (r) {
			json_object_set_string_len(o, r, (int)n);
			free(r);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			redact_tree(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			redact_tree(v);
		}
	}
	return count - before;
}

void
redact_buf(char *s, size_t size)
{
	size_t n;
	char *r = redact_str(s, strlen(s), &n);

	if (r) {
		snprintf(s, size, "%s", r);
		free(r);
	}
}

unsigned long
redact_count(void)
{
	return count;
}
