#!/usr/bin/env bash
# Sets up .venv (if needed) and runs the whole test suite. Extra arguments go to pytest.
# LibreOffice and Chromium tests skip when soffice/chromium are missing, unless CF_REQUIRE_LIBREOFFICE=1 /
# CF_REQUIRE_BROWSER=1 (CI sets both, after installing them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
