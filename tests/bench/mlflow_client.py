#!/usr/bin/env python3
"""The reference side of the aiops-mlflow benchmark (tests/bench/mlflow.sh).

Logs the same run that aiops-mlflow logs from an aiops record stream, with
MLflow's own Python client (MlflowClient), to the same tracking server:

  - the experiment (looked up by name, created with the config's
    experiment.tags when missing) and a run with the same tags;
  - params: the run record's config flattened to dotted keys, then every
    stage record's params prefixed by the stage name (arrays and scalars as
    compact JSON, strings raw; the first value of a key wins);
  - metrics: every score (overall at step 0 plus NAME.n; per incident at
    step = the incident's index in order of first appearance; null values
    skipped), every stage_end number as STAGE.COUNTER, aiops.rejects and
    aiops.llm_calls, all with the run's start time as timestamp;
  - tags: the run's tags, aiops.run_id, aiops.dataset.sha256/path,
    aiops.stage.NAME.version, mlflow.note.content, mlflow.loggedArtifacts;
  - artifacts: config.json, llm_calls.jsonl, rca.jsonl, remediation.jsonl,
    execution.jsonl, scores.jsonl (those that occur) and eval/incidents.json
    (the per-incident table);
  - status FINISHED.

It uses the client's batch call (log_batch, 100 params / 1000 metrics a
request, as aiops-mlflow does) and one log_artifacts upload: the fastest
way the Python client offers, so the comparison is fair to it.  LLM traces
are not sent (the benchmark's baseline run has no llm_call records).

Usage: mlflow_client.py TRACKING_URI EXPERIMENT STREAM.jsonl
Prints on stdout one JSON object: import_s, log_s, params, metrics, tags.
"""
import json
import os
import sys
import tempfile
import time

t_start = time.monotonic()
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

t_imported = time.monotonic()


def flatten(prefix, v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flatten(f"{prefix}.{k}" if prefix else str(k), x, out)
        return
    if isinstance(v, str):
        s = v
    else:
        s = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    if prefix and prefix not in out:
        out[prefix] = s[:6000]


def ts_ms(s):
    from datetime import datetime

    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def main():
    uri, experiment, path = sys.argv[1:4]
    run = None
    stages = []
    ends = []
    scores = []
    arts = {"llm_calls.jsonl": [], "rca.jsonl": [], "remediation.jsonl": [],
            "execution.jsonl": [], "scores.jsonl": []}
    kind_art = {"llm_call": "llm_calls.jsonl", "rca": "rca.jsonl",
                "remediation": "remediation.jsonl", "execution": "execution.jsonl",
                "score": "scores.jsonl"}
    rejects = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            k = r.get("kind")
            if k == "run" and run is None:
                run = r
            elif k == "stage":
                stages.append(r)
            elif k == "stage_end":
                ends.append(r)
            elif k == "reject":
                rejects += 1
            if k == "score":
                scores.append(r)
            if k in kind_art:
                arts[kind_art[k]].append(line)
    run = run or {}
    config = run.get("config") or {}
    started = ts_ms(run["started_at"]) if run.get("started_at") else int(time.time() * 1000)

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        etags = {k: str(v) for k, v in ((config.get("experiment") or {}).get("tags") or {}).items()}
        exp_id = client.create_experiment(experiment, tags=etags)
    else:
        exp_id = exp.experiment_id
    rid = run.get("run_id", "")
    mlrun = client.create_run(exp_id, start_time=started, run_name="aiops-" + rid[:8], tags={
        "aiops.run_id": rid, "mlflow.source.name": "aiops", "mlflow.source.type": "LOCAL",
        "mlflow.user": os.environ.get("USER", "")})
    run_id = mlrun.info.run_id

    params = {}
    flatten("", config, params)
    for s in stages:
        flatten(s.get("stage", "stage"), s.get("params") or {}, params)
    plist = [Param(k, v) for k, v in params.items()]
    for i in range(0, len(plist), 100):
        client.log_batch(run_id, params=plist[i:i + 100])

    tags = {str(k): str(v) for k, v in (run.get("tags") or {}).items()}
    ds = run.get("dataset") or {}
    tags["aiops.dataset.sha256"] = str(ds.get("sha256", ""))
    tags["aiops.dataset.path"] = str(ds.get("path", ""))
    for s in stages:
        tags[f"aiops.stage.{s.get('stage')}.version"] = str(s.get("version", ""))
    overall = {s["name"]: s["value"] for s in scores if s.get("incident_id") is None}
    note = ["# aiops run", "", "status: FINISHED", "", "| score | value |", "| --- | --- |"]
    note += [f"| {k} | {v} |" for k, v in overall.items()]
    tags["mlflow.note.content"] = "\n".join(note)[:8000]
    tags["mlflow.loggedArtifacts"] = json.dumps([{"path": "eval/incidents.json", "type": "table"}])
    tlist = [RunTag(k, v) for k, v in tags.items()]
    for i in range(0, len(tlist), 100):
        client.log_batch(run_id, tags=tlist[i:i + 100])

    metrics = []
    steps = {}
    rows = {}
    for s in scores:
        v = s.get("value")
        inc = s.get("incident_id")
        if inc is None:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                metrics.append(Metric(s["name"], float(v), started, 0))
            if isinstance(s.get("n"), (int, float)):
                metrics.append(Metric(s["name"] + ".n", float(s["n"]), started, 0))
            continue
        step = steps.setdefault(inc, len(steps))
        row = rows.setdefault(inc, {"incident_id": inc, "step": step})
        row[s["name"]] = v
        for k, x in s.items():
            if k not in ("kind", "name", "value", "n", "unit", "incident_id") and k not in row:
                row[k] = x
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            metrics.append(Metric(s["name"], float(v), started, step))
    llm_calls = 0
    for e in ends:
        st = e.get("stage", "stage")
        for k, x in e.items():
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                metrics.append(Metric(f"{st}.{k}", float(x), started, 0))
        llm_calls += (e.get("llm") or {}).get("calls", 0)
    metrics.append(Metric("aiops.rejects", float(rejects), started, 0))
    metrics.append(Metric("aiops.llm_calls", float(llm_calls), started, 0))
    for i in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[i:i + 1000])

    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, separators=(",", ":"), ensure_ascii=False)
        for name, lines in arts.items():
            if lines:
                with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                    f.writelines(lines)
        cols = ["incident_id", "step"]
        for row in rows.values():
            cols += [k for k in row if k not in cols]
        os.makedirs(os.path.join(d, "eval"))
        with open(os.path.join(d, "eval", "incidents.json"), "w", encoding="utf-8") as f:
            json.dump({"columns": cols, "data": [[r.get(c) for c in cols] for r in rows.values()]},
                      f, separators=(",", ":"), ensure_ascii=False)
        client.log_artifacts(run_id, d)
    client.set_terminated(run_id, "FINISHED")
    t_end = time.monotonic()
    print(json.dumps({"import_s": round(t_imported - t_start, 3), "log_s": round(t_end - t_imported, 3),
                      "params": len(plist), "metrics": len(metrics), "tags": len(tlist), "run_id": run_id}))


if __name__ == "__main__":
    main()
