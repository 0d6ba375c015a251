-- Migration 0016: after the sale: buyer's premium, relisting, second-chance offers
-- Generated from migrations/versions/0016_after_the_sale.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0015:
--   mariadb -u USER -p DBNAME < sql/migrations/0016_after_the_sale.sql

-- Running upgrade 0015 -> 0016

CREATE TABLE second_chance_offers (
    id INTEGER NOT NULL AUTO_INCREMENT,
    auction_id INTEGER NOT NULL,
    seller_id INTEGER NOT NULL,
    bidder_id INTEGER NOT NULL,
    price BIGINT NOT NULL,
    premium BIGINT NOT NULL DEFAULT 0,
    status VARCHAR(16) NOT NULL DEFAULT 'open',
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    decided_at DATETIME(6),
    order_id INTEGER,
    CONSTRAINT pk_second_chance_offers PRIMARY KEY (id),
    CONSTRAINT fk_second_chance_offers_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id),
    CONSTRAINT fk_second_chance_offers_bidder_id_users FOREIGN KEY(bidder_id) REFERENCES users (id),
    CONSTRAINT fk_second_chance_offers_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id),
    CONSTRAINT fk_second_chance_offers_seller_id_users FOREIGN KEY(seller_id) REFERENCES users (id)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_second_chance_offers_auction_id ON second_chance_offers (auction_id);

CREATE INDEX ix_second_chance_offers_bidder_status ON second_chance_offers (bidder_id, status);

ALTER TABLE auctions ADD COLUMN relisted_from_id INTEGER;

ALTER TABLE auctions ADD CONSTRAINT uq_auctions_relisted_from_id UNIQUE (relisted_from_id);

ALTER TABLE auctions ADD CONSTRAINT fk_auctions_relisted_from_id_auctions FOREIGN KEY(relisted_from_id) REFERENCES auctions (id);

ALTER TABLE orders ADD COLUMN sale_round SMALLINT NOT NULL DEFAULT 0;

ALTER TABLE orders ADD COLUMN premium BIGINT NOT NULL DEFAULT 0;

ALTER TABLE orders ADD CONSTRAINT uq_orders_auction_round UNIQUE (auction_id, sale_round);

ALTER TABLE orders DROP INDEX uq_orders_auction_id;

UPDATE alembic_version SET version_num='0016' WHERE alembic_version.version_num = '0015';
