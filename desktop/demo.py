"""Realistic demo data, coherent per language (Faker pools, combined at random, so a
million rows take seconds rather than minutes).

`lang="zh"`: Chinese companies named after the Chinese city they sit in, Chinese people,
titles, industries, deal titles and activity subjects, CNY. A few accounts (FOREIGN_SHARE)
are foreign customers of the Chinese team, and say so: an English company name in
新加坡 or 香港特别行政区 with English-speaking contacts, deals in USD or SGD.
`lang="en"`: English-speaking companies in US and UK cities, English people and subjects,
USD (GBP in the UK).

No name carries a serial number ("… 0"): names repeat only as real names do.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from desktop.schema import is_valid_uscc, uscc_check_char

LANGS = ("zh", "en")
FOREIGN_SHARE = 0.03  # zh: share of foreign customers

# (city for the company name, region as stored, area code of the landline)
_CN_PLACES = [
    ("北京", "北京市朝阳区", "010"), ("北京", "北京市海淀区", "010"),
    ("上海", "上海市浦东新区", "021"), ("上海", "上海市闵行区", "021"),
    ("深圳", "广东省深圳市南山区", "0755"), ("广州", "广东省广州市天河区", "020"),
    ("东莞", "广东省东莞市", "0769"), ("杭州", "浙江省杭州市西湖区", "0571"),
    ("宁波", "浙江省宁波市鄞州区", "0574"), ("苏州", "江苏省苏州市工业园区", "0512"),
    ("南京", "江苏省南京市江宁区", "025"), ("成都", "四川省成都市高新区", "028"),
    ("武汉", "湖北省武汉市江汉区", "027"), ("西安", "陕西省西安市雁塔区", "029"),
    ("重庆", "重庆市渝北区", "023"), ("天津", "天津市滨海新区", "022"),
    ("青岛", "山东省青岛市崂山区", "0532"), ("长沙", "湖南省长沙市岳麓区", "0731"),
    ("合肥", "安徽省合肥市蜀山区", "0551"), ("佛山", "广东省佛山市顺德区", "0757"),
]
_CN_INDUSTRIES = ["制造业", "互联网", "零售", "物流", "医疗器械", "教育", "汽车零部件", "新能源",
                  "食品饮料", "建筑工程", "电子元器件", "化工", "金融服务", "农业"]
_CN_TRADES = {"制造业": "机械", "互联网": "网络科技", "零售": "商贸", "物流": "物流",
              "医疗器械": "医疗器械", "教育": "教育科技", "汽车零部件": "汽车零部件",
              "新能源": "新能源科技", "食品饮料": "食品", "建筑工程": "建设工程",
              "电子元器件": "电子", "化工": "化工", "金融服务": "信息咨询", "农业": "农业科技"}
_CN_WORDS = ["华信", "恒通", "瑞丰", "金石", "宏达", "远大", "鼎盛", "嘉和", "永兴", "天成", "博远",
             "新锐", "东方", "汇丰", "中联", "盛世", "金桥", "同创", "海纳", "启明", "华通", "隆基",
             "正泰", "德源", "安泰", "长城", "光华", "富润", "佳美", "万达", "春晖", "明阳"]
# Characters brands are made of: most demo companies get a brand of two or three of them,
# so a million-account book is a million companies (a few famous words repeat, as
# branches do), not the same seventy brands eighteen times each in every city.
_CN_BRAND_CHARS = ("华信恒通瑞丰金石宏达远大鼎盛嘉和永兴天成博新锐东方汇中联世桥同创海纳启明"
                   "隆基正泰德源安长城光富润佳美万春晖阳凯英腾飞龙盈泽科顺昌宇星辉祥禾康力"
                   "益诚维智华晟铭豪誉弘雅")
_CN_WORD_BRANDS = 0.03  # share of companies named with one of the known words
_CN_NOT_NAMES = ("电子", "信息", "软件", "计算机", "科技", "公司", "国际", "数字", "电脑",
                 "开发区", "网络", "济南", "襄樊", "黄石")
_CN_SUFFIX = ["有限公司", "有限公司", "股份有限公司", "集团有限公司"]
_CN_TITLES = ["总经理", "采购总监", "技术总监", "财务经理", "销售经理", "董事长", "采购专员",
              "项目经理", "行政主管", "生产厂长"]
_CN_TAGS = ["重点客户", "VIP", "老客户", "新客户", "渠道"]
_CN_DEALS = ["年度采购", "设备升级", "ERP 项目", "产线改造", "仓储系统", "售后服务续约",
             "样品试用", "框架协议", "二期扩容", "备件采购"]

_FOREIGN_PLACES = [("新加坡", "SGD", "+65"), ("香港特别行政区", "HKD", "+852")]

_EN_PLACES = [("Austin, TX", "USD", "512"), ("Seattle, WA", "USD", "206"),
              ("Chicago, IL", "USD", "312"), ("Boston, MA", "USD", "617"),
              ("Denver, CO", "USD", "303"), ("Atlanta, GA", "USD", "404"),
              ("San Diego, CA", "USD", "619"), ("Columbus, OH", "USD", "614"),
              ("Manchester, UK", "GBP", "+44 161"), ("Leeds, UK", "GBP", "+44 113")]
_EN_INDUSTRIES = ["Manufacturing", "Software", "Retail", "Logistics", "Medical devices",
                  "Education", "Automotive parts", "Renewable energy", "Food and beverage",
                  "Construction", "Electronics", "Financial services"]
_EN_SUFFIX = ["Inc", "LLC", "Corp", "Ltd"]
_EN_TITLES = ["CEO", "Purchasing Manager", "CTO", "Head of Operations", "Sales Director",
              "Plant Manager", "Procurement Specialist", "IT Director", "Office Manager"]
_EN_TAGS = ["key account", "VIP", "returning", "new", "partner"]
_EN_DEALS = ["Annual supply", "Equipment upgrade", "ERP rollout", "Line retrofit",
             "Warehouse system", "Service renewal", "Pilot", "Framework agreement",
             "Phase 2 expansion", "Spare parts"]

_STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
_MOBILE_PREFIXES = ("139", "138", "137", "136", "135", "186", "158", "159", "188", "150")


def _cn_mobile(rng: random.Random) -> str:
    return (f"+86 {rng.choice(_MOBILE_PREFIXES)}-{rng.randrange(1000, 10000)}"
            f"-{rng.randrange(1000, 10000)}")


def _valid(make: Callable[[], str]) -> str:
    """The first number `make` gives that the phone check accepts (a few tries)."""
    import phonenumbers

    for _ in range(20):
        text = make()
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(text, "CN")):
                return text
        except phonenumbers.NumberParseException:
            continue
    raise RuntimeError(f"no valid demo phone number like {text!r}")


def _phone(rng: random.Random) -> str:  # (kept for callers of the old module)
    return _cn_mobile(rng)


def _uscc(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        first = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + \
            "".join(rng.choice(alphabet) for _ in range(9))
        code = first + (uscc_check_char(first) or "0")
        if is_valid_uscc(code):
            return code


class DemoData:
    """Accounts, contacts and deals in one language (`lang`, "zh" or "en")."""

    def __init__(self, seed: int = 7, pool: int = 2000, lang: str = "zh") -> None:
        from faker import Faker

        if lang not in LANGS:
            raise ValueError(f"demo data comes in {', '.join(LANGS)}, not {lang!r}")
        self.lang = lang
        self.rng = random.Random(seed)
        zh, en = Faker("zh_CN"), Faker("en_US")
        zh.seed_instance(seed)
        en.seed_instance(seed)
        self.cn_words = sorted(set(_CN_WORDS) | {
            w for w in (zh.company_prefix() for _ in range(pool))
            if 2 <= len(w) <= 3 and all("\u4e00" <= c <= "\u9fff" for c in w)
            and not any(x in w for x in _CN_NOT_NAMES)})
        self.en_words = sorted({en.last_name() for _ in range(max(50, pool // 4))})
        self.cn_people = [zh.name() for _ in range(pool)]
        self.en_people = [en.name() for _ in range(max(50, pool // 4))]
        self._account_lang: dict[str, str] = {}  # account id -> "zh"/"en"/"foreign"
        self._account_currency: dict[str, str] = {}

    # ------------------------------------------------------------ accounts
    def account(self, i: int = 0) -> dict[str, Any]:
        r = self.rng
        if self.lang == "en":
            return self._en_account()
        if r.random() < FOREIGN_SHARE:
            return self._foreign_account()
        city, region, area = r.choice(_CN_PLACES)
        industry = r.choice(_CN_INDUSTRIES)
        name = city + self._cn_brand() + _CN_TRADES[industry] + r.choice(_CN_SUFFIX)
        phone = (_valid(lambda: f"{area}-{r.randrange(5000_0000, 8999_9999)}")
                 if r.random() < 0.5 else _cn_mobile(r))
        return {"name": name, "uscc": _uscc(r) if r.random() < 0.7 else None,
                "industry": industry, "region": region,
                "lifecycle": r.choice(["lead", "prospect", "customer", "customer"]),
                "phone": phone, "tags": r.sample(_CN_TAGS, k=r.randrange(0, 3)) or None}

    def _cn_brand(self) -> str:
        r = self.rng
        if r.random() < _CN_WORD_BRANDS:
            return r.choice(self.cn_words)
        return "".join(r.choice(_CN_BRAND_CHARS) for _ in range(2 if r.random() < 0.3 else 3))

    def _foreign_account(self) -> dict[str, Any]:
        r = self.rng
        region, _cur, cc = r.choice(_FOREIGN_PLACES)
        name = f"{r.choice(self.en_words)} {r.choice(['Trading', 'Industries', 'Holdings'])} " \
               f"{'Pte Ltd' if cc == '+65' else 'Limited'}"
        return {"name": name, "industry": r.choice(["贸易", "物流", "电子元器件"]),
                "region": region, "lifecycle": "customer",
                "phone": _valid(lambda: f"{cc} {'6' if cc == '+65' else '2'}"
                                        f"{r.randrange(100, 999)} {r.randrange(1000, 9999)}"),
                "tags": ["海外客户"]}

    def _en_account(self) -> dict[str, Any]:
        r = self.rng
        region, _cur, area = r.choice(_EN_PLACES)
        industry = r.choice(_EN_INDUSTRIES)
        a, b = r.choice(self.en_words), r.choice(self.en_words)
        name = r.choice([f"{a} {industry.split()[0]} {r.choice(_EN_SUFFIX)}",
                         f"{a} & {b} {r.choice(_EN_SUFFIX)}", f"{a}-{b} {r.choice(_EN_SUFFIX)}"])
        phone = _valid(
            (lambda: f"{area} {r.choice('23')}{r.randrange(10, 99)} {r.randrange(1000, 9999)}")
            if area.startswith("+") else
            (lambda: f"+1 ({area}) 555-{r.randrange(1000, 10000):04d}"))
        return {"name": name, "industry": industry, "region": region,
                "lifecycle": r.choice(["lead", "prospect", "customer", "customer"]),
                "phone": phone, "tags": r.sample(_EN_TAGS, k=r.randrange(0, 3)) or None}

    def remember(self, account: dict[str, Any]) -> None:
        """Note a created account's language and currency, for its contacts and deals."""
        region = str(account.get("region") or "")
        foreign = next((p for p in _FOREIGN_PLACES if p[0] == region), None)
        en = next((p for p in _EN_PLACES if p[0] == region), None)
        if foreign:
            self._account_lang[account["id"]] = "foreign"
            self._account_currency[account["id"]] = self.rng.choice([foreign[1], "USD"])
        elif en:
            self._account_lang[account["id"]] = "en"
            self._account_currency[account["id"]] = en[1]
        else:
            self._account_lang[account["id"]] = self.lang
            self._account_currency[account["id"]] = "CNY" if self.lang == "zh" else "USD"

    def speaks(self, account_id: str | None) -> str:
        """"zh" or "en": the language of this account's people and paperwork."""
        kind = self._account_lang.get(account_id or "", self.lang)
        return "en" if kind in ("en", "foreign") else "zh"

    def accounts(self, n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield self.account(i)

    # ------------------------------------------------------------ contacts, deals
    def contact(self, account_id: str | None) -> dict[str, Any]:
        r = self.rng
        if self.speaks(account_id) == "zh":
            name = r.choice(self.cn_people)
            return {"name": name, "title": r.choice(_CN_TITLES), "phones": [_cn_mobile(r)],
                    "email": f"{'abcdefghjklmnpqrstwxyz'[r.randrange(22)]}"
                             f"{r.randrange(10**5, 10**6)}@example.cn",
                    "wechat": f"wx_{r.randrange(10**6, 10**7)}" if r.random() < 0.5 else None,
                    "account_id": account_id}
        name = r.choice(self.en_people)
        first, _, last = name.partition(" ")
        user = (first[:1] + last.split(" ")[-1]).lower().replace("'", "") or "sales"
        kind = self._account_lang.get(account_id or "", self.lang)
        us_areas = [a for _r, _c, a in _EN_PLACES if not a.startswith("+")]
        phone = _valid(
            (lambda: f"+1 ({r.choice(us_areas)}) 555-{r.randrange(1000, 10000):04d}")
            if kind == "en" else
            (lambda: f"+65 6{r.randrange(100, 999)} {r.randrange(1000, 9999)}"))
        return {"name": name, "title": r.choice(_EN_TITLES), "phones": [phone],
                "email": f"{user}@example.com", "account_id": account_id}

    def deal(self, account_id: str) -> dict[str, Any]:
        r = self.rng
        zh = self.speaks(account_id) == "zh"
        title = (f"{r.randrange(2026, 2028)} {r.choice(_CN_DEALS)}" if zh
                 else f"{r.choice(_EN_DEALS)} {r.randrange(2026, 2028)}")
        currency = self._account_currency.get(account_id, "CNY" if self.lang == "zh" else "USD")
        unit = 10_000 if currency in ("CNY", "HKD") else 1_000
        return {"title": title, "account_id": account_id,
                "amount": r.randrange(5, 500) * unit, "currency": currency,
                "stage": r.choice(_STAGES)}


def make_demo(store: Any, accounts: int = 200, contacts_per_account: int = 2,
              deals_per_account: float = 0.5, seed: int = 7,
              lang: str = "zh") -> dict[str, int]:
    """Fill a store with demo data; every record is journaled like a typed one."""
    data = DemoData(seed, lang=lang)
    n_acc = store.repo("account").import_many(data.accounts(accounts))
    made = [r for r in store.repo("account").iter_all()][-n_acc:]
    for acc in made:
        data.remember(acc)
    ids = [r["id"] for r in made]
    n_con = store.repo("contact").import_many(
        data.contact(a) for a in ids for _ in range(contacts_per_account))
    n_deal = store.repo("deal").import_many(
        data.deal(a) for a in ids if data.rng.random() < deals_per_account)
    return {"accounts": n_acc, "contacts": n_con, "deals": n_deal}
