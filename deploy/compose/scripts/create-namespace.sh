#!/bin/sh
# One-shot: portflow's namespace (idempotent). Its search attributes and the reminder
# schedule come next from portflow's own `setup` service (starter.py setup), which reads
# them from the code (workflows/search.py), so this file never drifts from it.
set -eu
NAMESPACE=${DEFAULT_NAMESPACE:-portflow}
ADDRESS=${TEMPORAL_ADDRESS:-temporal:7233}
RETENTION=${NAMESPACE_RETENTION:-30d}

attempt=0
until temporal operator cluster health --address "$ADDRESS"; do
  attempt=$((attempt + 1))
  [ "$attempt" -ge 30 ] && { echo "Temporal at $ADDRESS is not healthy after $attempt tries"; exit 1; }
  sleep 2
done
temporal operator namespace describe -n "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1 \
  || temporal operator namespace create -n "$NAMESPACE" --retention "$RETENTION" --address "$ADDRESS"
echo "namespace $NAMESPACE ready"
