-- Migration 0002: drop the asaas simulator tables
-- Generated from migrations/versions/0002_drop_the_asaas_simulator_tables.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0001:
--   mariadb -u USER -p DBNAME < sql/migrations/0002_drop_the_asaas_simulator_tables.sql

-- Running upgrade 0001 -> 0002

DROP TABLE IF EXISTS asaas_sim_objects;

DROP TABLE IF EXISTS asaas_sim_events;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';
