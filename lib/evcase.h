/*
 * evcase: the cases of aiops-eval score, one per arm, system and case,
 * read from the manifest of finished runs and scored against their final
 * streams (lib/outcome, matched by lib/match), and the reference arms made
 * from the first arm's cases.
 *
 * A case: its pipeline failed (nothing scored), or its incident was
 * detected or not (the group lib/match gives it); the rank of the truth
 * (the incident's root-cause service) in the top OUTCOME_TOPK of the
 * matched group's first rca, AC@k = 1 when that rank is 1..k (NAN when
 * that rca has an error); model TTD (the group's detection), MTTD (the
 * incident's detected_ts), the remediation match (lib/match), LLM calls,
 * failures, tokens and cost (the larger of the llm_call and stage_end
 * counts; tokens and cost unknown when stage_end counts more), unmatched
 * groups in the case window; its control: the groups detected in it
 * (false alarms) and its hours.
 *
 * The references, per case of the first arm:
 *   ref:constant-loo  the services ranked by how many other cases of the
 *                     same system have them as truth (leave one out), ties
 *                     by name;
 *   ref:random        the expected AC@k of a uniform order of the window's
 *                     services (services.txt next to the case's run).
 *
 * Nothing here prints; allocation failure exits like emalloc().
 */
#ifndef AIOPS_EVCASE_H
#define AIOPS_EVCASE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "outcome.h"

struct evcase {                         /* one case of one arm */
	char *arm, *system, *cid, *incident, *fault, *truth;
	int is_ref;                     /* reference row: rank only */
	int failed;                     /* the pipeline failed: nothing scored */
	char *why;                      /* its message */
	int detected;                   /* primary incident matched */
	int rca_failed;                 /* the matched group's rca has an error */
	double acc[OUTCOME_TOPK + 1];   /* P(truth in top k), k = 1..5; NAN when failed */
	char *top5;                     /* "a,b,c" */
	int rank;                       /* 1..5, 0 not in top 5, -1 no rca, -2 expected value */
	double ttd, mttd;               /* model TTD, labelled MTTD (NAN: none) */
	int traces;                     /* spans from its incident's start on (DIR/traces.txt,
					   from aiops-eval slice): 1, none: 0, not said: -1 */
	int has_ctl;
	double fa, ctl_hours;           /* detected groups in the control, its length */
	int ctl_failed;
	double case_fp;                 /* unmatched groups in the case window */
	double calls, llm_failures, wall;
	int rem;                        /* remediation match: -1 no expected actions, 0, 1 */
	double tokens, cost;            /* over llm_call records; NAN: unknown */
	char **services;                /* the window's services (for references) */
	size_t nservices;
};

/* A score: its options (set them before reading) and its cases. */
struct evcases {
	double tol_s;                   /* match tolerance, seconds */
	json_object *prices;            /* {MODEL: {input_per_1k, output_per_1k}}, or NULL; owned */
	unsigned boot_n;                /* bootstrap resamples (lib/evagg) */
	uint64_t seed;                  /* bootstrap seed */
	struct evcase *cc;              /* the cases, in manifest order, then the references */
	size_t ncc, capcc;
	char **arms;                    /* the arms, in manifest order, then the references */
	size_t narms;
};

#define EVCASES_INIT { 60, NULL, 1000, 1, NULL, 0, 0, NULL, 0 }

/*
 * Reads the manifest at path ("-": stdin): a header line, then
 *   arm system case incident role(case|control) hours status wall_s dir
 * tab-separated, status "ok" or "failed: MESSAGE", dir the run's
 * directory (final.jsonl, services.txt), and scores each run into its
 * case.  Returns 0, or -1 with *err a new message (the caller frees it)
 * when the file cannot be opened or a line is bad (the cases read so far
 * stay).
 */
int evcases_read_manifest(struct evcases *cs, const char *path, char **err);

/* Adds the reference arms and their cases (see above); none without an arm. */
void evcases_add_references(struct evcases *cs);

/* Frees the cases, the arms and the prices; cs is empty (options kept). */
void evcases_free(struct evcases *cs);

#endif
