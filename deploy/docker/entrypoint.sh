#!/bin/sh
# The image's entrypoint: `worker`, `api` or `setup` (starter.py setup, one-shot and idempotent);
# anything else runs as given (e.g. `portflow status PR-2026-0001`).
set -eu
case "${1:-worker}" in
  worker) shift || true; exec python -m worker "$@" ;;
  api) shift; exec python -m api "$@" ;;
  setup) shift; exec portflow setup "$@" ;;
  *) exec "$@" ;;
esac
