/* Unit tests of lib/rec: lines of any length are returned whole, over-long
 * lines are reported with their length, CRLF and a missing final newline,
 * gzip input, and lib/js's UTF-8 check and SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "js.h"
#include "rec.h"
#include "tap.h"

static char path[] = "/tmp/aiops-t_rec.XXXXXX";

static void
write_file(const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	fwrite(data, 1, n, f);
	fclose(f);
}

int
main(void)
{
	struct rec_reader r;
	const char *p;
	size_t n;
	char *big;
	int fd = mkstemp(path), k;
	char hex[65];

	close(fd);
	write_file("a\nbb\r\n\nlast", 11);
	rec_open(&r, path, 0);
	tap_ok(rec_getline(&r, &p, &n) == REC_LINE && n == 1 && memcmp(p, "a", 1) == 0 && r.line == 1, "first line");
	tap_ok(rec_getline(&r, &p, &n) == REC_LINE && n == 3 && memcmp(p, "bb\r", 3) == 0, "CR kept in the raw bytes");
	tap_ok(rec_getline(&r, &p, &n) == REC_LINE && n == 0 && r.line == 3, "empty line counted");
	tap_ok(rec_getline(&r, &p, &n) == REC_LINE && n == 4 && strcmp(p, "last") == 0, "last line without newline");
	tap_ok(rec_getline(&r, &p, &n) == REC_EOF, "then end of input");
	rec_close(&r);

	/* A 3 MiB line crosses several read chunks and comes back whole. */
	big = malloc(3 << 20);
	memset(big, 'x', 3 << 20);
	big[(3 << 20) - 1] = '\n';
	write_file(big, 3 << 20);
	rec_open(&r, path, 0);
	k = rec_getline(&r, &p, &n);
	tap_ok(k == REC_LINE && n == (3u << 20) - 1 && p[0] == 'x' && p[n - 1] == 'x', "a 3 MiB line is returned whole");
	rec_close(&r);

	/* The same line with a 1 MiB limit is reported, then reading goes on. */
	memcpy(big + (3 << 20) - 6, "\nok\n", 4);
	write_file(big, (3 << 20) - 2);
	rec_open(&r, path, 1 << 20);
	k = rec_getline(&r, &p, &n);
	tap_ok(k == REC_LONG && r.long_len == (3u << 20) - 6 && n == REC_LONG_PREFIX && p[0] == 'x',
	       "an over-long line is reported with its length and a prefix");
	tap_ok(rec_getline(&r, &p, &n) == REC_LINE && n == 2 && memcmp(p, "ok", 2) == 0 && r.line == 2,
	       "the next line is read normally");
	rec_close(&r);
	free(big);

	/* gzip input is detected by its magic. */
	{
		gzFile g = gzopen(path, "wb");
		gzwrite(g, "{\"kind\":\"x\"}\n{\"kind\":\"y\"}\n", 26);
		gzclose(g);
	}
	rec_open(&r, path, 0);
	tap_ok(rec_getline(&r, &p, &n) == REC_LINE && strcmp(p, "{\"kind\":\"x\"}") == 0, "gzip line 1");
	tap_ok(rec_getline(&r, &p, &n) == REC_LINE && strcmp(p, "{\"kind\":\"y\"}") == 0, "gzip line 2");
	tap_ok(rec_getline(&r, &p, &n) == REC_EOF, "gzip end");
	rec_close(&r);
	unlink(path);

	tap_ok(js_utf8_valid("h\xc3\xa9llo", 6), "UTF-8: valid two-byte sequence");
	tap_ok(!js_utf8_valid("\xc3", 1), "UTF-8: truncated sequence");
	tap_ok(!js_utf8_valid("\xc0\xaf", 2), "UTF-8: overlong form");
	tap_ok(!js_utf8_valid("\xed\xa0\x80", 3), "UTF-8: surrogate");
	tap_ok(!js_utf8_valid("\xff", 1), "UTF-8: 0xff");
	js_sha256_hex("abc", 3, hex);
	tap_is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 of abc");
	js_sha256_hex("", 0, hex);
	tap_is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 of nothing");
	{
		json_object *d = js_new_double(0.1);
		size_t len;
		tap_is_str(js_dump(d, &len), "0.1", "0.1 serialises as 0.1");
		json_object_put(d);
		d = js_new_double(2.0);
		tap_is_str(js_dump(d, &len), "2", "2.0 serialises as 2");
		json_object_put(d);
	}
	return tap_done();
}
