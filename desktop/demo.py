"""Realistic Chinese and English demo data (Faker pools, combined at random, so a
million rows take seconds rather than minutes)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from desktop.schema import is_valid_uscc, uscc_check_char

_REGIONS = ["北京市朝阳区", "上海市浦东新区", "深圳市南山区", "广州市天河区", "杭州市西湖区",
            "成都市高新区", "武汉市江汉区", "Singapore", "Hong Kong", "London"]
_INDUSTRIES = ["制造业", "互联网", "零售", "物流", "医疗", "教育", "Finance", "Energy", "Logistics"]
_CN_SUFFIX = ["有限公司", "科技有限公司", "贸易有限公司", "集团股份有限公司", "实业有限公司"]
_TITLES_CN = ["总经理", "采购总监", "技术总监", "财务经理", "销售经理", "董事长"]
_TITLES_EN = ["CEO", "Purchasing Manager", "CTO", "Head of Operations", "Sales Director"]
_STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]


_MOBILE_PREFIXES = ("139", "138", "137", "136", "135", "186", "158", "159", "188", "150")


def _phone(rng: random.Random) -> str:
    return (f"+86 {rng.choice(_MOBILE_PREFIXES)}-{rng.randrange(1000, 10000)}"
            f"-{rng.randrange(1000, 10000)}")


def _uscc(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        first = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + \
            "".join(rng.choice(alphabet) for _ in range(9))
        code = first + (uscc_check_char(first) or "0")
        if is_valid_uscc(code):
            return code


class DemoData:
    def __init__(self, seed: int = 7, pool: int = 2000) -> None:
        from faker import Faker

        self.rng = random.Random(seed)
        zh, en = Faker("zh_CN"), Faker("en_US")
        zh.seed_instance(seed)
        en.seed_instance(seed)
        self.cn_words = list({zh.company_prefix() for _ in range(pool)})
        self.en_companies = list({en.company() for _ in range(pool // 4)})
        self.cn_people = [zh.name() for _ in range(pool)]
        self.en_people = [en.name() for _ in range(pool // 4)]

    def account(self, i: int) -> dict[str, Any]:
        r = self.rng
        if r.random() < 0.8:
            name = (r.choice(_REGIONS[:7])[:2] + r.choice(self.cn_words)
                    + r.choice(self.cn_words) + r.choice(_CN_SUFFIX))
        else:
            name = f"{r.choice(self.en_companies)} {r.choice(['Ltd', 'Inc', 'GmbH', 'Pte'])}"
        return {
            "name": f"{name}{'' if i % 50 else ' ' + str(i)}",
            "uscc": _uscc(r) if r.random() < 0.7 else None,
            "industry": r.choice(_INDUSTRIES),
            "region": r.choice(_REGIONS),
            "lifecycle": r.choice(["lead", "prospect", "customer"]),
            "phone": _phone(r),
            "tags": r.sample(["VIP", "重点", "华南", "new"], k=r.randrange(0, 3)) or None,
        }

    def contact(self, account_id: str | None) -> dict[str, Any]:
        r = self.rng
        cn = r.random() < 0.8
        name = r.choice(self.cn_people if cn else self.en_people)
        return {
            "name": name,
            "title": r.choice(_TITLES_CN if cn else _TITLES_EN),
            "phones": [_phone(r)],
            "email": f"user{r.randrange(10**7)}@example.com",
            "account_id": account_id,
        }

    def deal(self, account_id: str) -> dict[str, Any]:
        r = self.rng
        return {
            "title": r.choice(["年度采购", "设备升级", "ERP 项目", "Fleet renewal", "Pilot"]) +
                     f" {r.randrange(2026, 2028)}",
            "account_id": account_id,
            "amount": r.randrange(5, 500) * 10_000,
            "currency": "CNY",
            "stage": r.choice(_STAGES),
        }

    def accounts(self, n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield self.account(i)


def make_demo(store: Any, accounts: int = 200, contacts_per_account: int = 2,
              deals_per_account: float = 0.5, seed: int = 7) -> dict[str, int]:
    """Fill a store with demo data; every record is journaled like a typed one."""
    data = DemoData(seed)
    n_acc = store.repo("account").import_many(data.accounts(accounts))
    ids = [r["id"] for r in store.repo("account").iter_all()][-n_acc:]
    n_con = store.repo("contact").import_many(
        data.contact(a) for a in ids for _ in range(contacts_per_account))
    n_deal = store.repo("deal").import_many(
        data.deal(a) for a in ids if data.rng.random() < deals_per_account)
    return {"accounts": n_acc, "contacts": n_con, "deals": n_deal}
