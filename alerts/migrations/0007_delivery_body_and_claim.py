"""The push body is prepared at approval, and a claim is one statement (issue 16).

``Delivery.body``: the JSON bytes of the push (``alerts.payloads.push_body``),
written in the approving transaction, so the worker neither reads the task,
its case, target and bank again nor builds the body per attempt. Empty for
rows written before this migration: the worker builds theirs as before.

``alerts_claim_deliveries(wanted, extra, per_agency, lease, grace, at)``: the claim of
``alerts.tasks.claim_deliveries`` in one round trip. It locks the wanted delivery
(``FOR UPDATE SKIP LOCKED``), takes the agency's advisory lock (namespace 40401,
the same as before), counts the agency's live leases in a fresh snapshot (a
PL/pgSQL statement takes its own), and writes the lease; with ``extra`` > 0 it
does the same for up to that many other due, unclaimed deliveries (a burst
waiting), taking their agencies' locks with ``pg_try_advisory_xact_lock`` only
(one blocking lock at most per call: two claimers never wait on each other in a
cycle). It returns one row per delivery it looked at: the outcome and, for a
lease taken, what the push needs (token, body, endpoint, live secrets, attempts,
window). SECURITY INVOKER: it runs with the caller's (the app role's) rights.
"""

from django.db import migrations, models

CLAIM = r"""
CREATE OR REPLACE FUNCTION alerts_claim_deliveries(
    wanted uuid, extra integer, per_agency integer, lease interval, grace interval, at timestamptz
) RETURNS TABLE (
    delivery_id uuid, outcome text, token uuid, body text, agency_code text, endpoint_url text,
    secret text, old_secret text, attempts integer, give_up_at timestamptz, task_id bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    moment timestamptz := coalesce(at, clock_timestamp());  -- the caller's clock (tests move it)
    row_ record;
    busy integer;
    taken jsonb := '{}'::jsonb;   -- leases taken by this call, per agency id
    refused bigint[] := '{}';     -- agencies whose lock another claimer holds
    fresh uuid;
BEGIN
    -- A lease need not survive a database crash (the push is then sent again and the
    -- partner deduplicates): skip this commit's fsync.
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR row_ IN
        -- The delivery's columns come from the locking CTEs (the row version the lock saw,
        -- not the statement's older snapshot); the task and agency are read beside them.
        WITH wanted_row AS (
            SELECT d.id, d.agency_id, d.next_attempt_at, d.locked_until, d.attempts, d.give_up_at,
                   d.task_id, d.body, true AS is_wanted
              FROM alerts_delivery d
             WHERE d.id = wanted AND d.state = 'pending'
               FOR UPDATE SKIP LOCKED
        ), more AS (
            SELECT d.id, d.agency_id, d.next_attempt_at, d.locked_until, d.attempts, d.give_up_at,
                   d.task_id, d.body, false AS is_wanted
              FROM alerts_delivery d
             WHERE extra > 0 AND d.state = 'pending' AND d.next_attempt_at <= moment
               AND (d.locked_until IS NULL OR d.locked_until <= moment)
               AND d.id IS DISTINCT FROM wanted
             ORDER BY d.next_attempt_at
             LIMIT greatest(extra, 0) * 2
               FOR UPDATE SKIP LOCKED
        )
        SELECT p.id, p.agency_id, p.next_attempt_at, p.locked_until, p.attempts AS n, p.give_up_at AS until,
               p.task_id AS tid, t.state AS task_state, p.body AS prepared, a.code, a.endpoint_url AS url,
               a.endpoint_secret AS s1,
               CASE WHEN a.endpoint_old_secret <> '' AND a.endpoint_old_secret_until > moment
                    AND a.endpoint_old_secret <> a.endpoint_secret THEN a.endpoint_old_secret END AS s2,
               p.is_wanted
          FROM (SELECT * FROM wanted_row UNION ALL SELECT * FROM more) p
          JOIN cases_task t ON t.id = p.task_id
          JOIN agencies_agency a ON a.id = p.agency_id
         ORDER BY p.is_wanted DESC, p.next_attempt_at
    LOOP
        IF NOT row_.is_wanted AND coalesce((taken ->> '_n')::integer, 0) >= extra + 1 THEN
            CONTINUE;
        END IF;
        IF row_.locked_until IS NOT NULL AND row_.locked_until > moment THEN
            IF row_.is_wanted THEN
                RETURN QUERY SELECT row_.id, 'claimed'::text, NULL::uuid, NULL::text, row_.code::text, NULL::text,
                    NULL::text, NULL::text, row_.n, row_.until, row_.tid;
            END IF;
            CONTINUE;
        END IF;
        IF row_.next_attempt_at > moment + grace THEN
            RETURN QUERY SELECT row_.id, 'not due'::text, NULL::uuid, NULL::text, row_.code::text, NULL::text,
                NULL::text, NULL::text, row_.n, row_.until, row_.tid;
            CONTINUE;
        END IF;
        IF row_.task_state = 'cancelled' THEN
            -- The centre withdrew the task while the partner was unreachable: stop pushing it.
            UPDATE alerts_delivery SET state = 'failed', last_error = 'cancelled' WHERE id = row_.id;
            RETURN QUERY SELECT row_.id, 'cancelled'::text, NULL::uuid, NULL::text, row_.code::text, NULL::text,
                NULL::text, NULL::text, row_.n, row_.until, row_.tid;
            CONTINUE;
        END IF;
        IF row_.url = '' OR row_.s1 = '' THEN
            IF row_.is_wanted THEN
                RETURN QUERY SELECT row_.id, 'no endpoint'::text, NULL::uuid, NULL::text, row_.code::text,
                    NULL::text, NULL::text, NULL::text, row_.n, row_.until, row_.tid;
            END IF;
            CONTINUE;
        END IF;
        IF NOT taken ? row_.agency_id::text THEN
            IF row_.agency_id = ANY (refused) THEN
                CONTINUE;
            END IF;
            -- Serialise the agency's in-flight count until this transaction (this statement) ends.
            IF row_.is_wanted THEN
                PERFORM pg_advisory_xact_lock(40401, row_.agency_id::integer);
            ELSIF NOT pg_try_advisory_xact_lock(40401, row_.agency_id::integer) THEN
                refused := refused || row_.agency_id;
                CONTINUE;
            END IF;
            -- A new snapshot: leases other claimers committed before we got the lock count.
            SELECT count(*) INTO busy FROM alerts_delivery
             WHERE agency_id = row_.agency_id AND state = 'pending' AND locked_until > moment;
            taken := taken || jsonb_build_object(row_.agency_id::text, busy);
        END IF;
        busy := (taken ->> row_.agency_id::text)::integer;
        IF busy >= per_agency THEN
            IF row_.is_wanted THEN
                RETURN QUERY SELECT row_.id, 'busy'::text, NULL::uuid, NULL::text, row_.code::text, NULL::text,
                    NULL::text, NULL::text, row_.n, row_.until, row_.tid;
            END IF;
            CONTINUE;
        END IF;
        fresh := gen_random_uuid();
        UPDATE alerts_delivery SET locked_until = moment + lease, lease_token = fresh WHERE id = row_.id;
        taken := taken || jsonb_build_object(row_.agency_id::text, busy + 1,
                                             '_n', coalesce((taken ->> '_n')::integer, 0) + 1);
        RETURN QUERY SELECT row_.id, 'leased'::text, fresh, row_.prepared, row_.code::text, row_.url::text,
            row_.s1::text, row_.s2::text, row_.n, row_.until, row_.tid;
    END LOOP;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("alerts", "0006_delivery_failure_classes"), ("cases", "0007_case_search")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="body",
            field=models.TextField(blank=True, editable=False, verbose_name="push body"),
        ),
        migrations.RunSQL(CLAIM, "DROP FUNCTION IF EXISTS alerts_claim_deliveries(uuid, integer, integer, interval, interval, timestamptz)"),
    ]
