"""Made-up but well-formed personal and banking data for simulated results.

Every value passes the checks a real system applies (resident ID checksum,
card-number Luhn digit, mainland mobile number plan) so the platform's
validators and identifier linkage see realistic input. Nothing here is real.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

__all__ = [
    "BANKS",
    "CHENGDU_DISTRICTS",
    "id_check_char",
    "is_luhn_valid",
    "is_male_id",
    "is_valid_id_number",
    "is_valid_mobile",
    "luhn_check_digit",
    "make_account_number",
    "make_id_number",
    "make_mobile",
    "make_name",
]

#: Banks that onward transfers land in, with an issuer prefix and card length
#: typical of each (debit cards are 16 to 19 digits, the last a Luhn digit).
BANKS: dict[str, tuple[str, int]] = {
    "ICBC": ("622202", 19),
    "ABC": ("622848", 19),
    "BOC": ("621661", 19),
    "CCB": ("621700", 19),
    "BOCOM": ("622262", 17),
    "CMB": ("622588", 16),
    "PSBC": ("621799", 19),
    "BOCD": ("622147", 18),
}

# Tables read better as tables than one entry per line.
# fmt: off
#: Chengdu's districts, county-level cities and counties, and its two functional zones.
CHENGDU_DISTRICTS: tuple[str, ...] = (
    "锦江区", "青羊区", "金牛区", "武侯区", "成华区", "龙泉驿区",
    "青白江区", "新都区", "温江区", "双流区", "郫都区", "新津区", "简阳市",
    "都江堰市", "彭州市", "邛崃市", "崇州市", "金堂县", "大邑县", "蒲江县",
    "高新区", "天府新区",
)

# Area codes of the resident ID: mostly Chengdu, plus a few places far away,
# because mule-account holders are often recruited from other provinces.
_ID_AREA_CODES: tuple[str, ...] = (
    "510104", "510105", "510106", "510107", "510108", "510112", "510113",
    "510114", "510115", "510116", "510117", "510118", "510121", "510129",
    "510131", "510181", "510182", "510183", "510184", "510185", "511602",
    "510522", "350583", "445281", "431381", "360732",
)

# fmt: on

# ISO 7064 MOD 11-2 as GB 11643-1999 applies it: weight 2**(17-i) mod 11 for
# position i, and the remainder of the weighted sum mod 11 picks the check character.
_ID_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK_CHARS = "10X98765432"
_ID_NUMBER = re.compile(r"[1-9][0-9]{16}[0-9X]")

# fmt: off
# Mobile number segments by operator; every one is 1[3-9]x.
_MOBILE_PREFIXES: dict[str, tuple[str, ...]] = {
    "CMCC": (
        "134", "135", "136", "137", "138", "139", "147", "150", "151",
        "152", "157", "158", "159", "172", "178", "182", "183", "184",
        "187", "188", "198",
    ),
    "CUCC": (
        "130", "131", "132", "145", "155", "156", "166", "175", "176",
        "185", "186",
    ),
    "CTCC": (
        "133", "149", "153", "173", "177", "180", "181", "189", "191",
        "199",
    ),
}
# fmt: on
_ALL_MOBILE_PREFIXES: tuple[str, ...] = tuple(p for ps in _MOBILE_PREFIXES.values() for p in ps)
_MOBILE = re.compile(r"1[3-9][0-9]{9}")

# fmt: off
_SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
    "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋",
    "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁",
    "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任",
    "沈", "姚", "卢", "钟", "谭", "廖", "向", "欧阳",
)
_GIVEN_MALE = (
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "斌", "超", "明", "刚",
    "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊",
    "帆", "建国", "志强", "海", "林", "峰", "文", "博", "旭", "晨", "亮",
    "成", "东", "川", "毅", "龙",
)
_GIVEN_FEMALE = (
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "玲", "桂英",
    "丹", "萍", "红", "燕", "琳", "婷", "雪", "倩", "洁", "颖", "佳", "欣",
    "慧", "月", "蓉", "瑶", "莉", "梅", "琴", "晶", "璐", "思", "雨", "露",
    "薇", "媛", "婧", "淑", "菲",
)

# fmt: on


def id_check_char(first17: str) -> str:
    """The 18th character of a resident ID whose first 17 digits are ``first17``."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("a resident ID checksum needs exactly 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def is_valid_id_number(value: str) -> bool:
    """Whether ``value`` is an 18-character resident ID with a real birth date and checksum."""
    if not isinstance(value, str) or not _ID_NUMBER.fullmatch(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_check_char(value[:17]) == value[17]


def make_id_number(
    rng: random.Random,
    *,
    male: bool | None = None,
    born_from: date = date(1965, 1, 1),
    born_to: date = date(2004, 12, 31),
) -> str:
    """A resident ID with a valid checksum; the 17th digit is odd for men, as on real ones."""
    area = rng.choice(_ID_AREA_CODES)
    birth = born_from + timedelta(days=rng.randint(0, (born_to - born_from).days))
    sequence = rng.randint(0, 99) * 10 + rng.randint(0, 9)
    if male is not None and (sequence % 2 == 1) != male:
        sequence ^= 1
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def is_male_id(id_number: str) -> bool:
    """Whether a resident ID belongs to a man (odd 17th digit)."""
    return int(id_number[16]) % 2 == 1


def make_name(rng: random.Random, *, male: bool) -> str:
    """A common Chinese full name of the given sex."""
    given = _GIVEN_MALE if male else _GIVEN_FEMALE
    name = rng.choice(_SURNAMES) + rng.choice(given)
    # Most names are two or three characters; add a second given character now and then.
    if len(name) == 2 and rng.random() < 0.6:
        name += rng.choice(given)
    return name


def luhn_check_digit(payload: str) -> str:
    """The Luhn (mod 10) digit that makes ``payload`` + digit a valid card number."""
    total = 0
    # Counting from the right of the payload, every first, third, ... digit is doubled.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_luhn_valid(number: str) -> bool:
    """Whether ``number`` is all digits and ends in its Luhn digit."""
    return (
        isinstance(number, str)
        and len(number) >= 2
        and number.isdigit()
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def make_account_number(rng: random.Random, bank: str) -> str:
    """A card number of ``bank``: its issuer prefix, random digits and a Luhn digit."""
    prefix, length = BANKS.get(bank, ("621000", 19))
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body)


def is_valid_mobile(value: str) -> bool:
    """Whether ``value`` looks like a mainland mobile number."""
    return isinstance(value, str) and bool(_MOBILE.fullmatch(value))


def make_mobile(rng: random.Random, operator: str | None = None) -> str:
    """A mainland mobile number, from ``operator``'s segments when it is a known operator."""
    prefixes = _MOBILE_PREFIXES.get(operator or "", _ALL_MOBILE_PREFIXES)
    return rng.choice(prefixes) + "".join(str(rng.randint(0, 9)) for _ in range(8))
