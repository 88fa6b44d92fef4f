"""People, companies and the action a spoken note is about.

`find_mentions(text, candidates)` matches a normalised note against the local contacts
and accounts (plain data passed in, so parsing stays pure and fast):
- full names ("张伟", "Anna Schmidt"), Western first names ("Anna"), Mr/Ms + surname;
- a Chinese surname with an address form: 张总 -> a contact surnamed 张 whose title fits
  总 (总经理, 总监, CEO...), 王经理, 李工, 小王 / 老王; English surnames in pinyin
  ("Mr. Zhang", "Zhang总") match Chinese names;
- account names and their short forms (上海华为技术有限公司 -> 华为技术, 华为).
Ties are broken in favour of the current account, then the recent ones (in order).

`find_action(text)` names the action that makes the task: visit, call, send_quote,
meeting (or None).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

_CJK = "\u4e00-\u9fff"
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
                      "令狐", "长孙", "宇文", "司徒", "夏侯", "端木", "独孤", "南宫", "西门")
# Address form -> words a fitting title contains (empty: any title fits).
HONORIFICS: dict[str, tuple[str, ...]] = {
    "总经理": ("总经理", "general manager", "gm", "ceo"),
    "总监": ("总监", "director"),
    "总": ("总", "ceo", "president", "chairman", "director", "vp", "general manager", "gm",
          "董事", "chief", "head"),
    "董": ("董事", "chairman", "board"),
    "经理": ("经理", "manager"),
    "主任": ("主任", "director"),
    "工": ("工程师", "工", "engineer", "技术", "cto"),
    "处长": ("处长",), "科长": ("科长",), "部长": ("部长",), "局长": ("局长",),
    "院长": ("院长",), "校长": ("校长",), "博士": ("博士", "dr"),
    "老师": (), "先生": (), "女士": (), "小姐": (), "姐": (), "哥": (), "老板": (),
    "助理": ("助理", "assistant"), "秘书": ("秘书", "secretary"), "律师": ("律师", "lawyer"),
}
_HON_RE = "|".join(sorted(HONORIFICS, key=len, reverse=True))
_CN_ADDRESS_RE = re.compile(rf"(?:(?P<pre>小|老)(?P<s1>[{_CJK}]))"
                            rf"|(?P<s2>[{_CJK}]{{1,2}}?)(?P<hon>{_HON_RE})")
_EN_ADDRESS_RE = re.compile(
    r"\b(?:mr|mrs|ms|miss|dr|director|manager|president|boss)\.?\s+(?P<sur>[A-Za-z]+)\b"
    rf"|\b(?P<sur2>[A-Za-z]+)\s*(?P<hon>{_HON_RE})", re.IGNORECASE)
_LEGAL_SUFFIXES = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团公司|集团|公司|厂|"
    r"\s*,?\s*(?:co\.?,?\s*ltd\.?|ltd\.?|limited|inc\.?|corp\.?|corporation|llc|gmbh|ag|plc|"
    r"group|company|co\.?))+$", re.IGNORECASE)
_TRADE_WORDS = re.compile(
    r"(科技|技术|信息|网络|软件|电子|电气|电器|机械|制造|实业|贸易|工业|发展|控股|智能|"
    r"数据|通信|物流|医药|生物|新材料|材料|能源|化工|食品|建设|工程|设备|汽车|精密|"
    r"\s+(?:technology|technologies|tech|systems?|software|electronics|industries|"
    r"industrial|trading|holdings?|manufacturing|solutions|international|global))+$",
    re.IGNORECASE)
_ONE_TRADE_WORD = re.compile(_TRADE_WORDS.pattern.replace(")+$", ")"), re.IGNORECASE)
_REGION_PREFIX = re.compile(
    rf"^(?:\(.*?\)|（.*?）)?(?:[{_CJK}]{{2,3}}?(?:省|市|自治区)|北京|上海|天津|重庆|广州|深圳|"
    r"杭州|苏州|南京|成都|武汉|西安|厦门|宁波|青岛|无锡|东莞|佛山|长沙|郑州|济南|合肥|福州|"
    r"大连|沈阳|昆明|珠海|常州|嘉兴|温州|绍兴|中山|香港|台湾|澳门)")


def _is_cjk(text: str) -> bool:
    return bool(text) and all("\u4e00" <= c <= "\u9fff" or c == "·" for c in text)


@dataclass(frozen=True)
class ContactCandidate:
    id: str
    name: str
    title: str = ""
    account_id: str | None = None


@dataclass(frozen=True)
class AccountCandidate:
    id: str
    name: str


@dataclass(frozen=True)
class Mention:
    kind: str  # "contact" or "account"
    id: str
    name: str
    said: str  # the words in the note
    account_id: str | None
    ambiguous: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name, "said": self.said,
                "account_id": self.account_id, "ambiguous": self.ambiguous}


@dataclass
class Candidates:
    """The local records a note may mention, as plain data."""

    contacts: list[ContactCandidate] = field(default_factory=list)
    accounts: list[AccountCandidate] = field(default_factory=list)
    current_account_id: str | None = None
    recent_account_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Candidates:
        """From {"contacts": [{id, name, title, account_id}], "accounts": [{id, name}],
        "current_account_id": ..., "recent_account_ids": [...]}."""
        data = data or {}
        return cls(
            [ContactCandidate(str(c["id"]), str(c.get("name") or ""), str(c.get("title") or ""),
                              c.get("account_id")) for c in data.get("contacts", ())],
            [AccountCandidate(str(a["id"]), str(a.get("name") or ""))
             for a in data.get("accounts", ())],
            data.get("current_account_id"),
            list(data.get("recent_account_ids", ())),
        )

    @cached_property
    def by_surname(self) -> dict[str, list[ContactCandidate]]:
        index: dict[str, list[ContactCandidate]] = {}
        for c in self.contacts:
            if _is_cjk(c.name) and len(c.name) >= 2:
                index.setdefault(_surname(c.name), []).append(c)
        return index

    @cached_property
    def by_name(self) -> dict[str, list[ContactCandidate]]:
        """Full names: Chinese as written, Latin as lower-case words joined by a space."""
        index: dict[str, list[ContactCandidate]] = {}
        for c in self.contacts:
            key = c.name if _is_cjk(c.name) else " ".join(_latin_words(c.name))
            if key:
                index.setdefault(key, []).append(c)
        return index

    @cached_property
    def by_first_name(self) -> dict[str, list[ContactCandidate]]:
        index: dict[str, list[ContactCandidate]] = {}
        for c in self.contacts:
            words = [] if _is_cjk(c.name) else _latin_words(c.name)
            if len(words) >= 2 and len(words[0]) >= 3:
                index.setdefault(words[0], []).append(c)
        return index

    @cached_property
    def by_last_name(self) -> dict[str, list[ContactCandidate]]:
        """Latin surnames, and Chinese surnames in pinyin ("zhang" -> 张伟), for "Mr. Zhang"."""
        index: dict[str, list[ContactCandidate]] = {}
        for c in self.contacts:
            if _is_cjk(c.name):
                continue
            words = _latin_words(c.name)
            if words:
                index.setdefault(words[-1], []).append(c)
        if self.by_surname:
            from pypinyin import lazy_pinyin  # only when a note says "Mr. Zhang"

            for surname, people in self.by_surname.items():
                index.setdefault("".join(lazy_pinyin(surname)), []).extend(people)
        return index

    @cached_property
    def account_forms(self) -> dict[str, list[AccountCandidate]]:
        """Every way an account may be said (lower case) -> the accounts."""
        index: dict[str, list[AccountCandidate]] = {}
        for a in self.accounts:
            for form in account_name_forms(a.name):
                key = form if _is_cjk(form[:1]) else " ".join(_latin_words(form))
                if key and a not in index.get(key, []):
                    index.setdefault(key, []).append(a)
        return index

    @cached_property
    def cjk_key_lengths(self) -> list[int]:
        """Lengths of the Chinese names and name forms, longest first."""
        lengths = {len(k) for k in self.by_name if _is_cjk(k)}
        lengths |= {len(k) for k in self.account_forms if _is_cjk(k[:1])}
        return sorted(lengths, reverse=True)

    def account_rank(self, account_id: str | None) -> int:
        """Higher for the current account, then the recent ones in order."""
        if account_id is None:
            return 0
        if account_id == self.current_account_id:
            return 100
        if account_id in self.recent_account_ids:
            return 50 - self.recent_account_ids.index(account_id)
        return 0


def _surname(name: str) -> str:
    return name[:2] if name.startswith(_COMPOUND_SURNAMES) else name[0]


def account_name_forms(name: str) -> list[str]:
    """The ways a rep may say an account's name: the full name, without the legal
    form, without the region, without the trade word (at least 2 Chinese characters or
    3 letters each)."""
    forms = [name.strip()]
    core = _LEGAL_SUFFIXES.sub("", name.strip()).strip(" ,")
    forms.append(core)
    no_region = _REGION_PREFIX.sub("", core)
    forms.append(no_region)
    forms.append(_TRADE_WORDS.sub("", no_region).strip())
    forms.append(_TRADE_WORDS.sub("", core).strip())
    out: list[str] = []
    for f in forms:
        long_enough = len(f) >= 2 if _is_cjk(f[:1]) else len(f) >= 3
        # One trade word ("科技") or a region alone names no company; "精密机械" may.
        generic = f != forms[0] and (_ONE_TRADE_WORD.fullmatch(f) is not None
                                     or _REGION_PREFIX.sub("", f) == "")
        if f and long_enough and not generic and f not in out:
            out.append(f)
    return out


def _title_fits(title: str, hon: str) -> bool:
    words = HONORIFICS.get(hon, ())
    t = title.lower()
    return not words or any(w in t for w in words)


# First names that are also everyday words: matched only when written with a capital.
COMMON_WORD_NAMES = frozenset(
    ["will", "may", "mark", "bill", "grant", "hope", "joy", "faith", "rose", "june", "april",
     "august", "summer", "art", "pat", "sue", "jack", "frank", "rich", "earl", "dawn", "sunny",
     "chase", "drew", "gene", "guy", "ray", "rob", "sandy", "victor", "wade", "penny", "amber",
     "crystal", "daisy", "iris", "ivy", "lily", "jade", "pearl", "ruby"])
_LATIN_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _latin_words(text: str) -> list[str]:
    return _LATIN_WORD_RE.findall(text.lower())


def _best(options: list[tuple[int, ContactCandidate]],
          cands: Candidates) -> tuple[ContactCandidate, bool]:
    def score(o: tuple[int, ContactCandidate]) -> int:
        return o[0] + cands.account_rank(o[1].account_id)

    scored = sorted(options, key=score, reverse=True)
    ties = {o[1].id for o in scored if score(o) == score(scored[0])}
    return scored[0][1], len(ties) > 1


def _cjk_substrings(text: str, lengths: list[int]) -> list[tuple[int, str]]:
    """(position, substring) for every substring of the given lengths, longest first."""
    out = []
    for n in lengths:
        for i in range(len(text) - n + 1):
            out.append((i, text[i:i + n]))
    return out


def _latin_ngrams(text: str, max_words: int = 5) -> list[tuple[int, int, str]]:
    """(start, end, "lower words") for word n-grams of the text, longest first."""
    words = [(m.start(), m.end(), m.group(0)) for m in _LATIN_WORD_RE.finditer(text.lower())]
    out = []
    for n in range(max_words, 0, -1):
        for i in range(len(words) - n + 1):
            chunk = words[i:i + n]
            out.append((chunk[0][0], chunk[-1][1], " ".join(w for _, _, w in chunk)))
    return out


def find_mentions(text: str, cands: Candidates) -> list[Mention]:
    """Contacts and accounts the note names, in the order they are said. Uses the
    candidates' indexes, so the cost depends on the note, not on the number of contacts."""
    if not cands.contacts and not cands.accounts:
        return []
    found: list[tuple[int, Mention]] = []
    taken: list[tuple[int, int]] = []

    def add(pos: int, said: str, mention: Mention) -> None:
        span = (pos, pos + len(said))
        if any(span[0] < e and s < span[1] for s, e in taken):
            return
        if any(m.id == mention.id for _, m in found):
            return
        taken.append(span)
        found.append((pos, mention))

    def contact(c: ContactCandidate, said: str, ambiguous: bool = False) -> Mention:
        return Mention("contact", c.id, c.name, said, c.account_id, ambiguous)

    def pick(people: list[ContactCandidate], base: int = 3) -> tuple[ContactCandidate, bool]:
        return _best([(base, c) for c in people], cands)

    cjk = _cjk_substrings(text, cands.cjk_key_lengths)
    ngrams = _latin_ngrams(text)
    # 1. Full names, longest first (张伟 before a 张总 guess; "Anna Schmidt" before "Anna").
    for pos, sub in cjk:
        if sub in cands.by_name:
            best, ambiguous = pick(cands.by_name[sub])
            add(pos, sub, contact(best, sub, ambiguous))
    for start, end, key in ngrams:
        if key in cands.by_name:
            best, ambiguous = pick(cands.by_name[key])
            add(start, text[start:end], contact(best, text[start:end], ambiguous))
    # 2. Chinese address forms: 张总, 王经理, 小王, 老李.
    for m in _CN_ADDRESS_RE.finditer(text):
        surname = m.group("s1") or m.group("s2")
        hon = m.group("hon") or ""
        people = cands.by_surname.get(surname, [])
        if not people and m.group("s2") and len(m.group("s2")) == 2:
            people = cands.by_surname.get(m.group("s2")[1], [])
            if people:
                surname = m.group("s2")[1]
        if not people:
            continue
        options = [(3 if hon and _title_fits(c.title, hon) else 1, c) for c in people]
        best, ambiguous = _best(options, cands)
        said = (m.group("pre") or "") + surname + hon
        add(text.find(said, m.start()), said, contact(best, said, ambiguous))
    # 3. Mr/Ms + surname (pinyin for Chinese names), then Western first names.
    for m in _EN_ADDRESS_RE.finditer(text):
        sur = (m.group("sur") or m.group("sur2")).lower()
        hon = m.group("hon") or ""
        people = cands.by_last_name.get(sur, [])
        if people:
            options = [(3 if not hon or _title_fits(c.title, hon) else 2, c) for c in people]
            best, ambiguous = _best(options, cands)
            add(m.start(), m.group(0), contact(best, m.group(0), ambiguous))
    for start, end, key in ngrams:
        if key in COMMON_WORD_NAMES and not text[start].isupper():
            continue  # "we will call" is not Will Smith; "Will said" may be
        if " " not in key and key in cands.by_first_name:
            best, ambiguous = pick(cands.by_first_name[key])
            add(start, text[start:end], contact(best, text[start:end], ambiguous))
    # 4. Accounts by any of their name forms, longest first.
    for pos, sub in cjk:
        for acc in cands.account_forms.get(sub, [])[:1]:
            add(pos, sub, Mention("account", acc.id, acc.name, sub, acc.id))
    for start, end, key in ngrams:
        for acc in cands.account_forms.get(key, [])[:1]:
            said = text[start:end]
            add(start, said, Mention("account", acc.id, acc.name, said, acc.id))
    found.sort(key=lambda item: item[0])
    return [m for _, m in found]


# ---------------------------------------------------------------- actions
ACTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("send_quote", re.compile(
        r"报价单|发报价|出报价|做报价|报个价|报价|发方案|\bquot(?:e|es|ation)\b|"
        r"\bsend\b[^.,;]{0,20}\b(?:proposal|offer|pricing|price list)\b", re.I)),
    ("visit", re.compile(
        r"拜访|上门|看工厂|看厂|看现场|参观|考察|实地|去(?:现场|工厂|厂里|公司|客户那|他们那|一趟)|"
        r"\bvisit(?:s|ing)?\b|\bsite visit\b|\bdrop by\b|\bgo (?:to|and see)\b|"
        r"\bsee the (?:factory|plant|site|office)\b|\btour\b", re.I)),
    ("meeting", re.compile(
        r"开会|会议|见面|面谈|碰头|碰个面|约见|约了|演示|"
        r"\bdemo\b|\bmeet(?:ing|s)?\b|\bsync\b", re.I)),
    ("call", re.compile(
        r"打电话|打个电话|回电|回个电话|致电|电话|通话|"
        r"\bcall(?:s|ing)?\b|\bphone\b|\bring\b", re.I)),
)
ACTION_LABELS: dict[str, tuple[str, str]] = {  # action -> (zh verb, en verb)
    "visit": ("拜访", "Visit"),
    "call": ("打电话", "Call"),
    "send_quote": ("发报价", "Send quote"),
    "meeting": ("开会", "Meeting"),
    "follow_up": ("跟进", "Follow up"),
}
ACTION_ACTIVITY_KIND = {"visit": "visit", "call": "call"}  # else a plain task


def find_action(text: str) -> str | None:
    """The action the note asks for; the first one said wins."""
    best: tuple[int, str] | None = None
    for name, pattern in ACTIONS:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


def task_subject(action: str, target: str | None, chinese: bool) -> str:
    """A short task title: "拜访张总", "给Anna打电话", "Send quote to Anna"."""
    _zh, en = ACTION_LABELS[action]
    if chinese:
        if not target:
            return {"visit": "拜访客户", "call": "打电话", "send_quote": "发报价",
                    "meeting": "开会", "follow_up": "跟进"}[action]
        return {"visit": f"拜访{target}", "call": f"给{target}打电话",
                "send_quote": f"给{target}发报价", "meeting": f"与{target}开会",
                "follow_up": f"跟进{target}"}[action]
    if not target:
        return en
    return {"visit": f"Visit {target}", "call": f"Call {target}",
            "send_quote": f"Send quote to {target}", "meeting": f"Meeting with {target}",
            "follow_up": f"Follow up with {target}"}[action]

