/*
 * sha256: streaming SHA-256 for content hashes (datasets, prompt templates,
 * replay keys), computed by libcrypto (OpenSSL's EVP interface, which picks
 * the CPU's SHA extensions or vector code: several times less CPU than
 * portable C on a dataset of hundreds of MB).  Not for secrets.
 *
 * A context holds a libcrypto digest context: sha256_init allocates it and
 * sha256_hex frees it, so every sha256_init is followed by one sha256_hex
 * (as every caller does).  Out of memory or a libcrypto failure exits the
 * program (efatal): a hash that silently changed would change a dataset's
 * identity.
 */
#ifndef AIOPS_SHA256_H
#define AIOPS_SHA256_H

#include <stddef.h>

struct sha256 {
	void *ctx;              /* EVP_MD_CTX, owned until sha256_hex */
};

void sha256_init(struct sha256 *c);
void sha256_add(struct sha256 *c, const void *p, size_t n);
/* Finishes the hash, frees the context and writes 64 lowercase hex digits
 * and a NUL. */
void sha256_hex(struct sha256 *c, char out[65]);
/* The hash of one buffer (no context to free). */
void sha256_buf_hex(const void *p, size_t n, char out[65]);

#endif
