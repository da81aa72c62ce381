/* proc: posix_spawn in a process group with a deadline and bounded tails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "proc.h"
#include "ts.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_CLOSEFROM_NP 1
#endif

/* The last max bytes of a stream, in a buffer of twice that. */
struct tail {
	char *p;
	size_t len, max;
	size_t total;
};

static void
tail_add(struct tail *t, const char *d, size_t n)
{
	t->total += n;
	if (n >= t->max) {
		memcpy(t->p, d + n - t->max, t->max);
		t->len = t->max;
		return;
	}
	if (t->len + n > 2 * t->max) {
		size_t keep = t->max - n;
		memmove(t->p, t->p + t->len - keep, keep);
		t->len = keep;
	}
	memcpy(t->p + t->len, d, n);
	t->len += n;
}

/* Hands the tail over as a NUL-terminated string of at most max bytes. */
static char *
tail_take(struct tail *t, size_t *len)
{
	if (t->len > t->max) {
		memmove(t->p, t->p + t->len - t->max, t->max);
		t->len = t->max;
	}
	t->p[t->len] = '\0';
	*len = t->len;
	return t->p;
}

/* Reads what is there; returns 0 at end of file or on an error, else 1. */
static int
drain(int fd, struct tail *t)
{
	char b[4096];

	for (;;) {
		ssize_t n = read(fd, b, sizeof b);
		if (n > 0) {
			tail_add(t, b, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		return 0;
	}
}

static void
setup_attr(posix_spawnattr_t *at)
{
	static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM,
				   SIGCHLD, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU};
	sigset_t none, def;
	size_t i;

	sigemptyset(&none);
	sigemptyset(&def);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&def, sigs[i]);
	posix_spawnattr_init(at);
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &def);
	posix_spawnattr_setpgroup(at, 0);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
}

int
proc_run(char *const argv[], char *const envp[], const struct proc_opts *o,
	  struct proc_result *r)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	struct tail to = {0}, te = {0};
	int po[2], pe[2], rc, status = 0, reaped = 0, phase = 0;
	int oo = 1, eo = 1;
	pid_t pid;
	int64_t deadline, next = 0;
	size_t max = o->tail_max ? o->tail_max : 4096;
	double grace = o->grace_s > 0 ? o->grace_s : 1;

	memset(r, 0, sizeof *r);
	r->code = -1;
	to.max = te.max = max;
	to.p = emalloc(2 * max + 1);
	te.p = emalloc(2 * max + 1);
	r->started_ns = ts_now();
	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/') {
		r->err = EINVAL;
		goto fail_early;
	}
	if (pipe2(po, O_CLOEXEC) < 0) {
		r->err = errno;
		goto fail_early;
	}
	if (pipe2(pe, O_CLOEXEC) < 0) {
		r->err = errno;
		close(po[0]);
		close(po[1]);
		goto fail_early;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
#ifdef HAVE_CLOSEFROM_NP
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	setup_attr(&at);
	rc = posix_spawn(&pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(po[1]);
	close(pe[1]);
	if (rc != 0) {
		close(po[0]);
		close(pe[0]);
		r->err = rc;
		goto fail_early;
	}
	fcntl(po[0], F_SETFL, fcntl(po[0], F_GETFL) | O_NONBLOCK);
	fcntl(pe[0], F_SETFL, fcntl(pe[0], F_GETFL) | O_NONBLOCK);
	deadline = o->timeout_s > 0 ? ts_mono() + (int64_t)(o->timeout_s * 1e9) : INT64_MAX;

	/* Until the program is reaped and both pipes are at end of file.
	 * Phases: 0 running, 1 SIGTERM sent, 2 SIGKILL sent. */
	while (!reaped || oo || eo) {
		struct pollfd pf[2];
		int np = 0;
		int64_t now = ts_mono();

		if (phase == 0 && now >= deadline) {
			kill(-pid, SIGTERM);
			r->timed_out = 1;
			phase = 1;
			next = now + (int64_t)(grace * 1e9);
		} else if (phase == 1 && now >= next) {
			kill(-pid, SIGKILL);
			phase = 2;
			next = now + TS_NS_PER_S;
		} else if (phase == 2 && reaped && now >= next) {
			break;  /* the pipes are held outside the group: give up on them */
		}
		if (oo) {
			pf[np].fd = po[0];
			pf[np++].events = POLLIN;
		}
		if (eo) {
			pf[np].fd = pe[0];
			pf[np++].events = POLLIN;
		}
		if (np > 0) {
			if (poll(pf, (nfds_t)np, 50) < 0 && errno != EINTR)
				break;
		} else {
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (oo && !drain(po[0], &to))
			oo = 0;
		if (eo && !drain(pe[0], &te))
			eo = 0;
		if (!reaped) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				reaped = 1;
			else if (w < 0 && errno != EINTR)
				reaped = 1;  /* should not happen: someone else reaped it */
		}
	}
	close(po[0]);
	close(pe[0]);
	if (!reaped) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (WIFEXITED(status)) {
		r->exited = 1;
		r->code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->sig = WTERMSIG(status);
	}
	r->ended_ns = ts_now();
	r->out = tail_take(&to, &r->out_len);
	r->errout = tail_take(&te, &r->err_len);
	r->out_total = to.total;
	r->err_total = te.total;
	return 0;

fail_early:
	r->ended_ns = ts_now();
	r->out = tail_take(&to, &r->out_len);
	r->errout = tail_take(&te, &r->err_len);
	return -1;
}

void
proc_result_free(struct proc_result *r)
{
	free(r->out);
	free(r->errout);
	r->out = r->errout = NULL;
}
