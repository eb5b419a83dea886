-- Webhooks (issue 20): a delivery is claimed only when none before it of
-- its endpoint waits; that question (this endpoint, waiting, below this
-- seq) is read from this index in two short ranges, whatever the length
-- of the endpoint's history of delivered ones.
ALTER TABLE webhook_deliveries ADD KEY ix_deliveries_waiting (webhook_id, status, seq);
