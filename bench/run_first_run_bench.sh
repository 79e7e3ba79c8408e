#!/bin/bash
# First run from a fresh clone: "model installed" -> starter knowledge base loaded -> app up -> first cited answer.
#
#   KB_MODELS_DIR=/path/with/installed/models [KB_EMBED_DTYPE=float32] bench/run_first_run_bench.sh [clone-dir]
#
# Clones this repository into a fresh folder (nothing of the current data/ comes along), then runs what
# `make run` runs after installing: `kb setup` and the Streamlit app, and asks one question with `kb ask`
# against the same store (a new process: it loads the model like the app's first question does). Reuses
# the virtualenv given by VENV (default: this checkout's .venv) instead of installing one.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/tmp/samenweten-first-run}
PY=${VENV:-$SRC/.venv}/bin/python
PORT=${PORT:-8765}
rm -rf "$DIR"
git clone -q "$SRC" "$DIR"
cd "$DIR"
export KB_DATA_DIR="$DIR/data" PYTHONPATH="$DIR" ANONYMIZED_TELEMETRY=False
now() { date +%s.%N; }
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(nproc) cores; KB_EMBED_DTYPE=${KB_EMBED_DTYPE:-auto}"
t0=$(now)
"$PY" -m kb.cli setup 2>&1 | cat   # through a pipe: stderr is not a terminal, as under make
t1=$(now)
"$PY" -m streamlit run app.py --server.port "$PORT" --server.headless true --browser.gatherUsageStats false \
  >"$DIR/streamlit.log" 2>&1 &
APP=$!
trap 'kill $APP 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/_stcore/health" >/dev/null; do sleep 0.5; done
t2=$(now)
"$PY" -m kb.cli ask "Moet een vereniging met volledige rechtsbevoegdheid zich inschrijven bij de KvK?" | tee "$DIR/answer.txt"
t3=$(now)
grep -q '\[1\]' "$DIR/answer.txt" || { echo "geen bronvermelding in het antwoord"; exit 1; }
python3 - "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:])
print(f"kb setup {t1 - t0:.0f} s; app gestart {t2 - t1:.0f} s; eerste antwoord met bron {t3 - t2:.0f} s; "
      f"totaal {t3 - t0:.0f} s ({(t3 - t0) / 60:.1f} min)")
PY
