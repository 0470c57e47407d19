-- Billing (flows 14-20) and usage (flows 27-29): the tables the quote, signing, committed-volume,
-- billing-period and execution flows share. Money is integer cents in the row's `currency`; times
-- are RFC 3339 UTC text; ids are UUID v7.

-- What a revision adds to a quote (flow 14) and how it was decided (flows 15, 18).
ALTER TABLE quotes ADD COLUMN discount_percent INTEGER NOT NULL DEFAULT 0
    CHECK (discount_percent BETWEEN 0 AND 100);
ALTER TABLE quotes ADD COLUMN note TEXT;                 -- ops' note on a revision
ALTER TABLE quotes ADD COLUMN accepted_at TEXT;
ALTER TABLE quotes ADD COLUMN rejected_reason TEXT;
ALTER TABLE quotes ADD COLUMN decided_at TEXT;           -- signed, rejected, expired or superseded

-- The signature of a signed quote (flow 16): who, when, from where, and the SHA-256 of the
-- rendered quote document they signed.
CREATE TABLE quote_signatures (
    quote_id        TEXT PRIMARY KEY REFERENCES quotes (id),
    signer_name     TEXT NOT NULL,
    signer_title    TEXT NOT NULL,
    signed_by       TEXT NOT NULL,                  -- the user id
    ip              TEXT,
    user_agent      TEXT,
    document_sha256 TEXT NOT NULL,
    signed_at       TEXT NOT NULL
) STRICT;

-- The workspace's payment method on file. At most one is `active`; a newer one replaces it.
CREATE TABLE payment_methods (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL CHECK (provider IN ('manual', 'stripe')),
    customer    TEXT,                               -- the provider's customer id (stripe)
    method      TEXT,                               -- the provider's method id (stripe)
    label       TEXT NOT NULL,                      -- for people: "Invoice", "Visa •••• 4242"
    status      TEXT NOT NULL CHECK (status IN ('active', 'replaced')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX payment_methods_active ON payment_methods (status) WHERE status = 'active';

-- Every charge asked of the provider, claimed (`pending`) in its own transaction before the call
-- and settled after it, so a retried or concurrent request finds the claim and never charges
-- twice. `key` is the idempotency key (`quote:<id>:r<rev>:setup_fee`, `invoice:<id>`, ...).
CREATE TABLE charges (
    key              TEXT PRIMARY KEY,
    purpose          TEXT NOT NULL CHECK (purpose IN ('setup_fee', 'proration', 'invoice')),
    amount_cents     INTEGER NOT NULL CHECK (amount_cents > 0),
    currency         TEXT NOT NULL,
    provider         TEXT NOT NULL CHECK (provider IN ('manual', 'stripe')),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'invoiced', 'failed')),
    reference        TEXT,                          -- the provider's payment or invoice reference
    failure_code     TEXT,
    failure_message  TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;

-- A signed quote's subscription (flows 16, 17): the monthly fee and the committed volume. One
-- `active` subscription per automation; deploying a new version's signed quote ends the old one.
-- A decrease of the commitment waits in `pending_*` until `pending_from` (the next period).
CREATE TABLE subscriptions (
    id                         TEXT PRIMARY KEY,
    automation_id              TEXT NOT NULL REFERENCES automations (id),
    version                    INTEGER NOT NULL,
    quote_id                   TEXT NOT NULL REFERENCES quotes (id),
    status                     TEXT NOT NULL CHECK (status IN ('active', 'ended')),
    currency                   TEXT NOT NULL,
    monthly_fee_cents          INTEGER NOT NULL CHECK (monthly_fee_cents >= 0),
    committed_monthly_runs     INTEGER NOT NULL CHECK (committed_monthly_runs >= 0),
    overage_unit_cents         INTEGER NOT NULL CHECK (overage_unit_cents >= 0),
    pending_monthly_fee_cents  INTEGER CHECK (pending_monthly_fee_cents >= 0),
    pending_committed_runs     INTEGER CHECK (pending_committed_runs >= 0),
    pending_quote_id           TEXT REFERENCES quotes (id),
    pending_from               TEXT,                -- YYYY-MM
    started_at                 TEXT NOT NULL,
    ended_at                   TEXT,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL,
    FOREIGN KEY (automation_id, version) REFERENCES versions (automation_id, number)
) STRICT;
CREATE UNIQUE INDEX subscriptions_active ON subscriptions (automation_id) WHERE status = 'active';

-- Invoices (flows 16, 17, 20): the setup fee of a signed quote when paid by invoice, a
-- proration, or a UTC calendar month. At most one period invoice per period.
CREATE TABLE invoices (
    id               TEXT PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,          -- for people: INV-<yyyy>-<nnnn>
    kind             TEXT NOT NULL CHECK (kind IN ('setup_fee', 'proration', 'period')),
    period           TEXT NOT NULL,                 -- YYYY-MM
    status           TEXT NOT NULL CHECK (status IN ('draft', 'finalized', 'paid', 'failed')),
    currency         TEXT NOT NULL,
    total_cents      INTEGER NOT NULL CHECK (total_cents >= 0),
    quote_id         TEXT REFERENCES quotes (id),   -- setup_fee and proration invoices
    charge_key       TEXT REFERENCES charges (key),
    attempts         INTEGER NOT NULL DEFAULT 0,    -- charge attempts (dunning, flow 20)
    first_failed_at  TEXT,
    next_attempt_at  TEXT,
    paid_at          TEXT,
    paid_reference   TEXT,
    finalized_at     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX invoices_one_per_period ON invoices (period) WHERE kind = 'period';
CREATE INDEX invoices_status ON invoices (status, id);

CREATE TABLE invoice_lines (
    invoice_id     TEXT NOT NULL REFERENCES invoices (id),
    position       INTEGER NOT NULL,
    code           TEXT NOT NULL,                   -- monthly_fee | overage | proration | setup_fee
    description    TEXT NOT NULL,
    automation_id  TEXT,
    quantity       INTEGER NOT NULL CHECK (quantity >= 0),
    unit_cents     INTEGER NOT NULL CHECK (unit_cents >= 0),
    amount_cents   INTEGER NOT NULL,                -- may be negative for a credit
    PRIMARY KEY (invoice_id, position)
) STRICT;

-- Runs per automation and UTC month, counted from platform events (flow 27) exactly once: the
-- event ids already counted are kept in the execution flow's own table.
CREATE TABLE usage_counters (
    automation_id  TEXT NOT NULL REFERENCES automations (id),
    period         TEXT NOT NULL,                   -- YYYY-MM
    runs           INTEGER NOT NULL DEFAULT 0 CHECK (runs >= 0),
    succeeded      INTEGER NOT NULL DEFAULT 0 CHECK (succeeded >= 0),
    failed         INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (automation_id, period)
) STRICT;

-- The workspace's pricing override (flow 19), passed to the pricing plugin as
-- `tenant.overrides`. The plugin version pin stays in control.db's `plugin_pins`.
CREATE TABLE pricing_override (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    discount_percent    INTEGER CHECK (discount_percent BETWEEN 0 AND 100),
    setup_fee_cents     INTEGER CHECK (setup_fee_cents >= 0),
    overage_unit_cents  INTEGER CHECK (overage_unit_cents >= 0),
    updated_by          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;
