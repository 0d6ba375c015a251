-- The auction site's schema for MariaDB (InnoDB, utf8mb4), for a fresh install.
-- Generated from auction/models.py by `flask --app auction db schema-sql`; do not edit by hand.
--
-- Load it into an empty database (see docs/database.md):
--   mariadb -u root -p -e "CREATE DATABASE auction CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
--   mariadb -u root -p auction < sql/schema.sql
-- Running it again does no harm. It records the Alembic revision it equals (0017), so later
-- schema changes are applied with `flask --app auction db upgrade` or the files in sql/migrations/.

SET NAMES utf8mb4;

CREATE TABLE IF NOT EXISTS asaas_api_usage (
	window_start DATETIME(6) NOT NULL,
	requests INTEGER NOT NULL DEFAULT 0,
	rate_limited INTEGER NOT NULL DEFAULT 0,
	last_limit INTEGER,
	last_remaining INTEGER,
	blocked_until DATETIME(6),
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_asaas_api_usage PRIMARY KEY (window_start)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS used_tokens (
	id INTEGER NOT NULL AUTO_INCREMENT,
	nonce VARCHAR(43) NOT NULL,
	purpose VARCHAR(20) NOT NULL,
	used_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_used_tokens PRIMARY KEY (id),
	CONSTRAINT uq_used_tokens_nonce UNIQUE (nonce)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS users (
	id INTEGER NOT NULL AUTO_INCREMENT,
	username VARCHAR(40) NOT NULL,
	email VARCHAR(254) NOT NULL,
	password_hash VARCHAR(255) NOT NULL,
	cpf_cnpj VARCHAR(14),
	asaas_customer_id VARCHAR(64),
	asaas_customer_claimed_at DATETIME(6),
	is_admin BOOL NOT NULL DEFAULT 0,
	created_at DATETIME(6) NOT NULL,
	email_verified_at DATETIME(6),
	locale VARCHAR(5),
	security_changed_at DATETIME(6),
	failed_logins INTEGER NOT NULL DEFAULT 0,
	locked_until DATETIME(6),
	totp_secret VARCHAR(64),
	totp_enabled_at DATETIME(6),
	deleted_at DATETIME(6),
	CONSTRAINT pk_users PRIMARY KEY (id),
	CONSTRAINT uq_users_username UNIQUE (username),
	CONSTRAINT uq_users_email UNIQUE (email),
	CONSTRAINT uq_users_asaas_customer_id UNIQUE (asaas_customer_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS webhook_deliveries (
	id INTEGER NOT NULL AUTO_INCREMENT,
	event_id VARCHAR(191) NOT NULL,
	event VARCHAR(64) NOT NULL,
	asaas_payment_id VARCHAR(64),
	raw_body MEDIUMTEXT NOT NULL,
	outcome VARCHAR(16) NOT NULL DEFAULT 'received',
	detail VARCHAR(255),
	attempts INTEGER NOT NULL DEFAULT 1,
	received_at DATETIME(6) NOT NULL,
	processed_at DATETIME(6),
	CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id),
	CONSTRAINT uq_webhook_deliveries_event_id UNIQUE (event_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_webhook_deliveries_asaas_payment_id ON webhook_deliveries (asaas_payment_id);

CREATE TABLE IF NOT EXISTS alert_preferences (
	user_id INTEGER NOT NULL,
	kind VARCHAR(32) NOT NULL,
	channel VARCHAR(8) NOT NULL,
	enabled BOOL NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_alert_preferences PRIMARY KEY (user_id, kind, channel),
	CONSTRAINT fk_alert_preferences_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS alert_settings (
	user_id INTEGER NOT NULL,
	locale VARCHAR(8) NOT NULL,
	while_watching BOOL NOT NULL DEFAULT 0,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_alert_settings PRIMARY KEY (user_id),
	CONSTRAINT fk_alert_settings_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS consents (
	id INTEGER NOT NULL AUTO_INCREMENT,
	user_id INTEGER NOT NULL,
	document VARCHAR(16) NOT NULL,
	version VARCHAR(16) NOT NULL,
	accepted_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_consents PRIMARY KEY (id),
	CONSTRAINT fk_consents_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_consents_user_id ON consents (user_id);

CREATE TABLE IF NOT EXISTS delivery_addresses (
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
	CONSTRAINT uq_delivery_addresses_user_id UNIQUE (user_id),
	CONSTRAINT fk_delivery_addresses_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS login_sessions (
	id INTEGER NOT NULL AUTO_INCREMENT,
	token_hash VARCHAR(64) NOT NULL,
	user_id INTEGER NOT NULL,
	created_at DATETIME(6) NOT NULL,
	revoked_at DATETIME(6),
	user_agent VARCHAR(255),
	ip_address VARCHAR(45),
	device_hash VARCHAR(64),
	CONSTRAINT pk_login_sessions PRIMARY KEY (id),
	CONSTRAINT uq_login_sessions_token_hash UNIQUE (token_hash),
	CONSTRAINT fk_login_sessions_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_login_sessions_user_id ON login_sessions (user_id);

CREATE TABLE IF NOT EXISTS mail_outbox (
	id INTEGER NOT NULL AUTO_INCREMENT,
	message_id VARCHAR(191) NOT NULL,
	user_id INTEGER,
	kind VARCHAR(40) NOT NULL,
	to_address VARCHAR(254) NOT NULL,
	subject VARCHAR(255) NOT NULL,
	text_body MEDIUMTEXT NOT NULL,
	html_body MEDIUMTEXT NOT NULL,
	headers TEXT,
	status VARCHAR(8) NOT NULL DEFAULT 'queued',
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at DATETIME(6) NOT NULL,
	last_error VARCHAR(255),
	created_at DATETIME(6) NOT NULL,
	sent_at DATETIME(6),
	CONSTRAINT pk_mail_outbox PRIMARY KEY (id),
	CONSTRAINT uq_mail_outbox_message_id UNIQUE (message_id),
	CONSTRAINT fk_mail_outbox_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE SET NULL
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_mail_outbox_status_next_attempt_at ON mail_outbox (status, next_attempt_at);

CREATE INDEX IF NOT EXISTS ix_mail_outbox_user_id ON mail_outbox (user_id);

CREATE TABLE IF NOT EXISTS payment_links (
	id INTEGER NOT NULL AUTO_INCREMENT,
	asaas_link_id VARCHAR(64),
	name VARCHAR(120) NOT NULL,
	value BIGINT NOT NULL,
	url VARCHAR(512),
	active BOOL NOT NULL DEFAULT 1,
	created_by_id INTEGER,
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_payment_links PRIMARY KEY (id),
	CONSTRAINT uq_payment_links_asaas_link_id UNIQUE (asaas_link_id),
	CONSTRAINT fk_payment_links_created_by_id_users FOREIGN KEY(created_by_id) REFERENCES users (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS push_subscriptions (
	id INTEGER NOT NULL AUTO_INCREMENT,
	user_id INTEGER NOT NULL,
	endpoint_hash VARCHAR(64) NOT NULL,
	endpoint TEXT NOT NULL,
	p256dh VARCHAR(200) NOT NULL,
	auth VARCHAR(64) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_push_subscriptions PRIMARY KEY (id),
	CONSTRAINT fk_push_subscriptions_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT uq_push_subscriptions_endpoint_hash UNIQUE (endpoint_hash)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_push_subscriptions_user_id ON push_subscriptions (user_id);

CREATE TABLE IF NOT EXISTS recovery_codes (
	id INTEGER NOT NULL AUTO_INCREMENT,
	user_id INTEGER NOT NULL,
	code_hash VARCHAR(64) NOT NULL,
	used_at DATETIME(6),
	CONSTRAINT pk_recovery_codes PRIMARY KEY (id),
	CONSTRAINT fk_recovery_codes_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_recovery_codes_user_id ON recovery_codes (user_id);

CREATE TABLE IF NOT EXISTS sale_events (
	id INTEGER NOT NULL AUTO_INCREMENT,
	organizer_id INTEGER NOT NULL,
	title VARCHAR(120) NOT NULL,
	description TEXT NOT NULL,
	terms TEXT NOT NULL,
	terms_version INTEGER NOT NULL DEFAULT 1,
	first_close_at DATETIME(6) NOT NULL,
	lot_interval_seconds INTEGER NOT NULL,
	soft_close_seconds INTEGER NOT NULL,
	premium_bps INTEGER NOT NULL DEFAULT 0,
	deposit_bps INTEGER,
	deposit_minimum BIGINT,
	requires_approval BOOL NOT NULL DEFAULT 0,
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_sale_events PRIMARY KEY (id),
	CONSTRAINT fk_sale_events_organizer_id_users FOREIGN KEY(organizer_id) REFERENCES users (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_sale_events_organizer_id ON sale_events (organizer_id);

CREATE TABLE IF NOT EXISTS wallets (
	id INTEGER NOT NULL AUTO_INCREMENT,
	user_id INTEGER,
	kind VARCHAR(16) NOT NULL DEFAULT 'user',
	code VARCHAR(32),
	available BIGINT NOT NULL DEFAULT 0,
	held BIGINT NOT NULL DEFAULT 0,
	frozen BIGINT NOT NULL DEFAULT 0,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_wallets PRIMARY KEY (id),
	CONSTRAINT uq_wallets_user_id UNIQUE (user_id),
	CONSTRAINT fk_wallets_user_id_users FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT uq_wallets_code UNIQUE (code)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS withdrawals (
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
	CONSTRAINT fk_withdrawals_user_id_users FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT uq_withdrawals_external_reference UNIQUE (external_reference),
	CONSTRAINT uq_withdrawals_asaas_transfer_id UNIQUE (asaas_transfer_id),
	CONSTRAINT fk_withdrawals_approved_by_id_users FOREIGN KEY(approved_by_id) REFERENCES users (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_withdrawals_status_updated_at ON withdrawals (status, updated_at);

CREATE INDEX IF NOT EXISTS ix_withdrawals_user_id ON withdrawals (user_id);

CREATE TABLE IF NOT EXISTS auctions (
	id INTEGER NOT NULL AUTO_INCREMENT,
	seller_id INTEGER NOT NULL,
	title VARCHAR(120) NOT NULL,
	description TEXT NOT NULL,
	starting_price BIGINT NOT NULL,
	min_increment BIGINT,
	reserve_price BIGINT,
	buy_now_price BIGINT,
	item_condition VARCHAR(16),
	delivery VARCHAR(8),
	shipping_cost BIGINT,
	city VARCHAR(80),
	uf VARCHAR(2),
	starts_at DATETIME(6) NOT NULL,
	ends_at DATETIME(6) NOT NULL,
	status VARCHAR(16) NOT NULL DEFAULT 'scheduled',
	current_price BIGINT,
	leader_id INTEGER,
	leader_max BIGINT,
	bid_count INTEGER NOT NULL DEFAULT 0,
	version INTEGER NOT NULL DEFAULT 0,
	winner_id INTEGER,
	final_price BIGINT,
	reserve_met BOOL,
	ending_soon_stage SMALLINT NOT NULL DEFAULT 0,
	finished_at DATETIME(6),
	created_at DATETIME(6) NOT NULL,
	event_id INTEGER,
	lot_number INTEGER,
	relisted_from_id INTEGER,
	CONSTRAINT pk_auctions PRIMARY KEY (id),
	CONSTRAINT uq_auctions_event_lot UNIQUE (event_id, lot_number),
	CONSTRAINT fk_auctions_seller_id_users FOREIGN KEY(seller_id) REFERENCES users (id),
	CONSTRAINT fk_auctions_leader_id_users FOREIGN KEY(leader_id) REFERENCES users (id),
	CONSTRAINT fk_auctions_winner_id_users FOREIGN KEY(winner_id) REFERENCES users (id),
	CONSTRAINT fk_auctions_event_id_sale_events FOREIGN KEY(event_id) REFERENCES sale_events (id),
	CONSTRAINT uq_auctions_relisted_from_id UNIQUE (relisted_from_id),
	CONSTRAINT fk_auctions_relisted_from_id_auctions FOREIGN KEY(relisted_from_id) REFERENCES auctions (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_auctions_seller_id ON auctions (seller_id);

CREATE INDEX IF NOT EXISTS ix_auctions_status_ends_at ON auctions (status, ends_at);

CREATE TABLE IF NOT EXISTS event_registrations (
	id INTEGER NOT NULL AUTO_INCREMENT,
	event_id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	terms_version INTEGER NOT NULL,
	accepted_at DATETIME(6) NOT NULL,
	status VARCHAR(16) NOT NULL DEFAULT 'approved',
	buying_power BIGINT,
	deposit BIGINT NOT NULL DEFAULT 0,
	decided_by INTEGER,
	decided_at DATETIME(6),
	CONSTRAINT pk_event_registrations PRIMARY KEY (id),
	CONSTRAINT uq_event_registrations_event_user UNIQUE (event_id, user_id),
	CONSTRAINT fk_event_registrations_event_id_sale_events FOREIGN KEY(event_id) REFERENCES sale_events (id),
	CONSTRAINT fk_event_registrations_user_id_users FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT fk_event_registrations_decided_by_users FOREIGN KEY(decided_by) REFERENCES users (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_event_registrations_user_id ON event_registrations (user_id);

CREATE TABLE IF NOT EXISTS payments (
	id INTEGER NOT NULL AUTO_INCREMENT,
	user_id INTEGER,
	external_reference VARCHAR(100),
	asaas_payment_id VARCHAR(64),
	payment_link_id INTEGER,
	asaas_customer_id VARCHAR(64),
	value BIGINT NOT NULL,
	billing_type VARCHAR(20),
	status VARCHAR(40) NOT NULL DEFAULT 'NEW',
	deleted BOOL NOT NULL DEFAULT 0,
	refunded BIGINT NOT NULL DEFAULT 0,
	credited BIGINT NOT NULL DEFAULT 0,
	invoice_url VARCHAR(512),
	matched BOOL NOT NULL DEFAULT 1,
	paid_stage SMALLINT NOT NULL DEFAULT 0,
	chargeback_stage SMALLINT NOT NULL DEFAULT 0,
	removal_stage SMALLINT NOT NULL DEFAULT 0,
	cash_stage SMALLINT NOT NULL DEFAULT 0,
	refund_stage SMALLINT NOT NULL DEFAULT 0,
	refund_requested BIGINT NOT NULL DEFAULT 0,
	net_value BIGINT,
	frozen BIGINT NOT NULL DEFAULT 0,
	movements INTEGER NOT NULL DEFAULT 0,
	cash_credited_by_id INTEGER,
	cash_credited_at DATETIME(6),
	payer_checked_at DATETIME(6),
	last_event VARCHAR(64),
	next_check_at DATETIME(6),
	checks INTEGER NOT NULL DEFAULT 0,
	created_at DATETIME(6) NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_payments PRIMARY KEY (id),
	CONSTRAINT fk_payments_user_id_users FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT uq_payments_external_reference UNIQUE (external_reference),
	CONSTRAINT uq_payments_asaas_payment_id UNIQUE (asaas_payment_id),
	CONSTRAINT fk_payments_payment_link_id_payment_links FOREIGN KEY(payment_link_id) REFERENCES payment_links (id),
	CONSTRAINT fk_payments_cash_credited_by_id_users FOREIGN KEY(cash_credited_by_id) REFERENCES users (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_payments_next_check_at ON payments (next_check_at);

CREATE INDEX IF NOT EXISTS ix_payments_payment_link_id ON payments (payment_link_id);

CREATE INDEX IF NOT EXISTS ix_payments_user_id ON payments (user_id);

CREATE TABLE IF NOT EXISTS alert_deliveries (
	id INTEGER NOT NULL AUTO_INCREMENT,
	user_id INTEGER NOT NULL,
	kind VARCHAR(32) NOT NULL,
	channel VARCHAR(8) NOT NULL,
	auction_id INTEGER,
	message VARCHAR(500) NOT NULL,
	path VARCHAR(200) NOT NULL,
	status VARCHAR(8) NOT NULL DEFAULT 'pending',
	note VARCHAR(300),
	attempts INTEGER NOT NULL DEFAULT 0,
	due_at DATETIME(6) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	sent_at DATETIME(6),
	CONSTRAINT pk_alert_deliveries PRIMARY KEY (id),
	CONSTRAINT fk_alert_deliveries_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_alert_deliveries_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id) ON DELETE SET NULL
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_alert_deliveries_status_due_at ON alert_deliveries (status, due_at);

CREATE INDEX IF NOT EXISTS ix_alert_deliveries_user_id_kind_auction_id ON alert_deliveries (user_id, kind, auction_id);

CREATE TABLE IF NOT EXISTS auction_photos (
	id INTEGER NOT NULL AUTO_INCREMENT,
	auction_id INTEGER NOT NULL,
	`position` INTEGER NOT NULL,
	filename VARCHAR(80) NOT NULL,
	content_type VARCHAR(40) NOT NULL,
	size INTEGER NOT NULL,
	CONSTRAINT pk_auction_photos PRIMARY KEY (id),
	CONSTRAINT uq_auction_photos_position UNIQUE (auction_id, `position`),
	CONSTRAINT fk_auction_photos_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id) ON DELETE CASCADE,
	CONSTRAINT uq_auction_photos_filename UNIQUE (filename)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS bids (
	id INTEGER NOT NULL AUTO_INCREMENT,
	auction_id INTEGER NOT NULL,
	bidder_id INTEGER NOT NULL,
	amount BIGINT NOT NULL,
	max_amount BIGINT,
	is_proxy BOOL NOT NULL DEFAULT 0,
	is_raise BOOL NOT NULL DEFAULT 0,
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_bids PRIMARY KEY (id),
	CONSTRAINT fk_bids_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id),
	CONSTRAINT fk_bids_bidder_id_users FOREIGN KEY(bidder_id) REFERENCES users (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_bids_auction_id_id ON bids (auction_id, id);

CREATE INDEX IF NOT EXISTS ix_bids_bidder_id ON bids (bidder_id);

CREATE TABLE IF NOT EXISTS holds (
	id INTEGER NOT NULL AUTO_INCREMENT,
	wallet_id INTEGER NOT NULL,
	auction_id INTEGER NOT NULL,
	amount BIGINT NOT NULL DEFAULT 0,
	status VARCHAR(16) NOT NULL DEFAULT 'open',
	updated_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_holds PRIMARY KEY (id),
	CONSTRAINT uq_holds_wallet_auction UNIQUE (wallet_id, auction_id),
	CONSTRAINT fk_holds_wallet_id_wallets FOREIGN KEY(wallet_id) REFERENCES wallets (id),
	CONSTRAINT fk_holds_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_holds_auction_id ON holds (auction_id);

CREATE TABLE IF NOT EXISTS notifications (
	id INTEGER NOT NULL AUTO_INCREMENT,
	user_id INTEGER NOT NULL,
	kind VARCHAR(32) NOT NULL,
	message VARCHAR(500) NOT NULL,
	auction_id INTEGER,
	payment_id INTEGER,
	read_at DATETIME(6),
	created_at DATETIME(6) NOT NULL,
	alert_pending BOOL NOT NULL DEFAULT 0,
	CONSTRAINT pk_notifications PRIMARY KEY (id),
	CONSTRAINT fk_notifications_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_notifications_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id) ON DELETE SET NULL,
	CONSTRAINT fk_notifications_payment_id_payments FOREIGN KEY(payment_id) REFERENCES payments (id) ON DELETE SET NULL
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_notifications_alert_pending ON notifications (alert_pending);

CREATE INDEX IF NOT EXISTS ix_notifications_user_id_id ON notifications (user_id, id);

CREATE TABLE IF NOT EXISTS orders (
	id INTEGER NOT NULL AUTO_INCREMENT,
	auction_id INTEGER NOT NULL,
	sale_round SMALLINT NOT NULL DEFAULT 0,
	buyer_id INTEGER NOT NULL,
	seller_id INTEGER NOT NULL,
	price BIGINT NOT NULL,
	premium BIGINT NOT NULL DEFAULT 0,
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
	CONSTRAINT uq_orders_auction_round UNIQUE (auction_id, sale_round),
	CONSTRAINT fk_orders_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id),
	CONSTRAINT fk_orders_buyer_id_users FOREIGN KEY(buyer_id) REFERENCES users (id),
	CONSTRAINT fk_orders_seller_id_users FOREIGN KEY(seller_id) REFERENCES users (id),
	CONSTRAINT fk_orders_resolved_by_id_users FOREIGN KEY(resolved_by_id) REFERENCES users (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_orders_buyer_id ON orders (buyer_id);

CREATE INDEX IF NOT EXISTS ix_orders_seller_id ON orders (seller_id);

CREATE INDEX IF NOT EXISTS ix_orders_status_updated_at ON orders (status, updated_at);

CREATE TABLE IF NOT EXISTS payment_instructions (
	payment_id INTEGER NOT NULL,
	kind VARCHAR(8) NOT NULL,
	code TEXT NOT NULL,
	image MEDIUMTEXT,
	expires_at DATETIME(6),
	fetched_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_payment_instructions PRIMARY KEY (payment_id),
	CONSTRAINT fk_payment_instructions_payment_id_payments FOREIGN KEY(payment_id) REFERENCES payments (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS watches (
	id INTEGER NOT NULL AUTO_INCREMENT,
	user_id INTEGER NOT NULL,
	auction_id INTEGER NOT NULL,
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_watches PRIMARY KEY (id),
	CONSTRAINT uq_watches_user_auction UNIQUE (user_id, auction_id),
	CONSTRAINT fk_watches_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT fk_watches_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_watches_auction_id ON watches (auction_id);

CREATE TABLE IF NOT EXISTS ledger_transactions (
	id INTEGER NOT NULL AUTO_INCREMENT,
	idempotency_key VARCHAR(191) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	reason VARCHAR(32) NOT NULL,
	amount BIGINT NOT NULL,
	wallet_id INTEGER NOT NULL,
	auction_id INTEGER,
	bid_id INTEGER,
	payment_id INTEGER,
	created_debt BOOL NOT NULL DEFAULT 0,
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_ledger_transactions PRIMARY KEY (id),
	CONSTRAINT uq_ledger_transactions_idempotency_key UNIQUE (idempotency_key),
	CONSTRAINT fk_ledger_transactions_wallet_id_wallets FOREIGN KEY(wallet_id) REFERENCES wallets (id),
	CONSTRAINT fk_ledger_transactions_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id),
	CONSTRAINT fk_ledger_transactions_bid_id_bids FOREIGN KEY(bid_id) REFERENCES bids (id),
	CONSTRAINT fk_ledger_transactions_payment_id_payments FOREIGN KEY(payment_id) REFERENCES payments (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_ledger_transactions_auction_id ON ledger_transactions (auction_id);

CREATE INDEX IF NOT EXISTS ix_ledger_transactions_payment_id ON ledger_transactions (payment_id);

CREATE INDEX IF NOT EXISTS ix_ledger_transactions_wallet_id ON ledger_transactions (wallet_id);

CREATE TABLE IF NOT EXISTS second_chance_offers (
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
	CONSTRAINT fk_second_chance_offers_seller_id_users FOREIGN KEY(seller_id) REFERENCES users (id),
	CONSTRAINT fk_second_chance_offers_bidder_id_users FOREIGN KEY(bidder_id) REFERENCES users (id),
	CONSTRAINT fk_second_chance_offers_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_second_chance_offers_auction_id ON second_chance_offers (auction_id);

CREATE INDEX IF NOT EXISTS ix_second_chance_offers_bidder_status ON second_chance_offers (bidder_id, status);

CREATE TABLE IF NOT EXISTS seller_ratings (
	id INTEGER NOT NULL AUTO_INCREMENT,
	order_id INTEGER NOT NULL,
	seller_id INTEGER NOT NULL,
	buyer_id INTEGER NOT NULL,
	stars SMALLINT NOT NULL,
	comment VARCHAR(1000) NOT NULL,
	reply VARCHAR(1000),
	replied_at DATETIME(6),
	created_at DATETIME(6) NOT NULL,
	CONSTRAINT pk_seller_ratings PRIMARY KEY (id),
	CONSTRAINT uq_seller_ratings_order_id UNIQUE (order_id),
	CONSTRAINT fk_seller_ratings_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id),
	CONSTRAINT fk_seller_ratings_seller_id_users FOREIGN KEY(seller_id) REFERENCES users (id),
	CONSTRAINT fk_seller_ratings_buyer_id_users FOREIGN KEY(buyer_id) REFERENCES users (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_seller_ratings_seller_id_created_at ON seller_ratings (seller_id, created_at);

CREATE TABLE IF NOT EXISTS ledger_entries (
	id INTEGER NOT NULL AUTO_INCREMENT,
	transaction_id INTEGER NOT NULL,
	wallet_id INTEGER NOT NULL,
	bucket VARCHAR(9) NOT NULL,
	amount BIGINT NOT NULL,
	CONSTRAINT pk_ledger_entries PRIMARY KEY (id),
	CONSTRAINT fk_ledger_entries_transaction_id_ledger_transactions FOREIGN KEY(transaction_id) REFERENCES ledger_transactions (id),
	CONSTRAINT fk_ledger_entries_wallet_id_wallets FOREIGN KEY(wallet_id) REFERENCES wallets (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX IF NOT EXISTS ix_ledger_entries_transaction_id ON ledger_entries (transaction_id);

CREATE INDEX IF NOT EXISTS ix_ledger_entries_wallet_id_id ON ledger_entries (wallet_id, id);

CREATE TABLE IF NOT EXISTS alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

INSERT INTO alembic_version (version_num) SELECT '0017' FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM alembic_version);
