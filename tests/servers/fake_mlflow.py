#!/usr/bin/env python3
"""A recording fake MLflow tracking server (Python standard library only).

    fake_mlflow.py --port-file FILE --log FILE [--fail SPEC]...

Listens on 127.0.0.1 on a free port (written to --port-file once it
listens), answers the REST routes aiops-mlflow uses with MLflow's shapes
and limits (a trace is the list of its spans; a trace id sent twice is
refused as a duplicate), and appends one JSON line per request to --log:
{"method", "path", "query", "status", "auth", "experiment_header", "body"}
(body: the parsed JSON, or {"bytes": N} for artifacts).  The Authorization
header is recorded as its scheme only ("Bearer", "Basic"), never its value.

Faults for what a real server cannot be made to do: --fail
"SUBSTRING:STATUS:COUNT[:RETRY_AFTER]" makes the first COUNT requests whose
path contains SUBSTRING answer STATUS (COUNT -1: all of them), with a
Retry-After header when given.  POST /_control {"fail": [SPEC, ...]}
replaces the faults at run time; GET /_state returns the stored data.
"""
import argparse
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
STATE = {"experiments": {}, "runs": {}, "artifacts": {}, "traces": {}, "links": {},
         "assessments": {}, "datasets": {}, "inputs": {}}
FAULTS = []
LOG = None


def parse_fault(spec):
    parts = spec.split(":")
    return {"sub": parts[0], "status": int(parts[1]), "count": int(parts[2]),
            "retry_after": parts[3] if len(parts) > 3 else None}


def error(code, msg, status):
    return status, {"error_code": code, "message": msg}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        u = urlparse(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        query = {k: v[0] for k, v in parse_qs(u.query).items()}
        auth = self.headers.get("Authorization")
        entry = {"method": method, "path": u.path, "query": query,
                 "auth": auth.split(" ")[0] if auth else None,
                 "experiment_header": self.headers.get("x-mlflow-experiment-id"),
                 "content_type": self.headers.get("Content-Type"), "bytes": len(raw)}
        if "/mlflow-artifacts/" in u.path:
            entry["body"] = {"bytes": len(raw)}
        else:
            try:
                entry["body"] = json.loads(raw) if raw else None
            except ValueError:
                entry["body"] = {"invalid": raw[:200].decode("utf-8", "replace")}
        status, body, headers = 200, {}, {}
        with LOCK:
            fault = None
            if not u.path.startswith("/_"):
                for f in FAULTS:
                    if f["sub"] in u.path and f["count"] != 0:
                        if f["count"] > 0:
                            f["count"] -= 1
                        fault = f
                        break
            if fault:
                status, body = error("TEMPORARILY_UNAVAILABLE", "injected fault", fault["status"])
                if fault["retry_after"] is not None:
                    headers["Retry-After"] = fault["retry_after"]
            else:
                status, body = self.route(method, u.path, query, raw, entry.get("body"))
        entry["status"] = status
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps(entry) + "\n")
        self.reply(status, body, headers)

    def route(self, method, path, q, raw, body):
        S = STATE
        if path == "/_control":
            FAULTS[:] = [parse_fault(s) for s in (body or {}).get("fail", [])]
            return 200, {}
        if path == "/_state":
            return 200, S
        if path == "/health":
            return 200, b"OK"
        if path.startswith("/api/2.0/mlflow-artifacts/artifacts/") and method == "PUT":
            S["artifacts"][path[len("/api/2.0/mlflow-artifacts/artifacts/"):]] = raw.decode("utf-8", "replace")
            return 200, {}
        if path == "/v1/traces":
            if not self.headers.get("x-mlflow-experiment-id"):
                return 422, {"detail": "missing x-mlflow-experiment-id"}
            got = {}
            for rs in body["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    for sp in ss["spans"]:
                        got.setdefault("tr-" + sp["traceId"], []).append(sp)
            if any(tid in S["traces"] for tid in got):
                return error("INTERNAL_ERROR", "duplicate span", 500)
            S["traces"].update(got)
            return 200, {}
        if path == "/api/3.0/mlflow/traces" and method == "POST":
            # StartTraceV3 on a trace the spans made: its metadata merged
            info = body["trace"]["trace_info"]
            if info["trace_id"] not in S["traces"]:
                return error("RESOURCE_DOES_NOT_EXIST", "no trace", 404)
            S.setdefault("trace_metadata", {}).setdefault(info["trace_id"], {}).update(
                info.get("trace_metadata", {}))
            return 200, {"trace": {"trace_info": info}}
        if path.startswith("/api/3.0/mlflow/traces/") and method == "GET":
            tid = path.rsplit("/", 1)[1]
            if tid in S["traces"]:
                return 200, {"trace": {"trace_info": {
                    "trace_id": tid, "assessments": S["assessments"].get(tid, [])}}}
            return error("RESOURCE_DOES_NOT_EXIST", "no trace", 404)
        if path.startswith("/api/3.0/mlflow/traces/") and path.endswith("/assessments"):
            tid = path.split("/")[-2]
            if tid not in S["traces"]:
                return error("RESOURCE_DOES_NOT_EXIST", "no trace", 404)
            a = dict(body["assessment"], trace_id=tid, assessment_id="a-" + uuid.uuid4().hex,
                     valid=True)
            S["assessments"].setdefault(tid, []).append(a)
            return 200, {"assessment": a}
        if path.startswith("/api/3.0/mlflow/datasets/"):
            p = path[len("/api/3.0/mlflow/datasets/"):]
            if p == "search":
                want = (body.get("filter_string") or "").split("= '", 1)[-1].rstrip("'")
                return 200, {"datasets": [d for d in S["datasets"].values() if d["name"] == want]}
            if p == "create":
                did = "d-" + uuid.uuid4().hex
                S["datasets"][did] = {"dataset_id": did, "name": body["name"],
                                      "tags": body.get("tags"), "experiment_ids":
                                      body.get("experiment_ids", []), "records": {}}
                return 200, {"dataset": S["datasets"][did]}
            did, what = p.split("/", 1)
            d = S["datasets"].get(did)
            if d is None:
                return error("RESOURCE_DOES_NOT_EXIST", "no dataset", 404)
            if what == "add-experiments":
                d["experiment_ids"] = sorted(set(d["experiment_ids"]) | set(body["experiment_ids"]))
                return 200, {"dataset": d}
            if what == "records":
                new = 0
                for r in json.loads(body["records"]):
                    key = json.dumps(r.get("inputs", {}), sort_keys=True)
                    new += key not in d["records"]
                    d["records"][key] = r
                return 200, {"inserted_count": new}
        p = path.replace("/api/2.0/mlflow/", "")
        if p == "experiments/get-by-name":
            for e in S["experiments"].values():
                if e["name"] == q.get("experiment_name"):
                    return 200, {"experiment": e}
            return error("RESOURCE_DOES_NOT_EXIST", "Could not find experiment", 404)
        if p == "experiments/create":
            if any(e["name"] == body["name"] for e in S["experiments"].values()):
                return error("RESOURCE_ALREADY_EXISTS", "exists", 400)
            eid = str(len(S["experiments"]) + 1)
            S["experiments"][eid] = {"experiment_id": eid, "name": body["name"],
                                     "artifact_location": "mlflow-artifacts:/" + eid,
                                     "lifecycle_stage": "active", "tags": body.get("tags", [])}
            return 200, {"experiment_id": eid}
        if p == "experiments/restore":
            S["experiments"][body["experiment_id"]]["lifecycle_stage"] = "active"
            return 200, {}
        if p == "runs/create":
            rid = uuid.uuid4().hex
            eid = body["experiment_id"]
            run = {"info": {"run_id": rid, "run_uuid": rid, "experiment_id": eid,
                            "run_name": body.get("run_name"), "status": "RUNNING",
                            "start_time": body.get("start_time"),
                            "artifact_uri": "mlflow-artifacts:/%s/%s/artifacts" % (eid, rid),
                            "lifecycle_stage": "active"},
                   "data": {"tags": body.get("tags", []), "params": [], "metrics": []}}
            S["runs"][rid] = run
            return 200, {"run": run}
        if p == "runs/search":
            flt = body.get("filter", "")
            want = flt.split("= '", 1)[1].rstrip("'") if "= '" in flt else None
            found = [r for r in S["runs"].values()
                     if r["info"]["experiment_id"] in body.get("experiment_ids", [])
                     and any(t["key"] == "aiops.run_id" and t["value"] == want
                             for t in r["data"]["tags"])]
            return 200, {"runs": found[:1]} if found else {}
        if p == "runs/log-batch":
            run = S["runs"].get(body["run_id"])
            if run is None:
                return error("RESOURCE_DOES_NOT_EXIST", "no run", 404)
            ps, ts, ms = body.get("params", []), body.get("tags", []), body.get("metrics", [])
            if len(ps) > 100 or len(ts) > 100 or len(ms) > 1000 or len(ps) + len(ts) + len(ms) > 1000:
                return error("INVALID_PARAMETER_VALUE", "A batch logging request can contain at most ...", 400)
            if len(raw) >= 1000000:
                return error("INVALID_PARAMETER_VALUE", "request over 1 MB", 400)
            have = {x["key"]: x["value"] for x in run["data"]["params"]}
            for x in ps:
                if x["key"] in have and have[x["key"]] != x["value"]:
                    return error("INVALID_PARAMETER_VALUE", "Changing param values is not allowed", 400)
            for x in ps:
                if x["key"] not in have:
                    run["data"]["params"].append(x)
                    have[x["key"]] = x["value"]
            for x in ts:
                run["data"]["tags"] = [t for t in run["data"]["tags"] if t["key"] != x["key"]] + [x]
            # a point logged again for a LoggedModel (model_id) is one the
            # run has: MLflow keeps it once in the run and once for the model
            run["data"]["metrics"].extend(m for m in ms if not m.get("model_id"))
            S.setdefault("model_metrics", []).extend(dict(m, run_id=body["run_id"])
                                                     for m in ms if m.get("model_id"))
            return 200, {}
        if p == "runs/update":
            run = S["runs"][body["run_id"]]
            run["info"]["status"] = body["status"]
            run["info"]["end_time"] = body.get("end_time")
            return 200, {"run_info": run["info"]}
        if p == "runs/get":
            return 200, {"run": S["runs"][q["run_id"]]}
        if p == "metrics/get-history":
            run = S["runs"][q["run_id"]]
            return 200, {"metrics": [m for m in run["data"]["metrics"] if m["key"] == q["metric_key"]]}
        if p == "logged-models/search":
            flt = body.get("filter", "")
            want = flt.split("= '", 1)[1].rstrip("'") if "= '" in flt else None
            found = [m for m in S.setdefault("models", {}).values()
                     if m["info"]["experiment_id"] in body.get("experiment_ids", [])
                     and any(t["value"] == want for t in m["info"]["tags"])]
            return 200, {"models": found[:1]} if found else {}
        if p == "logged-models" and method == "POST":
            mid = "m-" + uuid.uuid4().hex
            S.setdefault("models", {})[mid] = {
                "info": {"model_id": mid, "experiment_id": body["experiment_id"],
                         "name": body.get("name"), "source_run_id": body.get("source_run_id"),
                         "status": "LOGGED_MODEL_PENDING", "tags": body.get("tags", [])},
                "data": {"params": body.get("params", [])}}
            return 200, {"model": S["models"][mid]}
        if p.startswith("logged-models/") and method == "GET":
            m = S.setdefault("models", {}).get(p.split("/", 1)[1])
            if m is None:
                return error("RESOURCE_DOES_NOT_EXIST", "no model", 404)
            mid = m["info"]["model_id"]
            return 200, {"model": {"info": m["info"], "data": dict(m["data"], metrics=[
                x for x in S.get("model_metrics", []) if x["model_id"] == mid])}}
        if p.startswith("logged-models/") and method == "PATCH":
            m = S.setdefault("models", {}).get(p.split("/", 1)[1])
            if m is None:
                return error("RESOURCE_DOES_NOT_EXIST", "no model", 404)
            m["info"]["status"] = body["status"]
            return 200, {"model": m}
        if p == "runs/log-inputs":
            have = S["inputs"].setdefault(body["run_id"], [])
            for x in body.get("datasets", []):
                key = (x["dataset"]["name"], x["dataset"]["digest"])
                if key not in [(y["dataset"]["name"], y["dataset"]["digest"]) for y in have]:
                    have.append(x)
            S.setdefault("model_inputs", {}).setdefault(body["run_id"], []).extend(body.get("models", []))
            return 200, {}
        if p == "traces/link-to-run":
            if len(body["trace_ids"]) > 100:
                return error("INVALID_PARAMETER_VALUE", "at most 100 trace ids", 400)
            S["links"].setdefault(body["run_id"], []).extend(body["trace_ids"])
            return 200, {}
        return 404, {"detail": "Not Found"}

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")


def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail", action="append", default=[])
    a = ap.parse_args()
    LOG = a.log
    FAULTS.extend(parse_fault(s) for s in a.fail)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
