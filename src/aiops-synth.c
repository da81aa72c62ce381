/*
 * aiops-synth: write a seeded synthetic telemetry dataset for a small
 * microservice shop (logs, metrics, traces) together with the ground truth
 * of the faults injected into it (incidents).  The world is a call graph
 * from a frontend through an API gateway to application services and their
 * databases and caches; traffic follows a daily sine, and background noise
 * (a chronic error logger, a periodic batch job, routine deploys, chatty
 * INFO and DEBUG lines) is always on.  Faults start at one service and
 * their symptoms travel to its callers with a delay and an attenuation.
 *
 * Output is generated in time order one second at a time; events that
 * start later than the current second (child spans of a slow trace) wait
 * in a small heap, so memory is bounded by the length of the longest trace
 * and never by the duration of the dataset.  The same arguments give the
 * same bytes: the program has its own PRNG and reads no clock.
 *
 * This file is self-contained (libc, libm, zlib) and every name is static.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <zlib.h>

#define PROG "aiops-synth"
#define SEC 1000000LL		/* Internal time is in microseconds. */
#define MIN (60 * SEC)
#define MAXSVC 1000
#define PI 3.14159265358979323846
#define SHUFWIN 4096		/* Window of the --unsorted shuffle. */

/* Fault catalogue: name and the action that fixes it. */
enum { F_LATENCY, F_ERROR_BURST, F_CPU, F_MEMLEAK, F_BAD_DEPLOY, F_DB_EXH,
       F_PARTITION, F_NETDELAY, NFAULT };
/* The default mix: every type before F_NETDELAY (network_delay is asked for
 * with --mix, so the default dataset stays what it was). */
#define NDEFAULT F_NETDELAY
static const char *const fault_name[NFAULT] = {
	"latency", "error_burst", "cpu_saturation", "memory_leak",
	"bad_deploy", "db_exhaustion", "network_partition", "network_delay",
};
static const char *const fault_action[NFAULT] = {
	"scale_out", "restart", "scale_out", "restart", "rollback",
	"increase_pool", "failover", "failover",
};

enum { K_WEB, K_GATEWAY, K_APP, K_DB, K_CACHE };
enum { FL_NODE, FL_GO, FL_JAVA, FL_PG, FL_REDIS, FL_ES };

struct svcdef {
	const char *name;
	int kind, flavor;
	const char *ops[3];
};

/* The named part of the world; larger worlds add numbered services. */
static const struct svcdef svcdefs[] = {
	{"frontend", K_WEB, FL_NODE, {0}},
	{"api-gateway", K_GATEWAY, FL_GO, {0}},
	{"checkout", K_APP, FL_JAVA, {"PlaceOrder", "GetOrder", "ListOrders"}},
	{"postgres-orders", K_DB, FL_PG, {"SELECT orders", "INSERT orders", "UPDATE orders"}},
	{"cart", K_APP, FL_GO, {"GetCart", "AddItem", "EmptyCart"}},
	{"redis-cache", K_CACHE, FL_REDIS, {"GET", "SET", "MGET"}},
	{"catalog", K_APP, FL_JAVA, {"GetProduct", "ListProducts", "GetPrice"}},
	{"auth", K_APP, FL_GO, {"ValidateToken", "Login", "RefreshToken"}},
	{"payment", K_APP, FL_JAVA, {"Charge", "Authorize", "Refund"}},
	{"search", K_APP, FL_NODE, {"Query", "Suggest", "Query"}},
	{"postgres-catalog", K_DB, FL_PG, {"SELECT products", "SELECT prices", "UPDATE stock"}},
	{"inventory", K_APP, FL_GO, {"Reserve", "CheckStock", "Release"}},
	{"shipping", K_APP, FL_GO, {"Quote", "CreateShipment", "Track"}},
	{"recommendation", K_APP, FL_NODE, {"Recommend", "Similar", "Recommend"}},
	{"notification", K_APP, FL_NODE, {"SendEmail", "SendSms", "SendEmail"}},
	{"elasticsearch", K_DB, FL_ES, {"POST /products/_search", "GET /products/_doc", "POST /_bulk"}},
};
#define NDEF ((int)(sizeof svcdefs / sizeof svcdefs[0]))

static const char *const edgedefs[][2] = {
	{"frontend", "api-gateway"},
	{"api-gateway", "auth"}, {"api-gateway", "cart"},
	{"api-gateway", "catalog"}, {"api-gateway", "checkout"},
	{"api-gateway", "search"}, {"api-gateway", "recommendation"},
	{"checkout", "cart"}, {"checkout", "postgres-orders"},
	{"checkout", "payment"}, {"checkout", "inventory"},
	{"checkout", "shipping"}, {"checkout", "notification"},
	{"cart", "redis-cache"}, {"catalog", "redis-cache"},
	{"catalog", "postgres-catalog"}, {"auth", "redis-cache"},
	{"payment", "postgres-orders"}, {"search", "catalog"},
	{"search", "elasticsearch"}, {"inventory", "postgres-catalog"},
	{"shipping", "postgres-orders"}, {"recommendation", "catalog"},
	{"recommendation", "redis-cache"}, {"notification", "redis-cache"},
};
#define NEDGEDEF ((int)(sizeof edgedefs / sizeof edgedefs[0]))

/* Frontend routes and the service the gateway forwards each one to. */
struct route {
	char name[48];
	int target;
	double weight;
};
static const struct {
	const char *name, *target;
	double weight;
} routedefs[] = {
	{"GET /cart", "cart", 3}, {"POST /cart/items", "cart", 2},
	{"POST /checkout", "checkout", 2}, {"GET /products", "catalog", 4},
	{"GET /product/{id}", "catalog", 5}, {"GET /search", "search", 3},
	{"GET /recommendations", "recommendation", 2},
	{"POST /login", "auth", 1},
};
#define NROUTEDEF ((int)(sizeof routedefs / sizeof routedefs[0]))

struct svc {
	char name[32];
	int kind, flavor;
	const char *ops[3];
	int *callees, ncallees;
	int *callers, ncallers;
	int db;			/* Index of the database it uses, or -1. */
	double visits;		/* Mean calls per frontend request. */
	double own_ms;		/* Own processing time of a span. */
	double base_cpu, base_mem, base_p95, base_err, log_w;
	int ver[3];
	int restarts;
};

/* Effects of the faults on one service during the current second. */
struct eff {
	int inc;		/* Incident rooted here, or -1. */
	double sev;		/* Its severity, 0 to 1. */
	double lat_mult, lat_add_ms, err_p, pool_p, gc, mem_frac;
	double net_ms;		/* Network delay on calls to it (both ways). */
	int down;		/* Crashed and restarting. */
	int part_peer;		/* Calls to this service fail... */
	double part_p;		/* ...with this probability. */
	int up_inc, up_next;	/* Incident felt from downstream, next hop. */
	double up_sev;		/* Attenuated, delayed severity. */
};

struct incident {
	int type, root, peer, db;
	int64_t t0, tdet, tres, toom, tup;
	double amp, hop_delay;
	char component[48], title[128], ver[48], prev[48];
	int *dist, *next;	/* Hops from each service to the root. */
};

struct rng {
	uint64_t s[4];
};

struct ev {
	int64_t key;
	uint64_t seq;
	int file;
	size_t len;
	char *line;
};

struct out {
	char path[4096];
	FILE *fp;
	gzFile gz;
	char **win;		/* Shuffle window for --unsorted. */
	size_t nwin;
	uint64_t lines, bytes;
};

struct sb {
	char *p;
	size_t n, cap;
};

enum { O_LOGS, O_METRICS, O_TRACES, O_INCIDENTS, NOUT };
enum { FMT_JSONL, FMT_CSV, FMT_OTLP };

/* Options. */
static uint64_t opt_seed = 42;
static int opt_services = 10;
static int64_t opt_duration = 2 * 3600 * SEC;
static int64_t opt_start;	/* Set in main from the default below. */
static const char *opt_start_str = "2024-05-01T10:00:00.000Z";
static double opt_rate = 5.0;
static int64_t opt_interval = 20 * SEC;
static int opt_faults = -1;
static int opt_mix[NFAULT], opt_nmix;
static int opt_format = FMT_JSONL;
static int opt_gzip, opt_unsorted, opt_client_spans;
static const char *opt_out = ".";

/* The world. */
static struct svc *svcs;
static int nsvc;
static struct route *routes;
static int nroutes;
static struct incident *incs;
static int nincs;
static struct eff *effs;
static int chronic_svc, batch_svc, gateway_auth = -1;
static double trace_rate, bg_log_rate, span_log_p;

static struct rng rng, shuf_rng;
static struct ev *heap;
static size_t nheap, capheap;
static uint64_t evseq;
static struct out outs[NOUT];
static struct sb line;
static int64_t t_end, t_now;

static void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(1, "out of memory");
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die(1, "out of memory");
	return p;
}

/* PRNG: xoshiro256** seeded through splitmix64. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

static double
unif(void)
{
	return (double)(rng_next(&rng) >> 11) * 0x1.0p-53;
}

static double
urange(double a, double b)
{
	return a + (b - a) * unif();
}

static int
rint_n(int n)
{
	return (int)(unif() * n);
}

static int
irange(int a, int b)
{
	return a + rint_n(b - a + 1);
}

static double
gauss(void)
{
	double u = 1.0 - unif(), v = unif();

	return sqrt(-2.0 * log(u)) * cos(2.0 * PI * v);
}

static int
poisson(double lambda)
{
	if (lambda <= 0)
		return 0;
	if (lambda > 30) {
		double x = floor(lambda + sqrt(lambda) * gauss() + 0.5);
		return x < 0 ? 0 : (int)x;
	}
	double l = exp(-lambda), p = 1.0;
	int k = 0;
	do {
		k++;
		p *= unif();
	} while (p > l);
	return k - 1;
}

static double
clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static void
hexid(char *buf, int bytes)
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < bytes; i += 8) {
		uint64_t x = rng_next(&rng);
		for (int j = 0; j < 8 && i + j < bytes; j++, x >>= 8) {
			buf[2 * (i + j)] = hx[(x >> 4) & 15];
			buf[2 * (i + j) + 1] = hx[x & 15];
		}
	}
	buf[2 * bytes] = '\0';
}

static void
ipaddr(char *buf, size_t n)
{
	snprintf(buf, n, "10.%d.%d.%d", irange(0, 3), irange(0, 255),
	    irange(2, 254));
}

/* Civil dates (Howard Hinnant's algorithms), so no libc time zone code runs. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
fmt_ts(char *buf, int64_t us)
{
	int64_t ms = us / 1000, days = ms / 86400000, rem = ms % 86400000;

	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	snprintf(buf, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d,
	    (int)(rem / 3600000), (int)(rem / 60000 % 60),
	    (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* Parses RFC 3339 (Z or a numeric offset, optional fraction) into us. */
static int
parse_ts(const char *s, int64_t *us)
{
	int y, mo, d, h, mi, sec, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h,
	    &mi, &sec, &n) != 6 || n != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970)
		return -1;
	const char *p = s + n;
	int64_t frac = 0, scale = 100000;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int oh, om, k = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5)
			return -1;
		off = (oh * 60 + om) * 60 * SEC * (*p == '-' ? -1 : 1);
		p += 6;
	} else
		return -1;
	if (*p)
		return -1;
	*us = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) *
	    SEC + frac - off;
	return 0;
}

/* Parses 2h, 90m, 3600s, 1h30m or a bare number of seconds. */
static int
parse_dur(const char *s, int64_t *us)
{
	int64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		if (end == s || errno || v < 0)
			return -1;
		int64_t unit = SEC;
		if (*end == 'h')
			unit = 3600 * SEC, end++;
		else if (*end == 'm' && end[1] == 's')
			unit = 1000, end += 2;
		else if (*end == 'm')
			unit = MIN, end++;
		else if (*end == 's')
			end++;
		else if (*end == 'd')
			unit = 86400 * SEC, end++;
		else if (*end)
			return -1;
		if (v * unit > 1e17)
			return -1;
		total += (int64_t)(v * unit + 0.5);
		s = end;
	}
	*us = total;
	return 0;
}

/* Growable string buffer. */
static void
sb_grow(struct sb *b, size_t need)
{
	if (b->n + need + 1 <= b->cap)
		return;
	while (b->n + need + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 1024;
	b->p = xrealloc(b->p, b->cap);
}

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
sb_puts(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;

	sb_grow(b, 256);
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(1, "internal error: bad format");
	if ((size_t)n >= b->cap - b->n) {
		sb_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
	}
	b->n += (size_t)n;
}

static void
sb_json(struct sb *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			sb_add(b, e, 2);
		} else if (c < 0x20)
			sb_printf(b, "\\u%04x", c);
		else
			sb_add(b, (const char *)&c, 1);
	}
	sb_add(b, "\"", 1);
}

static void
sb_csv(struct sb *b, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		sb_puts(b, s);
		return;
	}
	sb_add(b, "\"", 1);
	for (; *s; s++)
		if (*s == '"')
			sb_add(b, "\"\"", 2);
		else
			sb_add(b, s, 1);
	sb_add(b, "\"", 1);
}

/* Output files, plain or gzip, with an optional shuffle window. */
static void
out_raw(struct out *o, const char *s, size_t n)
{
	if (o->gz) {
		if (n && gzwrite(o->gz, s, (unsigned)n) != (int)n)
			die(1, "%s: write error", o->path);
	} else if (fwrite(s, 1, n, o->fp) != n)
		die(1, "%s: %s", o->path, strerror(errno));
	o->lines++;
	o->bytes += n;
}

static void
out_line(struct out *o, char *s, size_t n)
{
	if (!opt_unsorted) {
		out_raw(o, s, n);
		free(s);
		return;
	}
	if (o->nwin < SHUFWIN) {
		o->win[o->nwin++] = s;
		return;
	}
	size_t j = (size_t)(rng_next(&shuf_rng) % SHUFWIN);
	out_raw(o, o->win[j], strlen(o->win[j]));
	free(o->win[j]);
	o->win[j] = s;
	(void)n;
}

static void
out_open(struct out *o, const char *base)
{
	static const char *const ext[] = {"jsonl", "csv", "otlp.jsonl"};
	const char *e = ext[opt_format];

	if (o == &outs[O_INCIDENTS])
		e = "jsonl";
	snprintf(o->path, sizeof o->path, "%s/%s.%s%s", opt_out, base, e,
	    opt_gzip ? ".gz" : "");
	if (opt_gzip) {
		o->gz = gzopen(o->path, "wb9");
		if (!o->gz)
			die(1, "%s: cannot open: %s", o->path, strerror(errno));
	} else if (!(o->fp = fopen(o->path, "w")))
		die(1, "%s: %s", o->path, strerror(errno));
	if (opt_unsorted)
		o->win = xmalloc(SHUFWIN * sizeof *o->win);
}

static void
out_close(struct out *o)
{
	if (opt_unsorted) {
		for (size_t i = o->nwin; i > 1; i--) {
			size_t j = (size_t)(rng_next(&shuf_rng) % i);
			char *t = o->win[i - 1];
			o->win[i - 1] = o->win[j];
			o->win[j] = t;
		}
		for (size_t i = 0; i < o->nwin; i++) {
			out_raw(o, o->win[i], strlen(o->win[i]));
			free(o->win[i]);
		}
		free(o->win);
	}
	if (o->gz) {
		if (gzclose(o->gz) != Z_OK)
			die(1, "%s: write error", o->path);
	} else if (ferror(o->fp) | fclose(o->fp))
		die(1, "%s: write error", o->path);
}

/* The event heap orders lines by (time, generation order). */
static int
ev_less(const struct ev *a, const struct ev *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void
heap_push(int file, int64_t key)
{
	if (key >= t_end || key < opt_start)
		return;
	if (key < t_now)
		die(1, "internal error: event at %lld before the current second",
		    (long long)key);
	if (nheap == capheap) {
		capheap = capheap ? capheap * 2 : 1024;
		heap = xrealloc(heap, capheap * sizeof *heap);
	}
	struct ev e = {key, evseq++, file, line.n, xmalloc(line.n + 1)};
	memcpy(e.line, line.p, line.n + 1);
	size_t i = nheap++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_less(&e, &heap[p]))
			break;
		heap[i] = heap[p];
		i = p;
	}
	heap[i] = e;
}

static void
heap_flush(int64_t before)
{
	while (nheap && heap[0].key < before) {
		struct ev top = heap[0], last = heap[--nheap];
		size_t i = 0;
		for (;;) {
			size_t c = 2 * i + 1;
			if (c >= nheap)
				break;
			if (c + 1 < nheap && ev_less(&heap[c + 1], &heap[c]))
				c++;
			if (!ev_less(&heap[c], &last))
				break;
			heap[i] = heap[c];
			i = c;
		}
		if (nheap)
			heap[i] = last;
		out_line(&outs[top.file], top.line, top.len);
	}
}

/* Record builders, one per signal, in the chosen format. */
static void
sb_otlp_resource(struct sb *b, int s)
{
	sb_printf(b, "{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
	    "\"value\":{\"stringValue\":\"%s\"}},{\"key\":\"host.name\","
	    "\"value\":{\"stringValue\":\"%s-1\"}}]},", svcs[s].name,
	    svcs[s].name);
}

static void
emit_log(int64_t t, int s, const char *level, const char *msg,
    const char *tid, const char *sid)
{
	char ts[48];

	fmt_ts(ts, t);
	line.n = 0;
	if (opt_format == FMT_CSV) {
		sb_printf(&line, "%s,%s,%s,", ts, svcs[s].name, level);
		sb_csv(&line, msg);
		sb_printf(&line, ",%s,%s\n", tid ? tid : "", sid ? sid : "");
	} else if (opt_format == FMT_OTLP) {
		int sev = level[0] == 'D' ? 5 : level[0] == 'I' ? 9 :
		    level[0] == 'W' ? 13 : 17;
		sb_puts(&line, "{\"resourceLogs\":[");
		sb_otlp_resource(&line, s);
		sb_printf(&line, "\"scopeLogs\":[{\"scope\":{\"name\":\"" PROG
		    "\"},\"logRecords\":[{\"timeUnixNano\":\"%lld000\","
		    "\"severityNumber\":%d,\"severityText\":\"%s\","
		    "\"body\":{\"stringValue\":", (long long)(t / 1000 * 1000),
		    sev, level);
		sb_json(&line, msg);
		sb_puts(&line, "}");
		if (tid)
			sb_printf(&line, ",\"traceId\":\"%s\",\"spanId\":\"%s\"",
			    tid, sid);
		sb_puts(&line, "}]}]}]}\n");
	} else {
		sb_printf(&line, "{\"timestamp\":\"%s\",\"service\":\"%s\","
		    "\"level\":\"%s\",\"message\":", ts, svcs[s].name, level);
		sb_json(&line, msg);
		if (tid)
			sb_printf(&line, ",\"trace_id\":\"%s\",\"span_id\":\"%s\"",
			    tid, sid);
		sb_puts(&line, "}\n");
	}
	heap_push(O_LOGS, t);
}

static void
emit_metric(int64_t t, int s, const char *name, double v, int dec,
    const char *unit)
{
	char ts[48], num[64];

	if (fabs(v) < 0.5 * pow(10, -dec))
		v = 0;
	snprintf(num, sizeof num, "%.*f", dec, v);
	fmt_ts(ts, t);
	line.n = 0;
	if (opt_format == FMT_CSV)
		sb_printf(&line, "%s,%s,%s,%s,%s,%s-1\n", ts, svcs[s].name, name,
		    num, unit, svcs[s].name);
	else if (opt_format == FMT_OTLP) {
		sb_puts(&line, "{\"resourceMetrics\":[");
		sb_otlp_resource(&line, s);
		sb_printf(&line, "\"scopeMetrics\":[{\"scope\":{\"name\":\"" PROG
		    "\"},\"metrics\":[{\"name\":\"%s\",\"unit\":\"%s\","
		    "\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":\"%lld000\","
		    "\"asDouble\":%s,\"attributes\":[{\"key\":\"host\","
		    "\"value\":{\"stringValue\":\"%s-1\"}}]}]}}]}]}]}\n", name,
		    unit, (long long)(t / 1000 * 1000), num, svcs[s].name);
	} else
		sb_printf(&line, "{\"timestamp\":\"%s\",\"service\":\"%s\","
		    "\"name\":\"%s\",\"value\":%s,\"unit\":\"%s\","
		    "\"labels\":{\"host\":\"%s-1\"}}\n", ts, svcs[s].name, name,
		    num, unit, svcs[s].name);
	heap_push(O_METRICS, t);
}

static void
emit_span(int64_t t, int s, const char *tid, const char *sid,
    const char *parent, const char *name, int64_t dur, int err)
{
	char ts[48];

	fmt_ts(ts, t);
	line.n = 0;
	if (opt_format == FMT_CSV) {
		sb_printf(&line, "%s,%s,%s,%s,%s,", ts, svcs[s].name, tid, sid,
		    parent ? parent : "");
		sb_csv(&line, name);
		sb_printf(&line, ",%.3f,%s\n", dur / 1000.0, err ? "ERROR" : "OK");
	} else if (opt_format == FMT_OTLP) {
		long long st = (long long)t * 1000;
		sb_puts(&line, "{\"resourceSpans\":[");
		sb_otlp_resource(&line, s);
		sb_printf(&line, "\"scopeSpans\":[{\"scope\":{\"name\":\"" PROG
		    "\"},\"spans\":[{\"traceId\":\"%s\",\"spanId\":\"%s\","
		    "\"parentSpanId\":\"%s\",\"name\":", tid, sid,
		    parent ? parent : "");
		sb_json(&line, name);
		sb_printf(&line, ",\"kind\":2,\"startTimeUnixNano\":\"%lld\","
		    "\"endTimeUnixNano\":\"%lld\",\"status\":{\"code\":%d}}]}]}]}\n",
		    st, st + (long long)dur * 1000, err ? 2 : 1);
	} else {
		sb_printf(&line, "{\"timestamp\":\"%s\",\"service\":\"%s\","
		    "\"trace_id\":\"%s\",\"span_id\":\"%s\",\"parent_id\":", ts,
		    svcs[s].name, tid, sid);
		if (parent)
			sb_printf(&line, "\"%s\"", parent);
		else
			sb_puts(&line, "null");
		sb_puts(&line, ",\"name\":");
		sb_json(&line, name);
		sb_printf(&line, ",\"duration_ms\":%.3f,\"status\":\"%s\"}\n",
		    dur / 1000.0, err ? "ERROR" : "OK");
	}
	heap_push(O_TRACES, t);
}

/* Building the world. */
static int
svc_index(const char *name)
{
	for (int i = 0; i < nsvc; i++)
		if (!strcmp(svcs[i].name, name))
			return i;
	return -1;
}

static void
add_edge(int a, int b)
{
	struct svc *x = &svcs[a], *y = &svcs[b];

	x->callees = xrealloc(x->callees, (size_t)(x->ncallees + 1) * sizeof(int));
	x->callees[x->ncallees++] = b;
	y->callers = xrealloc(y->callers, (size_t)(y->ncallers + 1) * sizeof(int));
	y->callers[y->ncallers++] = a;
	if (y->kind == K_DB && x->db < 0)
		x->db = b;
}

/* Probability that service s calls callee c while serving a request. */
static double
call_p(int s, int c)
{
	if (svcs[s].kind == K_WEB)
		return 1.0;
	if (svcs[c].kind == K_DB || svcs[c].kind == K_CACHE)
		return 0.85;
	return 0.5;
}

static void
add_visits(int s, double w, int route)
{
	struct svc *x = &svcs[s];

	x->visits += w;
	if (x->kind == K_GATEWAY) {
		if (gateway_auth >= 0 && routes[route].target != gateway_auth)
			add_visits(gateway_auth, w * 0.8, route);
		add_visits(routes[route].target, w, route);
		return;
	}
	for (int i = 0; i < x->ncallees; i++)
		add_visits(x->callees[i], w * call_p(s, x->callees[i]), route);
}

static void
build_world(void)
{
	nsvc = opt_services;
	svcs = xmalloc((size_t)nsvc * sizeof *svcs);
	memset(svcs, 0, (size_t)nsvc * sizeof *svcs);
	for (int i = 0; i < nsvc; i++) {
		struct svc *x = &svcs[i];
		if (i < NDEF) {
			snprintf(x->name, sizeof x->name, "%s", svcdefs[i].name);
			x->kind = svcdefs[i].kind;
			x->flavor = svcdefs[i].flavor;
			memcpy(x->ops, svcdefs[i].ops, sizeof x->ops);
		} else {
			snprintf(x->name, sizeof x->name, "service-%03d", i);
			x->kind = K_APP;
			x->flavor = i % 3 == 0 ? FL_JAVA : i % 3 == 1 ? FL_GO : FL_NODE;
			x->ops[0] = "Handle";
			x->ops[1] = "List";
			x->ops[2] = "Get";
		}
		if (x->kind == K_WEB)
			x->ops[0] = x->ops[1] = x->ops[2] = "GET /";
		if (x->kind == K_GATEWAY)
			x->ops[0] = x->ops[1] = x->ops[2] = "proxy";
		x->db = -1;
	}
	for (int i = 0; i < NEDGEDEF; i++) {
		int a = svc_index(edgedefs[i][0]), b = svc_index(edgedefs[i][1]);
		if (a >= 0 && b >= 0)
			add_edge(a, b);
	}
	int cache = svc_index("redis-cache");
	for (int i = NDEF; i < nsvc; i++) {
		add_edge(1, i);
		if (cache >= 0)
			add_edge(i, cache);
	}
	gateway_auth = svc_index("auth");

	routes = xmalloc((size_t)(NROUTEDEF + nsvc) * sizeof *routes);
	for (int i = 0; i < NROUTEDEF; i++) {
		int t = svc_index(routedefs[i].target);
		if (t < 0)
			continue;
		snprintf(routes[nroutes].name, sizeof routes[nroutes].name, "%s",
		    routedefs[i].name);
		routes[nroutes].target = t;
		routes[nroutes++].weight = routedefs[i].weight;
	}
	for (int i = NDEF; i < nsvc; i++) {
		snprintf(routes[nroutes].name, sizeof routes[nroutes].name,
		    "GET /api/%s", svcs[i].name);
		routes[nroutes].target = i;
		routes[nroutes++].weight = 1;
	}
	double wsum = 0;
	for (int r = 0; r < nroutes; r++)
		wsum += routes[r].weight;
	for (int r = 0; r < nroutes; r++) {
		svcs[0].visits += routes[r].weight / wsum;
		add_visits(1, routes[r].weight / wsum, r);
	}

	/* Per-service baselines. */
	for (int i = 0; i < nsvc; i++) {
		struct svc *x = &svcs[i];
		switch (x->kind) {
		case K_WEB:
			x->own_ms = 6, x->base_mem = 380e6, x->base_p95 = 240;
			break;
		case K_GATEWAY:
			x->own_ms = 2, x->base_mem = 220e6, x->base_p95 = 190;
			break;
		case K_DB:
			x->own_ms = 3, x->base_mem = 2.6e9, x->base_p95 = 14;
			break;
		case K_CACHE:
			x->own_ms = 0.4, x->base_mem = 1.1e9, x->base_p95 = 2.2;
			break;
		default:
			x->own_ms = urange(6, 18);
			x->base_mem = x->flavor == FL_JAVA ? urange(700e6, 1.1e9) :
			    urange(150e6, 400e6);
			x->base_p95 = urange(45, 130);
		}
		x->base_mem = floor(x->base_mem / 4096) * 4096;
		x->base_cpu = urange(0.12, 0.32);
		x->base_err = urange(0.0005, 0.004);
		x->log_w = 1 + 2 * x->visits;
		x->ver[0] = irange(1, 3);
		x->ver[1] = irange(0, 12);
		x->ver[2] = irange(0, 9);
	}
	chronic_svc = gateway_auth >= 0 ? gateway_auth :
	    svc_index("cart") >= 0 ? svc_index("cart") : 2;
	batch_svc = svc_index("catalog") >= 0 ? svc_index("catalog") : 2;
	effs = xmalloc((size_t)nsvc * sizeof *effs);
}

/* Expected spans of one trace, to turn --rate into a trace rate. */
static double
expected_spans(void)
{
	double e = 0;

	for (int i = 0; i < nsvc; i++)
		e += svcs[i].visits;
	return e;
}

static int
metrics_per_service(int s)
{
	return 6 + (svcs[s].db >= 0);
}

static void
plan_rates(void)
{
	double m = 0;

	for (int i = 0; i < nsvc; i++)
		m += metrics_per_service(i);
	m /= (double)opt_interval / SEC;
	double b = opt_rate - m;
	if (b < 0.2 * opt_rate)
		b = 0.2 * opt_rate;
	/* Three fifths of the rest are spans, one tenth span logs. */
	trace_rate = 0.6 * b / expected_spans();
	span_log_p = 1.0 / 6;
	bg_log_rate = 0.28 * b;
}

/* Fault planning: non-overlapping slots after a quiet warm-up. */
static int
pick(const int *cand, int n, const int *avoid, int navoid)
{
	int ok[MAXSVC], m = 0;

	for (int i = 0; i < n; i++) {
		int bad = 0;
		for (int j = 0; j < navoid; j++)
			bad |= avoid[j] == cand[i];
		if (!bad)
			ok[m++] = cand[i];
	}
	if (m)
		return ok[rint_n(m)];
	return cand[rint_n(n)];
}

static void
bfs_dist(struct incident *in)
{
	int *q = xmalloc((size_t)nsvc * sizeof(int)), qh = 0, qt = 0;

	in->dist = xmalloc((size_t)nsvc * sizeof(int));
	in->next = xmalloc((size_t)nsvc * sizeof(int));
	for (int i = 0; i < nsvc; i++)
		in->dist[i] = -1, in->next[i] = -1;
	in->dist[in->root] = 0;
	q[qt++] = in->root;
	while (qh < qt) {
		int s = q[qh++];
		for (int i = 0; i < svcs[s].ncallers; i++) {
			int c = svcs[s].callers[i];
			if (in->dist[c] >= 0)
				continue;
			in->dist[c] = in->dist[s] + 1;
			in->next[c] = s;
			q[qt++] = c;
		}
	}
	free(q);
}

static void
plan_faults(void)
{
	int nf = opt_faults < 0 ? opt_nmix : opt_faults;
	int64_t warm = opt_duration / 8, tail = opt_duration / 25;
	if (warm > 15 * MIN)
		warm = 15 * MIN;
	if (tail > 5 * MIN)
		tail = 5 * MIN;
	int64_t quiet = nf >= 2 && opt_duration >= 60 * MIN ? 12 * MIN : 0;
	if (nf == 0)
		return;
	int64_t slot = (opt_duration - warm - tail - quiet) / nf;
	if (slot < 4 * MIN)
		die(2, "duration too short for %d faults (need %d minutes or "
		    "more)", nf, (int)((warm + tail + quiet + 4 * MIN * nf) / MIN) + 1);

	/* The order of fault types: the mix, shuffled, then cycled. */
	int order[NFAULT];
	memcpy(order, opt_mix, sizeof order);
	for (int i = opt_nmix - 1; i > 0; i--) {
		int j = rint_n(i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}

	int apps[MAXSVC], napps = 0, dbusers[MAXSVC], ndbu = 0, back[MAXSVC],
	    nback = 0, prev[4] = {-1, -1, -1, -1};
	int ea[4 * MAXSVC], eb[4 * MAXSVC], ne = 0;
	for (int i = 0; i < nsvc; i++) {
		if (svcs[i].kind == K_APP)
			apps[napps++] = i;
		if (svcs[i].kind == K_APP && svcs[i].db >= 0)
			dbusers[ndbu++] = i;
		if (svcs[i].kind != K_WEB && svcs[i].kind != K_GATEWAY)
			back[nback++] = i;
		if (svcs[i].kind == K_APP)
			for (int j = 0; j < svcs[i].ncallees && ne < 4 * MAXSVC; j++)
				ea[ne] = i, eb[ne++] = svcs[i].callees[j];
	}

	incs = xmalloc((size_t)nf * sizeof *incs);
	memset(incs, 0, (size_t)nf * sizeof *incs);
	nincs = nf;
	int64_t base = opt_start + warm;
	for (int k = 0; k < nf; k++) {
		struct incident *in = &incs[k];
		if (k == nf / 2)
			base += quiet;
		int64_t len = (int64_t)(slot * urange(0.55, 0.68));
		if (len > 25 * MIN)
			len = 25 * MIN;
		int64_t room = slot - len - slot / 5;
		in->type = order[k % opt_nmix];
		in->t0 = base + (room > 0 ? (int64_t)(unif() * room) : 0);
		in->t0 -= in->t0 % SEC;
		in->tres = in->t0 + len - len % SEC;
		in->tdet = in->t0 + (int64_t)(len * urange(0.25, 0.45));
		in->peer = -1;
		in->db = -1;
		in->hop_delay = urange(8, 25) * SEC;
		base += slot;
		switch (in->type) {
		case F_LATENCY:
			in->root = pick(back, nback, prev, 4);
			in->amp = urange(350, 900);
			break;
		case F_NETDELAY:
			in->root = pick(apps, napps, prev, 4);
			in->amp = urange(200, 600);
			break;
		case F_DB_EXH:
			in->root = pick(dbusers, ndbu, prev, 4);
			in->db = svcs[in->root].db;
			break;
		case F_PARTITION: {
			int e = rint_n(ne);
			for (int tries = 0; tries < 20; tries++) {
				int bad = 0;
				for (int j = 0; j < 4; j++)
					bad |= prev[j] == ea[e];
				if (!bad)
					break;
				e = rint_n(ne);
			}
			in->root = ea[e];
			in->peer = eb[e];
			break;
		}
		default:
			in->root = pick(apps, napps, prev, 4);
		}
		prev[k % 4] = in->root;
		const char *rn = svcs[in->root].name;
		struct svc *r = &svcs[in->root];
		switch (in->type) {
		case F_LATENCY:
			snprintf(in->component, sizeof in->component, "%s",
			    r->kind == K_DB ? "disk-io" : r->kind == K_CACHE ?
			    "memory-eviction" : "thread-pool");
			snprintf(in->title, sizeof in->title,
			    "High latency on %s", rn);
			break;
		case F_ERROR_BURST:
			snprintf(in->component, sizeof in->component,
			    "request-handler");
			snprintf(in->title, sizeof in->title,
			    "Burst of 5xx errors from %s", rn);
			break;
		case F_CPU:
			snprintf(in->component, sizeof in->component, "cpu");
			snprintf(in->title, sizeof in->title,
			    "CPU saturation on %s", rn);
			break;
		case F_MEMLEAK:
			snprintf(in->component, sizeof in->component, "%s",
			    r->flavor == FL_JAVA ? "jvm-heap" : "heap");
			snprintf(in->title, sizeof in->title,
			    "Memory leak and OOM kill on %s", rn);
			in->toom = in->t0 + (int64_t)(len * urange(0.55, 0.65));
			in->toom -= in->toom % SEC;
			in->tup = in->toom + (int64_t)(urange(25, 45) * SEC);
			in->tdet = in->toom + (int64_t)(urange(30, 90) * SEC);
			break;
		case F_BAD_DEPLOY:
			snprintf(in->component, sizeof in->component, "deployment");
			snprintf(in->prev, sizeof in->prev, "v%d.%d.%d", r->ver[0],
			    r->ver[1], r->ver[2]);
			snprintf(in->ver, sizeof in->ver, "v%d.%d.0", r->ver[0],
			    r->ver[1] + 1);
			snprintf(in->title, sizeof in->title,
			    "Bad deploy %s of %s", in->ver, rn);
			in->tdet = in->t0 + (int64_t)(urange(2, 4) * MIN);
			break;
		case F_DB_EXH:
			snprintf(in->component, sizeof in->component,
			    "connection-pool");
			snprintf(in->title, sizeof in->title,
			    "Connection pool to %s exhausted in %s",
			    svcs[in->db].name, rn);
			break;
		case F_PARTITION:
			snprintf(in->component, sizeof in->component, "network");
			snprintf(in->title, sizeof in->title,
			    "Network partition between %s and %s", rn,
			    svcs[in->peer].name);
			break;
		case F_NETDELAY:
			snprintf(in->component, sizeof in->component, "network");
			snprintf(in->title, sizeof in->title,
			    "Network delay on %s", rn);
			break;
		}
		if (in->tdet > in->tres - MIN)
			in->tdet = in->tres - MIN;
		in->tdet -= in->tdet % 1000;
		bfs_dist(in);
	}
}

/* Severity of an incident at its root at time t, 0 to 1. */
static double
severity(const struct incident *in, int64_t t)
{
	static const double ramp_s[NFAULT] = {40, 8, 90, 1, 15, 45, 1, 1};
	int64_t t0 = in->t0;

	if (t < t0)
		return 0;
	if (in->type == F_MEMLEAK) {
		if (t >= in->toom && t < in->tup)
			return 1;
		if (t >= in->tres)
			return 0;
		int64_t from = t >= in->tup ? in->tup : t0;
		double frac = (double)(t - from) / (double)(in->toom - t0);
		return 0.5 * clamp((frac - 0.6) / 0.4, 0, 1);
	}
	if (in->type == F_BAD_DEPLOY)
		t0 += 12 * SEC;
	if (t < t0)
		return 0;
	double s = clamp((double)(t - t0) / (ramp_s[in->type] * SEC), 0, 1);
	if (t > in->tres)
		s *= exp(-(double)(t - in->tres) / (15.0 * SEC));
	return s < 0.01 ? 0 : s;
}

static double
leak_frac(const struct incident *in, int64_t t)
{
	if (t < in->t0 || t >= in->tres || (t >= in->toom && t < in->tup))
		return 0;
	int64_t from = t >= in->tup ? in->tup : in->t0;
	return clamp((double)(t - from) / (double)(in->toom - in->t0), 0, 1);
}

static void
compute_effects(int64_t t)
{
	for (int i = 0; i < nsvc; i++) {
		struct eff *e = &effs[i];
		memset(e, 0, sizeof *e);
		e->inc = e->up_inc = e->up_next = e->part_peer = -1;
		e->lat_mult = 1;
	}
	for (int k = 0; k < nincs; k++) {
		struct incident *in = &incs[k];
		if (t < in->t0 || t > in->tres + 6 * MIN)
			continue;
		double sev = severity(in, t);
		struct eff *e = &effs[in->root];
		e->inc = k;
		e->sev = sev;
		switch (in->type) {
		case F_LATENCY:
			e->lat_add_ms = sev * in->amp;
			break;
		case F_ERROR_BURST:
			e->err_p = 0.35 * sev;
			break;
		case F_CPU:
			e->lat_mult = 1 + 3 * sev;
			break;
		case F_MEMLEAK:
			e->mem_frac = leak_frac(in, t);
			e->down = t >= in->toom && t < in->tup;
			e->gc = e->down ? 0 : 2 * sev;
			e->lat_mult = 1 + 3 * e->gc;
			e->err_p = 0.04 * e->gc;
			break;
		case F_BAD_DEPLOY:
			e->err_p = 0.3 * sev;
			e->lat_mult = 1 + 0.3 * sev;
			break;
		case F_DB_EXH:
			e->pool_p = 0.6 * sev;
			e->lat_add_ms = 150 * sev;
			break;
		case F_PARTITION:
			e->part_peer = in->peer;
			e->part_p = 0.9 * sev;
			break;
		case F_NETDELAY:
			e->net_ms = sev * in->amp;
			break;
		}
		for (int s = 0; s < nsvc; s++) {
			int d = in->dist[s];
			if (d <= 0)
				continue;
			double sv = pow(0.65, d) * severity(in,
			    t - (int64_t)(d * in->hop_delay));
			if (sv > effs[s].up_sev) {
				effs[s].up_sev = sv;
				effs[s].up_inc = k;
				effs[s].up_next = in->next[s];
			}
		}
	}
}

/* Messages. */
static void
fault_msg(char *buf, size_t n, int s, int type, const char *op)
{
	struct svc *x = &svcs[s];
	static const char *const ent[] = {"order", "cart", "session", "payment",
	    "product", "shipment"};

	switch (type) {
	case F_ERROR_BURST:
		if (x->flavor == FL_JAVA)
			snprintf(buf, n, "unhandled exception in %s: "
			    "java.lang.IllegalStateException: %s %d in state "
			    "PENDING cannot transition to CONFIRMED", op,
			    ent[rint_n(6)], irange(10000, 99999));
		else
			snprintf(buf, n, "panic recovered in %s handler: runtime "
			    "error: index out of range [%d] with length %d", op,
			    irange(1, 9), 0);
		break;
	case F_BAD_DEPLOY:
		snprintf(buf, n, "request failed: NullPointerException: Cannot "
		    "invoke \"PricingRule.apply(%s)\" because \"rule\" is null "
		    "(item %d)", ent[rint_n(6)], irange(1000, 99999));
		break;
	case F_MEMLEAK:
		snprintf(buf, n, "request aborted: GC overhead limit exceeded "
		    "(heap %d%% used)", irange(94, 99));
		break;
	case F_CPU:
		snprintf(buf, n, "request deadline exceeded after %dms while "
		    "queued on saturated worker pool", irange(2000, 3000));
		break;
	default:
		snprintf(buf, n, "internal error while handling %s", op);
	}
}

static void
upstream_msg(char *buf, size_t n, int next, int type, const char **level)
{
	const char *nm = svcs[next].name;

	*level = "ERROR";
	switch (type) {
	case F_LATENCY:
	case F_CPU:
	case F_DB_EXH:
	case F_NETDELAY:
		*level = "WARN";
		snprintf(buf, n, "timeout calling %s after %dms (attempt %d/3)",
		    nm, type == F_DB_EXH ? 5000 : irange(1000, 3000), irange(1, 3));
		break;
	case F_MEMLEAK:
		snprintf(buf, n, "call to %s failed: dial tcp %d.%d.%d.%d:8080: "
		    "connect: connection refused", nm, 10, irange(0, 3),
		    irange(0, 255), irange(2, 254));
		break;
	case F_PARTITION:
		snprintf(buf, n, "upstream %s returned 503 Service Unavailable "
		    "(%dms)", nm, irange(900, 1100));
		break;
	default:
		snprintf(buf, n, "upstream %s returned 500 Internal Server Error "
		    "for request %08x", nm, (unsigned)rng_next(&rng));
	}
}

static void
bg_msg(char *buf, size_t n, int s, const char **level)
{
	struct svc *x = &svcs[s];
	char ip[32];
	int r = rint_n(100);
	static const char *const flags[] = {"new-checkout-flow", "dark-mode",
	    "reco-v2", "fast-search", "one-click-pay"};
	static const char *const tables[] = {"orders", "order_items",
	    "products", "prices", "stock", "sessions"};

	ipaddr(ip, sizeof ip);
	*level = r < 68 ? "INFO" : r < 95 ? "DEBUG" : "WARN";
	switch (x->flavor) {
	case FL_PG:
		if (r < 25)
			snprintf(buf, n, "checkpoint complete: wrote %d buffers "
			    "(%.1f%%); %d WAL file(s) added, %d removed",
			    irange(20, 4000), urange(0.1, 9), irange(0, 3),
			    irange(0, 4));
		else if (r < 50)
			snprintf(buf, n, "automatic vacuum of table \"shop.public.%s\":"
			    " index scans: %d, tuples removed: %d",
			    tables[rint_n(6)], irange(0, 3), irange(0, 20000));
		else if (r < 68)
			snprintf(buf, n, "duration: %.3f ms  statement: SELECT * "
			    "FROM %s WHERE id = %d", urange(1, 40),
			    tables[rint_n(6)], irange(1, 999999));
		else if (r < 95)
			snprintf(buf, n, "connection authorized: user=%s "
			    "database=shop host=%s", svcs[irange(2, nsvc > 4 ? 4 : nsvc - 1)].name, ip);
		else
			snprintf(buf, n, "temporary file: path "
			    "\"base/pgsql_tmp/pgsql_tmp%d.%d\", size %d", irange(100, 9999),
			    irange(0, 9), irange(8192, 4000000));
		return;
	case FL_REDIS:
		if (r < 30)
			snprintf(buf, n, "%d changes in %d seconds. Saving...",
			    irange(100, 20000), 60 * irange(1, 5));
		else if (r < 50)
			snprintf(buf, n, "Background saving started by pid %d",
			    irange(1000, 65000));
		else if (r < 68)
			snprintf(buf, n, "DB saved on disk (%d keys, %d MB)",
			    irange(100000, 900000), irange(200, 900));
		else if (r < 95)
			snprintf(buf, n, "Accepted %s:%d", ip, irange(30000, 60999));
		else
			snprintf(buf, n, "Client id=%d addr=%s:%d closed for "
			    "reaching output buffer limit", irange(1, 99999), ip,
			    irange(30000, 60999));
		return;
	case FL_ES:
		if (r < 68)
			snprintf(buf, n, "[products] took [%dms], took_millis [%d], "
			    "total_hits [%d]", r, irange(2, 90), irange(0, 5000));
		else if (r < 95)
			snprintf(buf, n, "[gc][young][%d][%d] duration [%dms], "
			    "collections [1]/[1.1s]", irange(1000, 99999),
			    irange(1, 9999), irange(2, 40));
		else
			snprintf(buf, n, "[products][%d] slow search took [%.1fs]",
			    irange(0, 4), urange(1, 3));
		return;
	}
	if (x->kind == K_WEB) {
		if (r < 68)
			snprintf(buf, n, "%s - - \"GET /product/%d HTTP/1.1\" 200 %d "
			    "\"-\" \"Mozilla/5.0\" %dms", ip, irange(1, 99999),
			    irange(500, 90000), irange(20, 400));
		else if (r < 95)
			snprintf(buf, n, "served static asset /static/js/app.%08x.js "
			    "in %dms", (unsigned)rng_next(&rng), irange(1, 30));
		else
			snprintf(buf, n, "slow render of /product/%d: %dms",
			    irange(1, 99999), irange(800, 2500));
		return;
	}
	if (x->kind == K_GATEWAY) {
		if (r < 68)
			snprintf(buf, n, "route %s -> %s upstream_status=200 "
			    "latency_ms=%d request_id=%08x", routes[rint_n(nroutes)].name,
			    svcs[routes[rint_n(nroutes)].target].name, irange(3, 300),
			    (unsigned)rng_next(&rng));
		else if (r < 95)
			snprintf(buf, n, "rate limiter: client %s has %d tokens left",
			    ip, irange(0, 100));
		else
			snprintf(buf, n, "client %s closed connection before "
			    "response (%dms)", ip, irange(100, 5000));
		return;
	}
	const char *op = x->ops[rint_n(3)];
	if (r < 30)
		snprintf(buf, n, "request completed op=%s status=200 "
		    "duration_ms=%d client=%s", op, irange(2, 200), ip);
	else if (r < 50)
		snprintf(buf, n, "published event %s.%s id=evt-%08x partition=%d "
		    "offset=%d", x->name, op, (unsigned)rng_next(&rng),
		    irange(0, 11), irange(1000, 9999999));
	else if (r < 68)
		snprintf(buf, n, "cache hit ratio %.2f over last 60s (%d lookups)",
		    urange(0.7, 0.99), irange(100, 90000));
	else if (r < 80)
		snprintf(buf, n, "cache lookup key=%s:%d hit=%s took=%.2fms",
		    x->name, irange(1, 999999), unif() < 0.8 ? "true" : "false",
		    urange(0.05, 3));
	else if (r < 95)
		snprintf(buf, n, "feature flag %s evaluated to %s for user %d",
		    flags[rint_n(5)], unif() < 0.5 ? "true" : "false",
		    irange(1, 999999));
	else if (r < 98)
		snprintf(buf, n, "slow request op=%s duration_ms=%d "
		    "threshold_ms=500", op, irange(500, 1500));
	else
		snprintf(buf, n, "retrying call after transient error (attempt "
		    "2/3, backoff %dms)", irange(50, 400));
}

/* Traces: one span per service visited, children in callee services. */
static int
call_fails(int s, int c, int64_t *cost, const char **why)
{
	struct eff *e = &effs[s];

	if (e->part_peer == c && unif() < e->part_p) {
		int refused = unif() < 0.5;
		*cost = refused ? (int64_t)urange(1000, 3000) :
		    (int64_t)(1000 * SEC / 1000 * urange(1.0, 1.05));
		*why = refused ? "connection refused" : "i/o timeout";
		return 1;
	}
	if (effs[c].down) {
		*cost = (int64_t)urange(500, 2500);
		*why = "connection refused";
		return 1;
	}
	if (svcs[c].kind == K_DB && e->pool_p > 0 && unif() < e->pool_p) {
		*cost = 5000 * 1000;
		*why = "pool";
		return 1;
	}
	return 0;
}

static int64_t
gen_span(int s, int route, int64_t start, const char *tid, const char *parent,
    int *failed)
{
	struct svc *x = &svcs[s];
	struct eff *e = &effs[s];
	char sid[17], msg[512], ip[32];
	const char *name = x->kind == K_WEB || x->kind == K_GATEWAY ?
	    routes[route].name : x->ops[rint_n(3)];
	int err = 0, upstream = -1;

	hexid(sid, 8);
	double own = x->own_ms * exp(0.35 * gauss()) * e->lat_mult +
	    e->lat_add_ms * urange(0.7, 1.3);
	int64_t cur = start + (int64_t)(own * 600);

	int kids[MAXSVC + 2], nk = 0;
	if (x->kind == K_GATEWAY) {
		if (gateway_auth >= 0 && routes[route].target != gateway_auth &&
		    unif() < 0.8)
			kids[nk++] = gateway_auth;
		kids[nk++] = routes[route].target;
	} else
		for (int i = 0; i < x->ncallees; i++)
			if (unif() < call_p(s, x->callees[i]))
				kids[nk++] = x->callees[i];
	for (int i = 0; i < nk; i++) {
		int c = kids[i], cerr = 0;
		int64_t cost;
		const char *why;
		cur += (int64_t)urange(50, 400);
		if (call_fails(s, c, &cost, &why)) {
			cur += cost;
			if (!strcmp(why, "pool"))
				snprintf(msg, sizeof msg, "connection pool exhausted: "
				    "%d/%d connections in use, request waited %dms",
				    50, 50, 5000);
			else {
				snprintf(ip, sizeof ip, "10.%d.%d.%d", c % 4,
				    (c * 37) % 256, 10 + c);
				snprintf(msg, sizeof msg, "call to %s failed: dial tcp "
				    "%s:%d: connect: %s", svcs[c].name, ip,
				    svcs[c].kind == K_DB ? 5432 : 8080, why);
			}
			emit_log(cur, s, "ERROR", msg, tid, sid);
			if (unif() < 0.9)
				err = 1, upstream = -2;
			continue;
		}
		/* A call: the network both ways (a delay on c's pod shows
		 * here, outside c's own span) and, with --client-spans, the
		 * caller's client span around it. */
		char csid[17];
		int64_t cstart = cur;
		if (opt_client_spans) {
			hexid(csid, 8);
			cur += (int64_t)urange(20, 120);
		}
		if (effs[c].net_ms > 0)
			cur += (int64_t)(effs[c].net_ms * urange(400, 600));
		int64_t d = gen_span(c, route, cur, tid,
		    opt_client_spans ? csid : sid, &cerr);
		cur += d;
		if (effs[c].net_ms > 0)
			cur += (int64_t)(effs[c].net_ms * urange(400, 600));
		if (opt_client_spans) {
			char cname[48];
			cur += (int64_t)urange(20, 120);
			snprintf(cname, sizeof cname, "call %s", svcs[c].name);
			emit_span(cstart, s, tid, csid, sid, cname, cur - cstart,
			    cerr);
		}
		if (cerr && !err && unif() < 0.6)
			err = 1, upstream = c;
	}
	cur += (int64_t)(own * 400);
	if (!err && e->err_p > 0 && unif() < e->err_p)
		err = 1;
	int64_t dur = cur - start;
	emit_span(start, s, tid, sid, parent, name, dur, err);
	if (err && upstream == -1 && e->inc >= 0) {
		fault_msg(msg, sizeof msg, s, incs[e->inc].type, name);
		emit_log(cur, s, "ERROR", msg, tid, sid);
	} else if (err && upstream >= 0 && unif() < 0.5) {
		snprintf(msg, sizeof msg, "upstream %s returned 500 for %s",
		    svcs[upstream].name, name);
		emit_log(cur, s, "ERROR", msg, tid, sid);
	} else if (!err && unif() < span_log_p) {
		snprintf(msg, sizeof msg, "handled %s status=200 in %.1fms user=%d",
		    name, dur / 1000.0, irange(1, 999999));
		emit_log(cur, s, "INFO", msg, tid, sid);
	}
	*failed = err;
	return dur;
}

static double
diurnal(int64_t t)
{
	double h = (double)((t / SEC) % 86400) / 3600.0;

	return 1 + 0.45 * sin(2 * PI * (h - 9) / 24);
}

static void
gen_traces(int64_t t)
{
	double wsum = 0;
	int n = poisson(trace_rate * diurnal(t));

	for (int r = 0; r < nroutes; r++)
		wsum += routes[r].weight;
	for (int i = 0; i < n; i++) {
		double u = unif() * wsum;
		int r = 0;
		while (r < nroutes - 1 && (u -= routes[r].weight) >= 0)
			r++;
		char tid[33];
		int failed;
		hexid(tid, 16);
		gen_span(0, r, t + (int64_t)(unif() * SEC), tid, NULL, &failed);
	}
}

/* Metrics, every --interval, from the same effects the traces see. */
static void
gen_metrics(int64_t t)
{
	double load = diurnal(t);
	int64_t ms = t;

	for (int s = 0; s < nsvc; s++) {
		struct svc *x = &svcs[s];
		struct eff *e = &effs[s];
		if (e->down)
			continue;	/* The scrape fails while it restarts. */
		struct incident *in = e->inc >= 0 ? &incs[e->inc] : NULL;
		struct incident *up = e->up_inc >= 0 ? &incs[e->up_inc] : NULL;
		int type = in ? in->type : -1, utype = up ? up->type : -1;
		double sev = e->sev, us = e->up_sev;

		double cpu = x->base_cpu * (0.55 + 0.45 * load) + 0.02 * gauss();
		int64_t since = (t - opt_start) % (15 * MIN);
		if (s == batch_svc && since >= 5 * MIN && since < 7 * MIN)
			cpu += 0.45 + 0.03 * gauss();
		if (type == F_CPU)
			cpu = sev > 0.5 ? urange(0.95, 1.0) : cpu + 1.3 * sev;
		if (type == F_MEMLEAK)
			cpu += 0.25 * e->gc;
		cpu = clamp(cpu, 0.01, 1.0);

		double mem = x->base_mem * (1 + 0.03 * sin((double)t / (1800.0 * SEC)))
		    + 4e6 * gauss();
		if (type == F_MEMLEAK)
			mem += e->mem_frac * x->base_mem * 1.4;

		double rate = 120 * x->visits * load * (1 + 0.04 * gauss());
		for (int k = 0; k < nincs; k++)
			if (incs[k].type == F_PARTITION && incs[k].peer == s)
				rate *= 1 - 0.45 * severity(&incs[k], t);

		double err = x->base_err * (1 + 0.3 * fabs(gauss()));
		static const double own_err[NFAULT] = {0.01, 0.35, 0.04, 0.05,
		    0.3, 0.35, 0.3, 0};
		static const double up_err[NFAULT] = {0.03, 0.2, 0.03, 0.25, 0.15,
		    0.2, 0.15, 0};
		if (in)
			err += own_err[type] * sev;
		if (up)
			err += up_err[utype] * us;
		err = clamp(err, 0, 1);

		double p95 = x->base_p95 * (0.9 + 0.12 * load) *
		    (1 + 0.06 * gauss());
		if (type == F_LATENCY)
			p95 += in->amp * 1.2 * sev;
		if (type == F_CPU)
			p95 *= 1 + 4 * sev;
		if (type == F_MEMLEAK)
			p95 *= 1 + 3 * e->gc;
		if (type == F_BAD_DEPLOY)
			p95 *= 1 + 0.3 * sev;
		if (type == F_DB_EXH)
			p95 += 4800 * sev;
		if (type == F_PARTITION)
			p95 += 1000 * sev;
		if (up) {
			static const double up_lat[NFAULT] = {0, 20, 0, 600, 30,
			    4000, 900, 0};
			double add = up_lat[utype];
			if (utype == F_LATENCY)
				add = up->amp * 1.2;
			if (utype == F_CPU)
				add = svcs[up->root].base_p95 * 4;
			if (utype == F_NETDELAY)
				add = up->amp;
			p95 += add * us;
		}

		emit_metric(ms, s, "cpu_usage", cpu, 4, "ratio");
		emit_metric(ms, s, "memory_bytes", mem, 0, "bytes");
		emit_metric(ms, s, "request_rate", rate, 2, "req/s");
		emit_metric(ms, s, "error_rate", err, 4, "ratio");
		emit_metric(ms, s, "latency_p95_ms", p95, 2, "ms");
		if (x->db >= 0) {
			double c = 6 + 9 * load * x->base_cpu / 0.2 + 1.5 * gauss();
			if (type == F_DB_EXH)
				c += 50 * sev;
			emit_metric(ms, s, "db_connections", floor(clamp(c, 1, 50)),
			    0, "connections");
		}
		emit_metric(ms, s, "restarts_total", x->restarts, 0, "count");
	}
}

/* Logs: background chatter, chronic noise, batch job, deploys, faults. */
static int64_t next_chronic, next_gw_warn, next_deploy;
static int batch_run, ci_run = 4000;

static int
near_incident(int64_t t)
{
	for (int k = 0; k < nincs; k++)
		if (t >= incs[k].t0 - 3 * MIN && t <= incs[k].tres + 4 * MIN)
			return 1;
	return 0;
}

static void
deploy_logs(int64_t t, int s, const char *ver, const char *prev, int rollback)
{
	char msg[256];

	snprintf(msg, sizeof msg, "deployed version %s (previous %s) by "
	    "ci-pipeline run #%d%s", ver, prev, ++ci_run,
	    rollback ? " (rollback)" : "");
	emit_log(t, s, "INFO", msg, NULL, NULL);
	snprintf(msg, sizeof msg, "service started in %dms, listening on :8080",
	    irange(1500, 9000));
	emit_log(t + (int64_t)urange(4, 9) * SEC, s, "INFO", msg, NULL, NULL);
}

static void
gen_logs(int64_t t)
{
	char msg[512], ip[32];
	const char *level;
	double load = diurnal(t);

	/* Background chatter. */
	double wsum = 0;
	for (int s = 0; s < nsvc; s++)
		wsum += svcs[s].log_w;
	for (int s = 0; s < nsvc; s++) {
		if (effs[s].down)
			continue;
		int n = poisson(bg_log_rate * load * svcs[s].log_w / wsum);
		for (int i = 0; i < n; i++) {
			bg_msg(msg, sizeof msg, s, &level);
			emit_log(t + (int64_t)(unif() * SEC), s, level, msg, NULL,
			    NULL);
		}
	}

	/* A harmless ERROR a few times a minute, and a chronic WARN. */
	if (next_chronic < t + SEC) {
		snprintf(msg, sizeof msg, "failed to refresh JWKS keys from "
		    "https://idp.internal/.well-known/jwks.json: timeout after "
		    "%dms (using cached keys, age %ds)", irange(1000, 3000),
		    irange(30, 3600));
		emit_log(next_chronic, chronic_svc, "ERROR", msg, NULL, NULL);
		next_chronic += (int64_t)(urange(12, 28) * SEC);
	}
	if (next_gw_warn < t + SEC) {
		ipaddr(ip, sizeof ip);
		snprintf(msg, sizeof msg, "deprecated API v1 called by client %s "
		    "path=/v1/%s/%d", ip, svcs[routes[rint_n(nroutes)].target].name,
		    irange(1, 9999));
		emit_log(next_gw_warn, 1, "WARN", msg, NULL, NULL);
		next_gw_warn += (int64_t)(urange(20, 60) * SEC);
	}

	/* The batch job: every 15 minutes, two minutes of CPU. */
	int64_t since = (t - opt_start) % (15 * MIN);
	if (since == 5 * MIN) {
		snprintf(msg, sizeof msg, "batch job reindex-products started "
		    "run=%d", ++batch_run);
		emit_log(t, batch_svc, "INFO", msg, NULL, NULL);
	} else if (since > 5 * MIN && since < 7 * MIN && since % (20 * SEC) == 0) {
		snprintf(msg, sizeof msg, "reindex-products progress %d/%d",
		    (int)((since - 5 * MIN) / SEC) * 350, 42000);
		emit_log(t + (int64_t)(unif() * SEC), batch_svc, "DEBUG", msg,
		    NULL, NULL);
	} else if (since == 7 * MIN) {
		snprintf(msg, sizeof msg, "batch job reindex-products finished "
		    "run=%d items=%d elapsed=%.1fs", batch_run,
		    irange(41000, 43000), urange(110, 125));
		emit_log(t + (int64_t)(unif() * SEC), batch_svc, "INFO", msg,
		    NULL, NULL);
	}

	/* Routine deploys of healthy services. */
	if (t >= next_deploy) {
		int s = irange(2, nsvc - 1);
		next_deploy = t + MIN;	/* Retry while it would blur a fault. */
		if (svcs[s].kind == K_APP && !near_incident(t)) {
			next_deploy = t + (int64_t)(urange(15, 35) * MIN);
			char ver[48], prev[48];
			struct svc *x = &svcs[s];
			snprintf(prev, sizeof prev, "v%d.%d.%d", x->ver[0], x->ver[1],
			    x->ver[2]);
			x->ver[2]++;
			snprintf(ver, sizeof ver, "v%d.%d.%d", x->ver[0], x->ver[1],
			    x->ver[2]);
			deploy_logs(t + (int64_t)(unif() * SEC), s, ver, prev, 0);
		}
	}

	/* Faults: scripted moments first, then a rate tied to severity. */
	for (int k = 0; k < nincs; k++) {
		struct incident *in = &incs[k];
		int r = in->root;
		struct svc *x = &svcs[r];
		if (t < in->t0 || t > in->tres + 6 * MIN)
			continue;
		if (in->type == F_BAD_DEPLOY && t == in->t0)
			deploy_logs(t, r, in->ver, in->prev, 0);
		if (in->type == F_BAD_DEPLOY && t == in->tres) {
			deploy_logs(t, r, in->prev, in->ver, 1);
		}
		if (in->type == F_MEMLEAK && t == in->toom) {
			snprintf(msg, sizeof msg, "%s", x->flavor == FL_JAVA ?
			    "java.lang.OutOfMemoryError: Java heap space" :
			    "fatal error: runtime: out of memory");
			emit_log(t, r, "ERROR", msg, NULL, NULL);
			snprintf(msg, sizeof msg, "container %s-1 killed: OOMKilled "
			    "(exit code 137, memory limit %.0fMi)", x->name,
			    x->base_mem * 2.4 / 1048576);
			emit_log(t + 200 * 1000, r, "ERROR", msg, NULL, NULL);
			x->restarts++;
			snprintf(msg, sizeof msg, "restarting container %s-1 "
			    "(restart count %d, back-off 10s)", x->name, x->restarts);
			emit_log(t + 500 * 1000, r, "WARN", msg, NULL, NULL);
		}
		if (in->type == F_MEMLEAK && t == in->tup - in->tup % SEC) {
			snprintf(msg, sizeof msg, "service started in %dms, listening "
			    "on :8080", irange(4000, 12000));
			emit_log(in->tup, r, "INFO", msg, NULL, NULL);
		}
		struct eff *e = &effs[r];
		double sev = e->sev;
		int n = 0;
		const char *lv = "WARN";
		switch (in->type) {
		case F_LATENCY:
		case F_CPU:
			n = poisson(0.5 * sev);
			break;
		case F_MEMLEAK:
			n = e->down ? 0 : poisson(0.6 * e->gc);
			break;
		case F_NETDELAY:
			n = 0;	/* The delayed pod itself sees nothing wrong. */
			break;
		default:
			n = poisson(0.5 * sev);
			lv = "ERROR";
		}
		for (int i = 0; i < n; i++) {
			int64_t at = t + (int64_t)(unif() * SEC);
			const char *op = x->ops[rint_n(3)];
			switch (in->type) {
			case F_LATENCY:
				if (x->kind == K_DB)
					snprintf(msg, sizeof msg, "duration: %.3f ms  "
					    "statement: SELECT * FROM orders WHERE "
					    "customer_id = %d", urange(0.6, 1.4) * in->amp,
					    irange(1, 999999));
				else
					snprintf(msg, sizeof msg, "slow request op=%s "
					    "duration_ms=%d threshold_ms=500", op,
					    (int)(urange(0.8, 1.4) * (in->amp + 100)));
				break;
			case F_CPU:
				snprintf(msg, sizeof msg, "worker pool saturated: "
				    "active=%d queued=%d, request waited %dms",
				    16, irange(40, 400), irange(200, 2500));
				break;
			case F_MEMLEAK:
				snprintf(msg, sizeof msg, "GC pause %dms (heap %d%% used "
				    "after collection)", irange(300, 2500),
				    (int)(60 + 39 * e->mem_frac));
				break;
			case F_DB_EXH:
				if (unif() < 0.5)
					snprintf(msg, sizeof msg, "connection pool exhausted:"
					    " %d/%d connections in use, request waited %dms",
					    50, 50, 5000);
				else
					snprintf(msg, sizeof msg, "HikariPool-1 - Connection "
					    "is not available, request timed out after %dms",
					    irange(5000, 5003));
				break;
			case F_PARTITION:
				snprintf(msg, sizeof msg, "call to %s failed: dial tcp "
				    "10.%d.%d.%d:%d: %s", svcs[in->peer].name,
				    in->peer % 4, (in->peer * 37) % 256, 10 + in->peer,
				    svcs[in->peer].kind == K_DB ? 5432 : 8080,
				    unif() < 0.5 ? "connect: connection refused" :
				    "i/o timeout");
				break;
			default:
				fault_msg(msg, sizeof msg, r, in->type, op);
			}
			emit_log(at, r, lv, msg, NULL, NULL);
		}
		if (in->type == F_MEMLEAK && e->mem_frac > 0.5 && t % (30 * SEC) == 0)
			emit_log(t, r, "WARN", "heap usage above 85% of limit", NULL,
			    NULL);
	}

	/* Callers feel it after a delay, attenuated with each hop. */
	for (int s = 0; s < nsvc; s++) {
		struct eff *e = &effs[s];
		if (e->up_inc < 0 || e->down)
			continue;
		int n = poisson(0.3 * e->up_sev);
		for (int i = 0; i < n; i++) {
			upstream_msg(msg, sizeof msg, e->up_next,
			    incs[e->up_inc].type, &level);
			emit_log(t + (int64_t)(unif() * SEC), s, level, msg, NULL,
			    NULL);
		}
	}
}

static void
write_incidents(void)
{
	char a[48], b[48], c[48];

	for (int k = 0; k < nincs; k++) {
		struct incident *in = &incs[k];
		fmt_ts(a, in->t0);
		fmt_ts(b, in->tdet);
		fmt_ts(c, in->tres);
		line.n = 0;
		sb_printf(&line, "{\"id\":\"INC-%03d\",\"title\":", k + 1);
		sb_json(&line, in->title);
		sb_printf(&line, ",\"start_ts\":\"%s\",\"detected_ts\":\"%s\","
		    "\"resolved_ts\":\"%s\",\"root_cause\":{\"service\":\"%s\","
		    "\"component\":\"%s\",\"fault\":\"%s\"},"
		    "\"expected_actions\":[\"%s\"],\"affected_services\":[", a, b,
		    c, svcs[in->root].name, in->component, fault_name[in->type],
		    fault_action[in->type]);
		int first = 1;
		for (int d = 0; d < nsvc; d++)
			for (int s = 0; s < nsvc; s++)
				if (in->dist[s] == d) {
					sb_printf(&line, "%s\"%s\"", first ? "" : ",",
					    svcs[s].name);
					first = 0;
				}
		sb_puts(&line, "]");
		if (in->peer >= 0)
			sb_printf(&line, ",\"peer_service\":\"%s\"",
			    svcs[in->peer].name);
		sb_puts(&line, "}\n");
		char *copy = xmalloc(line.n + 1);
		memcpy(copy, line.p, line.n + 1);
		out_line(&outs[O_INCIDENTS], copy, line.n);
	}
}

static int
mkdirs(const char *path)
{
	char buf[4096];

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return -1;
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0777) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				break;
		}
	}
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static void
usage(FILE *fp, int code)
{
	fputs("usage: " PROG " [--seed N] [--services N] [--duration D] "
	    "[--start RFC3339]\n"
	    "                   [--rate R] [--interval D] [--faults N] "
	    "[--mix LIST]\n"
	    "                   [--format jsonl|csv|otlp] [--gzip] [--unsorted] "
	    "[--client-spans]\n"
	    "                   [--out DIR]\n", fp);
	if (fp == stdout) {
		fputs("\nWrite a seeded synthetic telemetry dataset (logs, metrics, "
		    "traces,\nincidents) into DIR.  Defaults: --seed 42 "
		    "--services 10 --duration 2h\n--start 2024-05-01T10:00:00.000Z "
		    "--rate 5 --interval 20s --format jsonl\n--out . and one fault "
		    "of each type:\n ", fp);
		for (int i = 0; i < NDEFAULT; i++)
			fprintf(fp, " %s", fault_name[i]);
		fputs("\n(--mix also takes:", fp);
		for (int i = NDEFAULT; i < NFAULT; i++)
			fprintf(fp, " %s", fault_name[i]);
		fputs(")\n", fp);
	}
	exit(code);
}

static void
parse_mix(const char *s)
{
	char buf[512];

	if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
		die(2, "--mix: list too long");
	opt_nmix = 0;
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		int f = -1;
		for (int i = 0; i < NFAULT; i++)
			if (!strcmp(tok, fault_name[i]))
				f = i;
		if (f < 0)
			die(2, "--mix: unknown fault '%s'", tok);
		for (int i = 0; i < opt_nmix; i++)
			if (opt_mix[i] == f)
				die(2, "--mix: fault '%s' given twice", tok);
		opt_mix[opt_nmix++] = f;
	}
	if (!opt_nmix)
		die(2, "--mix: empty list");
}

static long long
parse_int(const char *opt, const char *s, long long lo, long long hi)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		die(2, "%s: invalid value '%s' (want %lld to %lld)", opt, s, lo, hi);
	return v;
}

int
main(int argc, char **argv)
{
	for (int i = 0; i < NDEFAULT; i++)
		opt_mix[i] = i;
	opt_nmix = NDEFAULT;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq = NULL;
		char name[64];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(stdout, 0);
		if (strncmp(a, "--", 2))
			die(2, "unexpected argument '%s' (try --help)", a);
		if ((eq = strchr(a, '='))) {
			snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
			v = eq + 1;
		} else
			snprintf(name, sizeof name, "%s", a);
		if (!strcmp(name, "--gzip") || !strcmp(name, "--unsorted") ||
		    !strcmp(name, "--client-spans")) {
			if (v)
				die(2, "%s takes no value", name);
			*(name[2] == 'g' ? &opt_gzip : name[2] == 'u' ?
			    &opt_unsorted : &opt_client_spans) = 1;
			continue;
		}
		static const char *const valued[] = {"--seed", "--services",
		    "--duration", "--start", "--rate", "--interval", "--faults",
		    "--mix", "--format", "--out"};
		int known = 0;
		for (size_t k = 0; k < sizeof valued / sizeof *valued; k++)
			known |= !strcmp(name, valued[k]);
		if (!known)
			die(2, "unknown option '%s' (try --help)", name);
		if (!v) {
			if (++i >= argc)
				die(2, "%s needs a value", name);
			v = argv[i];
		}
		if (!strcmp(name, "--seed"))
			opt_seed = (uint64_t)parse_int(name, v, 0, INT64_MAX);
		else if (!strcmp(name, "--services"))
			opt_services = (int)parse_int(name, v, 4, MAXSVC);
		else if (!strcmp(name, "--faults"))
			opt_faults = (int)parse_int(name, v, 0, 10000);
		else if (!strcmp(name, "--duration")) {
			if (parse_dur(v, &opt_duration) || opt_duration < MIN)
				die(2, "--duration: invalid value '%s' (want e.g. 2h, "
				    "90m, 3600s; at least 1m)", v);
		} else if (!strcmp(name, "--interval")) {
			if (parse_dur(v, &opt_interval) || opt_interval < SEC ||
			    opt_interval % SEC)
				die(2, "--interval: invalid value '%s' (want whole "
				    "seconds, e.g. 20s)", v);
		} else if (!strcmp(name, "--start"))
			opt_start_str = v;
		else if (!strcmp(name, "--rate")) {
			char *end;
			errno = 0;
			opt_rate = strtod(v, &end);
			if (!*v || *end || errno || !(opt_rate > 0) || opt_rate > 1e6)
				die(2, "--rate: invalid value '%s'", v);
		} else if (!strcmp(name, "--mix"))
			parse_mix(v);
		else if (!strcmp(name, "--format")) {
			if (!strcmp(v, "jsonl"))
				opt_format = FMT_JSONL;
			else if (!strcmp(v, "csv"))
				opt_format = FMT_CSV;
			else if (!strcmp(v, "otlp"))
				opt_format = FMT_OTLP;
			else
				die(2, "--format: unknown format '%s' (want jsonl, "
				    "csv or otlp)", v);
		} else if (!strcmp(name, "--out"))
			opt_out = v;
	}
	if (parse_ts(opt_start_str, &opt_start))
		die(2, "--start: invalid timestamp '%s' (want RFC 3339, e.g. "
		    "2024-05-01T10:00:00Z)", opt_start_str);
	opt_start -= opt_start % 1000;
	t_end = opt_start + opt_duration;

	rng_seed(&rng, opt_seed);
	rng_seed(&shuf_rng, opt_seed ^ 0x53485546464c4555ULL);
	build_world();
	plan_rates();
	plan_faults();

	if (mkdirs(opt_out) < 0)
		die(1, "%s: %s", opt_out, strerror(errno));
	out_open(&outs[O_LOGS], "logs");
	out_open(&outs[O_METRICS], "metrics");
	out_open(&outs[O_TRACES], "traces");
	out_open(&outs[O_INCIDENTS], "incidents");
	if (opt_format == FMT_CSV) {
		static const char *const hdr[] = {
			"timestamp,service,level,message,trace_id,span_id\n",
			"timestamp,service,name,value,unit,host\n",
			"timestamp,service,trace_id,span_id,parent_id,name,"
			    "duration_ms,status\n",
		};
		for (int i = 0; i < 3; i++) {
			int save = opt_unsorted;
			opt_unsorted = 0;	/* The header stays first. */
			char *h = xmalloc(strlen(hdr[i]) + 1);
			strcpy(h, hdr[i]);
			out_line(&outs[i], h, strlen(h));
			opt_unsorted = save;
		}
	}
	write_incidents();

	next_chronic = opt_start + (int64_t)(urange(2, 20) * SEC);
	next_gw_warn = opt_start + (int64_t)(urange(5, 40) * SEC);
	next_deploy = opt_start + (int64_t)(urange(8, 20) * MIN);
	for (int64_t t = opt_start; t < t_end; t += SEC) {
		t_now = t;
		compute_effects(t);
		if ((t - opt_start) % opt_interval == 0)
			gen_metrics(t);
		gen_traces(t);
		gen_logs(t);
		heap_flush(t + SEC);
	}
	heap_flush(INT64_MAX);
	for (int i = 0; i < NOUT; i++)
		out_close(&outs[i]);
	return 0;
}
