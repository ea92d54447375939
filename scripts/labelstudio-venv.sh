#!/usr/bin/env bash
# Create .venv-labelstudio with a pinned Label Studio for the real round-trip test.
# Label Studio pins its dependencies strictly (Django, pyarrow, ...), so it gets its own
# environment and errlens talks to it over HTTP only. Idempotent: a venv that already has
# the pinned version is left as it is.
set -euo pipefail

LS_VERSION="1.23.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LABEL_STUDIO_VENV:-$ROOT/.venv-labelstudio}"
UV="$ROOT/.venv/bin/uv"

if [[ ! -x "$UV" ]]; then
  echo "error: $UV not found; create the errlens venv first (it provides uv)" >&2
  exit 1
fi

if [[ -x "$VENV/bin/label-studio" ]] \
  && [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("label-studio"))' 2>/dev/null)" == "$LS_VERSION" ]]; then
  echo "label-studio $LS_VERSION already in $VENV"
  exit 0
fi

start=$(date +%s)
"$UV" venv --quiet --allow-existing --python 3.11 "$VENV"
"$UV" pip install --quiet -p "$VENV/bin/python" "label-studio==$LS_VERSION"
echo "label-studio $LS_VERSION installed in $VENV in $(( $(date +%s) - start )) s"
