#!/usr/bin/env bash
# Build the Gridroom bundle and its installers: see `installer/build.sh --help`.
# Uses the repo's .venv interpreter (or $PYTHON) to drive the build; the app's dependencies and
# the pinned Qt live in a separate build venv (build/venv-bundle).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
exec "$PY" -m installer.build --python "${BUNDLE_PYTHON:-$PY}" "$@"
