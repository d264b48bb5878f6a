#!/bin/sh
# Writes the files the kustomizations turn into Secrets (git-ignored): a random vault key,
# empty optional secrets, and placeholders for what only you have (the database URL, Temporal
# Cloud's API key or client certificate). Never overwrites a file. Rotation: docs/deploy.md.
set -eu
cd "$(dirname "$0")"
umask 077
put() { mkdir -p "$(dirname "$1")"; [ -e "$1" ] || printf '%s' "$2" > "$1"; }
put base/secrets/portflow_secret_key "$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-40)"
put base/secrets/portflow_payload_keys "k$(date +%Y%m%d):$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
put base/secrets/portflow_codec_token "$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-40)"
put base/secrets/portflow_database_url "postgresql+psycopg://portflow:CHANGE-ME@postgres.example.internal:5432/portflow"
put base/secrets/portflow_telnyx_api_key ""
put base/secrets/portflow_docusign_private_key ""
put base/secrets/portflow_docusign_hmac_keys "[]"
put base/secrets/portflow_smtp_password ""
put overlays/temporal-cloud/secrets/portflow_temporal_api_key "CHANGE-ME"
put overlays/temporal-cloud-mtls/secrets/tls.crt "CHANGE-ME: the client certificate (PEM)"
put overlays/temporal-cloud-mtls/secrets/tls.key "CHANGE-ME: its private key (PEM)"
echo "secrets under $(pwd): replace every CHANGE-ME before applying"
