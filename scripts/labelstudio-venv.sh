#!/usr/bin/env bash
# Set up a real Label Studio for the round-trip test (tests/changelog/test_labelstudio_server.py):
#   1. .venv-labelstudio with label-studio pinned (its dependencies are strictly pinned, so it
#      never goes into errlens' own environment; errlens talks to it over HTTP only);
#   2. a migrated template data dir with two annotators holding legacy API tokens, which the
#      test copies per run so a server starts in seconds instead of migrating for ~40 s.
# Idempotent: what already exists for the pinned version is left as it is.
set -euo pipefail

LS_VERSION="1.23.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-labelstudio"
TEMPLATE="$VENV/errlens-template"
UV="$ROOT/.venv/bin/uv"

if [[ ! -x "$UV" ]]; then
  echo "error: $UV not found; create the errlens venv first (make setup), it provides uv" >&2
  exit 1
fi

installed() {
  [[ -x "$VENV/bin/label-studio" ]] && [[ "$("$VENV/bin/python" -c \
    'import importlib.metadata as m; print(m.version("label-studio"))' 2>/dev/null)" == "$LS_VERSION" ]]
}

start=$(date +%s)
if installed; then
  echo "label-studio $LS_VERSION already in $VENV"
else
  rm -rf "$TEMPLATE"
  "$UV" venv --quiet --allow-existing --python 3.11 "$VENV"
  "$UV" pip install --quiet -p "$VENV/bin/python" "label-studio==$LS_VERSION"
  echo "label-studio $LS_VERSION installed in $VENV in $(( $(date +%s) - start )) s"
fi

if [[ -f "$TEMPLATE/users.json" ]]; then
  echo "template data dir ready in $TEMPLATE"
  exit 0
fi

# A minimal explicit environment: Label Studio reads unprefixed names (HOST, PORT, DEBUG, CI,
# USERNAME, PASSWORD) when present. Legacy tokens must be allowed when the users are created.
step=$(date +%s)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home" "$work/data"
ls_env=(env -i PATH=/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8 PYTHONUNBUFFERED=1
        LABEL_STUDIO_BASE_DATA_DIR="$work/data" LATEST_VERSION_CHECK=false
        COLLECT_ANALYTICS=false SENTRY_DSN= FRONTEND_SENTRY_DSN=
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true)
users=(ana ben)
for user in "${users[@]}"; do
  if ! "${ls_env[@]}" "$VENV/bin/label-studio" init -q --username "$user@example.com" \
      --password "errlens-$user-pw" --user-token "errlens-token-$user" > "$work/init-$user.log" 2>&1; then
    cat "$work/init-$user.log" >&2
    echo "error: label-studio init failed for $user (log above)" >&2
    exit 1
  fi
done
cat > "$work/data/users.json" <<JSON
{"ana": {"email": "ana@example.com", "token": "errlens-token-ana"},
 "ben": {"email": "ben@example.com", "token": "errlens-token-ben"}}
JSON
mv "$work/data" "$TEMPLATE"
echo "template data dir with users ana and ben built in $(( $(date +%s) - step )) s"
