#!/usr/bin/env python3
"""Black-box mutation fuzzing of aiops-load's input formats (JSONL with its
field aliases, CSV, OTLP JSON, gzip), which have no public parse function
to give libFuzzer.  Each round copies one seed dataset (tests/fixtures/load/
DIR), mutates one or two of its files (bit flips, cut and spliced lines,
interesting tokens: huge numbers, bad UTF-8, NUL, deep nesting, odd
timestamps, quotes, BOM, CRLF, gzip) and runs the stage (an ASan+UBSan
build) on it.  A finding is: exit status other than 0 and 1, a signal, a
sanitizer report, more than --timeout seconds, output that is not JSON
lines, or stage_end counts that do not reconcile
(records_in = records_out - 1 + rejects, for plain JSONL).  Findings are saved under --out
as a dataset directory with the stage's stderr.

  tests/fuzz/fuzz_load.py --bin build/asan/bin/aiops-load --seconds 600
"""
import argparse
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOKENS = [
    b"1e400", b"-1e400", b"123456789012345678901234567890", b"-0", b"1.5e-324",
    b"\"\\ud800\"", b"\xff\xfe", b"\xc3\x28", b"\x00", b"\"", b"\\", b"{", b"}",
    b"[" * 80 + b"]" * 80, b"\"1500-01-01T00:00:00Z\"", b"\"9999-12-31T23:59:59.999Z\"",
    b"\"2024-02-30T00:00:00Z\"", b"\"2024-05-01T10:00:00+99:99\"", b"9223372036854775807",
    b"-9223372036854775808", b"18446744073709551616", b"null", b"true", b"\"\"",
    b"\r\n", b"\n", b"\xef\xbb\xbf", b",", b"\"\"\"", b"\"a,b\"", b"NaN", b"Infinity",
    b"\"ts\":", b"\"timestamp\":", b"\"time\":", b"\"service\":", b"\"level\":",
    b"\"value\":", b"\"timeUnixNano\":", b"\"startTimeUnixNano\":", b"\"stringValue\":",
    b"\"intValue\":", b"\"kvlistValue\":", b"\"arrayValue\":",
]


def mutate(data, rnd):
    data = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        op = rnd.randrange(8)
        n = len(data)
        if op == 0 and n:
            i = rnd.randrange(n)
            data[i] ^= 1 << rnd.randrange(8)
        elif op == 1:
            i = rnd.randint(0, n)
            data[i:i] = rnd.choice(TOKENS)
        elif op == 2 and n:
            i = rnd.randrange(n)
            del data[i:i + rnd.randint(1, 64)]
        elif op == 3 and n:
            i = rnd.randrange(n)
            j = rnd.randrange(n)
            data[i:i] = data[j:j + rnd.randint(1, 200)]
        elif op == 4:
            lines = bytes(data).split(b"\n")
            rnd.shuffle(lines)
            data = bytearray(b"\n".join(lines))
        elif op == 5:
            lines = bytes(data).split(b"\n")
            if lines:
                k = rnd.randrange(len(lines))
                lines.insert(k, lines[k])
            data = bytearray(b"\n".join(lines))
        elif op == 6 and n:
            # Replace a number with an interesting one.
            i = rnd.randrange(n)
            while i < n and not (48 <= data[i] <= 57):
                i += 1
            j = i
            while j < n and (48 <= data[j] <= 57 or data[j] in b".eE+-"):
                j += 1
            data[i:j] = rnd.choice(TOKENS[:3] + TOKENS[16:20])
        elif op == 7 and n:
            data = data[:rnd.randrange(n)]
    return bytes(data)


def seeds(root):
    out = []
    for d in sorted(os.listdir(root)):
        p = os.path.join(root, d)
        if os.path.isdir(p):
            out.append(p)
    return out


def check(proc_out, rc, err, counts):
    if rc < 0:
        return "killed by signal %d" % -rc
    if rc not in (0, 1):
        return "exit %d" % rc
    if b"ERROR: AddressSanitizer" in err or b"runtime error:" in err or b"LeakSanitizer" in err:
        return "sanitizer report"
    if rc != 0:
        return None
    lines = proc_out.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    recs = []
    for ln in lines:
        try:
            recs.append(json.loads(ln))
        except ValueError as e:
            return "output line is not JSON: %s: %r" % (e, ln[:200])
    if not recs or recs[-1].get("kind") != "stage_end":
        return "no stage_end last"
    e = recs[-1]
    # Lines and records are one to one in plain JSONL only (a CSV header
    # is no record, an OTLP line or a wide CSV row holds several).
    if counts and e["records_in"] != e["records_out"] - 1 + e["rejects"]:
        return "counts: in %d != out %d - 1 + rejects %d" % (
            e["records_in"], e["records_out"], e["rejects"])
    nrej = sum(1 for r in recs if r.get("kind") == "reject")
    if nrej != e["rejects"]:
        return "reject records %d != stage_end rejects %d" % (nrej, e["rejects"])
    return None


def data_files(ds):
    """The dataset's files below ds (layouts such as Nezha's keep them in
    subdirectories), as paths relative to ds, without config.yaml."""
    out = []
    for root, _, names in os.walk(ds):
        for n in names:
            rel = os.path.relpath(os.path.join(root, n), ds)
            if rel != "config.yaml":
                out.append(rel)
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seeds", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "load"))
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", default="fuzz-load-findings")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    dirs = seeds(a.seeds)
    env = dict(os.environ, LC_ALL="C", TZ="UTC",
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1")
    t_end = time.time() + a.seconds
    runs = findings = 0
    classes = {}
    work = tempfile.mkdtemp(prefix="fuzz-load.")
    try:
        while time.time() < t_end:
            src = rnd.choice(dirs)
            ds = os.path.join(work, "ds")
            shutil.rmtree(ds, ignore_errors=True)
            shutil.copytree(src, ds)
            files = data_files(ds)
            for f in rnd.sample(files, min(len(files), rnd.randint(1, 2))):
                p = os.path.join(ds, f)
                with open(p, "rb") as fh:
                    data = mutate(fh.read(), rnd)
                if rnd.random() < 0.05:
                    os.remove(p)
                    p += ".gz"
                    data = gzip.compress(data)
                with open(p, "wb") as fh:
                    fh.write(data)
            cmd = [a.bin, "--dataset", ds, "--run-id", "0" * 32]
            if os.path.exists(os.path.join(ds, "config.yaml")):
                cmd += ["--config", os.path.join(ds, "config.yaml")]
            try:
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=env, timeout=a.timeout)
                counts = all(".jsonl" in f and "otlp" not in f for f in data_files(ds))
                why = check(p.stdout, p.returncode, p.stderr, counts)
                err = p.stderr
            except subprocess.TimeoutExpired:
                why, err = "timeout", b""
            runs += 1
            if why and why == "sanitizer report":
                m = re.search(rb"(runtime error: [^\n]*|ERROR: AddressSanitizer: [\w-]+)", err)
                src = re.search(rb"#0 0x[0-9a-f]+ in (\S+ \S+)", err)
                why += ": %s at %s" % (m.group(1).decode(errors="replace") if m else "?",
                                       src.group(1).decode(errors="replace") if src else "?")
            if why:
                key = re.sub(r"[0-9]+|b'.*|'.*", "N", why)[:120]
                classes[key] = classes.get(key, 0) + 1
                if classes[key] > 3:
                    continue   # seen enough of this kind
                findings += 1
                dst = os.path.join(a.out, "finding-%03d" % findings)
                os.makedirs(a.out, exist_ok=True)
                shutil.copytree(ds, dst)
                with open(dst + ".txt", "wb") as fh:
                    fh.write((why + "\n").encode() + err[-8000:])
                print("finding %d: %s (%s)" % (findings, why, dst), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for k, n in sorted(classes.items()):
        print("  %5d  %s" % (n, k))
    print("fuzz_load: %d runs, %d findings" % (runs, sum(classes.values())))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
