/* sha256: SHA-256 over libcrypto's EVP digests (see sha256.h). */
#include <pthread.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "err.h"
#include "sha256.h"

static void
hex(const unsigned char *md, char out[65])
{
	static const char dig[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = dig[md[i] >> 4];
		out[2 * i + 1] = dig[md[i] & 15];
	}
	out[64] = '\0';
}

/*
 * libcrypto is started without its exit handler: aiops-load hashes in a
 * thread, and an error exit (exit() from the main thread) would otherwise
 * free libcrypto's tables under that thread (crashes, aborts, failed
 * digests).  Its memory is returned to the system at exit anyway.
 */
static pthread_once_t started = PTHREAD_ONCE_INIT;

static void
start(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

void
sha256_init(struct sha256 *c)
{
	EVP_MD_CTX *x;

	pthread_once(&started, start);
	x = EVP_MD_CTX_new();

	if (x == NULL || EVP_DigestInit_ex(x, EVP_sha256(), NULL) != 1)
		efatal(EXIT_FAIL, "libcrypto: cannot start a SHA-256 digest");
	c->ctx = x;
}

void
sha256_add(struct sha256 *c, const void *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(c->ctx, p, n) != 1)
		efatal(EXIT_FAIL, "libcrypto: SHA-256 update failed");
}

void
sha256_hex(struct sha256 *c, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (EVP_DigestFinal_ex(c->ctx, md, &len) != 1 || len != 32)
		efatal(EXIT_FAIL, "libcrypto: SHA-256 final failed");
	EVP_MD_CTX_free(c->ctx);
	c->ctx = NULL;
	hex(md, out);
}

void
sha256_buf_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	pthread_once(&started, start);
	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		efatal(EXIT_FAIL, "libcrypto: SHA-256 digest failed");
	hex(md, out);
}
