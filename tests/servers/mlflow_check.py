#!/usr/bin/env python3
"""Reads runs back through MLflow's own Python client and prints them as JSON.

    mlflow_check.py URI EXPERIMENT [--traces]

URI is a tracking server (http://...) or a file store directory (read with
MLFLOW_ALLOW_FILE_STORE=true).  The output is one JSON object:

    {"experiment": {"id", "name", "lifecycle_stage", "tags"},
     "runs": [{"run_id", "run_name", "status", "start_time", "end_time",
               "params", "tags", "metrics": {key: [[step, value], ...]},
               "artifacts": [path, ...], "table": {...} or null,
               "traces": [{"trace_id", "state", "request", "response",
                           "token_usage", "model", "span_type", "name",
                           "attributes", "spans": [{"name", "parent",
                           "span_type", "status", "start_ms", "end_ms",
                           "inputs", "outputs", "model", "token_usage",
                           "attributes"}]}]}]}

The trace's fields are its root span's; "spans" are all of them by start
time, each naming its parent (null for the root); attributes are the
aiops.* ones.

Runs are sorted by start time; metric points by step.  Tests compare this
with jq, so what MLflow itself reads is what is checked.
"""
import json
import os
import sys
import tempfile


def artifacts(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            out.extend(artifacts(client, run_id, f.path))
        else:
            out.append(f.path)
    return sorted(out)


def traces(client, exp_id, run_id):
    out = []
    try:
        found = client.search_traces(locations=[exp_id], run_id=run_id, max_results=500)
    except TypeError:
        found = client.search_traces(experiment_ids=[exp_id], run_id=run_id, max_results=500)
    for t in found:
        full = client.get_trace(t.info.trace_id)
        root = [s for s in full.data.spans if s.parent_id is None]
        span = root[0] if root else None
        attrs = dict(span.attributes) if span else {}
        ids = {s.span_id: s.name for s in full.data.spans}
        spans = []
        for s in sorted(full.data.spans, key=lambda s: (s.start_time_ns, s.name)):
            a = dict(s.attributes)
            spans.append({
                "name": s.name, "parent": ids.get(s.parent_id), "span_type": s.span_type,
                "status": str(s.status.status_code).split(".")[-1],
                "start_ms": s.start_time_ns // 1000000, "end_ms": s.end_time_ns // 1000000,
                "inputs": s.inputs, "outputs": s.outputs,
                "model": a.get("mlflow.llm.model"), "token_usage": a.get("mlflow.chat.tokenUsage"),
                "attributes": {k: v for k, v in a.items() if k.startswith("aiops.")}})
        out.append({
            "trace_id": t.info.trace_id,
            "spans": spans,
            "state": str(getattr(t.info, "state", getattr(t.info, "status", ""))).split(".")[-1],
            "request": span.inputs if span else None,
            "response": span.outputs if span else None,
            "token_usage": attrs.get("mlflow.chat.tokenUsage"),
            "model": attrs.get("mlflow.llm.model"),
            "span_type": span.span_type if span else None,
            "name": span.name if span else None,
            "attributes": {k: v for k, v in attrs.items() if k.startswith("aiops.")},
        })
    out.sort(key=lambda t: (t["attributes"].get("aiops.group_id") or "", t["trace_id"]))
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    with_traces = "--traces" in sys.argv
    if len(args) != 2:
        sys.stderr.write("usage: mlflow_check.py URI EXPERIMENT [--traces]\n")
        return 2
    uri, name = args
    if not uri.startswith(("http://", "https://", "file:")):
        uri = "file://" + os.path.abspath(uri)
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    import warnings
    warnings.simplefilter("ignore")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(name)
    if exp is None:
        print(json.dumps({"experiment": None, "runs": []}))
        return 0
    res = {"experiment": {"id": exp.experiment_id, "name": exp.name,
                          "lifecycle_stage": exp.lifecycle_stage, "tags": dict(exp.tags)},
           "runs": []}
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    for r in sorted(runs, key=lambda r: (r.info.start_time, r.info.run_id)):
        metrics = {}
        for key in sorted(r.data.metrics):
            hist = client.get_metric_history(r.info.run_id, key)
            metrics[key] = sorted([[m.step, m.value] for m in hist])
        arts = artifacts(client, r.info.run_id)
        table = None
        if "eval/incidents.json" in arts:
            with tempfile.TemporaryDirectory() as d:
                p = client.download_artifacts(r.info.run_id, "eval/incidents.json", d)
                with open(p) as f:
                    table = json.load(f)
        run = {"run_id": r.info.run_id, "run_name": r.info.run_name,
               "status": r.info.status, "start_time": r.info.start_time,
               "end_time": r.info.end_time, "params": dict(r.data.params),
               "tags": dict(r.data.tags), "metrics": metrics, "artifacts": arts,
               "table": table}
        if with_traces:
            run["traces"] = traces(client, exp.experiment_id, r.info.run_id)
        res["runs"].append(run)
    print(json.dumps(res, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
