// The PostgreSQL store's schema and its write function. Writes reach the database as data:
// a batch (every write made in one tick) goes as one JSON array to smsgw_apply, which
// applies it in call order inside the one statement's transaction and answers with one
// outcome per write, so a batch costs one round trip and one COMMIT however many messages
// it holds. JSON documents (meta, details, receipts, settings, records) travel as strings
// and are stored as `json`, which keeps them exactly as written (key order included).

import { refundedSql } from './billing.ts';

/**
 * Bumped with every change below; a database from a newer smsgw is refused. Version 8 adds
 * no table: its gateways send writes (the bulk, smsgw_apply_bulk) that the functions of an
 * older one do not know, and an older gateway starting would put those functions back.
 * Version 9 adds batch_recipients (batches' staged recipients) and the writes to it.
 */
export const schemaVersion = 9;

/** Serialises concurrent migrations of gateways starting together (pg_advisory_xact_lock). */
export const migrationLock = 0x736d7367; // "smsg"

/** The first key of the advisory locks that serialise charges to one account (see smsgw_lock_accounts). */
const accountLockClass = 0x736d; // "sm"

export const schemaTables = `
CREATE TABLE IF NOT EXISTS smsgw_schema (version integer NOT NULL);

-- Gateway processes sharing the database, each alive while its lease (database clock, ms) runs.
CREATE TABLE IF NOT EXISTS smsgw_instances (
  id text PRIMARY KEY,
  lease_until bigint NOT NULL
);
-- Who each is, for GET /v1/admin/nodes (version 3).
ALTER TABLE smsgw_instances ADD COLUMN IF NOT EXISTS host text,
  ADD COLUMN IF NOT EXISTS pid integer, ADD COLUMN IF NOT EXISTS started_at bigint,
  ADD COLUMN IF NOT EXISTS info json;

CREATE TABLE IF NOT EXISTS messages (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text COLLATE "C" NOT NULL UNIQUE,
  account_id text NOT NULL,
  direction text NOT NULL,
  status text NOT NULL,
  to_addr text NOT NULL,
  from_addr text NOT NULL,
  text text,
  binary_data bytea,
  udh bytea,
  encoding text NOT NULL,
  segments integer NOT NULL,
  priority smallint NOT NULL,
  client_ref text,
  callback_url text,
  flash boolean NOT NULL,
  origin text NOT NULL,
  receipt_requested boolean NOT NULL,
  connector_id text,
  created_at bigint NOT NULL,
  send_at bigint,
  valid_until bigint,
  submitted_at bigint,
  done_at bigint,
  attempts integer NOT NULL,
  next_attempt_at bigint,
  error_code text,
  error_message text,
  group_id text,
  meta json,
  -- The instance that holds the message for sending (see smsgw_claimable).
  claimed_by text
);
-- Dispatch order (priority rank, then acceptance).
CREATE INDEX IF NOT EXISTS messages_due ON messages (priority, created_at, seq) WHERE status = 'queued';
-- Each account's queued messages in dispatch order: refills take accounts in turn.
CREATE INDEX IF NOT EXISTS messages_due_account
  ON messages (account_id, priority, created_at, seq) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS messages_account ON messages (account_id, created_at, id);
-- The statuses looked up by status have partial indexes of their own (version 5): an index
-- of every row's status made each status change write an entry into it.
DROP INDEX IF EXISTS messages_status;
CREATE INDEX IF NOT EXISTS messages_scheduled ON messages (send_at) WHERE status = 'scheduled';
CREATE INDEX IF NOT EXISTS messages_sending ON messages (claimed_by) WHERE status = 'sending';
CREATE INDEX IF NOT EXISTS messages_validity
  ON messages (valid_until) WHERE status IN ('queued', 'scheduled') AND valid_until IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_group ON messages (group_id, status) WHERE group_id IS NOT NULL;
-- A number's messages and a search by number or client reference (version 6).
CREATE INDEX IF NOT EXISTS messages_to ON messages (account_id, to_addr, created_at);
CREATE INDEX IF NOT EXISTS messages_from ON messages (account_id, from_addr, created_at) WHERE direction = 'mo';
CREATE INDEX IF NOT EXISTS messages_client_ref ON messages (account_id, client_ref, created_at) WHERE client_ref IS NOT NULL;

CREATE TABLE IF NOT EXISTS message_events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id text COLLATE "C" NOT NULL,
  at bigint NOT NULL,
  type text NOT NULL,
  detail json
);
CREATE INDEX IF NOT EXISTS message_events_message ON message_events (message_id, seq);

CREATE TABLE IF NOT EXISTS smsc_links (
  connector_id text NOT NULL,
  smsc_id text NOT NULL,
  message_id text NOT NULL,
  part integer NOT NULL,
  parts integer NOT NULL,
  PRIMARY KEY (connector_id, smsc_id)
);

-- The binds each instance's ESMEs hold per account, so maxBinds holds for the cluster.
CREATE TABLE IF NOT EXISTS smsgw_esme_binds (
  instance text NOT NULL,
  account_id text NOT NULL,
  binds integer NOT NULL,
  PRIMARY KEY (instance, account_id)
);

-- Each connector's binds, a budget the instances share: a slot is held by one instance at a
-- time, and is free again once its holder's lease ends.
CREATE TABLE IF NOT EXISTS smsgw_bind_slots (
  connector_id text NOT NULL,
  slot integer NOT NULL,
  holder text,
  PRIMARY KEY (connector_id, slot)
);

-- The final outcome each part of a long message got from its receipt (version 2): the
-- message is settled from all of them.
CREATE TABLE IF NOT EXISTS message_parts (
  message_id text COLLATE "C" NOT NULL,
  part integer NOT NULL,
  outcome text NOT NULL,
  PRIMARY KEY (message_id, part)
);

CREATE TABLE IF NOT EXISTS unmatched_receipts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  connector_id text NOT NULL,
  smsc_id text NOT NULL,
  received_at bigint NOT NULL,
  receipt json NOT NULL
);
CREATE INDEX IF NOT EXISTS unmatched_receipts_smsc ON unmatched_receipts (connector_id, smsc_id);
CREATE INDEX IF NOT EXISTS unmatched_receipts_received ON unmatched_receipts (received_at);

CREATE TABLE IF NOT EXISTS idempotency (
  account_id text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status_code integer NOT NULL,
  response json NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (account_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expires_at);

CREATE TABLE IF NOT EXISTS accounts (
  id text COLLATE "C" PRIMARY KEY,
  settings json NOT NULL
);
CREATE TABLE IF NOT EXISTS account_api_keys (
  hash text PRIMARY KEY,
  account_id text NOT NULL,
  position integer NOT NULL
);
CREATE INDEX IF NOT EXISTS account_api_keys_account ON account_api_keys (account_id, position);

-- Identity ids are never reused: senders track deliveries in flight by id.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id text NOT NULL,
  url text NOT NULL,
  secret text,
  body text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  created_at bigint NOT NULL,
  last_error text,
  abandoned_at bigint,
  -- How it is sent: a compat API's callback may be a GET, a form, signed in a header.
  method text NOT NULL DEFAULT 'POST',
  content_type text,
  headers json,
  -- A reply handler registered with the sender by this name reads the 2xx answer (TwiML).
  reply text,
  claimed_by text
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due
  ON webhook_deliveries (next_attempt_at, id) WHERE abandoned_at IS NULL;

CREATE TABLE IF NOT EXISTS esme_deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id text NOT NULL,
  created_at bigint NOT NULL,
  payload json NOT NULL
);
CREATE INDEX IF NOT EXISTS esme_deliveries_account ON esme_deliveries (account_id, id);
-- The instance that sends it (see smsgw_claimable); NULL: any with a receiver bind may.
ALTER TABLE esme_deliveries ADD COLUMN IF NOT EXISTS claimed_by text;

-- id: UTF-8 bytes (see recordKey in postgres.ts).
CREATE TABLE IF NOT EXISTS records (
  kind text COLLATE "C" NOT NULL,
  id bytea NOT NULL,
  account_id text NOT NULL,
  ref text,
  status text,
  due_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  version integer NOT NULL,
  data json NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS records_account ON records (kind, account_id, created_at, id);
CREATE INDEX IF NOT EXISTS records_ref ON records (kind, ref, created_at, id) WHERE ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_due ON records (kind, due_at, id) WHERE due_at IS NOT NULL;

-- A batch's recipients as uploaded, in order, until each becomes a message as the batch
-- sends (src/bulk): compact, and no index beside the key. vars: JSON text, or null.
CREATE TABLE IF NOT EXISTS batch_recipients (
  batch_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  to_addr text NOT NULL,
  vars text,
  PRIMARY KEY (batch_id, seq)
);

-- Billing (version 4): what a message costs its account (micro-units of the currency), each
-- account's money, every movement of it, and its message counts per quota period.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS price bigint, ADD COLUMN IF NOT EXISTS currency text;
CREATE TABLE IF NOT EXISTS balances (
  account_id text COLLATE "C" PRIMARY KEY,
  currency text NOT NULL,
  balance bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id text NOT NULL,
  at bigint NOT NULL,
  kind text NOT NULL,
  amount bigint NOT NULL,
  balance bigint NOT NULL,
  currency text NOT NULL,
  message_id text,
  reference text
);
CREATE INDEX IF NOT EXISTS ledger_account ON ledger (account_id, id);
CREATE INDEX IF NOT EXISTS ledger_message ON ledger (message_id) WHERE message_id IS NOT NULL;
-- A message's price comes back once.
CREATE UNIQUE INDEX IF NOT EXISTS ledger_refund ON ledger (message_id) WHERE kind = 'refund';
CREATE TABLE IF NOT EXISTS quota_counts (
  account_id text NOT NULL,
  period text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (account_id, period)
);

-- Messages counted per minute (unix second of its start) by metric, account and connector
-- ('' for none), added to by every gateway (version 7): the console's charts.
CREATE TABLE IF NOT EXISTS stats_minutes (
  metric text COLLATE "C" NOT NULL,
  minute bigint NOT NULL,
  account_id text COLLATE "C" NOT NULL,
  connector_id text COLLATE "C" NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (metric, minute, account_id, connector_id)
);
`;

/** A message row from its JSON `m` (and the writing instance, `w->>'instance'`, as its claimer). */
const messageInsert = `
  INSERT INTO messages (id, account_id, direction, status, to_addr, from_addr, text, binary_data, udh,
    encoding, segments, priority, client_ref, callback_url, flash, origin, receipt_requested, connector_id,
    created_at, send_at, valid_until, submitted_at, done_at, attempts, next_attempt_at, error_code,
    error_message, group_id, meta, price, currency, claimed_by)
  SELECT m->>'id', m->>'accountId', m->>'direction', m->>'status', m->>'to', m->>'from', m->>'text',
    decode(m->>'binary', 'base64'), decode(m->>'udh', 'base64'), m->>'encoding', (m->>'segments')::integer,
    (m->>'priority')::smallint, m->>'clientRef', m->>'callbackUrl', (m->>'flash')::boolean, m->>'origin',
    (m->>'receiptRequested')::boolean, m->>'connectorId', (m->>'createdAt')::bigint,
    (m->>'sendAt')::bigint, (m->>'validUntil')::bigint, (m->>'submittedAt')::bigint,
    (m->>'doneAt')::bigint, (m->>'attempts')::integer, (m->>'nextAttemptAt')::bigint,
    m->'error'->>'code', m->'error'->>'message', m->>'groupId', (m->>'meta')::json, (m->>'priceMicros')::bigint,
    m->>'currency', w->>'instance'`;

/**
 * A message's columns set from a patch `p` (jsonb): a key the patch has replaces its column,
 * the others keep theirs. Shared by the one-write and the bulk update.
 */
const messagePatchColumns = `
      status = CASE WHEN p ? 'status' THEN p->>'status' ELSE status END,
      connector_id = CASE WHEN p ? 'connectorId' THEN p->>'connectorId' ELSE connector_id END,
      submitted_at = CASE WHEN p ? 'submittedAt' THEN (p->>'submittedAt')::bigint ELSE submitted_at END,
      done_at = CASE WHEN p ? 'doneAt' THEN (p->>'doneAt')::bigint ELSE done_at END,
      attempts = CASE WHEN p ? 'attempts' THEN (p->>'attempts')::integer ELSE attempts END,
      next_attempt_at = CASE WHEN p ? 'nextAttemptAt' THEN (p->>'nextAttemptAt')::bigint ELSE next_attempt_at END,
      error_code = CASE WHEN p ? 'error' THEN p->'error'->>'code' ELSE error_code END,
      error_message = CASE WHEN p ? 'error' THEN p->'error'->>'message' ELSE error_message END,
      segments = CASE WHEN p ? 'segments' THEN (p->>'segments')::integer ELSE segments END,
      text = CASE WHEN p ? 'text' THEN p->>'text' ELSE text END,
      binary_data = CASE WHEN p ? 'binary' THEN decode(p->>'binary', 'base64') ELSE binary_data END,
      encoding = CASE WHEN p ? 'encoding' THEN p->>'encoding' ELSE encoding END,
      meta = CASE WHEN p ? 'meta' THEN (p->>'meta')::json ELSE meta END,
      send_at = CASE WHEN p ? 'sendAt' THEN (p->>'sendAt')::bigint ELSE send_at END,
      valid_until = CASE WHEN p ? 'validUntil' THEN (p->>'validUntil')::bigint ELSE valid_until END`;

/** Replaced on every migrate, so a fix to them needs no schema version of its own. */
export const schemaFunctions = `
-- Lease times follow the database's clock, the one clock every instance shares.
CREATE OR REPLACE FUNCTION smsgw_now_ms() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT (extract(epoch FROM statement_timestamp()) * 1000)::bigint
$$;

-- Whether instance me may take a row claimed by claimer: unclaimed, its own, or the
-- claimer's lease has run out (it stopped or died).
CREATE OR REPLACE FUNCTION smsgw_claimable(claimer text, me text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT claimer IS NULL OR claimer = me OR NOT EXISTS (
    SELECT 1 FROM smsgw_instances WHERE id = claimer AND lease_until > smsgw_now_ms())
$$;

CREATE OR REPLACE FUNCTION smsgw_refused(name text, message text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('ok', false, 'name', name, 'message', message)
$$;

-- The accounts whose balance or quota counters a batch moves, locked in one order (by id)
-- before any of its writes: gateways charging the same accounts at once wait for each
-- other instead of deadlocking over their rows. (Advisory locks also cover rows a charge
-- is yet to create.)
CREATE OR REPLACE FUNCTION smsgw_lock_accounts(batch jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  accounts text[];
  groups text[];
  acct text;
BEGIN
  SELECT array_agg(coalesce(w->'charge'->>'accountId', w->>'accountId')) FILTER (
      WHERE jsonb_typeof(w->'charge') = 'object' OR w->>'op' = 'move'),
    array_agg(w->>'groupId') FILTER (WHERE w->>'op' = 'refundGroup')
    INTO accounts, groups
  FROM jsonb_array_elements(batch) w;
  -- Charges gathered into a bulk (smsgw_apply_bulk) too.
  accounts := accounts || ARRAY(SELECT c->'charge'->>'accountId'
    FROM jsonb_array_elements(batch) w, jsonb_array_elements(w->'charges') c WHERE w->>'op' = 'bulk');
  IF groups IS NOT NULL THEN
    accounts := accounts || ARRAY(SELECT DISTINCT account_id FROM messages WHERE group_id = ANY (groups));
  END IF;
  SELECT array_agg(DISTINCT a ORDER BY a) INTO accounts FROM unnest(accounts) a WHERE a IS NOT NULL;
  IF accounts IS NULL THEN RETURN; END IF;
  FOREACH acct IN ARRAY accounts LOOP
    PERFORM pg_advisory_xact_lock(${accountLockClass}, hashtext(acct));
  END LOOP;
END $$;

-- Takes what accepting messages costs their account (money, quota counts), or refuses it
-- having changed nothing but zero rows. The rows are locked first (FOR UPDATE), so the
-- gateways of a cluster charging one account at once take turns: none overdraws it.
CREATE OR REPLACE FUNCTION smsgw_charge(c jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  acct text := c->>'accountId';
  n_messages bigint := jsonb_array_length(c->'debits');
  total bigint;
  q jsonb;
  d jsonb;
  used bigint;
  bal bigint;
BEGIN
  FOR q IN SELECT value FROM jsonb_array_elements(c->'quotas') LOOP
    INSERT INTO quota_counts (account_id, period, count) VALUES (acct, q->>'period', 0) ON CONFLICT DO NOTHING;
    SELECT qc.count INTO used FROM quota_counts qc WHERE account_id = acct AND period = q->>'period' FOR UPDATE;
    IF used + n_messages > (q->>'limit')::bigint THEN
      RETURN smsgw_refused('StoreLimitError', format('quota %s of %s messages reached', q->>'period', q->>'limit'));
    END IF;
  END LOOP;
  SELECT coalesce(sum((value->>'amount')::bigint), 0) INTO total FROM jsonb_array_elements(c->'debits');
  IF total > 0 THEN
    INSERT INTO balances (account_id, currency, balance) VALUES (acct, c->>'currency', 0) ON CONFLICT DO NOTHING;
    SELECT balance INTO bal FROM balances WHERE account_id = acct FOR UPDATE;
    IF jsonb_typeof(c->'floor') = 'number' AND bal - total < (c->>'floor')::bigint THEN
      RETURN smsgw_refused('StoreLimitError', format('balance %s does not cover %s', bal, total));
    END IF;
  END IF;
  FOR q IN SELECT value FROM jsonb_array_elements(c->'quotas') LOOP
    UPDATE quota_counts qc SET count = qc.count + n_messages WHERE account_id = acct AND period = q->>'period';
  END LOOP;
  IF total = 0 THEN RETURN jsonb_build_array(NULL); END IF;
  FOR d IN SELECT value FROM jsonb_array_elements(c->'debits') WITH ORDINALITY ORDER BY ordinality LOOP
    CONTINUE WHEN (d->>'amount')::bigint = 0;
    bal := bal - (d->>'amount')::bigint;
    INSERT INTO ledger (account_id, at, kind, amount, balance, currency, message_id)
      VALUES (acct, (c->>'at')::bigint, 'debit', -(d->>'amount')::bigint, bal, c->>'currency', d->>'messageId');
  END LOOP;
  UPDATE balances SET balance = bal, currency = c->>'currency' WHERE account_id = acct;
  RETURN jsonb_build_array(bal);
END $$;

-- A movement of an account's balance other than a debit: a credit, or a refund (once per
-- message, of what its debit took; NULL when there is none to give back).
CREATE OR REPLACE FUNCTION smsgw_move(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  acct text := w->>'accountId';
  amt bigint := (w->>'amount')::bigint;
  cur text := w->>'currency';
  bal bigint;
BEGIN
  IF w->>'kind' = 'refund' THEN
    SELECT -amount, currency INTO amt, cur FROM ledger
      WHERE message_id = w->>'messageId' AND kind = 'debit' AND account_id = acct;
    IF NOT FOUND OR EXISTS (SELECT 1 FROM ledger WHERE message_id = w->>'messageId' AND kind = 'refund') THEN
      RETURN NULL;
    END IF;
  END IF;
  INSERT INTO balances (account_id, currency, balance) VALUES (acct, cur, 0) ON CONFLICT DO NOTHING;
  UPDATE balances SET balance = balance + amt, currency = cur WHERE account_id = acct RETURNING balance INTO bal;
  INSERT INTO ledger (account_id, at, kind, amount, balance, currency, message_id, reference)
    VALUES (acct, (w->>'at')::bigint, w->>'kind', amt, bal, cur, w->>'messageId', w->>'reference');
  RETURN to_jsonb(bal);
END $$;

-- Refunds a group's messages that ended before a carrier took them (see billing.ts).
CREATE OR REPLACE FUNCTION smsgw_refund_group(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  d record;
  n integer := 0;
BEGIN
  FOR d IN SELECT l.account_id, l.message_id FROM ledger l JOIN messages m ON m.id = l.message_id
    WHERE m.group_id = w->>'groupId' AND l.kind = 'debit' AND ${refundedSql}
      AND NOT EXISTS (SELECT 1 FROM ledger r WHERE r.message_id = l.message_id AND r.kind = 'refund')
    ORDER BY l.id
  LOOP
    PERFORM smsgw_move(jsonb_build_object('kind', 'refund', 'accountId', d.account_id, 'messageId', d.message_id,
      'at', w->'at'));
    n := n + 1;
  END LOOP;
  RETURN to_jsonb(n);
END $$;

CREATE OR REPLACE FUNCTION smsgw_insert_messages(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  idem jsonb := w->'idempotency';
  charged jsonb := NULL;
BEGIN
  IF jsonb_typeof(w->'charge') = 'object' THEN
    charged := smsgw_charge(w->'charge');
    IF jsonb_typeof(charged) = 'object' THEN RETURN charged; END IF;
  END IF;
  -- Nothing is looked up first: an id already stored (or given twice), or a key still kept,
  -- breaks a unique index, which fails the batch; smsgw_apply's caller then applies it
  -- again write by write, and this write alone is refused (a conflict), with none of its rows.
${messageInsert}
  FROM jsonb_array_elements(w->'messages') WITH ORDINALITY AS e(m, n) ORDER BY n;
  INSERT INTO message_events (message_id, at, type, detail)
    SELECT m->>'id', (m->>'createdAt')::bigint, m->>'status', NULL
    FROM jsonb_array_elements(w->'messages') WITH ORDINALITY AS e(m, n) ORDER BY n;
  IF jsonb_typeof(idem) = 'object' THEN
    INSERT INTO idempotency (account_id, key, request_hash, status_code, response, expires_at)
      VALUES (idem->>'accountId', idem->>'key', idem->>'requestHash', (idem->>'statusCode')::integer,
        (idem->>'response')::json, (idem->>'expiresAt')::bigint);
  END IF;
  -- [balance after] (an array: a write's value is never an object), or NULL without a charge.
  RETURN charged;
END $$;

CREATE OR REPLACE FUNCTION smsgw_update_message(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  p jsonb := w->'patch';
  ev jsonb := w->'event';
BEGIN
  IF p = '{}'::jsonb THEN
    PERFORM 1 FROM messages WHERE id = w->>'id';
  ELSE
    UPDATE messages SET
${messagePatchColumns}
    WHERE id = w->>'id';
  END IF;
  IF NOT FOUND THEN
    RETURN smsgw_refused('StoreNotFoundError', format('no message %s', w->>'id'));
  END IF;
  IF jsonb_typeof(ev) = 'object' THEN
    INSERT INTO message_events (message_id, at, type, detail)
      VALUES (w->>'id', (ev->>'at')::bigint, ev->>'type', (ev->>'detail')::json);
  END IF;
  RETURN NULL;
END $$;

-- Released messages are claimed by nobody: any instance may send them.
CREATE OR REPLACE FUNCTION smsgw_release_scheduled(w jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH released AS (
    UPDATE messages SET status = 'queued', claimed_by = NULL
    WHERE status = 'scheduled' AND send_at <= (w->>'now')::bigint RETURNING id
  ), events AS (
    INSERT INTO message_events (message_id, at, type, detail)
    SELECT id, (w->>'now')::bigint, 'queued', NULL FROM released
  )
  SELECT to_jsonb(count(*)) FROM released
$$;

-- Leaves alone what another live instance holds: it is on that instance's wire.
CREATE OR REPLACE FUNCTION smsgw_requeue_in_flight(w jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH requeued AS (
    UPDATE messages SET status = 'queued', claimed_by = NULL
    WHERE status = 'sending' AND smsgw_claimable(claimed_by, w->>'instance') RETURNING id
  ), events AS (
    INSERT INTO message_events (message_id, at, type, detail)
    SELECT id, (w->>'at')::bigint, 'queued', '{"reason":"restart"}'::json FROM requeued
  )
  SELECT to_jsonb(count(*)) FROM requeued
$$;

CREATE OR REPLACE FUNCTION smsgw_expire_overdue(w jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH expired AS (
    UPDATE messages SET status = 'expired', done_at = (w->>'now')::bigint
    WHERE status IN ('queued', 'scheduled') AND valid_until IS NOT NULL AND valid_until <= (w->>'now')::bigint
      AND id <> ALL (ARRAY(SELECT jsonb_array_elements_text(w->'skip')))
      AND smsgw_claimable(claimed_by, w->>'instance')
    RETURNING id
  ), events AS (
    INSERT INTO message_events (message_id, at, type, detail)
    SELECT id, (w->>'now')::bigint, 'expired', NULL FROM expired
  )
  SELECT coalesce(jsonb_agg(id), '[]'::jsonb) FROM expired
$$;

-- A group's (a batch's) messages move together, each with an event of its new status.
-- Resumed messages are claimed by nobody: any instance may send them.
CREATE OR REPLACE FUNCTION smsgw_pause_group(w jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH moved AS (
    UPDATE messages SET status = 'paused'
    WHERE group_id = w->>'groupId' AND status IN ('queued', 'scheduled')
      AND id <> ALL (ARRAY(SELECT jsonb_array_elements_text(w->'skip')))
    RETURNING id
  ), events AS (
    INSERT INTO message_events (message_id, at, type, detail)
    SELECT id, (w->>'now')::bigint, 'paused', NULL FROM moved
  )
  SELECT to_jsonb(count(*)) FROM moved
$$;

CREATE OR REPLACE FUNCTION smsgw_resume_group(w jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH moved AS (
    UPDATE messages SET claimed_by = NULL, status =
      CASE WHEN send_at IS NOT NULL AND send_at > (w->>'now')::bigint THEN 'scheduled' ELSE 'queued' END
    WHERE group_id = w->>'groupId' AND status = 'paused'
    RETURNING id, status
  ), events AS (
    INSERT INTO message_events (message_id, at, type, detail)
    SELECT id, (w->>'now')::bigint, status, NULL FROM moved
  )
  SELECT to_jsonb(count(*)) FROM moved
$$;

CREATE OR REPLACE FUNCTION smsgw_cancel_group(w jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH moved AS (
    UPDATE messages SET status = 'canceled', done_at = (w->>'now')::bigint
    WHERE group_id = w->>'groupId' AND status IN ('queued', 'scheduled', 'paused')
      AND id <> ALL (ARRAY(SELECT jsonb_array_elements_text(w->'skip')))
    RETURNING id
  ), events AS (
    INSERT INTO message_events (message_id, at, type, detail)
    SELECT id, (w->>'now')::bigint, 'canceled', NULL FROM moved
  )
  SELECT to_jsonb(count(*)) FROM moved
$$;

CREATE OR REPLACE FUNCTION smsgw_link_smsc_ids(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  l jsonb;
BEGIN
  -- One by one: a batch may name the same SMSC id twice, and the later link wins.
  FOR l IN SELECT value FROM jsonb_array_elements(w->'links') WITH ORDINALITY ORDER BY ordinality LOOP
    INSERT INTO smsc_links (connector_id, smsc_id, message_id, part, parts)
      VALUES (l->>'connectorId', l->>'smscId', l->>'messageId', (l->>'part')::integer, (l->>'parts')::integer)
      ON CONFLICT (connector_id, smsc_id) DO UPDATE
        SET message_id = excluded.message_id, part = excluded.part, parts = excluded.parts;
  END LOOP;
  RETURN NULL;
END $$;

-- Answers [recorded, delivered, failed, settled]. The message's row is locked first, so
-- the receipts of one message's parts, taken by any instance, are counted one after the
-- other: each transaction sees the parts the ones before it recorded.
CREATE OR REPLACE FUNCTION smsgw_record_part_outcome(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  current_status text;
  recorded boolean;
  delivered bigint;
  failed bigint;
BEGIN
  SELECT status INTO current_status FROM messages WHERE id = w->>'messageId' FOR UPDATE;
  IF NOT FOUND THEN RETURN smsgw_refused('StoreNotFoundError', format('no message %s', w->>'messageId')); END IF;
  INSERT INTO message_parts (message_id, part, outcome)
    VALUES (w->>'messageId', (w->>'part')::integer, w->>'outcome') ON CONFLICT DO NOTHING;
  recorded := FOUND;
  INSERT INTO message_events (message_id, at, type, detail)
    VALUES (w->>'messageId', (w->'event'->>'at')::bigint, w->'event'->>'type', (w->'event'->>'detail')::json);
  SELECT count(*) FILTER (WHERE outcome = 'delivered'), count(*) FILTER (WHERE outcome = 'failed')
    INTO delivered, failed FROM message_parts WHERE message_id = w->>'messageId';
  RETURN jsonb_build_array(recorded, delivered, failed,
    current_status IN (SELECT jsonb_array_elements_text(w->'finalStatuses')));
END $$;

-- Gives back the slots held above want (the highest first), then takes free ones up to it;
-- answers how many the instance holds.
CREATE OR REPLACE FUNCTION smsgw_hold_bind_slots(connector text, total integer, want integer, me text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  held integer;
  taken integer;
BEGIN
  INSERT INTO smsgw_bind_slots (connector_id, slot)
    SELECT connector, g FROM generate_series(0, total - 1) AS g ON CONFLICT DO NOTHING;
  DELETE FROM smsgw_bind_slots WHERE connector_id = connector AND slot >= total;
  SELECT count(*) INTO held FROM smsgw_bind_slots WHERE connector_id = connector AND holder = me;
  IF held > want THEN
    UPDATE smsgw_bind_slots SET holder = NULL WHERE connector_id = connector AND slot IN (
      SELECT slot FROM smsgw_bind_slots WHERE connector_id = connector AND holder = me
      ORDER BY slot DESC LIMIT held - want);
    RETURN want;
  END IF;
  IF held < want THEN
    UPDATE smsgw_bind_slots SET holder = me WHERE connector_id = connector AND slot IN (
      SELECT slot FROM smsgw_bind_slots
      WHERE connector_id = connector AND holder IS DISTINCT FROM me AND smsgw_claimable(holder, me)
      ORDER BY slot LIMIT want - held FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS taken = ROW_COUNT;
    held := held + taken;
  END IF;
  RETURN held;
END $$;

CREATE OR REPLACE FUNCTION smsgw_take_unmatched_receipts(w jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH taken AS (
    DELETE FROM unmatched_receipts WHERE connector_id = w->>'connectorId' AND smsc_id = w->>'smscId'
    RETURNING *
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'connectorId', connector_id, 'smscId', smsc_id,
    'receivedAt', received_at, 'receipt', receipt::text) ORDER BY id), '[]'::jsonb) FROM taken
$$;

CREATE OR REPLACE FUNCTION smsgw_upsert_account(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO accounts (id, settings) VALUES (w->>'id', (w->>'settings')::json)
    ON CONFLICT (id) DO UPDATE SET settings = excluded.settings;
  DELETE FROM account_api_keys WHERE account_id = w->>'id';
  -- A key moved to another account in the config follows it there.
  INSERT INTO account_api_keys (hash, account_id, position)
    SELECT k.hash, w->>'id', k.ordinality - 1
    FROM jsonb_array_elements_text(w->'apiKeyHashes') WITH ORDINALITY AS k(hash, ordinality)
    ON CONFLICT (hash) DO UPDATE SET account_id = excluded.account_id, position = excluded.position;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION smsgw_put_record(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r jsonb := w->'record';
  expected integer := (w->>'expectedVersion')::integer;
  stored integer;
BEGIN
  IF expected IS NULL OR expected = 0 THEN
    INSERT INTO records AS old (kind, id, account_id, ref, status, due_at, created_at, updated_at, version, data)
      VALUES (r->>'kind', decode(r->>'id', 'hex'), r->>'accountId', r->>'ref', r->>'status', (r->>'dueAt')::bigint,
        (r->>'createdAt')::bigint, (r->>'updatedAt')::bigint, 1, (r->>'data')::json)
      ON CONFLICT (kind, id) DO UPDATE SET account_id = excluded.account_id, ref = excluded.ref,
        status = excluded.status, due_at = excluded.due_at, updated_at = excluded.updated_at,
        version = old.version + 1, data = excluded.data
        WHERE expected IS NULL
      RETURNING version INTO stored;
  ELSE
    UPDATE records SET account_id = r->>'accountId', ref = r->>'ref', status = r->>'status',
      due_at = (r->>'dueAt')::bigint, updated_at = (r->>'updatedAt')::bigint, version = version + 1,
      data = (r->>'data')::json
    WHERE kind = r->>'kind' AND id = decode(r->>'id', 'hex') AND version = expected
    RETURNING version INTO stored;
  END IF;
  IF stored IS NULL THEN
    SELECT version INTO stored FROM records WHERE kind = r->>'kind' AND id = decode(r->>'id', 'hex');
    RETURN smsgw_refused('StoreConflictError',
      format('%s %s is at version %s, not %s', r->>'kind', r->>'label', coalesce(stored, 0), expected));
  END IF;
  RETURN to_jsonb(stored);
END $$;

-- Many writes of the kinds a message's life is made of, applied as a set: one statement per
-- table instead of one per write (postgres.ts gathers them, and lets in only writes whose
-- set-wise outcome is the one they would have had one by one, in call order). Answers
-- [ids of messages not found, ids of webhook deliveries not found, ids given to the webhook
-- deliveries queued (in call order)]: the caller derives each write's outcome from them.
-- Every row it changes is found by its key: no sequential scans, even where a plan cached
-- while the tables were small would choose them (a session keeps its plans).
CREATE OR REPLACE FUNCTION smsgw_apply_bulk(w jsonb) RETURNS jsonb LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE
  c jsonb;
  charged jsonb;
  charges jsonb[] := '{}';
  refused integer[] := '{}';
  updated text[];
  released text[];
  finished bigint[];
  missing_messages text[];
  missing_webhooks bigint[];
  webhook_ids jsonb;
BEGIN
  -- In call order; the rows of a write whose charge is refused are not stored.
  FOR c IN SELECT value FROM jsonb_array_elements(w->'charges') WITH ORDINALITY ORDER BY ordinality LOOP
    charged := smsgw_charge(c->'charge');
    IF jsonb_typeof(charged) = 'object' THEN refused := refused || (c->>'write')::integer; END IF;
    charges := charges || charged;
  END LOOP;
${messageInsert}
  FROM jsonb_array_elements(w->'messages') WITH ORDINALITY AS e(m, n)
  WHERE (m->>'write')::integer <> ALL (refused) ORDER BY n;
  INSERT INTO idempotency (account_id, key, request_hash, status_code, response, expires_at)
    SELECT i->>'accountId', i->>'key', i->>'requestHash', (i->>'statusCode')::integer, (i->>'response')::json,
      (i->>'expiresAt')::bigint
    FROM jsonb_array_elements(w->'idempotency') AS e(i) WHERE (i->>'write')::integer <> ALL (refused);
  -- One patch per message (the caller merged each message's patches in call order); an
  -- empty one only asks whether the message exists.
  updated := ARRAY(SELECT u->>'id' FROM jsonb_array_elements(w->'updates') AS e(u));
  IF cardinality(updated) > 0 THEN
  WITH patches AS (
    SELECT u->>'id' AS id, u->'patch' AS p FROM jsonb_array_elements(w->'updates') AS e(u)
  ), changed AS (
    UPDATE messages SET
${messagePatchColumns}
    FROM patches WHERE messages.id = ANY (updated) AND messages.id = patches.id AND patches.p <> '{}'::jsonb
    RETURNING messages.id
  )
  SELECT array_agg(patches.id) INTO missing_messages FROM patches
  WHERE patches.id NOT IN (SELECT id FROM changed)
    AND (patches.p <> '{}'::jsonb OR patches.id NOT IN (SELECT id FROM messages WHERE id = ANY (updated)));
  END IF;
  -- In call order: a message's events come back in the order they were recorded.
  INSERT INTO message_events (message_id, at, type, detail)
    SELECT ev->>'messageId', (ev->>'at')::bigint, ev->>'type', (ev->>'detail')::json
    FROM jsonb_array_elements(w->'events') WITH ORDINALITY AS e(ev, n)
    WHERE (missing_messages IS NULL OR ev->>'messageId' <> ALL (missing_messages))
      AND (ev->>'write' IS NULL OR (ev->>'write')::integer <> ALL (refused))
    ORDER BY n;
  released := ARRAY(SELECT jsonb_array_elements_text(w->'released'));
  IF cardinality(released) > 0 THEN
    UPDATE messages SET claimed_by = NULL WHERE id = ANY (released) AND claimed_by = w->>'instance';
  END IF;
  -- One link per SMSC id (the caller kept the last one named).
  INSERT INTO smsc_links (connector_id, smsc_id, message_id, part, parts)
    SELECT l->>'connectorId', l->>'smscId', l->>'messageId', (l->>'part')::integer, (l->>'parts')::integer
    FROM jsonb_array_elements(w->'links') AS e(l)
    ON CONFLICT (connector_id, smsc_id) DO UPDATE
      SET message_id = excluded.message_id, part = excluded.part, parts = excluded.parts;
  -- Finished before any is queued: an id finished cannot be one this call gives out.
  finished := ARRAY(SELECT (f->>'id')::bigint FROM jsonb_array_elements(w->'finished') AS e(f));
  IF cardinality(finished) > 0 THEN
  WITH outcomes AS (
    SELECT (f->>'id')::bigint AS id, f->>'outcome' AS outcome, (f->>'at')::bigint AS at
    FROM jsonb_array_elements(w->'finished') AS e(f)
  ), delivered AS (
    DELETE FROM webhook_deliveries d USING outcomes
    WHERE d.id = ANY (finished) AND d.id = outcomes.id AND outcomes.outcome = 'delivered' RETURNING d.id
  ), abandoned AS (
    UPDATE webhook_deliveries d SET abandoned_at = outcomes.at FROM outcomes
    WHERE d.id = ANY (finished) AND d.id = outcomes.id AND outcomes.outcome <> 'delivered' RETURNING d.id
  )
  SELECT array_agg(outcomes.id) INTO missing_webhooks FROM outcomes
  WHERE outcomes.id NOT IN (SELECT id FROM delivered UNION ALL SELECT id FROM abandoned);
  END IF;
  WITH queued AS (
    INSERT INTO webhook_deliveries
        (account_id, url, secret, body, next_attempt_at, created_at, method, content_type, headers, reply,
         claimed_by)
      SELECT h->>'accountId', h->>'url', h->>'secret', h->>'body', (h->>'nextAttemptAt')::bigint,
        (h->>'createdAt')::bigint, h->>'method', h->>'contentType', (h->>'headers')::json, h->>'reply',
        w->>'instance'
      FROM jsonb_array_elements(w->'webhooks') WITH ORDINALITY AS e(h, n) ORDER BY n
      RETURNING id
  )
  SELECT coalesce(jsonb_agg(id ORDER BY id), '[]'::jsonb) INTO webhook_ids FROM queued;
  RETURN jsonb_build_array(coalesce(to_jsonb(missing_messages), '[]'::jsonb),
    coalesce(to_jsonb(missing_webhooks), '[]'::jsonb), webhook_ids, to_jsonb(charges));
END $$;

CREATE OR REPLACE FUNCTION smsgw_write(w jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  r jsonb;
BEGIN
  CASE w->>'op'
  WHEN 'bulk' THEN RETURN smsgw_apply_bulk(w);
  WHEN 'insertMessages' THEN RETURN smsgw_insert_messages(w);
  WHEN 'updateMessage' THEN RETURN smsgw_update_message(w);
  WHEN 'move' THEN RETURN smsgw_move(w);
  WHEN 'refundGroup' THEN RETURN smsgw_refund_group(w);
  WHEN 'releaseScheduled' THEN RETURN smsgw_release_scheduled(w);
  WHEN 'requeueInFlight' THEN RETURN smsgw_requeue_in_flight(w);
  WHEN 'expireOverdue' THEN RETURN smsgw_expire_overdue(w);
  WHEN 'pauseGroup' THEN RETURN smsgw_pause_group(w);
  WHEN 'resumeGroup' THEN RETURN smsgw_resume_group(w);
  WHEN 'cancelGroup' THEN RETURN smsgw_cancel_group(w);
  WHEN 'linkSmscIds' THEN RETURN smsgw_link_smsc_ids(w);
  WHEN 'recordPartOutcome' THEN RETURN smsgw_record_part_outcome(w);
  WHEN 'releaseMessages' THEN
    UPDATE messages SET claimed_by = NULL
    WHERE id = ANY (ARRAY(SELECT jsonb_array_elements_text(w->'ids'))) AND claimed_by = w->>'instance';
  WHEN 'saveUnmatchedReceipt' THEN
    INSERT INTO unmatched_receipts (connector_id, smsc_id, received_at, receipt)
      VALUES (w->>'connectorId', w->>'smscId', (w->>'receivedAt')::bigint, (w->>'receipt')::json);
  WHEN 'takeUnmatchedReceipts' THEN RETURN smsgw_take_unmatched_receipts(w);
  WHEN 'purgeUnmatchedReceipts' THEN
    DELETE FROM unmatched_receipts WHERE received_at < (w->>'before')::bigint;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN to_jsonb(n);
  WHEN 'forgetIdempotency' THEN
    DELETE FROM idempotency
    WHERE account_id = w->>'accountId' AND key = w->>'key' AND expires_at <= (w->>'now')::bigint;
  WHEN 'sweepIdempotency' THEN
    DELETE FROM idempotency WHERE expires_at <= (w->>'before')::bigint;
  WHEN 'upsertAccount' THEN RETURN smsgw_upsert_account(w);
  WHEN 'enqueueWebhook' THEN
    -- Claimed by the instance that stored it: it sends the delivery without reading it back.
    INSERT INTO webhook_deliveries
        (account_id, url, secret, body, next_attempt_at, created_at, method, content_type, headers, reply,
         claimed_by)
      VALUES (w->>'accountId', w->>'url', w->>'secret', w->>'body', (w->>'nextAttemptAt')::bigint,
        (w->>'createdAt')::bigint, w->>'method', w->>'contentType', (w->>'headers')::json, w->>'reply',
        w->>'instance')
      RETURNING id INTO n;
    RETURN to_jsonb(n);
  WHEN 'rescheduleWebhook' THEN
    UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = (w->>'nextAttemptAt')::bigint,
      last_error = w->>'lastError'
    WHERE id = (w->>'id')::bigint;
    IF NOT FOUND THEN RETURN smsgw_refused('StoreNotFoundError', format('no webhook delivery %s', w->>'id')); END IF;
  WHEN 'finishWebhook' THEN
    -- Delivered ones are done with; abandoned ones stay (out of the due index) for inspection.
    IF w->>'outcome' = 'delivered' THEN
      DELETE FROM webhook_deliveries WHERE id = (w->>'id')::bigint;
    ELSE
      UPDATE webhook_deliveries SET abandoned_at = (w->>'at')::bigint WHERE id = (w->>'id')::bigint;
    END IF;
    IF NOT FOUND THEN RETURN smsgw_refused('StoreNotFoundError', format('no webhook delivery %s', w->>'id')); END IF;
  WHEN 'enqueueEsmeDelivery' THEN
    INSERT INTO esme_deliveries (account_id, created_at, payload, claimed_by)
      VALUES (w->>'accountId', (w->>'createdAt')::bigint, (w->>'payload')::json, w->>'instance')
      RETURNING id INTO n;
    RETURN to_jsonb(n);
  WHEN 'announce' THEN
    -- Delivered to the listeners when this transaction commits, after the writes before it.
    PERFORM pg_notify('smsgw_notices', w->>'notice');
  WHEN 'deleteEsmeDelivery' THEN
    DELETE FROM esme_deliveries WHERE id = (w->>'id')::bigint;
  WHEN 'releaseEsmeDeliveries' THEN
    UPDATE esme_deliveries SET claimed_by = NULL
    WHERE account_id = w->>'accountId' AND claimed_by = w->>'instance';
  WHEN 'putRecord' THEN RETURN smsgw_put_record(w);
  WHEN 'putRecords' THEN
    FOR r IN SELECT value FROM jsonb_array_elements(w->'records') WITH ORDINALITY ORDER BY ordinality LOOP
      PERFORM smsgw_put_record(jsonb_build_object('record', r));
    END LOOP;
  WHEN 'deleteRecord' THEN
    DELETE FROM records WHERE kind = w->>'kind' AND id = decode(w->>'id', 'hex');
    RETURN to_jsonb(FOUND);
  WHEN 'stageRecipients' THEN
    INSERT INTO batch_recipients (batch_id, seq, to_addr, vars)
      SELECT w->>'batchId', (w->>'firstSeq')::bigint + t.i - 1, t.to_addr, v.vars #>> '{}'
      FROM jsonb_array_elements_text(w->'to') WITH ORDINALITY AS t(to_addr, i)
      JOIN jsonb_array_elements(w->'vars') WITH ORDINALITY AS v(vars, i) ON v.i = t.i;
  WHEN 'dropStagedRecipients' THEN
    DELETE FROM batch_recipients
    WHERE batch_id = w->>'batchId' AND (w->'throughSeq' = 'null'::jsonb OR seq <= (w->>'throughSeq')::bigint);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN to_jsonb(n);
  END CASE;
  RETURN NULL;
END $$;

-- Applies a batch in call order, one outcome per write: {"ok":true,"value":...} or
-- {"ok":false,"name":...,"message":...}. Refusals (a conflict, an unknown row) are checked
-- before anything is written, so they need no savepoint; a message or key already stored is
-- found by its unique index instead (a lookup before each insert cost as much as the
-- insert), which breaks the batch like any other error. Any other error fails the whole
-- statement; the caller then applies the batch again with isolate, each write in a
-- subtransaction of its own, so that only the failing write fails. (Subtransactions are
-- not the default: hundreds in one transaction slow every session's snapshots down.)
CREATE OR REPLACE FUNCTION smsgw_apply(batch jsonb, isolate boolean) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  w jsonb;
  outcome jsonb;
  outcomes jsonb[] := '{}';
BEGIN
  PERFORM smsgw_lock_accounts(batch);
  FOR w IN SELECT value FROM jsonb_array_elements(batch) WITH ORDINALITY ORDER BY ordinality LOOP
    IF isolate THEN
      BEGIN
        outcome := smsgw_write(w);
      EXCEPTION
        WHEN unique_violation THEN
          outcome := smsgw_refused('StoreConflictError', SQLERRM);
        WHEN OTHERS THEN
          outcome := jsonb_build_object('ok', false, 'name', 'Error', 'message', SQLERRM, 'code', SQLSTATE);
      END;
    ELSE
      outcome := smsgw_write(w);
    END IF;
    -- No write's value is an object: an object is a refusal.
    IF outcome IS NULL OR jsonb_typeof(outcome) <> 'object' THEN
      outcome := jsonb_build_object('ok', true, 'value', outcome);
    END IF;
    outcomes := outcomes || outcome;
  END LOOP;
  RETURN to_jsonb(outcomes);
END $$;
`;
