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
    return created + seed_stations()


# Police stations (派出所) under each district sub-bureau: the warning loop's last mile.
# (district code, code suffix, Chinese name, English name, address keywords). The keywords
# are the streets and towns the station answers for: a warning whose address contains one
# goes to that station (``station_for_address``), otherwise to the district's sub-bureau.
STATIONS: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    ("jinjiang", "CHUNXI", "春熙路派出所", "Chunxi Road Police Station", ("春熙路", "红星路", "总府路")),
    ("jinjiang", "DUYUAN", "督院街派出所", "Duyuan Street Police Station", ("督院街", "书院街")),
    ("jinjiang", "NIUSHIKOU", "牛市口派出所", "Niushikou Police Station", ("牛市口", "东大街")),
    ("qingyang", "CAOSHI", "草市街派出所", "Caoshi Street Police Station", ("草市街", "西御河")),
    ("qingyang", "SHAOCHENG", "少城派出所", "Shaocheng Police Station", ("少城", "宽窄巷子", "长顺街")),
    ("qingyang", "FUNAN", "府南派出所", "Funan Police Station", ("府南", "光华")),
    ("jinniu", "HEHUACHI", "荷花池派出所", "Hehuachi Police Station", ("荷花池", "五块石")),
    ("jinniu", "SIMAQIAO", "驷马桥派出所", "Simaqiao Police Station", ("驷马桥", "北站")),
    ("jinniu", "YINGMENKOU", "营门口派出所", "Yingmenkou Police Station", ("营门口", "茶店子")),
    ("wuhou", "JIANGXI", "浆洗街派出所", "Jiangxi Street Police Station", ("浆洗街", "武侯祠", "洗面桥")),
    ("wuhou", "YULIN", "玉林派出所", "Yulin Police Station", ("玉林", "芳沁")),
    ("wuhou", "CUQIAO", "簇桥派出所", "Cuqiao Police Station", ("簇桥", "金花", "机投")),
    ("chenghua", "MENGZHUIWAN", "猛追湾派出所", "Mengzhuiwan Police Station", ("猛追湾", "望平街")),
    ("chenghua", "JIANSHE", "建设路派出所", "Jianshe Road Police Station", ("建设路", "双桥子")),
    ("chenghua", "FUQING", "府青路派出所", "Fuqing Road Police Station", ("府青路", "二仙桥")),
    ("longquanyi", "LONGQUAN", "龙泉派出所", "Longquan Police Station", ("龙泉街道", "驿都")),
    ("longquanyi", "DAMIAN", "大面派出所", "Damian Police Station", ("大面",)),
    ("qingbaijiang", "DAWAN", "大弯派出所", "Dawan Police Station", ("大弯",)),
    ("qingbaijiang", "CHENGXIANG", "城厢派出所", "Chengxiang Police Station", ("城厢",)),
    ("xindu", "XINDU", "新都派出所", "Xindu Town Police Station", ("新都街道", "桂湖")),
    ("xindu", "DAFENG", "大丰派出所", "Dafeng Police Station", ("大丰",)),
    ("wenjiang", "LIUCHENG", "柳城派出所", "Liucheng Police Station", ("柳城",)),
    ("wenjiang", "GONGPING", "公平派出所", "Gongping Police Station", ("公平",)),
    ("shuangliu", "DONGSHENG", "东升派出所", "Dongsheng Police Station", ("东升",)),
    ("shuangliu", "JIUJIANG", "九江派出所", "Jiujiang Police Station", ("九江",)),
    ("pidu", "PITONG", "郫筒派出所", "Pitong Police Station", ("郫筒",)),
    ("pidu", "XIPU", "犀浦派出所", "Xipu Police Station", ("犀浦",)),
    ("xinjin", "WUJIN", "五津派出所", "Wujin Police Station", ("五津",)),
    ("xinjin", "HUAYUAN", "花源派出所", "Huayuan Police Station", ("花源",)),
    ("dujiangyan", "GUANKOU", "灌口派出所", "Guankou Police Station", ("灌口",)),
    ("dujiangyan", "XINGFU", "幸福派出所", "Xingfu Police Station", ("幸福街道",)),
    ("pengzhou", "TIANPENG", "天彭派出所", "Tianpeng Police Station", ("天彭",)),
    ("pengzhou", "ZHIHE", "致和派出所", "Zhihe Police Station", ("致和",)),
    ("qionglai", "LINQIONG", "临邛派出所", "Linqiong Police Station", ("临邛",)),
    ("qionglai", "WENJUN", "文君派出所", "Wenjun Police Station", ("文君",)),
    ("chongzhou", "CHONGYANG", "崇阳派出所", "Chongyang Police Station", ("崇阳",)),
    ("chongzhou", "SANJIANG", "三江派出所", "Sanjiang Police Station", ("三江",)),
    ("jianyang", "JIANCHENG", "简城派出所", "Jiancheng Police Station", ("简城",)),
    ("jianyang", "SHEHONGBA", "射洪坝派出所", "Shehongba Police Station", ("射洪坝",)),
    ("jintang", "ZHAOZHEN", "赵镇派出所", "Zhaozhen Police Station", ("赵镇",)),
    ("jintang", "HUAIKOU", "淮口派出所", "Huaikou Police Station", ("淮口",)),
    ("dayi", "JINYUAN", "晋原派出所", "Jinyuan Police Station", ("晋原",)),
    ("dayi", "ANREN", "安仁派出所", "Anren Police Station", ("安仁",)),
    ("pujiang", "HESHAN", "鹤山派出所", "Heshan Police Station", ("鹤山",)),
    ("pujiang", "SHOUAN", "寿安派出所", "Shou'an Police Station", ("寿安",)),
    ("gaoxin", "FANGCAO", "芳草派出所", "Fangcao Police Station", ("芳草", "桐梓林")),
    ("gaoxin", "GUIXI", "桂溪派出所", "Guixi Police Station", ("桂溪", "天府软件园", "天府三街")),
    ("gaoxin", "SHIYANG", "石羊派出所", "Shiyang Police Station", ("石羊",)),
    ("tianfu", "HUAYANG", "华阳派出所", "Huayang Police Station", ("华阳",)),
    ("tianfu", "ZHENGXING", "正兴派出所", "Zhengxing Police Station", ("正兴",)),
]


def station_code(district_code: str, suffix: str) -> str:
    return f"PS-{district_code.upper()}-{suffix}"


def station_for_address(district_code: str, address: str | None) -> str | None:
    """The code of the station whose keywords appear in ``address``, in roster order; ``None`` if none does.

    The rule is deliberately simple and documented (docs/warnings.md, "Routing"): a
    keyword is a street or town name; the first station of the district whose keyword
    is in the address answers for it.
    """
    if not address:
        return None
    for district, suffix, _name, _name_en, keywords in STATIONS:
        if district == district_code and any(k in address for k in keywords):
            return station_code(district, suffix)
    return None


def seed_stations() -> int:
    """Create the missing police stations under their district's sub-bureau; returns how many."""
    existing = set(Agency.objects.filter(code__startswith="PS-").values_list("code", flat=True))
    bureaus = {a.code: a for a in Agency.objects.filter(code__startswith="PSB-")}
    rows = []
    for district, suffix, name, name_en, _keywords in STATIONS:
        code = station_code(district, suffix)
        parent = bureaus.get(bureau_code(district))
        if code in existing or parent is None:
            continue
        rows.append(
            Agency(code=code, name=name, name_en=name_en, sector=S.PUBLIC_SECURITY, is_member=False, parent=parent)
        )
    Agency.objects.bulk_create(rows)
    return len(rows)
