/* Unit tests of lib/sha256: FIPS 180-4 vectors, streamed in odd pieces. */
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tap.h"

/* The hash of s fed in pieces of `step` bytes. */
static void
streamed(const char *s, size_t n, size_t step, char out[65])
{
	struct sha256 c;

	sha256_init(&c);
	for (size_t i = 0; i < n; i += step)
		sha256_add(&c, s + i, n - i < step ? n - i : step);
	sha256_hex(&c, out);
}

int
main(void)
{
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char two_h[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	static const char mil_h[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	char h[65];
	char *m = malloc(1000000);

	if (m == NULL)
		return 1;
	sha256_buf_hex("abc", 3, h);
	tap_is_str(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
	sha256_buf_hex("", 0, h);
	tap_is_str(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "nothing");
	streamed("", 0, 1, h);
	tap_is_str(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		   "nothing, streamed (no update at all)");
	sha256_buf_hex(two, sizeof two - 1, h);
	tap_is_str(h, two_h, "the two-block vector");
	streamed(two, sizeof two - 1, 1, h);
	tap_is_str(h, two_h, "the two-block vector a byte at a time");
	streamed(two, sizeof two - 1, 7, h);
	tap_is_str(h, two_h, "the two-block vector in 7-byte pieces");
	memset(m, 'a', 1000000);
	streamed(m, 1000000, 65536, h);
	tap_is_str(h, mil_h, "a million a, in 64 KiB pieces");
	streamed(m, 1000000, 999999, h);
	tap_is_str(h, mil_h, "a million a, in pieces of 999,999 and 1");
	sha256_buf_hex(m, 1000000, h);
	tap_is_str(h, mil_h, "a million a, at once");
	free(m);
	return tap_done();
}
