/*
 * proc: run one program without a shell and collect what it did.  The
 * program is started with posix_spawn() from an absolute path, in a process
 * group of its own, with stdin on /dev/null, stdout and stderr on pipes, the
 * common signals reset to their defaults, an empty signal mask, and (on
 * glibc 2.34 and later) every descriptor above 2 closed.  The environment is
 * exactly the envp given: nothing of the caller's is added.
 *
 * A deadline bounds the run: when it passes, the whole process group gets
 * SIGTERM, and SIGKILL after a grace period.  Only the last tail_max bytes
 * of each output stream are kept, so memory is bounded whatever the program
 * writes.
 */
#ifndef AIOPS_PROC_H
#define AIOPS_PROC_H

#include <stddef.h>
#include <stdint.h>

struct proc_opts {
	double timeout_s;   /* deadline from the start; 0 means none */
	double grace_s;     /* between SIGTERM and SIGKILL (0: 1 second) */
	size_t tail_max;    /* bytes kept from the end of each stream (0: 4096) */
};

struct proc_result {
	int err;            /* errno when the program could not be started, else 0 */
	int exited;         /* 1: it exited and code is its status */
	int code;           /* exit status, or -1 */
	int sig;            /* the signal that ended it, or 0 */
	int timed_out;      /* 1: the deadline passed and its group was signalled */
	int64_t started_ns; /* wall clock (ts_now) around the run */
	int64_t ended_ns;
	char *out, *errout; /* tails, malloc'd and NUL-terminated (never NULL after
			     * a run, even when err is set) */
	size_t out_len, err_len;
	size_t out_total, err_total; /* every byte seen, kept or not */
};

/*
 * Runs argv[0] (an absolute path; never searched in PATH) with argv and
 * envp, waits for it and fills *r.  Returns 0 when the program ran (whatever
 * its status), or -1 when it could not be started (r->err says why; tails
 * are empty).  Blocks until the program and every holder of its output
 * pipes are gone, or until the deadline plus the grace period and one more
 * second.  Never prints, never exits (except on out-of-memory).  The caller
 * frees r with proc_result_free().
 */
int proc_run(char *const argv[], char *const envp[], const struct proc_opts *o,
	      struct proc_result *r);

/* Frees the tails; r may be reused. */
void proc_result_free(struct proc_result *r);

#endif
