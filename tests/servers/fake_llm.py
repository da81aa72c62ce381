#!/usr/bin/env python3
"""A fake LLM server for the tests: OpenAI chat completions, LlamaStack and
Ollama wire formats on 127.0.0.1, every request logged, faults on demand.

Routes
  POST /v1/chat/completions, /chat/completions, /v1/openai/v1/chat/completions
                       OpenAI (and LlamaStack) chat completions
  GET  /v1/models, /models   the models (--models, default "fake-model")
  POST /api/chat       Ollama native chat (stream:false only)
  GET  /api/tags       Ollama models
  POST /_control       JSON {"faults": "...", "delay_ms": N, "reject": "...",
                       "answer": {...}, "reset_log": true}: change the
                       behaviour of the following requests
  GET  /_stats         {"requests": N, "max_inflight": N}

Answers: the JSON of --answer FILE as the message content, else
{"summary": "fake answer", "echo": <content of the last message>}; --script
FILE (JSONL) gives per-request contents in order ({"content": "text"} or
{"json": {...}}), then the default again.  A message whose content contains
"[[delay_ms=N]]" is answered after N ms (to test order under concurrency).

Faults (--faults or /_control, comma-separated, consumed one per chat request
in order; when exhausted every request is ok):
  ok                     a normal answer
  500, 502, 503, 400, 401, 404, 408, 409, 429
                         that status with an error body
  429:retry-after=S      429 with Retry-After: S (seconds)
  429:retry-after-ms=MS  429 with retry-after-ms: MS
  429:retry-after-date=S 429 with Retry-After as an HTTP date S seconds ahead
  429:quota              429 with code insufficient_quota
  timeout                no answer for --hang-s seconds (default 30)
  sleep=MS               a normal answer after MS ms
  malformed              200 with a body that is not JSON
  truncated              200 whose body stops before Content-Length
  close                  the connection is closed without an answer
  schema-break           a normal envelope whose content is valid JSON that
                         breaks the usual answer schemas
  notjson                a normal envelope whose content is not JSON
  length                 the answer cut in half, finish_reason "length"
--reject json_schema answers 400 to a response_format of type json_schema;
--reject response_format answers 400 to any response_format.
--api-key K demands "Authorization: Bearer K" (401 otherwise).

The port goes to stdout and to --port-file (written atomically).
"""
import argparse
import email.utils
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {
    "faults": [],
    "delay_ms": 0,
    "reject": None,
    "answer": None,
    "script": [],
    "log": None,
    "requests": 0,
    "inflight": 0,
    "max_inflight": 0,
    "chat_seq": 0,
}
ARGS = None


def parse_faults(spec):
    return [f.strip() for f in (spec or "").split(",") if f.strip()]


def tokens(text):
    return len(text) // 4 + 1


def log_request(entry):
    if STATE["log"] is None:
        return
    with LOCK:
        with open(STATE["log"], "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm/1"
    # Buffered writes: headers and body leave in one segment (no Nagle and
    # delayed-ACK stall of ~40 ms per answer on keep-alive connections).
    wbufsize = 1 << 16

    def log_message(self, fmt, *args):  # quiet
        pass

    # -- helpers ---------------------------------------------------------
    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_raw(self, status, body, length=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def error_body(self, status, message, code=None, typ="invalid_request_error"):
        if self.is_ollama():
            return {"error": message}
        return {"error": {"message": message, "type": typ, "param": None, "code": code}}

    def is_ollama(self):
        return self.path.startswith("/api/")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, None

    def log(self, raw, body, fault):
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body if body is not None else raw.decode("utf-8", "replace"),
            "fault": fault,
            "t": time.time(),
        }
        log_request(entry)

    # -- routes ----------------------------------------------------------
    def do_GET(self):
        with LOCK:
            STATE["requests"] += 1
        self.log(b"", None, None)
        if self.path in ("/v1/models", "/models", "/v1/openai/v1/models"):
            if not self.auth_ok():
                return
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "llama_stack"}
                    for m in ARGS.models]
            self.send_json(200, {"object": "list", "data": data})
        elif self.path == "/api/tags":
            self.send_json(200, {"models": [{"name": m, "model": m} for m in ARGS.models]})
        elif self.path == "/_stats":
            with LOCK:
                self.send_json(200, {"requests": STATE["requests"],
                                     "max_inflight": STATE["max_inflight"]})
        elif self.path in ("/health", "/v1/health"):
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(404, self.error_body(404, "no route " + self.path))

    def do_POST(self):
        raw, body = self.read_body()
        if self.path == "/_control":
            self.control(body or {})
            return
        with LOCK:
            STATE["requests"] += 1
            STATE["inflight"] += 1
            STATE["max_inflight"] = max(STATE["max_inflight"], STATE["inflight"])
        try:
            self.chat(raw, body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with LOCK:
                STATE["inflight"] -= 1

    def control(self, body):
        with LOCK:
            if "faults" in body:
                STATE["faults"] = parse_faults(body["faults"])
            if "delay_ms" in body:
                STATE["delay_ms"] = int(body["delay_ms"])
            if "reject" in body:
                STATE["reject"] = body["reject"]
            if "answer" in body:
                STATE["answer"] = body["answer"]
            if "script" in body:
                STATE["script"] = list(body["script"])
            if body.get("reset_log") and STATE["log"]:
                open(STATE["log"], "w").close()
            if body.get("reset_stats"):
                STATE["requests"] = 0
                STATE["max_inflight"] = 0
        self.send_json(200, {"ok": True})

    def auth_ok(self):
        if ARGS.api_key is None:
            return True
        if self.headers.get("Authorization") == "Bearer " + ARGS.api_key:
            return True
        self.send_json(401, self.error_body(401, "invalid api key", "invalid_api_key",
                                            "authentication_error"))
        return False

    def chat(self, raw, body):
        routes = ("/v1/chat/completions", "/chat/completions",
                  "/v1/openai/v1/chat/completions", "/api/chat")
        if self.path not in routes:
            self.log(raw, body, None)
            self.send_json(404, self.error_body(404, "no route " + self.path))
            return
        with LOCK:
            fault = STATE["faults"].pop(0) if STATE["faults"] else "ok"
            script = STATE["script"].pop(0) if STATE["script"] else None
            STATE["chat_seq"] += 1
            seq = STATE["chat_seq"]
            delay = STATE["delay_ms"]
            reject = STATE["reject"]
        self.log(raw, body, fault)
        if not self.auth_ok():
            return
        if not isinstance(body, dict):
            self.send_json(400, self.error_body(400, "body is not a JSON object"))
            return
        msgs = body.get("messages") or []
        last = msgs[-1].get("content", "") if msgs and isinstance(msgs[-1], dict) else ""
        if delay:
            time.sleep(delay / 1000)
        if isinstance(last, str) and "[[delay_ms=" in last:
            try:
                ms = int(last.split("[[delay_ms=", 1)[1].split("]]", 1)[0])
                time.sleep(ms / 1000)
            except ValueError:
                pass
        model = body.get("model", "")
        if ARGS.check_models and model not in ARGS.models:
            self.send_json(404, self.error_body(404, "Model '%s' not found" % model,
                                                "model_not_found"))
            return
        rf = body.get("response_format")
        if not self.is_ollama() and rf is not None and reject:
            if reject == "response_format" or (
                    reject == "json_schema" and isinstance(rf, dict)
                    and rf.get("type") == "json_schema"):
                self.send_json(400, self.error_body(
                    400, "response_format type '%s' is not supported"
                    % (rf.get("type") if isinstance(rf, dict) else rf),
                    None))
                return

        # Faults.
        name, _, arg = fault.partition(":")
        if name.startswith("sleep="):
            time.sleep(int(name[6:]) / 1000)
        elif name == "timeout":
            with LOCK:  # a hung request is not counted as in flight
                STATE["inflight"] -= 1
            try:
                time.sleep(ARGS.hang_s)
            finally:
                with LOCK:
                    STATE["inflight"] += 1
            return self.close_now()
        elif name == "close":
            return self.close_now()
        elif name == "malformed":
            self.send_raw(200, b'{"id": "chatcmpl-x", "choices": [ {"mess')
            return
        elif name == "truncated":
            full = json.dumps(self.envelope(body, seq, self.answer_text(script, last, fault))).encode()
            self.send_raw(200, full[: len(full) // 2], length=len(full))
            return self.close_now()
        elif name.isdigit():
            status = int(name)
            headers = {}
            code = None
            msg = "fake error %d" % status
            if status == 429:
                code = "rate_limit_exceeded"
                msg = "Rate limit reached"
                if arg.startswith("retry-after="):
                    headers["Retry-After"] = arg.split("=", 1)[1]
                elif arg.startswith("retry-after-ms="):
                    headers["retry-after-ms"] = arg.split("=", 1)[1]
                elif arg.startswith("retry-after-date="):
                    t = time.time() + float(arg.split("=", 1)[1])
                    headers["Retry-After"] = email.utils.formatdate(t, usegmt=True)
                elif arg == "quota":
                    code = "insufficient_quota"
                    msg = "You exceeded your current quota"
            self.send_json(status, self.error_body(status, msg, code), headers)
            return
        text = self.answer_text(script, last, fault)
        env = self.envelope(body, seq, text)
        if name == "length":
            text = text[: len(text) // 2]
            if self.is_ollama():
                env["message"]["content"] = text
                env["done_reason"] = "length"
            else:
                env["choices"][0]["message"]["content"] = text
                env["choices"][0]["finish_reason"] = "length"
        self.send_json(200, env)

    def close_now(self):
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def answer_text(self, script, last, fault):
        if fault == "schema-break":
            return json.dumps({"candidates": "not a list", "unexpected": True})
        if fault == "notjson":
            return "I think the root cause is the database."
        if script is not None:
            if "content" in script:
                return script["content"]
            return json.dumps(script.get("json"))
        with LOCK:
            answer = STATE["answer"]
        if answer is not None:
            return json.dumps(answer)
        return json.dumps({"summary": "fake answer", "echo": last})

    def envelope(self, body, seq, text):
        msgs = body.get("messages") or []
        tin = sum(tokens(m.get("content", "")) for m in msgs
                  if isinstance(m, dict) and isinstance(m.get("content"), str))
        tout = tokens(text)
        if self.is_ollama():
            return {
                "model": body.get("model", ""),
                "created_at": "2024-05-01T10:00:00.000000Z",
                "message": {"role": "assistant", "content": text},
                "done": True,
                "done_reason": "stop",
                "total_duration": 1000000,
                "load_duration": 1000,
                "prompt_eval_count": tin,
                "prompt_eval_duration": 1000,
                "eval_count": tout,
                "eval_duration": 1000,
            }
        return {
            "id": "chatcmpl-%d" % seq,
            "object": "chat.completion",
            "created": 1714557600,
            "model": body.get("model", ""),
            "choices": [{"index": 0,
                         "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": tin, "completion_tokens": tout,
                      "total_tokens": tin + tout},
        }


def main():
    global ARGS
    ap = argparse.ArgumentParser(description="fake LLM server for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--answer", help="JSON file: the answer content")
    ap.add_argument("--script", help="JSONL file: per-request contents")
    ap.add_argument("--faults", default="")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--hang-s", type=float, default=30)
    ap.add_argument("--reject", choices=["json_schema", "response_format"])
    ap.add_argument("--models", default="fake-model",
                    help="comma-separated model ids for /v1/models and /api/tags")
    ap.add_argument("--check-models", action="store_true",
                    help="404 for a chat request naming an unknown model")
    ap.add_argument("--api-key")
    ARGS = ap.parse_args()
    ARGS.models = [m for m in ARGS.models.split(",") if m]
    STATE["faults"] = parse_faults(ARGS.faults)
    STATE["delay_ms"] = ARGS.delay_ms
    STATE["reject"] = ARGS.reject
    STATE["log"] = ARGS.log
    if ARGS.log:
        open(ARGS.log, "w").close()
    if ARGS.answer:
        with open(ARGS.answer, encoding="utf-8") as f:
            STATE["answer"] = json.load(f)
    if ARGS.script:
        with open(ARGS.script, encoding="utf-8") as f:
            STATE["script"] = [json.loads(l) for l in f if l.strip()]

    ThreadingHTTPServer.request_queue_size = 128
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    port = srv.server_address[1]
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, ARGS.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
