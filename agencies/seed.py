"""The seeded roster: the joint meeting's 21 members and the agencies around them.

Idempotent: ``seed_agencies()`` creates what is missing and leaves what an
administrator has edited alone (names, membership, endpoints); an English name
left empty is filled in from this roster.
"""

from __future__ import annotations

from .choices import Sector as S
from .models import Agency

# (code, Chinese name, English name, sector, joint-meeting member, parent code)
AGENCIES: list[tuple[str, str, str, str, bool, str | None]] = [
    ("PSB", "成都市公安局", "Chengdu Public Security Bureau", S.PUBLIC_SECURITY, True, None),
    ("AFC", "成都市反电信网络诈骗中心", "Chengdu Anti-Fraud Centre", S.PUBLIC_SECURITY, False, "PSB"),
    ("CD-COURT", "成都市中级人民法院", "Chengdu Intermediate People's Court", S.JUDICIAL, True, None),
    ("CD-PROC", "成都市人民检察院", "Chengdu People's Procuratorate", S.JUDICIAL, True, None),
    ("PBOC-CD", "中国人民银行成都分行", "People's Bank of China, Chengdu Branch", S.FINANCIAL_REGULATOR, True, None),
    ("NFRA-SC", "国家金融监督管理总局四川监管局", "NFRA Sichuan Office", S.FINANCIAL_REGULATOR, True, None),
    ("CD-FIN", "成都市地方金融管理局", "Chengdu Local Financial Administration", S.FINANCIAL_REGULATOR, True, None),
    ("SCCA", "四川省通信管理局", "Sichuan Communications Administration", S.INTERNET_REGULATOR, True, None),
    ("CAC-CD", "成都市委网信办", "Chengdu Cyberspace Administration", S.INTERNET_REGULATOR, True, None),
    ("ICBC", "中国工商银行四川省分行", "ICBC Sichuan Branch", S.BANK, True, None),
    ("ABC", "中国农业银行四川省分行", "Agricultural Bank of China Sichuan Branch", S.BANK, True, None),
    ("BOC", "中国银行四川省分行", "Bank of China Sichuan Branch", S.BANK, True, None),
    ("CCB", "中国建设银行四川省分行", "China Construction Bank Sichuan Branch", S.BANK, True, None),
    ("CMCC", "中国移动成都分公司", "China Mobile Chengdu", S.TELECOM_OPERATOR, True, None),
    ("CUCC", "中国联通成都分公司", "China Unicom Chengdu", S.TELECOM_OPERATOR, True, None),
    ("CTCC", "中国电信成都分公司", "China Telecom Chengdu", S.TELECOM_OPERATOR, True, None),
    ("CD-PUBLICITY", "成都市委宣传部", "Chengdu Publicity Department", S.GOVERNMENT, True, None),
    ("CD-EDU", "成都市教育局", "Chengdu Education Bureau", S.GOVERNMENT, True, None),
    ("CD-CIVIL", "成都市民政局", "Chengdu Civil Affairs Bureau", S.GOVERNMENT, True, None),
    ("CD-SAMR", "成都市市场监督管理局", "Chengdu Market Regulation Administration", S.GOVERNMENT, True, None),
    ("CD-POST", "成都市邮政管理局", "Chengdu Postal Administration", S.GOVERNMENT, True, None),
    ("CD-JUSTICE", "成都市司法局", "Chengdu Justice Bureau", S.GOVERNMENT, True, None),
    ("BOCOM", "交通银行四川省分行", "Bank of Communications Sichuan Branch", S.BANK, False, None),
    ("CMB", "招商银行成都分行", "China Merchants Bank Chengdu Branch", S.BANK, False, None),
    ("PSBC", "中国邮政储蓄银行四川省分行", "Postal Savings Bank of China Sichuan Branch", S.BANK, False, None),
    ("BOCD", "成都银行", "Bank of Chengdu", S.BANK, False, None),
    ("ALIPAY", "支付宝（中国）网络技术有限公司", "Alipay", S.PAYMENT_INSTITUTION, False, None),
    ("TENPAY", "财付通支付科技有限公司", "Tenpay", S.PAYMENT_INSTITUTION, False, None),
    ("TENCENT", "腾讯", "Tencent", S.INTERNET_PLATFORM, False, None),
    ("ALIBABA", "阿里巴巴", "Alibaba", S.INTERNET_PLATFORM, False, None),
    ("BYTEDANCE", "字节跳动", "ByteDance", S.INTERNET_PLATFORM, False, None),
    ("MEITUAN", "美团", "Meituan", S.INTERNET_PLATFORM, False, None),
]

# District police sub-bureaus: code suffix, Chinese district name, English name.
DISTRICT_BUREAUS: list[tuple[str, str, str]] = [
    ("jinjiang", "锦江区", "Jinjiang"),
    ("qingyang", "青羊区", "Qingyang"),
    ("jinniu", "金牛区", "Jinniu"),
    ("wuhou", "武侯区", "Wuhou"),
    ("chenghua", "成华区", "Chenghua"),
    ("longquanyi", "龙泉驿区", "Longquanyi"),
    ("qingbaijiang", "青白江区", "Qingbaijiang"),
    ("xindu", "新都区", "Xindu"),
    ("wenjiang", "温江区", "Wenjiang"),
    ("shuangliu", "双流区", "Shuangliu"),
    ("pidu", "郫都区", "Pidu"),
    ("xinjin", "新津区", "Xinjin"),
    ("dujiangyan", "都江堰市", "Dujiangyan"),
    ("pengzhou", "彭州市", "Pengzhou"),
    ("qionglai", "邛崃市", "Qionglai"),
    ("chongzhou", "崇州市", "Chongzhou"),
    ("jianyang", "简阳市", "Jianyang"),
    ("jintang", "金堂县", "Jintang"),
    ("dayi", "大邑县", "Dayi"),
    ("pujiang", "蒲江县", "Pujiang"),
    ("gaoxin", "高新区", "High-tech Zone"),
    ("tianfu", "天府新区", "Tianfu New Area"),
]


def bureau_code(district_code: str) -> str:
    return f"PSB-{district_code.upper()}"


def seed_agencies() -> int:
    """Create the missing agencies; returns how many were created."""
    existing = set(Agency.objects.values_list("code", flat=True))
    created = 0
    by_code: dict[str, Agency] = {a.code: a for a in Agency.objects.all()}
    rows = list(AGENCIES) + [
        (
            bureau_code(code),
            f"成都市公安局{name}分局",
            f"{name_en} Public Security Sub-bureau",
            S.PUBLIC_SECURITY,
            False,
            "PSB",
        )
        for code, name, name_en in DISTRICT_BUREAUS
    ]
    for code, name, name_en, sector, member, parent in rows:
        if code in existing:
            # Rosters seeded before English pages showed English names may lack one;
            # fill it where nobody has written one, never over an administrator's.
            if name_en and not by_code[code].name_en:
                Agency.objects.filter(pk=by_code[code].pk, name_en="").update(name_en=name_en)
            continue
        by_code[code] = Agency.objects.create(
            code=code,
            name=name,
            name_en=name_en,
            sector=sector,
            is_member=member,
            parent=by_code.get(parent) if parent else None,
        )
        created += 1
    return created
