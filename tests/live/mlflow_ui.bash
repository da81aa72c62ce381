# MLflow's own UI, loaded in headless chromium (tests/browser.bash), checked
# against what the tracking server's REST API says of one MLflow run.
# Needs LIVE_MLFLOW_URI and AIOPS_ROOT; load after ../browser.
#
# The UI is a React single-page app with hash routes (MLflow 3.17, read
# from its build and checked in the real UI):
#   #/experiments/EXP/traces                 the experiment's traces
#   #/experiments/EXP/evaluation-runs        the runs with evaluation results
#   #/experiments/EXP/runs/RUN/evaluations   one run's traces with their
#                                            expectations and feedback
#   #/experiments/EXP/models                 the LoggedModels
# --virtual-time-budget lets its requests finish before the DOM is dumped;
# the window the DOM is dumped from is very tall because the tables draw
# only the rows in view (about 180 rows fit), the screenshot's is not.
# shellcheck shell=bash

UI_BUDGET_MS=${AIOPS_UI_BUDGET_MS:-30000}

# Loads ROUTE: its DOM in DIR/NAME.html, its table rows in DIR/NAME.rows
# (tests/live/ui_rows.py, a JSON object a line) and a screenshot in
# DIR/NAME.png.
ui_page() { # dir name route
	local d=$1 n=$2 u=$LIVE_MLFLOW_URI/#$3
	browser "$d/$n" "$u" --virtual-time-budget="$UI_BUDGET_MS" --window-size=1600,8000 \
		--dump-dom || { echo "chromium failed on $u (log: $d/$n.err)"; return 1; }
	mv "$d/$n.out" "$d/$n.html"
	browser "$d/$n-shot" "$u" --virtual-time-budget="$UI_BUDGET_MS" --window-size=1600,1200 \
		--hide-scrollbars --screenshot="$d/$n.png" ||
		{ echo "chromium failed on $u (log: $d/$n-shot.err)"; return 1; }
	rm -rf "$d/$n".{profile,net.json} "$d/$n-shot".{profile,net.json,out}
	python3 "$AIOPS_ROOT/tests/live/ui_rows.py" "$d/$n.html" >"$d/$n.rows"
}

# What the REST API says of RUN: {run_id, name, traces: [{trace_id,
# assessments}] (tests/servers/mlflow_assessments.sh), model: its
# LoggedModel's {model_id, name, source_run_id} or null}.
ui_expect() { # run
	local r model=null mid
	r=$(curl -fsS "$LIVE_MLFLOW_URI/api/2.0/mlflow/runs/get?run_id=$1") || return 1
	mid=$(jq -r '.run.inputs.model_inputs // [] | .[0].model_id // empty' <<<"$r")
	if [ -n "$mid" ]; then
		model=$(curl -fsS "$LIVE_MLFLOW_URI/api/2.0/mlflow/logged-models/$mid" |
			jq -c '.model.info | {model_id, name, source_run_id}') || return 1
	fi
	"$AIOPS_ROOT/tests/servers/mlflow_assessments.sh" "$LIVE_MLFLOW_URI" "$1" |
		jq -s -c --argjson r "$r" --argjson m "$model" \
			'{run_id: $r.run.info.run_id, name: $r.run.info.run_name, traces: ., model: $m}'
}

# The UI of experiment EXP shows RUN's traces, their assessments and its
# LoggedModel as the REST API has them: prints "ok ..." or one line per
# difference (and the files to look at), and returns 1 on any.  The
# pages, their rows and screenshots are left in DIR.
mlflow_ui_check() { # exp run dir
	local exp=$1 run=$2 d=$3 e out
	mkdir -p "$d"
	e=$(ui_expect "$run") || { echo "the REST API does not answer for run $run"; return 1; }
	printf '%s\n' "$e" >"$d/expect.json"
	ui_page "$d" traces "/experiments/$exp/traces" &&
		ui_page "$d" evaluation-runs "/experiments/$exp/evaluation-runs" &&
		ui_page "$d" evaluations "/experiments/$exp/runs/$run/evaluations" &&
		ui_page "$d" models "/experiments/$exp/models" || return 1
	out=$(
		# The traces view: a row for each of the run's traces.  It shows
		# its first page, 25 traces, newest first: the suite's experiment
		# holds fewer.
		jq -r -s --argjson e "$e" '[.[].titles[]] as $t
			| if $e.traces == [] then "the run has no trace in MLflow" else empty end,
			  ($e.traces[].trace_id | select(. as $id | any($t[]; contains($id)) | not)
			   | "traces view: no row for trace \(.)")' "$d/traces.rows"
		# The evaluation runs: a row with the run's name (after its colour
		# label) and a link to its evaluations.
		jq -r -s --argjson e "$e" --arg h "#/experiments/$exp/runs/$run/evaluations" '
			if any(.[]; any(.links[]; .href == $h) and any(.cells[]; endswith($e.name))) then empty
			else "evaluation runs: no row named \($e.name) with a link to \($h)" end' "$d/evaluation-runs.rows"
		# The run's evaluations: a row per trace, each expectation and each
		# feedback with a value shown as MLflow has it (feedback columns the
		# view hides are not compared; at least one must be shown).
		jq -r -s --argjson e "$e" '
			def shows($v): . as $s
				| if ($v | type) == "boolean" then $s == (if $v then "True" else "False" end)
				  elif ($v | type) == "number" then (try (($s | tonumber) - $v | fabs < 0.001) catch false)
				  elif ($v | type) == "string" then $s == $v
				  else (try ($s | fromjson) catch null) == $v end;
			map(select(.cells.trace_id != null)) as $rows
			| [$e.traces[] | . as $t | ($rows | map(select(.cells.trace_id == $t.trace_id)) | first) as $r
			   | if $r == null then "evaluations view: no row for trace \($t.trace_id)"
			     else ($t.assessments[] | select(.type == "expectation" or .value != null)
				   | (.name + "_" + (if .type == "expectation" then "expectation" else "assessment" end) + "_column") as $c
				   | if ($r.cells | has($c)) | not then
					(if .type == "expectation" then "evaluations view: trace \($t.trace_id) has no \(.name) column" else empty end)
				     elif .value as $v | $r.cells[$c] | shows($v) then "shown"
				     else "evaluations view: trace \($t.trace_id) \(.name) shows \($r.cells[$c] | tojson), MLflow has \(.value | tojson)" end)
			     end] as $l
			| ($l - ["shown"])[],
			  (if ($rows | length) != ($e.traces | length) then "evaluations view: \($rows | length) rows for \($e.traces | length) traces" else empty end),
			  (if any($l[]; . == "shown") then "# \($l | map(select(. == "shown")) | length) shown in the evaluations view"
			   else "evaluations view: no assessment of the run shown" end)' \
			"$d/evaluations.rows"
		# The models view: the LoggedModel of the run, linked by name,
		# and its source run when that is this run.
		jq -r -s --argjson e "$e" --arg exp "$exp" '
			$e.model as $m
			| if $m == null then "the run has no LoggedModel"
			  else (map(select(.id == $m.model_id)) | first) as $r
			  | if $r == null then "models view: no row for model \($m.model_id)"
			    else (if any($r.links[]; .href == "#/experiments/\($exp)/models/\($m.model_id)" and .text == $m.name)
				  then empty else "models view: model \($m.model_id) not linked as \($m.name)" end),
				 (if $m.source_run_id != $e.run_id or any($r.links[];
					.href == "#/experiments/\($exp)/runs/\($e.run_id)" and .text == $e.name)
				  then empty else "models view: model \($m.model_id) does not show its source run \($e.name)" end)
			    end end' "$d/models.rows"
	)
	echo "pages (DOM, rows, screenshot): $d/{traces,evaluation-runs,evaluations,models}.{html,rows,png}"
	if grep -v '^#' <<<"$out"; then
		return 1
	fi
	jq -r --arg n "$(sed -n 's/^# //p' <<<"$out")" \
		'"ok: \(.traces | length) traces, \([.traces[].assessments[]] | length) assessments (\($n)), model \(.model.name)"' \
		<<<"$e"
}
