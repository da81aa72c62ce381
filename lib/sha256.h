/*
 * sha256: streaming SHA-256 for content hashes (datasets, prompt templates,
 * replay keys).  Not constant-time; not for secrets.
 */
#ifndef AIOPS_SHA256_H
#define AIOPS_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char blk[64];
	size_t n;
};

void sha256_init(struct sha256 *c);
void sha256_add(struct sha256 *c, const void *p, size_t n);
/* Finishes the hash and writes 64 lowercase hex digits and a NUL. */
void sha256_hex(struct sha256 *c, char out[65]);

#endif
