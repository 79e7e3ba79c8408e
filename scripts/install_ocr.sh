#!/usr/bin/env bash
# OCR for scanned PDFs: Debian's Tesseract with its Dutch language data. Installed when run as root on a
# machine with apt-get (a fresh Debian machine, CI); otherwise a note says how. Without it, scanned PDFs are
# refused with a clear Dutch message and the OCR tests skip with that reason.
set -uo pipefail

if command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx nld; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Tesseract OCR met Nederlandse taaldata installeren (Debian-pakketten) …" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      tesseract-ocr tesseract-ocr-nld >/dev/null) \
    || echo "WAARSCHUWING: tesseract-ocr(-nld) kon niet worden geïnstalleerd; gescande PDF's worden geweigerd." >&2
else
  echo "LET OP: installeer 'tesseract-ocr tesseract-ocr-nld' (sudo apt-get install …) om gescande PDF's te lezen." >&2
fi
exit 0
