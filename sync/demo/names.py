"""Synthetic Chinese personal names, phone numbers, shops, companies and streets.

Everything here is invented: names are drawn from common surnames (weighted towards those frequent
in western Zhejiang) and given-name characters; phone numbers have a valid mobile shape but are
random. Places above the village (county, township, village) are real and come from the store.
"""

from __future__ import annotations

import random

# Surnames with rough weights: frequent nationally, plus those common around 衢州 (徐, 毛, 汪, 余,
# 郑, 祝, 叶, 姜, 邵, 童).
_SURNAMES: tuple[tuple[str, int], ...] = (
    ("徐", 40), ("王", 38), ("张", 34), ("刘", 20), ("陈", 26), ("李", 24), ("吴", 20),
    ("郑", 18), ("毛", 16), ("汪", 16), ("余", 15), ("周", 14), ("杨", 12), ("黄", 10),
    ("叶", 12), ("祝", 10), ("姜", 10), ("邵", 8), ("童", 8), ("方", 9), ("朱", 9), ("胡", 9),
    ("何", 7), ("林", 7), ("赵", 7), ("孙", 6), ("钱", 6), ("吕", 6), ("程", 6), ("柴", 5),
    ("戴", 5), ("傅", 5), ("谢", 5), ("詹", 5), ("江", 5), ("蓝", 3), ("雷", 3), ("龚", 4),
    ("严", 4), ("范", 4), ("金", 5), ("邱", 4), ("姚", 4), ("蒋", 4), ("华", 3), ("鲁", 3),
)  # fmt: skip
_SURNAME_LIST = [s for s, _ in _SURNAMES]
_SURNAME_WEIGHTS = [w for _, w in _SURNAMES]

_GIVEN_MALE = "建国伟强军明华勇杰涛斌刚平辉鹏飞志峰俊文海波超宇浩林荣新春根土水法土兴旺福贵"
_GIVEN_FEMALE = "秀英芳娟丽敏静霞燕红玲萍琴美兰梅凤雪婷慧娜丹莉云月翠华珍彩"
_GIVEN_ANY = "晓子一嘉思佳雨欣天安立成家永德顺利金银宝"

_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "157", "158", "159", "177", "180", "181", "182", "186", "187", "188", "189", "199",
)  # fmt: skip

_SHOP_KINDS = (
    "早餐店", "小吃店", "面馆", "超市", "便利店", "农家乐", "烧烤店", "饭店", "理发店", "五金店",
    "水果店", "粮油店", "棋牌室", "汽修店", "快递驿站", "茶楼",
)  # fmt: skip
_LUCKY = ("鸿运", "好又多", "兴旺", "家家乐", "旺客", "聚福", "万家", "福满", "惠民", "乐购")
_COMPANY_WORDS = (
    "鑫达", "恒昌", "华宇", "金源", "永盛", "瑞丰", "宏大", "天成", "众力", "嘉禾", "兴业",
    "博远", "明珠", "汇通", "宏泰", "新亚",
)  # fmt: skip
_INDUSTRIES = (
    "新材料", "纸业", "机械", "化工", "竹木制品", "食品", "建材", "电子", "纺织", "五金", "家具",
    "特种纸",
)  # fmt: skip
_ROADS = (
    "文化路", "人民路", "荣昌路", "建设路", "兴龙路", "太平路", "新桥路", "湖滨路", "环城路",
    "解放路", "站前路", "府前街", "学前路", "振兴路", "育才路", "桥头街", "工业大道", "滨江路",
)  # fmt: skip
_COMPOUNDS = (
    "锦绣花园", "阳光小区", "龙翔苑", "丽景苑", "书香名邸", "翠湖园", "金色家园", "滨江花苑",
    "和平新村", "东方名苑", "香樟园", "幸福里", "桂花园", "凤凰城",
)  # fmt: skip
_LANDMARKS_RURAL = (
    "村口", "文化礼堂", "老年活动中心", "祠堂", "溪边", "桥头", "停车场", "篮球场", "村部",
    "晒谷场", "公交站", "小学门口", "村道", "后山", "水塘边", "党群服务中心",
)  # fmt: skip
_LANDMARKS_URBAN = (
    "小区门口", "菜市场门口", "公交站", "社区服务中心", "小区广场", "地下车库", "沿街店面",
    "健身广场", "学校门口", "农贸市场", "停车场", "口袋公园", "人行道",
)  # fmt: skip
_RIVERS = ("衢江", "灵山江", "常山港", "江山港", "马金溪", "乌溪江", "村边小溪", "溪滩")


def person(rng: random.Random) -> str:
    """A synthetic personal name: a surname and one or two given characters."""
    surname = rng.choices(_SURNAME_LIST, _SURNAME_WEIGHTS)[0]
    pool = _GIVEN_MALE if rng.random() < 0.55 else _GIVEN_FEMALE
    if rng.random() < 0.2:
        return surname + rng.choice(pool)
    first = rng.choice(_GIVEN_ANY) if rng.random() < 0.3 else rng.choice(pool)
    return surname + first + rng.choice(pool)


def surname(rng: random.Random) -> str:
    return rng.choices(_SURNAME_LIST, _SURNAME_WEIGHTS)[0]


def phone(rng: random.Random) -> str:
    """A synthetic mobile number (valid shape, random digits)."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def shop(rng: random.Random) -> str:
    kind = rng.choice(_SHOP_KINDS)
    if rng.random() < 0.5:
        return "老" + surname(rng) + kind
    return rng.choice(_LUCKY) + kind


def company(rng: random.Random, county_short: str) -> str:
    return f"{county_short}{rng.choice(_COMPANY_WORDS)}{rng.choice(_INDUSTRIES)}有限公司"


def road(rng: random.Random) -> str:
    return rng.choice(_ROADS)


def compound(rng: random.Random) -> str:
    return rng.choice(_COMPOUNDS)


def landmark(rng: random.Random, urban: bool) -> str:
    return rng.choice(_LANDMARKS_URBAN if urban else _LANDMARKS_RURAL)


def river(rng: random.Random) -> str:
    return rng.choice(_RIVERS)
