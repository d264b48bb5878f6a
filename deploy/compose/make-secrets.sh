#!/bin/sh
# Writes ./secrets/ once: random database passwords and vault key, empty optional secrets.
# Never overwrites a file that exists (rotate by hand: docs/deploy.md). Git ignores ./secrets/.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
rand() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-40; }
put() { [ -e "secrets/$1" ] || printf '%s' "$2" > "secrets/$1"; }
put temporal_db_password "$(rand)"
put portflow_db_password "$(rand)"
put portflow_secret_key "$(rand)"
# payload encryption (README "Customer data in Temporal"): one AES-256 key, id:base64, current first
put portflow_payload_keys "k$(date +%Y%m%d):$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
put portflow_codec_token "$(rand)"
[ -e secrets/temporal-db.env ] || printf 'POSTGRES_PWD=%s\nSQL_PASSWORD=%s\n' \
  "$(cat secrets/temporal_db_password)" "$(cat secrets/temporal_db_password)" > secrets/temporal-db.env
put portflow_database_url "postgresql+psycopg://portflow:$(cat secrets/portflow_db_password)@portflow-postgresql:5432/portflow"
put portflow_telnyx_api_key ""
put portflow_docusign_private_key ""
put portflow_docusign_hmac_keys "[]"
put portflow_smtp_password ""
echo "secrets in $(pwd)/secrets (fill in the carrier, DocuSign and SMTP ones you use)"
