-- Committed-volume changes and billing periods (flows 17, 20): which automation a proration
-- charge is for, and the period invoice that billed it, so a proration paid by invoice is billed
-- exactly once.
ALTER TABLE charges ADD COLUMN automation_id TEXT;
ALTER TABLE charges ADD COLUMN billed_invoice_id TEXT REFERENCES invoices (id);
CREATE INDEX charges_unbilled_prorations ON charges (purpose, status, billed_invoice_id);
-- Dunning (flow 20) looks for failed invoices whose next attempt is due.
CREATE INDEX invoices_next_attempt ON invoices (status, next_attempt_at);
