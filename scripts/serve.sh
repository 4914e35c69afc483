#!/usr/bin/env bash
# Sets up .venv (if needed) and serves the add-in backend on the shipped checkpoints.
# Override the address with BIND=0.0.0.0:8000; see gunicorn.conf.py for the other settings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/gunicorn --config gunicorn.conf.py --bind "${BIND:-127.0.0.1:8000}" cf_service:app
