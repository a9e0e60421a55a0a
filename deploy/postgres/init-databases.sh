#!/usr/bin/env bash
# Creates one database per Parley service, owned by $POSTGRES_USER.
#
# Run by the postgres image's entrypoint from /docker-entrypoint-initdb.d, once, when the
# data volume is empty (an existing cluster is never touched: to add a database later, run
# `createdb` by hand or remove the volume). Written to work both when executed and when
# sourced by the entrypoint, so it neither calls `exit` nor changes shell options.
#
# PARLEY_DATABASES (comma-separated) overrides the list; services that do not exist yet
# simply leave their database empty.

parley_databases="${PARLEY_DATABASES:-conference,presence,interaction,snapshot,streams}"

for parley_db in ${parley_databases//,/ }; do
  echo "parley: creating database \"${parley_db}\" (owner ${POSTGRES_USER:-postgres})"
  psql -v ON_ERROR_STOP=1 --no-psqlrc \
       --username "${POSTGRES_USER:-postgres}" --dbname postgres \
       --set db="${parley_db}" --set owner="${POSTGRES_USER:-postgres}" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
SQL
done
unset parley_db parley_databases
