-- Migration 0006: orders and withdrawals
-- Generated from migrations/versions/0006_orders_and_withdrawals.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0005:
--   mariadb -u USER -p DBNAME < sql/migrations/0006_orders_and_withdrawals.sql

-- Running upgrade 0005 -> 0006

CREATE TABLE delivery_addresses (
    id INTEGER NOT NULL AUTO_INCREMENT,
    user_id INTEGER NOT NULL,
    recipient VARCHAR(120) NOT NULL,
    line1 VARCHAR(200) NOT NULL,
    line2 VARCHAR(200),
    city VARCHAR(80) NOT NULL,
    state VARCHAR(2) NOT NULL,
    postal_code VARCHAR(9) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_delivery_addresses PRIMARY KEY (id),
    CONSTRAINT fk_delivery_addresses_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT uq_delivery_addresses_user_id UNIQUE (user_id)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE TABLE withdrawals (
    id INTEGER NOT NULL AUTO_INCREMENT,
    user_id INTEGER NOT NULL,
    amount BIGINT NOT NULL,
    on_hold BIGINT NOT NULL DEFAULT 0,
    pix_key VARCHAR(80) NOT NULL,
    pix_key_type VARCHAR(8) NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'queued',
    external_reference VARCHAR(100),
    asaas_transfer_id VARCHAR(64),
    transfer_status VARCHAR(32),
    fail_reason VARCHAR(255),
    submit_attempts INTEGER NOT NULL DEFAULT 0,
    approved_by_id INTEGER,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    finished_at DATETIME(6),
    CONSTRAINT pk_withdrawals PRIMARY KEY (id),
    CONSTRAINT fk_withdrawals_approved_by_id_users FOREIGN KEY(approved_by_id) REFERENCES users (id),
    CONSTRAINT fk_withdrawals_user_id_users FOREIGN KEY(user_id) REFERENCES users (id),
    CONSTRAINT uq_withdrawals_asaas_transfer_id UNIQUE (asaas_transfer_id),
    CONSTRAINT uq_withdrawals_external_reference UNIQUE (external_reference)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_withdrawals_status_updated_at ON withdrawals (status, updated_at);

CREATE INDEX ix_withdrawals_user_id ON withdrawals (user_id);

CREATE TABLE orders (
    id INTEGER NOT NULL AUTO_INCREMENT,
    auction_id INTEGER NOT NULL,
    buyer_id INTEGER NOT NULL,
    seller_id INTEGER NOT NULL,
    price BIGINT NOT NULL,
    fee BIGINT NOT NULL DEFAULT 0,
    escrowed BIGINT NOT NULL DEFAULT 0,
    status VARCHAR(16) NOT NULL DEFAULT 'paid',
    ship_recipient VARCHAR(120),
    ship_line1 VARCHAR(200),
    ship_line2 VARCHAR(200),
    ship_city VARCHAR(80),
    ship_state VARCHAR(2),
    ship_postal_code VARCHAR(9),
    carrier VARCHAR(60),
    tracking_code VARCHAR(60),
    shipped_at DATETIME(6),
    release_at DATETIME(6),
    confirmed_at DATETIME(6),
    dispute_reason VARCHAR(500),
    disputed_at DATETIME(6),
    resolution VARCHAR(16),
    resolved_by_id INTEGER,
    closed_at DATETIME(6),
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_orders PRIMARY KEY (id),
    CONSTRAINT fk_orders_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id),
    CONSTRAINT fk_orders_buyer_id_users FOREIGN KEY(buyer_id) REFERENCES users (id),
    CONSTRAINT fk_orders_resolved_by_id_users FOREIGN KEY(resolved_by_id) REFERENCES users (id),
    CONSTRAINT fk_orders_seller_id_users FOREIGN KEY(seller_id) REFERENCES users (id),
    CONSTRAINT uq_orders_auction_id UNIQUE (auction_id)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_orders_buyer_id ON orders (buyer_id);

CREATE INDEX ix_orders_seller_id ON orders (seller_id);

CREATE INDEX ix_orders_status_updated_at ON orders (status, updated_at);

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';
