"""The audit trail's hash chain: every record is linked to the one committed before it.

Each ``AuditRecord`` is sealed by the database when its transaction commits (a
deferred constraint trigger, ``audit_seal``, migration ``0003``): it takes the next
position (``chain_seq``) from the one-row ``coordination_auditchainhead`` under that
row's lock, stamps ``sealed_at`` with the database clock and stores

    chain_hash = sha256(previous record's chain_hash || canonical text of this record)

The lock is taken at commit, not at insert: audit writers queue only for the last
instant of their transactions, so the chain follows commit order without making
every transaction that writes audit wait for all others from its first write
(and without the deadlocks that would bring with row locks taken in between).

The canonical text is a JSON object built by PostgreSQL (``jsonb_build_object``,
whose text form is deterministic: keys sorted, numbers and strings normalised)
over the fields in ``FIELDS``, with times written in UTC to the microsecond.
``verify_audit`` has the same text built by the same built-in functions and
computes the hashes itself, in Python, so a changed trigger function does not
change what verification expects.
"""

from __future__ import annotations

GENESIS = "0" * 64
HEAD_TABLE = "coordination_auditchainhead"
AUDIT_TABLE = "coordination_auditrecord"

# The record's own content, in the order written into the canonical object (the
# object's text sorts keys anyway). New columns are not covered until added here
# with a migration that re-creates ``audit_seal``: old records keep their hashes.
FIELDS = (
    "id",
    "at",
    "user_id",
    "user_name",
    "agency_code",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "case_id",
    "before",
    "after",
)
TIME_FIELDS = frozenset({"at"})


def utc_text(expression: str) -> str:
    """SQL: a timestamptz as fixed UTC text, whatever the session's time zone."""
    return f"""to_char(({expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def canonical_sql(row: str, seq: str, sealed_at: str) -> str:
    """SQL: the canonical text of audit row ``row`` at chain position ``seq``, sealed at ``sealed_at``."""
    pairs = [f"'seq', {seq}", f"'sealed_at', {utc_text(sealed_at)}"]
    for name in FIELDS:
        value = utc_text(f"{row}.{name}") if name in TIME_FIELDS else f"{row}.{name}"
        pairs.append(f"'{name}', {value}")
    return f"jsonb_build_object({', '.join(pairs)})::text"


def link(previous: str, canonical: str) -> str:
    """The chain hash of a record: sha256 over the previous hash and its canonical text, hex."""
    import hashlib

    return hashlib.sha256((previous + canonical).encode()).hexdigest()


def seal_function_sql() -> str:
    """The trigger function that seals a record at commit (SECURITY DEFINER: the app role cannot write the chain)."""
    canonical = canonical_sql("NEW", "h.seq + 1", "sealed")
    return f"""
CREATE OR REPLACE FUNCTION audit_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    sealed timestamptz := clock_timestamp();
    new_seq bigint;
    new_hash text;
BEGIN
    PERFORM set_config('coordination.audit_sealing', 'on', true);
    UPDATE {HEAD_TABLE} h
       SET seq = h.seq + 1,
           hash = encode(sha256(convert_to(h.hash || {canonical}, 'UTF8')), 'hex')
     WHERE h.id = 1
    RETURNING h.seq, h.hash INTO new_seq, new_hash;
    IF NOT FOUND THEN
        -- The head row is gone (a flushed test database): start again from the genesis.
        INSERT INTO {HEAD_TABLE} (id, seq, hash) VALUES (1, 0, '{GENESIS}') ON CONFLICT (id) DO NOTHING;
        UPDATE {HEAD_TABLE} h
           SET seq = h.seq + 1,
               hash = encode(sha256(convert_to(h.hash || {canonical}, 'UTF8')), 'hex')
         WHERE h.id = 1
        RETURNING h.seq, h.hash INTO new_seq, new_hash;
    END IF;
    UPDATE {AUDIT_TABLE} SET chain_seq = new_seq, chain_hash = new_hash, sealed_at = sealed WHERE id = NEW.id;
    PERFORM set_config('coordination.audit_sealing', 'off', true);
    RETURN NULL;
END;
$$;
"""  # noqa: S608 - table names are constants, no value is interpolated


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    -- The one change allowed: audit_seal filling in the chain of a record not sealed yet.
    IF TG_OP = 'UPDATE'
       AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND current_setting('coordination.audit_sealing', true) = 'on'
       AND (to_jsonb(NEW) - 'chain_seq' - 'chain_hash' - 'sealed_at')
           = (to_jsonb(OLD) - 'chain_seq' - 'chain_hash' - 'sealed_at') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def backfill_sql() -> str:
    """Seal the records written before the chain existed, in id order, each as of its own time."""
    canonical = canonical_sql("r", "h.seq + 1", "r.at")
    return f"""
DO $$
DECLARE
    r {AUDIT_TABLE};
BEGIN
    PERFORM set_config('coordination.audit_sealing', 'on', true);
    FOR r IN SELECT * FROM {AUDIT_TABLE} WHERE chain_seq IS NULL ORDER BY id LOOP
        UPDATE {AUDIT_TABLE} a SET chain_seq = h.seq + 1,
               chain_hash = encode(sha256(convert_to(h.hash || {canonical}, 'UTF8')), 'hex'),
               sealed_at = r.at
          FROM {HEAD_TABLE} h WHERE h.id = 1 AND a.id = r.id;
        UPDATE {HEAD_TABLE} h SET seq = a.chain_seq, hash = a.chain_hash
          FROM {AUDIT_TABLE} a WHERE h.id = 1 AND a.id = r.id;
    END LOOP;
    PERFORM set_config('coordination.audit_sealing', 'off', true);
END;
$$;
"""  # noqa: S608 - table names are constants, no value is interpolated


# --------------------------------------------------------------------------------------
# Verification and export (Django from here on)
# --------------------------------------------------------------------------------------


def _settings():
    from django.conf import settings

    return settings


def head_key() -> bytes:
    """The key that signs exported heads: ``AUDIT_HEAD_KEY``, else one derived from ``SECRET_KEY``."""
    from django.utils.crypto import salted_hmac

    settings = _settings()
    if settings.AUDIT_HEAD_KEY:
        return settings.AUDIT_HEAD_KEY.encode()
    return salted_hmac("coordination.chain.head", "audit-head-key", algorithm="sha256").hexdigest().encode()


def _signed_text(line: dict) -> str:
    return f"{line['database']}|{line['seq']}|{line['hash']}|{line['at']}"


def sign(line: dict) -> str:
    import hmac

    return hmac.new(head_key(), _signed_text(line).encode(), "sha256").hexdigest()


def database_name() -> str:
    from django.db import connection

    return connection.settings_dict["NAME"]


def current_head() -> tuple[int, str]:
    from .models import AuditChainHead

    head = AuditChainHead.objects.filter(id=1).values_list("seq", "hash").first()
    return head or (0, GENESIS)


def export_head(path=None) -> dict:
    """Append the chain's head, signed, to ``AUDIT_HEAD_FILE`` (and the log); returns the line."""
    import json
    import logging
    import os
    from pathlib import Path

    from django.utils import timezone

    path = Path(path or _settings().AUDIT_HEAD_FILE)
    seq, digest = current_head()
    line = {"database": database_name(), "seq": seq, "hash": digest, "at": timezone.now().isoformat()}
    line["sig"] = sign(line)
    text = json.dumps(line, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as out:
        out.write(text + "\n")
        out.flush()
        os.fsync(out.fileno())
    logging.getLogger("coordination.audit").info("audit chain head %s", text)
    return line


def read_heads(path) -> tuple[list[dict], str | None]:
    """The exported heads of this database in ``path``; a problem if a line is not ours."""
    import hmac
    import json

    heads: list[dict] = []
    name = database_name()
    try:
        with open(path, encoding="utf-8") as source:
            lines = source.read().splitlines()
    except FileNotFoundError:
        return heads, None
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            valid = hmac.compare_digest(str(line["sig"]), sign(line))
            line["seq"] = int(line["seq"])
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            return heads, f"line {number} of {path} is not a head signed with this platform's key"
        if line["database"] == name:
            heads.append(line)
    return heads, None


class Result:
    def __init__(self) -> None:
        self.checked = 0
        self.last_seq = 0
        self.last_hash = GENESIS
        self.heads_checked = 0
        self.problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(*, heads_path=None, batch: int = 5000) -> Result:
    """Walk the chain in order; ``Result.problem`` names the first record that does not fit.

    Finds a changed record (its hash), a removed one (a gap in the positions, or the head
    past the last record), records moved or inserted inside the chain (the links), a
    record written around the seal trigger (no position), a back-dated record (dated
    long before the database sealed it), and, against the exported heads, a trail
    truncated or rebuilt since an export.
    """
    from datetime import timedelta

    from django.db import connection

    settings = _settings()
    tolerance = timedelta(seconds=settings.AUDIT_SEAL_TOLERANCE_SECONDS)
    result = Result()
    heads: list[dict] = []
    if heads_path is not None:
        heads, result.problem = read_heads(heads_path)
        if result.problem:
            return result
    exported: dict[int, list[dict]] = {}
    for head in heads:
        exported.setdefault(head["seq"], []).append(head)

    canonical = canonical_sql("a", "a.chain_seq", "a.sealed_at")
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # Seal what this transaction wrote, as its commit would (tests run inside one).
            cursor.execute("SET CONSTRAINTS coordination_auditrecord_seal IMMEDIATE")
            cursor.execute("SET CONSTRAINTS coordination_auditrecord_seal DEFERRED")
        while result.problem is None:
            cursor.execute(
                f"SELECT a.id, a.chain_seq, a.chain_hash, a.at, a.sealed_at, {canonical} "  # noqa: S608 - constants
                f"FROM {AUDIT_TABLE} a WHERE a.chain_seq > %s ORDER BY a.chain_seq LIMIT %s",
                [result.last_seq, batch],
            )
            rows = cursor.fetchall()
            for record_id, seq, digest, at, sealed_at, text in rows:
                where = f"audit record {record_id} (chain position {seq})"
                if seq != result.last_seq + 1:
                    result.problem = (
                        f"{where}: the record before it is missing (positions {result.last_seq + 1}..{seq - 1} removed)"
                    )
                elif digest != link(result.last_hash, text):
                    result.problem = f"{where} does not match its hash: changed, moved or inserted after sealing"
                elif sealed_at is not None and at < sealed_at - tolerance:
                    result.problem = (
                        f"{where} is dated {at.isoformat()} but was sealed {sealed_at.isoformat()}: back-dated"
                    )
                else:
                    for head in exported.get(seq, ()):
                        if head["hash"] != digest:
                            result.problem = (
                                f"{where} differs from the head exported at {head['at']}: the trail was rebuilt"
                            )
                            break
                if result.problem:
                    return result
                result.checked += 1
                result.last_seq, result.last_hash = seq, digest
                result.heads_checked += len(exported.get(seq, ()))
            if len(rows) < batch:
                break
        cursor.execute(f"SELECT id FROM {AUDIT_TABLE} WHERE chain_seq IS NULL ORDER BY id LIMIT 1")  # noqa: S608
        unsealed = cursor.fetchone()
    if unsealed:
        result.problem = f"audit record {unsealed[0]} is not in the chain: written around the seal trigger"
        return result
    seq, digest = current_head()
    if (seq, digest) != (result.last_seq, result.last_hash):
        result.problem = (
            f"the chain head is at position {seq} but the trail ends at position {result.last_seq}: "
            "records at the end were removed"
        )
        return result
    beyond = [head for head in heads if head["seq"] > result.last_seq]
    if beyond:
        head = max(beyond, key=lambda h: h["seq"])
        result.problem = (
            f"the head exported at {head['at']} is at position {head['seq']} but the trail ends at position "
            f"{result.last_seq}: records were removed or the table truncated or rebuilt"
        )
    return result
