/*
 * mltlog: sends an aiops run's MLflow traces (built by lib/mltrace) from
 * the JSONL files aiops-mlflow keeps, and links them to the run.
 *
 * Memory: the group records are kept as a few fields each (what the root
 * span needs, mltrace_group_slim); each group's records are read back
 * from the files one group at a time through an index of file offsets,
 * so memory grows with the number of groups and records (a few words
 * each), never with their size.
 */
#ifndef AIOPS_MLTLOG_H
#define AIOPS_MLTLOG_H

#include <stddef.h>

#include "mlf.h"
#include "mltrace.h"

#define MLTLOG_LINK_MAX 100     /* trace ids per traces/link-to-run call */

/*
 * Sends every trace of a run and links them to it: the group traces of
 * the group records in groups_path (a JSONL file, slim or whole records),
 * each with the records of files[0..nfiles) (JSONL files of rca,
 * remediation, execution and llm_call records; a missing file is empty)
 * that carry its group_id; then the llm_call records of llm_path (one of
 * files) that no group took, one trace each.  With resume set, a trace
 * the server already has is not sent again (it is linked all the same).
 * exp_id goes in the x-mlflow-experiment-id header.  Stores the number
 * of traces sent in *sent.  Returns 0, or -1 with err set (a request that
 * failed for good, or a file that cannot be read).
 */
int mltlog_send(struct mlf_client *c, const char *exp_id, const struct mltrace_run *r,
		const char *groups_path, const char *const *files, size_t nfiles,
		const char *llm_path, int resume, unsigned long *sent, char *err, size_t errlen);

#endif
