/*
 * runrec: the `run` record aiops-load writes second in every stream:
 *
 *   {"kind":"run","run_id":ID,"experiment":NAME|null,"tags":{...},
 *    "dataset":{"path":DIR,"files":[{"role","path","format","bytes",
 *    "sha256"}...],"sha256":H},"config":{...},"started_at":T}
 *
 * run_id is 32 random hex digits unless given; dataset.sha256 is the
 * SHA-256 of the files' hashes, each followed by a newline; the config is
 * the whole effective config with the value of every key naming a secret
 * (key, token, secret, password; not a number under a key ending in
 * "tokens") replaced by "***".
 */
#ifndef AIOPS_RUNREC_H
#define AIOPS_RUNREC_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

struct run_file {
	const char *role, *path, *format;
	int hashed;             /* bytes and sha256 known (a pipe: null) */
	uint64_t bytes;
	const char *sha256;     /* 64 hex digits */
};

/* Hashes the file at path: 0 with *bytes and hex (65 bytes), or an errno. */
int run_hash_file(const char *path, uint64_t *bytes, char hex[65]);

/* The run record (a new object): run_id NULL draws a random one. */
json_object *run_record(const char *run_id, json_object *config, const char *dataset_dir,
			const struct run_file *files, size_t n, int64_t started);

/* Replaces the values of secret-naming keys in o, in place. */
void run_redact_keys(json_object *o);

#endif
