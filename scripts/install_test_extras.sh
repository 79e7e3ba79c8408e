#!/usr/bin/env bash
# Test-only extras: Debian's Chromium (browser tests) and llama-cpp-python with a small GGUF model
# (the OpenAI-compatible LLM integration test). Each is skipped with a note when it cannot be installed;
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

if ! "$BIN/python" -c "import llama_cpp.server" >/dev/null 2>&1; then
  echo "llama-cpp-python bouwen (eenmalig, ca. 7 minuten op 2 kernen) …" >&2
  CMAKE_BUILD_PARALLEL_LEVEL=2 "$BIN/pip" install --quiet -e ".[llamacpp]" \
    || echo "WAARSCHUWING: llama-cpp-python kon niet worden gebouwd; de LLM-integratietest wordt overgeslagen." >&2
fi
exit 0
