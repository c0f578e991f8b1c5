"""Seed a realistic benchmark data set fast, with PostgreSQL COPY.

Per case: one victim (a common surname and a one- or two-character given name),
a summary from a few typical phrasings, about five identifiers (the victim's account and phone,
three mule accounts drawn from a shared pool so cases link as in real life, and
a suspect phone or URL for half of them), three transfers (victim -> mule 1 ->
mule 2 -> mule 3), and for every third case a stop-payment to the first mule's
bank in a spread of states (some holding money now, some lapsed).

This BYPASSES the action functions (no audit rows, no per-row validation): that
is acceptable for benchmark data only, because what is measured is reading and
writing through the API on a table of realistic size. Nothing else in the
platform may write cases this way.

How it reaches COPY speed (docs/benchmarks.md, "Seeding"):

- The seeded tables are loaded **bare**: their secondary indexes, unique
  constraints and foreign keys are dropped first and added back afterwards
  (indexes built two at a time, then the foreign keys added ``NOT VALID`` and
  checked with ``VALIDATE CONSTRAINT``: one join per key instead of one lookup
  per row). The statements that restore them are saved in ``bench_meta``
  before anything is dropped, so a seed interrupted half way restores them on
  the next run.
- Every table has its own connection with one COPY open for the whole load;
  rows are written in blocks by psycopg's queued writer (a thread), so Python
  builds the next block while PostgreSQL parses the last one.

The case search's texts (``search_text``/``search_masked``) are built by the
platform's own ``cases.search.search_texts``, so the masked text is what
masking shows. Django must be set up before this module is imported.

The seeded size is recorded in ``bench_meta``; a rerun against a database of
the same size skips seeding so reruns are quick (``--reseed`` forces it).
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.copy import QueuedLibpqWriter

from cases.search import search_texts

BANKS = ["ICBC", "ABC", "BOC", "CCB", "BOCOM", "CMB", "PSBC", "BOCD"]
STATES = [
    ("pending_approval", 1),
    ("approved", 1),
    ("dispatched", 2),
    ("accepted", 2),
    ("completed", 4),
    ("rejected", 1),
    ("expired", 1),
]
TABLES = [
    "cases_task",
    "cases_transfer",
    "cases_caseidentifier",
    "cases_victim",
    "cases_case_agencies",
    "cases_case",
    "cases_identifier",
]
# Rows per COPY block handed to the writer thread.
BLOCK = 5000
# Index builds and key checks running at once after the load (the machine has two cores).
BUILDERS = 2
PENDING_KEY = "seed_pending_ddl"
NULL = "\\N"
# Surnames by rough frequency (张, 王, 李 are each about 7% of people), and given-name characters.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力宇鹏飞浩然欣怡晨子轩梓涵一诺宇航思远"
SUMMARIES = [
    "冒充电商客服称商品质量问题可退款，诱导受害人下载会议软件共享屏幕后转账",
    "刷单返利：先小额返现取得信任，后以任务未完成为由要求连续垫付",
    "虚假投资理财平台，群内导师荐股，提现时要求缴纳保证金",
    "冒充公检法称受害人涉嫌洗钱，要求将资金转入安全账户",
    "网络贷款需先交解冻费、保证金，放款前连续收费",
    "网络交友后诱导在博彩网站充值，无法提现",
    "冒充领导熟人添加微信，以急需用钱为由借款",
    "虚假征信：称需注销校园贷账户否则影响征信，诱导贷款后转出",
]


def seeded_size(conn: psycopg.Connection) -> int | None:
    conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
    row = conn.execute("SELECT value FROM bench_meta WHERE key = 'cases'").fetchone()
    conn.commit()
    return int(row[0]) if row else None


def _ids(conn, table: str) -> dict[str, int]:
    return dict(conn.execute(f"SELECT code, id FROM {table}").fetchall())


def _tsv(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


# --- loading bare tables ----------------------------------------------------------------


def deferred_ddl(conn, tables: list[str]) -> tuple[list[str], list[str]]:
    """What to drop before the load and what restores it after, for ``tables``.

    Returns ``(drops, restores)``. ``restores`` is in three stages, each
    statement prefixed with its stage (``index``, ``constraint``, ``fkey``):
    the secondary indexes (a unique constraint's too, built as a plain unique
    index), then the unique constraints attached to those indexes, then the
    foreign keys ``NOT VALID``, each followed by its ``VALIDATE``. Primary keys
    stay: the ids grow with the load, so their btrees only append.
    """
    names = [f"public.{t}" for t in tables]
    drops, restores = [], []
    constraint_indexes = set()
    for table, name, kind, definition, index in conn.execute(
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), conindid "
        "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u') ORDER BY contype, conname",
        [names],
    ).fetchall():
        if kind == "f":
            # Foreign keys go first, before any unique constraint they might lean on.
            drops.insert(0, f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            restores.append(f'fkey:ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
            restores.append(f'fkey:ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')
        else:
            constraint_indexes.add(index)
            drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            restores.append(f'constraint:ALTER TABLE {table} ADD CONSTRAINT "{name}" UNIQUE USING INDEX "{name}"')
            restores.append("index:" + conn.execute("SELECT pg_get_indexdef(%s)", [index]).fetchone()[0])
    for oid, name, definition in conn.execute(
        "SELECT x.indexrelid, i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisprimary "
        "ORDER BY i.relname",
        [names],
    ).fetchall():
        if oid not in constraint_indexes:
            drops.append(f'DROP INDEX public."{name}"')
            restores.append(f"index:{definition}")
    return drops, restores


def _session(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    # Index builds sort in memory; the key checks hash-join the whole table.
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET max_parallel_maintenance_workers = 0")
    return conn


def restore(dsn: str, restores: list[str], log=print, *, tolerant: bool = False) -> dict[str, float]:
    """Run the saved restores: indexes ``BUILDERS`` at a time, constraints, keys added then validated.

    ``tolerant``: an interrupted seed's restore, where some of it may already be back; what
    already exists is skipped.
    """
    stages = {
        stage: [s.split(":", 1)[1] for s in restores if s.startswith(stage + ":")]
        for stage in ("index", "constraint", "fkey")
    }
    timings = {}
    started = time.perf_counter()
    sessions = [_session(dsn) for _ in range(BUILDERS)]

    def run(conn, statement: str) -> None:
        try:
            conn.execute(statement)
        except (psycopg.errors.DuplicateObject, psycopg.errors.DuplicateTable, psycopg.errors.ObjectInUse) as exc:
            if not tolerant:
                raise
            log(f"  already there: {str(exc).splitlines()[0]}")

    try:

        def run_all(statements: list[str]) -> None:
            free = list(sessions)

            def one(statement):
                conn = free.pop()
                try:
                    run(conn, statement)
                finally:
                    free.append(conn)

            with ThreadPoolExecutor(len(sessions)) as pool:
                list(pool.map(one, statements))

        # The n-gram (GIN) indexes take longest: they start first, the btrees fill in beside them.
        run_all(sorted(stages["index"], key=lambda statement: " USING gin " not in statement))
        timings["indexes_seconds"] = round(time.perf_counter() - started, 1)
        log(f"  {len(stages['index'])} indexes built ({timings['indexes_seconds']:.0f}s)")
        mark = time.perf_counter()
        for statement in stages["constraint"]:
            run(sessions[0], statement)
        adds = [s for s in stages["fkey"] if " ADD CONSTRAINT " in s]
        for statement in adds:
            run(sessions[0], statement)
        # One VALIDATE per key; two tables' checks can run at once, one table's cannot.
        by_table: dict[str, list[str]] = {}
        for statement in stages["fkey"]:
            if " VALIDATE CONSTRAINT " in statement:
                by_table.setdefault(statement.split()[2], []).append(statement)
        groups = sorted(by_table.values(), key=len, reverse=True)
        run_all(["; ".join(group) for group in groups])
        timings["keys_seconds"] = round(time.perf_counter() - mark, 1)
        log(f"  {len(adds)} foreign keys added NOT VALID and validated ({timings['keys_seconds']:.0f}s)")
    finally:
        for conn in sessions:
            conn.close()
    return timings


def prepare(dsn: str, tables: list[str], log=print) -> list[str]:
    """Empty ``tables`` and strip them to their primary keys; returns the restores (also saved)."""
    with psycopg.connect(dsn) as conn:
        seeded_size(conn)
        row = conn.execute("SELECT value FROM bench_meta WHERE key = %s", [PENDING_KEY]).fetchone()
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        conn.execute("DELETE FROM bench_meta WHERE key = 'cases'")
        conn.commit()
        if row:
            # An earlier seed stopped before restoring what it dropped: restore it now (empty tables: quick).
            log("  restoring the indexes and keys an interrupted seed left dropped")
            restore(dsn, json.loads(row[0]), log=log, tolerant=True)
            conn.execute("DELETE FROM bench_meta WHERE key = %s", [PENDING_KEY])
            conn.commit()
        drops, restores = deferred_ddl(conn, tables)
        conn.execute("INSERT INTO bench_meta (key, value) VALUES (%s, %s)", [PENDING_KEY, json.dumps(restores)])
        for statement in drops:
            conn.execute(statement)
        conn.commit()
    return restores


class Stream:
    """One table's COPY, open on its own connection for the whole load.

    ``add`` takes a row already formatted as tab-separated text (without the
    trailing blank columns); every ``BLOCK`` rows are handed to the queued
    writer, whose thread sends them while the caller builds the next block.
    ``blank`` names text columns the seed leaves empty: Django's blank
    CharFields are NOT NULL with no database default, so COPY must write them.
    """

    def __init__(self, dsn: str, table: str, columns: list[str], blank: tuple[str, ...] = ()):
        self.table = table
        self.conn = psycopg.connect(dsn)
        self.conn.execute("SET synchronous_commit = off")
        cursor = self.conn.cursor()
        statement = f"COPY {table} ({', '.join([*columns, *blank])}) FROM STDIN"
        self._context = cursor.copy(statement, writer=QueuedLibpqWriter(cursor))
        self.copy = self._context.__enter__()
        self.tail = "\t" * len(blank) + "\n"
        self.rows: list[str] = []
        self.count = 0

    def add(self, line: str) -> None:
        self.rows.append(line)
        if len(self.rows) >= BLOCK:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.count += len(self.rows)
            self.copy.write(self.tail.join(self.rows) + self.tail)
            self.rows = []

    def close(self) -> None:
        self.flush()
        self._context.__exit__(None, None, None)
        self.conn.commit()
        self.conn.close()


def seed(dsn: str, cases: int, *, seed_value: int = 20261124, log=print) -> dict:
    """Replace the bench data with ``cases`` cases; returns counts and the seeding rate."""
    rng = random.Random(seed_value)
    words = random.Random(seed_value + 1)  # names and summaries: the rest of the data stays as it was
    started = time.perf_counter()
    restores = prepare(dsn, TABLES, log=log)
    with psycopg.connect(dsn) as conn:
        agencies = _ids(conn, "agencies_agency")
        fraud_types = list(_ids(conn, "cases_fraudtype").values())
        districts = list(_ids(conn, "cases_district").values())
        channels = list(_ids(conn, "cases_channel").values())
        creator = conn.execute("SELECT id FROM agencies_user WHERE username = 'bench_analyst'").fetchone()[0]
    bank_ids = [agencies[code] for code in BANKS]
    state_pool = [state for state, weight in STATES for _ in range(weight)]

    now = datetime.now(UTC).replace(microsecond=0)
    span = timedelta(days=365 * 2)
    # A shared pool of mule accounts and suspect numbers: cases reuse them and link.
    mule_pool = max(10, int(cases * 1.2))
    suspect_pool = max(10, cases // 3)
    identifier_ids: dict[tuple[str, str], int] = {}
    identifier_rows: dict[int, list] = {}

    def identifier(kind: str, value: str, bank_id, at: str, suspect: bool) -> int:
        # Cases come oldest first, so an identifier is first seen at its first case and last seen at its latest.
        key = (kind, value)
        ident = identifier_ids.get(key)
        if ident is None:
            ident = len(identifier_ids) + 1
            identifier_ids[key] = ident
            identifier_rows[ident] = [kind, value, bank_id, 0, at, at]
        row = identifier_rows[ident]
        if suspect:
            row[3] += 1
        row[5] = at
        return ident

    case_st = Stream(
        dsn,
        "cases_case",
        [
            "id", "reference", "reported_at", "occurred_at", "loss_amount", "currency", "summary", "status",
            "filing_number", "amount_stopped", "amount_frozen", "amount_returned", "first_stop_delivered_at",
            "created_at", "updated_at", "created_by_id", "channel_id", "district_id", "fraud_type_id",
            "search_text", "search_masked",
        ],
        blank=("outcome", "closure_summary"),
    )  # fmt: skip
    victim_st = Stream(dsn, "cases_victim", ["name", "id_number", "phone", "case_id"], blank=("address",))
    link_st = Stream(dsn, "cases_caseidentifier", ["role", "added_at", "case_id", "identifier_id"])
    transfer_st = Stream(
        dsn,
        "cases_transfer",
        ["amount", "at", "source", "created_at", "case_id", "from_identifier_id", "to_identifier_id"],
    )
    agencies_st = Stream(dsn, "cases_case_agencies", ["case_id", "agency_id"])
    task_st = Stream(
        dsn,
        "cases_task",
        [
            "type", "target_kind", "amount", "currency", "legal_document_number", "note", "state", "deadline",
            "is_overdue", "needs_attention", "attention_reason", "created_at", "approved_at", "dispatched_at",
            "accepted_at", "finished_at", "reason", "result_status", "result_digest", "amount_held", "lapses_at",
            "agency_id", "approved_by_id", "case_id", "created_by_id", "target_id",
        ],
        blank=("contact_name", "contact_phone", "contact_address"),
    )  # fmt: skip
    streams = [case_st, victim_st, link_st, transfer_st, agencies_st, task_st]
    try:
        # Oldest first, so ids grow with time as in production.
        offsets = sorted(rng.random() for _ in range(cases))
        tick = max(10_000, cases // 10)
        for number, fraction in enumerate(offsets, start=1):
            reported = now - span + span * fraction
            at = reported.isoformat()
            loss = rng.randint(500, 500000)
            status = rng.choice(("open", "open", "open", "filed", "closed"))
            channel, district, fraud_type = rng.choice(channels), rng.choice(districts), rng.choice(fraud_types)
            summary = words.choice(SUMMARIES)
            name = words.choice(SURNAMES[: words.choice((3, 20, len(SURNAMES)))]) + "".join(
                words.choice(GIVEN) for _ in range(words.choice((1, 2, 2)))
            )
            phone = f"139{number:08d}"
            victim_st.add(f"{name}\t\t{phone}\t{number}")
            victim_account = identifier("bank_account", f"6222{number:015d}", rng.choice(bank_ids), at, False)
            victim_phone = identifier("phone", phone, None, at, False)
            links = [(victim_account, "victim_account"), (victim_phone, "victim_phone")]
            mules = []
            for _ in range(3):
                mule = rng.randrange(mule_pool)
                bank = bank_ids[mule % len(bank_ids)]
                mules.append((identifier("bank_account", f"6217{mule:015d}", bank, at, True), bank))
            for mule, _bank in mules:
                if all(m != mule for m, _ in links):
                    links.append((mule, "receiving_account"))
            if number % 2 == 0:
                suspect = rng.randrange(suspect_pool)
                if suspect % 2:
                    value, kind = f"fraud{suspect}.example.com", "url"
                else:
                    value, kind = f"170{suspect:08d}", "phone"
                links.append((identifier(kind, value, None, at, True), "suspect"))
            for ident, role in links:
                link_st.add(f"{role}\t{at}\t{number}\t{ident}")
            full, masked = search_texts([(name, phone)], [identifier_rows[i][:2] for i, _role in links])
            case_st.add(
                f"{number}\tCD-{reported.year}-{number:06d}\t{at}\t{(reported - timedelta(hours=2)).isoformat()}\t"
                f"{loss}.00\tCNY\t{summary}\t{status}\t\t0.00\t0.00\t0.00\t\\N\t{at}\t{at}\t{creator}\t"
                f"{channel}\t{district}\t{fraud_type}\t{full}\t{masked}"
            )
            chain = [victim_account] + [m for m, _ in mules]
            for index in range(3):
                moved = (reported - timedelta(minutes=60 - index * 10)).isoformat()
                transfer_st.add(
                    f"{loss // (index + 1)}.00\t{moved}\tvictim_report\t{at}\t{number}\t"
                    f"{chain[index]}\t{chain[index + 1]}"
                )
            if number % 3 == 0:
                target, bank = mules[0]
                state = rng.choice(state_pool)
                approved = reported + timedelta(minutes=5) if state != "pending_approval" else None
                dispatched = reported + timedelta(minutes=6) if state not in ("pending_approval", "approved") else None
                accepted = reported + timedelta(minutes=9) if state in ("accepted", "completed", "expired") else None
                finished = reported + timedelta(minutes=20) if state in ("completed", "expired", "rejected") else None
                holding = state in ("completed", "expired")
                # A fraction of completed holds is still in force (lapses in the future).
                lapses = (
                    (now + timedelta(hours=rng.randint(1, 40)))
                    if state == "completed" and number % 9 == 0
                    else (finished + timedelta(hours=48) if holding else None)
                )
                task_st.add(
                    "\t".join(
                        _tsv(v)
                        for v in (
                            "emergency_stop_payment", "bank_account", f"{loss}.00", "CNY", "", "", state,
                            reported + timedelta(minutes=35), False, False, "", reported, approved, dispatched,
                            accepted, finished, "", "completed" if holding else "", "",
                            f"{loss // 2}.00" if holding else None, lapses, bank, creator if approved else None,
                            number, creator, target,
                        )
                    )
                )  # fmt: skip
                agencies_st.add(f"{number}\t{bank}")
            if number % tick == 0:
                elapsed = time.perf_counter() - started
                log(f"  {number} cases loaded ({elapsed:.0f}s, {number / elapsed:,.0f} cases/s)")
        ident_st = Stream(
            dsn,
            "cases_identifier",
            ["id", "kind", "value", "bank_id", "holder_name", "case_count", "first_seen_at", "last_seen_at"],
        )
        streams.append(ident_st)
        for ident, (kind, value, bank, count, first, last) in identifier_rows.items():
            ident_st.add(f"{ident}\t{kind}\t{value}\t{NULL if bank is None else bank}\t\t{count}\t{first}\t{last}")
        for stream in streams:
            stream.close()
    finally:
        for stream in streams:
            if not stream.conn.closed:
                stream.conn.close()
    load_seconds = time.perf_counter() - started
    log(f"  loaded {cases} cases and {ident_st.count} identifiers bare ({load_seconds:.0f}s)")
    timings = restore(dsn, restores, log=log)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("cases_case", "cases_identifier"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("SELECT setval('case_reference_seq', %s)", [cases + 1])
    mark = time.perf_counter()
    with ThreadPoolExecutor(BUILDERS) as pool:
        list(pool.map(_analyze, [dsn] * len(TABLES), TABLES))
    timings["analyze_seconds"] = round(time.perf_counter() - mark, 1)
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM bench_meta WHERE key = %s", [PENDING_KEY])
        conn.execute(
            "INSERT INTO bench_meta (key, value) VALUES ('cases', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [str(cases)],
        )
    elapsed = time.perf_counter() - started
    log(f"  seeded in {elapsed:.0f}s: {cases / elapsed:,.0f} cases/s")
    counts = {
        "cases": case_st.count,
        "identifiers": ident_st.count,
        "case_identifiers": link_st.count,
        "transfers": transfer_st.count,
        "tasks": task_st.count,
    }
    return {
        **counts,
        "seconds": round(elapsed, 1),
        "load_seconds": round(load_seconds, 1),
        **timings,
        "cases_per_second": round(cases / elapsed, 1),
    }


def _analyze(dsn: str, table: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"ANALYZE {table}")
