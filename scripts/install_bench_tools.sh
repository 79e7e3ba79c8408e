#!/usr/bin/env bash
# Tools for bench/run_format_bench.py only (not needed by the app or the tests): LibreOffice Writer, which
# exports the benchmark's DOCX files to PDF the way partners' word processors do.
set -uo pipefail
if command -v soffice >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "LibreOffice Writer installeren (Debian-pakket, voor de formaatbenchmark) …" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer >/dev/null) \
    || echo "WAARSCHUWING: libreoffice-writer kon niet worden geïnstalleerd; de generator pdf-libreoffice ontbreekt." >&2
else
  echo "LET OP: installeer 'libreoffice-writer' (sudo apt-get install …) voor de generator pdf-libreoffice." >&2
fi
exit 0
