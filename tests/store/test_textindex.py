"""The table-driven pinyin keys give exactly what the per-character lookup they replaced
gave, for every input: search results must not change because indexing got faster."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.store import Store, textindex
from desktop.store.textindex import (
    build_doc,
    is_cjk,
    phone_digits,
    pinyin_keys,
    pinyin_string,
    pinyin_syllables,
    row_doc,
)


# ------------------------------------------------------------ the previous implementation
@lru_cache(maxsize=1)
def _old_tables() -> tuple[dict[str, str], set[str], dict[str, list[list[str]]]]:
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    first: dict[str, str] = {}
    poly: set[str] = set()
    for code, readings in pinyin_dict.items():
        ch = chr(code)
        parts = readings.split(",")
        first[ch] = _old_strip(parts[0])
        if len({_old_strip(p) for p in parts}) > 1:
            poly.add(ch)
    return first, poly, phrases_dict


def _old_strip(syllable: str) -> str:
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", syllable) if not unicodedata.combining(c))
    return plain.replace("ü", "v").lower()


def old_syllables(text: str) -> list[str]:
    first, poly, phrases = _old_tables()
    out: list[str] = []
    for i, ch in enumerate(text):
        syl = first.get(ch)
        if syl is None:
            out.append(ch.lower())
            continue
        if ch in poly:
            for start in (i - 1, i):
                pair = text[start:start + 2] if start >= 0 else ""
                reading = phrases.get(pair) if len(pair) == 2 else None
                if reading:
                    syl = _old_strip(reading[i - start][0])
                    break
        out.append(syl)
    return out


def old_keys(text: str) -> tuple[str, str]:
    syllables = [s for s, ch in zip(old_syllables(text), text, strict=True) if is_cjk(ch)]
    return "".join(syllables), "".join(s[0] for s in syllables if s)


# ------------------------------------------------------------ inputs
_poly = sorted(_old_tables()[1])[:400]
_phrase_chars = sorted({c for k in list(_old_tables()[2])[:3000] for c in k})
chars = st.one_of(
    st.sampled_from("银行重庆长沙行长重量调度朝阳乐乐单于区尉迟曾还都"),
    st.sampled_from(_poly), st.sampled_from(_phrase_chars),
    st.characters(min_codepoint=0x3400, max_codepoint=0x9fff),
    st.characters(min_codepoint=0xf900, max_codepoint=0xfaff),
    st.sampled_from("〇\ue815𠀀 ABCxyz019-+()·ü"),
    st.characters(),
)
names = st.text(chars, max_size=24)


@settings(max_examples=3000, deadline=None)
@given(names)
def test_pinyin_keys_equal_the_per_character_lookup(text: str) -> None:
    assert pinyin_keys(text) == old_keys(text)
    assert pinyin_syllables(text) == old_syllables(text)
    assert pinyin_string(text) == "".join(old_syllables(text))  # the duplicate keys' form


def test_polyphonic_characters_read_in_their_phrase() -> None:
    assert pinyin_keys("中国银行重庆分行") == ("zhongguoyinhangchongqingfenhang", "zgyhcqfh")
    assert pinyin_keys("Acme 长沙") == ("changsha", "cs")


@settings(max_examples=300, deadline=None)
@given(names, st.lists(st.text("0123456789 +-()", max_size=16), max_size=3), st.text(max_size=12))
def test_search_documents_hold_the_same_keys(name: str, phones: list[str], email: str) -> None:
    doc = build_doc("contact", {"name": name, "phones": phones, "email": email})
    assert doc is not None
    full, initials = old_keys(doc[0])
    assert [t for t in (full, initials) if t] == doc[1].split(" ")[
        :len([t for t in (full, initials) if t])]


phones = st.lists(st.text("0123456789 +-()８٣²", max_size=16), max_size=3)
maybe_text = st.one_of(st.none(), st.text(max_size=12))
ext_ids = st.one_of(st.none(), st.lists(st.text("ab:C-19 ", max_size=8), max_size=3))


@settings(max_examples=1000, deadline=None)
@given(names, phones, maybe_text, maybe_text, maybe_text, ext_ids)
def test_the_builders_row_form_makes_the_same_documents(
        name: str, phones: list[str], email: str | None, wechat: str | None,
        uscc: str | None, ext: list[str] | None) -> None:
    """row_doc (the index builder's: columns as stored, lists as JSON text) and build_doc
    (a repository's, from values) agree, so an edit's document equals the builder's."""
    ext_json = None if ext is None else orjson.dumps(ext).decode()
    contact = {"name": name, "phones": phones, "email": email, "wechat": wechat,
               "external_ids": ext}
    make = row_doc("contact")
    assert make is not None
    assert make((name, orjson.dumps(phones).decode() if phones else None, email, wechat,
                 ext_json)) == build_doc("contact", contact)
    phone = phones[0] if phones else None
    account = {"name": name, "phone": phone, "uscc": uscc, "external_ids": ext}
    make = row_doc("account")
    assert make is not None
    assert make((name, phone, uscc, ext_json)) == build_doc("account", account)
    assert row_doc("deal") is None


def test_phone_digits() -> None:
    assert phone_digits(["+86 139-1234-5678", "(010) 8888 1234", "+1 555", "ext", "٣٤٥"]) == [
        "8613912345678", "01088881234", "1555", "٣٤٥"]


def test_a_phone_is_found_by_any_part_of_its_digits_with_or_without_the_country_code(
        tmp_path: Path) -> None:
    with Store.open(tmp_path / "profile") as store:
        rec = store.repo("contact").import_many(
            [{"name": "李雷", "phones": ["+86 139-1234-5678"]}], index=False)
        assert rec == 1
        store.index_backlog()
        for query in ("13912345678", "139 1234 5678", "+86 139", "8613912345678", "345678",
                      "(139) 1234-5678"):
            assert [h.title for h in store.search(query)] == ["李雷"], query
        assert store.search("0139 1234 5678") == []


def test_ids_in_other_systems_find_the_record(tmp_path: Path) -> None:
    """A record's ids in other systems (desktop.schema.EXTERNAL_IDS, "system:id") are
    search terms without the system's name: a rep types the ERP's number."""
    doc = build_doc("account", {"name": "华东精密", "external_ids": ["erp:C-1029", "desk:T 77"]})
    assert doc is not None and "c-1029" in doc[1].split(" ") and "erp" not in doc[1]
    with Store.open(tmp_path / "profile") as store:
        acc = store.repo("account").create({"name": "华东精密机械"})
        con = store.repo("contact").create({"name": "张伟"})
        assert store.search("C-1029") == []
        store.repo("account").update(acc["id"], {"external_ids": ["erp:C-1029"]})
        store.repo("contact").update(con["id"], {"external_ids": ["crm2:P-88"]})
        assert [h.id for h in store.search("C-1029")] == [acc["id"]]
        assert [h.id for h in store.search("1029")] == [acc["id"]]
        assert [h.id for h in store.search("p-88")] == [con["id"]]
        store.repo("account").update(acc["id"], {"external_ids": ["erp:C-2000"]})
        assert store.search("C-1029") == []  # the old id's terms are gone with it


def test_the_builder_reads_the_pinyin_tables_an_earlier_process_saved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_readings: the tables built once are saved in the profile and read back equal;
    a damaged file or one made from other pypinyin files is rebuilt, never used."""
    built = textindex._readings().state()
    monkeypatch.setattr(textindex, "_tables", None)
    textindex.load_readings(tmp_path)  # nothing saved yet: built, then saved
    saved = tmp_path / textindex.READINGS_CACHE
    assert saved.exists() and textindex._readings().state() == built
    monkeypatch.setattr(textindex, "_tables", None)
    monkeypatch.setattr(textindex, "_Readings", _no_build(textindex._Readings))
    textindex.load_readings(tmp_path)  # read back, not built
    assert textindex._readings().state() == built
    for damage in (saved.read_bytes()[:-100], b"other pypinyin" + saved.read_bytes()):
        saved.write_bytes(damage)
        monkeypatch.setattr(textindex, "_tables", None)
        with pytest.raises(AssertionError, match="built"):
            textindex.load_readings(tmp_path)


def _no_build(cls: type) -> Any:
    def make(state: Any = None) -> Any:
        assert state is not None, "built"
        return cls(state)
    return make


def test_the_wipe_removes_the_saved_tables(tmp_path: Path) -> None:
    from desktop.sync.auth import wipe_profile

    (tmp_path / textindex.READINGS_CACHE).write_bytes(b"x")
    wipe_profile(tmp_path, None)
    assert list(tmp_path.iterdir()) == []
