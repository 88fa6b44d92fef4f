"""A generated evaluation set for the duplicate check: pairs of records that are the
same customer written differently (variants) and pairs that look alike but are not
(hard negatives), Chinese and English, accounts and contacts, one kind per issue rule.

    python -m tests.dedupe.evaluate     # prints recall and false-alarm rate per kind
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from desktop.schema import uscc_check_char

CN_BRANDS = ["腾讯", "华为", "比亚迪", "美的", "海尔", "格力", "联想", "小米", "大疆", "顺丰",
             "京东", "网易", "百度", "蔚来", "理想", "恒瑞", "迈瑞", "海康威视", "汇川", "立讯",
             "宁德时代", "金蝶", "用友", "科大讯飞", "三一", "中联", "潍柴", "万华", "伊利", "蒙牛",
             "安踏", "李宁", "波司登", "海天", "洋河", "青啤", "长城", "吉利", "长安", "奇瑞"]
CN_WORDS = ["星辰", "瑞丰", "鼎盛", "恒通", "佳禾", "泰和", "润泽", "博远", "兴达", "宏图",
            "卓越", "锦程", "华信", "天成", "永盛", "东方", "新源", "立华", "嘉诚", "弘毅"]
CN_INDUSTRY = ["计算机系统", "科技", "电子", "信息技术", "贸易", "物流", "医疗器械", "新能源",
               "智能装备", "生物科技", "食品", "建材", "网络科技", "供应链管理"]
CN_LEGAL = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司"]
CN_CITIES = ["北京", "上海", "深圳", "广州", "杭州", "成都", "武汉", "南京", "苏州", "西安"]
EN_WORDS = ["Acme", "Global", "Pacific", "Summit", "Northwind", "Bluewater", "Evergreen",
            "Silverline", "Redwood", "Brightstar", "Harbor", "Pioneer", "Keystone", "Crescent",
            "Orion", "Vertex", "Atlas", "Meridian", "Horizon", "Sterling"]
EN_INDUSTRY = ["Technologies", "Logistics", "Trading", "Electronics", "Medical Devices",
               "Semiconductor", "Software", "Industrial Supply", "Consulting", "Foods"]
EN_LEGAL = ["Co., Ltd.", "Company Limited", "Ltd.", "Limited", "Inc.", "LLC", "GmbH",
            "Corporation"]
EN_CITIES = ["Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Suzhou", "Hangzhou"]
CN_PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷"]
EN_PEOPLE = ["John Smith", "Mary Johnson", "David Lee", "Linda Brown", "James Wilson",
             "Sarah Davis", "Robert Taylor", "Emily Clark"]
MOBILE_PREFIXES = ["139", "138", "137", "186", "158", "150", "177", "199"]
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class Case:
    entity: str
    kind: str
    same: bool  # True: the same customer (a variant); False: a hard negative
    a: dict[str, Any]
    b: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c)
                   for c in text)


def uscc(rng: random.Random, first: str = "9") -> str:
    while True:
        body = first + rng.choice("123") + "".join(rng.choice("0123456789") for _ in range(6)) + \
            "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
        check = uscc_check_char(body)
        if check:
            return body + check


def _account_id(n: int) -> str:
    return f"{n:08x}-0000-7000-8000-000000000000"


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))


def _mobile_formats(m: str) -> list[str]:
    return [m, f"+86 {m[:3]}-{m[3:7]}-{m[7:]}", f"0086 {m[:3]} {m[3:7]} {m[7:]}",
            f"({m[:3]}) {m[3:7]} {m[7:]}", fullwidth(m), f"+86{m}"]


class Generator:
    def __init__(self, seed: int = 15) -> None:
        self.rng = random.Random(seed)

    # ------------------------------------------------------------ names
    def cn_brand(self) -> str:
        r = self.rng
        return r.choice(CN_BRANDS) if r.random() < 0.5 else r.choice(CN_WORDS) + r.choice(CN_WORDS)

    def cn_company(self) -> tuple[str, str, str, str]:
        """(city, brand, industry, legal form)"""
        r = self.rng
        return r.choice(CN_CITIES), self.cn_brand(), r.choice(CN_INDUSTRY), r.choice(CN_LEGAL)

    def en_company(self) -> tuple[str, str, str]:
        r = self.rng
        brand = r.choice(EN_WORDS) + ("" if r.random() < 0.5 else " " + r.choice(EN_WORDS))
        return brand, r.choice(EN_INDUSTRY), r.choice(EN_LEGAL)

    def _other(self, pool: list[str], not_this: str) -> str:
        return self.rng.choice([p for p in pool if p != not_this])

    def _typo(self, word: str) -> str:
        r = self.rng
        i = r.randrange(1, len(word) - 1)
        op = r.choice(["drop", "swap", "double"])
        if op == "drop":
            return word[:i] + word[i + 1:]
        if op == "swap":
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        return word[:i] + word[i] + word[i:]

    # ------------------------------------------------------------ accounts
    def account_cases(self, n: int) -> Iterator[Case]:
        r = self.rng
        for _ in range(n):
            city, brand, ind, legal = self.cn_company()
            base = f"{city}市{brand}{ind}{legal}"
            yield Case("account", "cn_fullwidth_spaces", True, {"name": base},
                       {"name": fullwidth(f"{city} {brand}·{ind} {legal}")})
            yield Case("account", "cn_legal_form", True, {"name": base},
                       {"name": f"{city}市{brand}{ind}{self._other(CN_LEGAL, legal)}"})
            yield Case("account", "cn_city_bracket", True, {"name": base},
                       {"name": f"{brand}{ind}（{city}）{legal}"})
            yield Case("account", "cn_city_missing", True, {"name": base},
                       {"name": f"{brand}{ind}{legal}"})
            yield Case("account", "cn_city_without_shi", True, {"name": base},
                       {"name": f"{city}{brand}{ind}{legal}"})
            yield Case("account", "cn_province_prefix", True,
                       {"name": f"{city}{brand}{ind}{legal}"},
                       {"name": f"广东省{city}市{brand}{ind}{legal}"})
            other_city = self._other(CN_CITIES, city)
            yield Case("account", "cn_branch_other_city", False,
                       {"name": f"{brand}{ind}{legal}{city}分公司"},
                       {"name": f"{brand}{ind}{legal}{other_city}分公司"})
            yield Case("account", "cn_branch_vs_head_office", False, {"name": base},
                       {"name": f"{brand}{ind}{legal}{other_city}分公司"})
            yield Case("account", "cn_other_city_prefix", False, {"name": base},
                       {"name": f"{other_city}市{brand}{ind}{legal}"})
            n = r.randrange(1, 30)
            yield Case("account", "cn_number_differs", False,
                       {"name": f"{city}市{brand}第{n}{ind}{legal}"},
                       {"name": f"{city}市{brand}第{n + r.choice([1, 10])}{ind}{legal}"})
            yield Case("account", "cn_other_city_no_shi", False,
                       {"name": f"{city}{brand}{ind}{legal}"},
                       {"name": f"{other_city}{brand}{ind}{legal}"})
            yield Case("account", "cn_other_industry", False, {"name": base},
                       {"name": f"{city}市{brand}{self._other(CN_INDUSTRY, ind)}{legal}"})
            other_brand = self.cn_brand()
            while other_brand == brand:
                other_brand = self.cn_brand()
            yield Case("account", "cn_other_brand", False, {"name": base},
                       {"name": f"{city}市{other_brand}{ind}{legal}"})
            # one character of the brand changed: 腾讯 / 腾达 (same city, industry, form)
            swapped = (brand[:-1] + r.choice("达信通源盛华") if brand[-1] not in "达信通源盛华"
                       else brand[:-1] + "联")
            yield Case("account", "cn_brand_one_char", False, {"name": base},
                       {"name": f"{city}市{swapped}{ind}{legal}"})
            homophone = {"讯": "迅", "为": "伟", "华": "桦", "达": "答", "信": "芯", "通": "同",
                         "德": "得", "美": "镁", "海": "嗨", "联": "连", "瑞": "锐", "盛": "胜"}
            typo_brand = next((brand[:i] + homophone[ch] + brand[i + 1:]
                               for i, ch in enumerate(brand) if ch in homophone), None)
            if typo_brand:
                yield Case("account", "cn_homophone_typo", True, {"name": base},
                           {"name": f"{city}市{typo_brand}{ind}{legal}"})
            yield Case("account", "cn_char_missing", True, {"name": f"{city}市{brand}{ind}{legal}"},
                       {"name": f"{city}市{brand}{ind[:-1]}{legal}" if len(ind) >= 4 else
                        f"{brand}{ind}（{city}）{legal}"})
            code = uscc(r)
            yield Case("account", "uscc_same_names_differ", True, {"name": base, "uscc": code},
                       {"name": f"{brand}{ind}", "uscc": code.lower()})
            letter_code = uscc(r, first=r.choice("YN"))
            yield Case("account", "uscc_letter_initial", True, {"name": base, "uscc": letter_code},
                       {"name": self.cn_brand() + "贸易有限公司", "uscc": letter_code})
            yield Case("account", "uscc_differs_names_alike", False,
                       {"name": base, "uscc": uscc(r)},
                       {"name": f"{brand}{ind}{self._other(CN_LEGAL, legal)}", "uscc": uscc(r)})
            m = mobile(r)
            fmt = _mobile_formats(m)
            yield Case("account", "phone_same_formats", True,
                       {"name": base, "phone": r.choice(fmt)},
                       {"name": f"{other_brand}{ind}", "phone": r.choice(fmt)})
            landline = f"0755 {r.randrange(2000, 9000)} {r.randrange(1000, 10000)}"
            yield Case("account", "phone_landline_formats", True, {"name": base, "phone": landline},
                       {"name": "前台登记客户", "phone": "+86 " + landline[1:].replace(" ", "-")})
            yield Case("account", "phone_one_digit_off", False,
                       {"name": base, "phone": m},
                       {"name": f"{city}市{other_brand}{ind}{legal}",
                        "phone": m[:-1] + str((int(m[-1]) + 1) % 10)})
            # English
            ebrand, eind, elegal = self.en_company()
            ecity = r.choice(EN_CITIES)
            ebase = f"{ebrand} {eind} {elegal}"
            yield Case("account", "en_case_punctuation", True, {"name": ebase},
                       {"name": f"{ebrand.upper()}  {eind.lower()}, {elegal.replace('.', '')}"})
            yield Case("account", "en_fullwidth", True, {"name": ebase}, {"name": fullwidth(ebase)})
            yield Case("account", "en_legal_form", True, {"name": ebase},
                       {"name": f"{ebrand} {eind} {self._other(EN_LEGAL, elegal)}"})
            yield Case("account", "en_city_bracket", True,
                       {"name": f"{ebrand} {eind} ({ecity}) {elegal}"},
                       {"name": f"{ecity} {ebrand} {eind} {elegal}"})
            yield Case("account", "en_typo", True, {"name": ebase},
                       {"name": f"{ebrand} {self._typo(eind)} {elegal}"})
            partner = r.choice(EN_WORDS)
            yield Case("account", "en_and_ampersand", True,
                       {"name": f"{ebrand} & {partner} {elegal}"},
                       {"name": f"{ebrand} and {partner} {elegal.replace('.', '')}"})
            yield Case("account", "en_branch_other_city", False,
                       {"name": f"{ebrand} {eind} {elegal}, {ecity} Branch"},
                       {"name": f"{ebrand} {eind} {elegal}, "
                                f"{self._other(EN_CITIES, ecity)} Branch"})
            yield Case("account", "en_other_brand", False, {"name": ebase},
                       {"name": f"{self._other(EN_WORDS, ebrand.split()[0])} {eind} {elegal}"})
            yield Case("account", "en_other_industry", False, {"name": ebase},
                       {"name": f"{ebrand} {self._other(EN_INDUSTRY, eind)} {elegal}"})
            yield Case("account", "en_word_order", True, {"name": f"{ebrand} {eind} {elegal}"},
                       {"name": f"{eind}, {ebrand} {elegal}"})
            yield Case("account", "en_number_differs", False,
                       {"name": f"{ebrand} {eind} {n} {elegal}"},
                       {"name": f"{ebrand} {eind} {n + 1} {elegal}"})
            yield Case("account", "en_brand_one_word_off", False,
                       {"name": f"Orion {eind} {elegal}"},
                       {"name": f"Horizon {eind} {elegal}"})
            yield Case("account", "en_other_city", False,
                       {"name": f"{ebrand} {eind} ({ecity}) {elegal}"},
                       {"name": f"{ebrand} {eind} ({self._other(EN_CITIES, ecity)}) {elegal}"})

    # ------------------------------------------------------------ contacts
    def contact_cases(self, n: int) -> Iterator[Case]:
        r = self.rng
        for i in range(n):
            acc, other_acc = _account_id(2 * i), _account_id(2 * i + 1)
            person = r.choice(CN_PEOPLE + EN_PEOPLE)
            m = mobile(r)
            fmt = _mobile_formats(m)
            yield Case("contact", "contact_same_mobile", True,
                       {"name": person, "phones": [r.choice(fmt)]},
                       {"name": self._other(CN_PEOPLE, person), "phones": [r.choice(fmt)]})
            email = f"{person.split()[0].lower()}.{r.randrange(100, 999)}@example.com"
            yield Case("contact", "contact_email_case", True, {"name": person, "email": email},
                       {"name": person + " (new)", "email": email.upper()})
            spaced = " ".join(person) if " " not in person else ", ".join(reversed(person.split()))
            yield Case("contact", "contact_name_same_account", True,
                       {"name": person, "account_id": acc},
                       {"name": fullwidth(spaced), "account_id": acc})
            yield Case("contact", "contact_name_other_account", False,
                       {"name": person, "account_id": acc},
                       {"name": person, "account_id": other_acc})
            landline = f"+86 21 {r.randrange(5000, 7000)} {r.randrange(1000, 10000)}"
            yield Case("contact", "contact_shared_switchboard", False,
                       {"name": person, "phones": [landline], "account_id": acc},
                       {"name": self._other(CN_PEOPLE, person), "phones": [landline],
                        "account_id": acc})
            yield Case("contact", "contact_similar_name_same_account", False,
                       {"name": "张伟", "account_id": acc},
                       {"name": r.choice(["张玮", "张炜", "章伟"]), "account_id": acc})
            yield Case("contact", "contact_other_email", False, {"name": person, "email": email},
                       {"name": self._other(CN_PEOPLE, person), "email": email.replace("@", "1@")})


def cases(n: int = 40, seed: int = 15) -> list[Case]:
    g = Generator(seed)
    return [*g.account_cases(n), *g.contact_cases(n)]
