-- Migration 0004: asaas fidelity
-- Generated from migrations/versions/0004_asaas_fidelity.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0003:
--   mariadb -u USER -p DBNAME < sql/migrations/0004_asaas_fidelity.sql

-- Running upgrade 0003 -> 0004

CREATE TABLE asaas_api_usage (
    window_start DATETIME(6) NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    rate_limited INTEGER NOT NULL DEFAULT 0,
    last_limit INTEGER,
    last_remaining INTEGER,
    blocked_until DATETIME(6),
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_asaas_api_usage PRIMARY KEY (window_start)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE TABLE payment_instructions (
    payment_id INTEGER NOT NULL,
    kind VARCHAR(8) NOT NULL,
    code TEXT NOT NULL,
    image MEDIUMTEXT,
    expires_at DATETIME(6),
    fetched_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_payment_instructions PRIMARY KEY (payment_id),
    CONSTRAINT fk_payment_instructions_payment_id_payments FOREIGN KEY(payment_id) REFERENCES payments (id) ON DELETE CASCADE
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

ALTER TABLE payments ADD COLUMN cash_stage SMALLINT NOT NULL DEFAULT 0;

ALTER TABLE payments ADD COLUMN refund_stage SMALLINT NOT NULL DEFAULT 0;

ALTER TABLE payments ADD COLUMN refund_requested BIGINT NOT NULL DEFAULT 0;

ALTER TABLE payments ADD COLUMN net_value BIGINT;

ALTER TABLE payments ADD COLUMN frozen BIGINT NOT NULL DEFAULT 0;

ALTER TABLE payments ADD COLUMN cash_credited_by_id INTEGER;

ALTER TABLE payments ADD COLUMN cash_credited_at DATETIME(6);

ALTER TABLE payments ADD COLUMN payer_checked_at DATETIME(6);

ALTER TABLE payments ADD COLUMN next_check_at DATETIME(6);

ALTER TABLE payments ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;

CREATE INDEX ix_payments_next_check_at ON payments (next_check_at);

ALTER TABLE payments ADD CONSTRAINT fk_payments_cash_credited_by_id_users FOREIGN KEY(cash_credited_by_id) REFERENCES users (id);

ALTER TABLE wallets ADD COLUMN frozen BIGINT NOT NULL DEFAULT 0;

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';
