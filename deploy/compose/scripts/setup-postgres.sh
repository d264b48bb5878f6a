#!/bin/sh
# One-shot: Temporal's schemas in PostgreSQL, with Temporal's own admin tools (as in
# Temporal's samples-server compose). Idempotent: `create` fails harmlessly on an existing
# database and update-schema only applies what is missing.
set -eu
: "${SQL_PASSWORD:?set SQL_PASSWORD in secrets/temporal-db.env}"
TOOL="temporal-sql-tool --plugin postgres12 --ep ${POSTGRES_SEEDS} -u ${POSTGRES_USER} -p ${DB_PORT}"
SCHEMA=/etc/temporal/schema/postgresql/v12

echo "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}"
until nc -z -w 5 "${POSTGRES_SEEDS}" "${DB_PORT}"; do sleep 1; done

for db in temporal temporal_visibility; do
  dir=temporal; [ "$db" = temporal_visibility ] && dir=visibility
  $TOOL --db "$db" create || echo "database $db exists"
  $TOOL --db "$db" setup-schema -v 0.0 || echo "schema of $db exists"
  $TOOL --db "$db" update-schema -d "$SCHEMA/$dir/versioned"
done
echo "Temporal schemas ready"
