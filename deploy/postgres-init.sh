#!/bin/sh
# PostgreSQL's first start in docker-compose.yml (/docker-entrypoint-initdb.d): the services' role, which may log in
# and owns the workq database, no more (it cannot create databases or roles). POSTGRES_USER, the superuser, is for
# operators only. Its password comes from the container's environment, never from this file.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres --set=services_password="$WORKQ_POSTGRES_PASSWORD" <<'SQL'
create role workq login nosuperuser nocreatedb nocreaterole password :'services_password';
create database workq owner workq;
SQL
