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

The case search's texts (``search_text``/``search_masked``) are built by the
platform's own ``cases.search.search_texts``, so the masked text is what
masking shows. Django must be set up before this module is imported.

The seeded size is recorded in ``bench_meta``; a rerun against a database of
the same size skips seeding so reruns are quick (``--reseed`` forces it).
"""

from __future__ import annotations

import io
import random
import time
from datetime import UTC, datetime, timedelta

import psycopg

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
CHUNK = 20000
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


class Copier:
    """Buffers rows as tab-separated text and COPYs them in chunks (far faster than INSERTs).

    ``blank`` names text columns the seed leaves empty: Django's blank CharFields are NOT NULL
    with no database default, so COPY must write them (every row gets an empty string).
    """

    def __init__(self, conn, table: str, columns: list[str], blank: tuple[str, ...] = ()):
        self.conn, self.table, self.columns = conn, table, [*columns, *blank]
        self.tail = "\t" * len(blank)
        self.buffer = io.StringIO()
        self.count = 0
        self.pending = 0

    def add(self, *values) -> None:
        self.buffer.write("\t".join(_tsv(v) for v in values))
        self.buffer.write(self.tail + "\n")
        self.pending += 1
        if self.pending >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.conn.cursor() as cur, cur.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
            copy.write(self.buffer.getvalue())
        self.count += self.pending
        self.pending = 0
        self.buffer = io.StringIO()


def seed(dsn: str, cases: int, *, seed_value: int = 20261124, log=print) -> dict:
    """Replace the bench data with ``cases`` cases; returns counts and the seeding rate."""
    rng = random.Random(seed_value)
    words = random.Random(seed_value + 1)  # names and summaries: the rest of the data stays as it was
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        # The search's n-gram indexes compute an array per row: built once after the COPY,
        # not row by row during it (several times faster).
        search_indexes = [
            row[0]
            for row in conn.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index JOIN pg_class c ON c.oid = indexrelid "
                "WHERE c.relname IN ('case_search_idx', 'case_search_masked_idx')"
            ).fetchall()
        ]
        conn.execute("DROP INDEX IF EXISTS case_search_idx, case_search_masked_idx")
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

        def identifier(kind: str, value: str, bank_id, at: datetime, suspect: bool) -> int:
            key = (kind, value)
            ident = identifier_ids.get(key)
            if ident is None:
                ident = len(identifier_ids) + 1
                identifier_ids[key] = ident
                identifier_rows[ident] = [kind, value, bank_id, 0, at, at]
            row = identifier_rows[ident]
            row[3] += 1 if suspect else 0
            row[4], row[5] = min(row[4], at), max(row[5], at)
            return ident

        case_cp = Copier(
            conn,
            "cases_case",
            [
                "id", "reference", "reported_at", "occurred_at", "loss_amount", "currency", "summary", "status",
                "filing_number", "amount_stopped", "amount_frozen", "amount_returned", "first_stop_delivered_at",
                "created_at", "updated_at", "created_by_id", "channel_id", "district_id", "fraud_type_id",
                "search_text", "search_masked",
            ],
            blank=("outcome", "closure_summary"),
        )  # fmt: skip
        victim_cp = Copier(conn, "cases_victim", ["name", "id_number", "phone", "case_id"], blank=("address",))
        link_cp = Copier(conn, "cases_caseidentifier", ["role", "added_at", "case_id", "identifier_id"])
        transfer_cp = Copier(
            conn,
            "cases_transfer",
            ["amount", "at", "source", "created_at", "case_id", "from_identifier_id", "to_identifier_id"],
        )
        agencies_cp = Copier(conn, "cases_case_agencies", ["case_id", "agency_id"])
        task_cp = Copier(
            conn,
            "cases_task",
            [
                "type", "target_kind", "amount", "currency", "legal_document_number", "note", "state", "deadline",
                "is_overdue", "needs_attention", "attention_reason", "created_at", "approved_at", "dispatched_at",
                "accepted_at", "finished_at", "reason", "result_status", "result_digest", "amount_held", "lapses_at",
                "agency_id", "approved_by_id", "case_id", "created_by_id", "target_id",
            ],
            blank=("contact_name", "contact_phone", "contact_address"),
        )  # fmt: skip

        # Oldest first, so ids grow with time as in production.
        offsets = sorted(rng.random() for _ in range(cases))
        for number, fraction in enumerate(offsets, start=1):
            reported = now - span + span * fraction
            loss = rng.randint(500, 500000)
            case_row = [
                number, f"CD-{reported.year}-{number:06d}", reported, reported - timedelta(hours=2), f"{loss}.00",
                "CNY", words.choice(SUMMARIES), rng.choice(("open", "open", "open", "filed", "closed")), "", "0.00",
                "0.00", "0.00", None, reported, reported, creator, rng.choice(channels), rng.choice(districts),
                rng.choice(fraud_types),
            ]  # fmt: skip
            name = words.choice(SURNAMES[: words.choice((3, 20, len(SURNAMES)))]) + "".join(
                words.choice(GIVEN) for _ in range(words.choice((1, 2, 2)))
            )
            victim_cp.add(name, "", f"139{number:08d}", number)
            victim_account = identifier("bank_account", f"6222{number:015d}", rng.choice(bank_ids), reported, False)
            victim_phone = identifier("phone", f"139{number:08d}", None, reported, False)
            links = [(victim_account, "victim_account"), (victim_phone, "victim_phone")]
            mules = []
            for _ in range(3):
                mule = rng.randrange(mule_pool)
                bank = bank_ids[mule % len(bank_ids)]
                mules.append((identifier("bank_account", f"6217{mule:015d}", bank, reported, True), bank))
            for mule, _bank in mules:
                if (mule, "receiving_account") not in links and all(m != mule for m, _ in links):
                    links.append((mule, "receiving_account"))
            if number % 2 == 0:
                suspect = rng.randrange(suspect_pool)
                if suspect % 2:
                    value, kind = f"fraud{suspect}.example.com", "url"
                else:
                    value, kind = f"170{suspect:08d}", "phone"
                links.append((identifier(kind, value, None, reported, True), "suspect"))
            for ident, role in links:
                link_cp.add(role, reported, number, ident)
            case_cp.add(
                *case_row,
                *search_texts([(name, f"139{number:08d}")], [identifier_rows[i][:2] for i, _role in links]),
            )
            chain = [victim_account] + [m for m, _ in mules]
            for index in range(3):
                at = reported - timedelta(minutes=60 - index * 10)
                transfer_cp.add(
                    f"{loss // (index + 1)}.00", at, "victim_report", reported, number, chain[index], chain[index + 1]
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
                task_cp.add(
                    "emergency_stop_payment", "bank_account", f"{loss}.00", "CNY", "", "", state,
                    reported + timedelta(minutes=35), False, False, "", reported, approved, dispatched, accepted,
                    finished, "", "completed" if holding else "", "", f"{loss // 2}.00" if holding else None, lapses,
                    bank, creator if approved else None, number, creator, target,
                )  # fmt: skip
                agencies_cp.add(number, bank)
            if number % 50000 == 0:
                log(f"  {number} cases generated ({time.perf_counter() - started:.0f}s)")
        for copier in (case_cp, victim_cp, agencies_cp):
            copier.flush()
        ident_cp = Copier(
            conn,
            "cases_identifier",
            ["id", "kind", "value", "bank_id", "holder_name", "case_count", "first_seen_at", "last_seen_at"],
        )
        for ident, (kind, value, bank, count, first, last) in identifier_rows.items():
            ident_cp.add(ident, kind, value, bank, "", count, first, last)
        ident_cp.flush()
        for copier in (link_cp, transfer_cp, task_cp):
            copier.flush()
        # The deferred foreign-key checks first: CREATE INDEX refuses a table with pending ones.
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for definition in search_indexes:
            conn.execute(definition)
        for table in ("cases_case", "cases_identifier"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("SELECT setval('case_reference_seq', %s)", [cases + 1])
        conn.execute(
            "INSERT INTO bench_meta (key, value) VALUES ('cases', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [str(cases)],
        )
        conn.commit()
        copy_seconds = time.perf_counter() - started
        conn.autocommit = True
        for table in TABLES:
            conn.execute(f"ANALYZE {table}")
        counts = {
            "cases": case_cp.count,
            "identifiers": ident_cp.count,
            "case_identifiers": link_cp.count,
            "transfers": transfer_cp.count,
            "tasks": task_cp.count,
        }
    elapsed = time.perf_counter() - started
    return {
        **counts,
        "seconds": round(elapsed, 1),
        "copy_seconds": round(copy_seconds, 1),
        "cases_per_second": round(cases / elapsed, 1),
    }
