"""What the search index holds for a record: its name, pinyin, CJK bigrams and the
digits of its phone numbers.

The FTS5 trigram tokenizer finds any substring of three or more characters. Two-character
Chinese names (腾讯, 张伟) are common queries, so CJK text is also indexed as bigrams, each
followed by a "|", which makes every two-character query a three-character one.
"""

from __future__ import annotations

import contextlib
import importlib.util
import marshal
import os
import re
import sys
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from desktop.schema import EXTERNAL_IDS, external_ids_of

if TYPE_CHECKING:
    import sqlite3

BIGRAM_END = "|"
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_NON_DIGIT = re.compile(r"\D+")


def is_cjk(text: str) -> bool:
    return bool(_CJK_RUN.fullmatch(text))


@lru_cache(maxsize=4096)
def _strip_tone(syllable: str) -> str:
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", syllable) if not unicodedata.combining(c))
    return plain.replace("ü", "v").lower()


class _Readings:
    """Per-character reading tables, built once per process (about 0.2 s) from pypinyin's
    data, so a name's pinyin is a `str.translate` instead of a lookup per character.

    A character with several readings takes the reading of a two-character phrase it is
    part of (银行 -> yin hang, 重庆 -> chong qing) when the phrase dictionary knows one:
    `left`/`right` hold, per such phrase, the reading of its first/second character."""

    left: dict[str, str]
    right: dict[str, str]

    def __init__(self, state: tuple[Any, ...] | None = None) -> None:
        if state is not None:  # from the tables an earlier process saved (load_readings)
            (self.first, self.poly, self.left, self.right, self.changing, self.full_table,
             self.first_table, self.initial_table) = state
            return
        from pypinyin.phrases_dict import phrases_dict
        from pypinyin.pinyin_dict import pinyin_dict

        first: dict[str, str] = {}
        poly: set[str] = set()
        for code, readings in pinyin_dict.items():
            ch = chr(code)
            parts = readings.split(",")
            first[ch] = _strip_tone(parts[0])
            if len({_strip_tone(p) for p in parts}) > 1:
                poly.add(ch)
        self.first = first
        self.poly = frozenset(poly)
        self.left = {}
        self.right = {}
        for phrase, reading in phrases_dict.items():
            if len(phrase) == 2 and reading and (phrase[0] in poly or phrase[1] in poly):
                self.left[phrase] = _strip_tone(reading[0][0])
                self.right[phrase] = _strip_tone(reading[1][0])
        # Pairs in which a character does not read as its first reading: a name without
        # any of them reads character by character.
        self.changing = frozenset(
            [p for p, syl in self.left.items() if p[0] in poly and syl != first[p[0]]]
            + [p for p, syl in self.right.items() if p[1] in poly and syl != first[p[1]]])
        # Only the characters search indexes (is_cjk); others are removed before translating.
        self.full_table = {ord(ch): syl for ch, syl in first.items() if is_cjk(ch)}
        self.first_table = {ord(ch): syl for ch, syl in first.items()}
        self.initial_table = {ord(ch): syl[:1] for ch, syl in first.items() if is_cjk(ch)}

    def state(self) -> tuple[Any, ...]:
        return (self.first, self.poly, self.left, self.right, self.changing, self.full_table,
                self.first_table, self.initial_table)

    def syllable(self, text: str, i: int) -> str:
        ch = text[i]
        syl = self.first.get(ch)
        if syl is None:
            return ch.lower()
        if ch in self.poly:
            if i > 0:
                reading = self.right.get(text[i - 1:i + 1])
                if reading is not None:
                    return reading
            if i + 1 < len(text):
                reading = self.left.get(text[i:i + 2])
                if reading is not None:
                    return reading
        return syl


_tables: _Readings | None = None


def _readings() -> _Readings:
    global _tables
    if _tables is None:
        _tables = _Readings()
    return _tables


READINGS_CACHE = "search-readings.cache"  # in the profile folder; the wipe removes it
_READINGS_FORMAT = b"1"  # change with _Readings


def load_readings(folder: Path) -> None:
    """Make this process's reading tables from the file an earlier process left in
    `folder` (about 20 ms), else build them (about 0.4 s of CPU: importing pypinyin's
    dictionaries and reading them) and leave that file. The index builder's process
    starts with this: its start-up is CPU the pull's first pages would otherwise get.
    The file says which pypinyin files and which Python made it; any other, or a damaged
    file, is rebuilt."""
    global _tables
    if _tables is not None:
        return
    path = folder / READINGS_CACHE
    head = _readings_source()
    if head is not None:
        with contextlib.suppress(OSError, ValueError, EOFError, TypeError, zlib.error):
            data = path.read_bytes()
            if data.startswith(head):
                _tables = _Readings(marshal.loads(zlib.decompress(data[len(head):])))
                return
    tables = _readings()
    if head is not None:
        tmp = path.with_name(READINGS_CACHE + ".tmp")
        try:
            tmp.write_bytes(head + zlib.compress(marshal.dumps(tables.state()), 1))
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _readings_source() -> bytes | None:
    """A header naming what the tables are made from: this code's format, the Python that
    wrote them (marshal's format) and pypinyin's two dictionary files (size, time), found
    without importing them. None when they are not files (a frozen app): no cache then."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.origin or not spec.has_location:
        return None
    parts = [b"fieldcrm-readings", _READINGS_FORMAT, sys.version.split()[0].encode(),
             str(marshal.version).encode()]
    for name in ("pinyin_dict.py", "phrases_dict.py"):
        try:
            st = (Path(spec.origin).parent / name).stat()
        except OSError:
            return None
        parts.append(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return b" ".join(parts) + b"\n"


def pinyin_syllables(text: str) -> list[str]:
    """Toneless pinyin per character (non-Chinese characters pass through lowercased),
    each polyphonic character read in its two-character phrase where one is known."""
    r = _readings()
    return [r.syllable(text, i) for i in range(len(text))]


def read_in_context(text: str) -> bool:
    """Does a character of `text` read otherwise than alone (a two-character phrase
    changes it: 银行, 长沙)? If not, each character's pinyin is its own."""
    return not _readings().changing.isdisjoint(map(str.__add__, text, text[1:]))


def pinyin_string(text: str) -> str:
    """`"".join(pinyin_syllables(text))`, by one table translation when no pair of the
    text changes a reading (most names)."""
    r = _readings()
    if r.changing.isdisjoint(map(str.__add__, text, text[1:])):
        joined = text.translate(r.first_table)
        if joined.isascii():  # so lowering it whole is lowering each character
            return joined.lower()
    return "".join(pinyin_syllables(text))


def pinyin_keys(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of the Chinese characters of `text`, both without spaces."""
    runs = _CJK_RUN.findall(text)
    if not runs:  # no Chinese: the reading tables (0.2 s to build) are not needed
        return "", ""
    r = _readings()
    # Most names: no pair that changes a reading, so two table translations (no Python
    # bytecode per character; phrases are only ever CJK, so pairs never span a run).
    if all(r.changing.isdisjoint(map(str.__add__, run, run[1:])) for run in runs):
        cjk = "".join(runs)
        return cjk.translate(r.full_table), cjk.translate(r.initial_table)
    syllables = [r.syllable(text, i) for i, ch in enumerate(text) if is_cjk(ch)]
    return "".join(syllables), "".join(s[0] for s in syllables if s)


def cjk_bigrams(text: str) -> str:
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(run[i:i + 2] + BIGRAM_END for i in range(len(run) - 1))
    return "".join(out)


def phone_digits(phones: Iterable[str]) -> list[str]:
    """Digits of each phone, so "139 1234" and "86139..." both match "+86 139-1234-5678":
    the index finds any part of them (trigrams), so the number without its country code
    is not a term of its own (it was: 9 more trigrams a phone for FTS5 to write)."""
    out: list[str] = []
    for p in phones:
        d = p.replace("+", "").replace("-", "").replace(" ", "")  # most phones: then digits
        if not d.isdecimal():  # (isdecimal: Unicode's Nd, the digits \d matches)
            d = _NON_DIGIT.sub("", p)
        if d:
            out.append(d)
    return out


def normalize_query(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


# The fields a record's search document is built from (build_doc), per searched entity.
DOC_FIELDS: dict[str, tuple[str, ...]] = {
    "account": ("name", "phone", "uscc", EXTERNAL_IDS),
    "contact": ("name", "phones", "email", "wechat", EXTERNAL_IDS),
}


def build_doc(entity: str, row: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The (name, terms, bigrams) to index for a record, or None for unsearched entities."""
    if entity == "account":
        phones = [row["phone"]] if row.get("phone") else []
        extra = [row.get("uscc") or ""]
    elif entity == "contact":
        phones = list(row.get("phones") or [])
        extra = [row.get("email") or "", row.get("wechat") or ""]
    else:
        return None
    # the ids without their system's name: a rep types the ERP's number, not "erp:"
    extra += external_ids_of(row.get(EXTERNAL_IDS)).values()
    return _doc(row.get("name") or "", phones, extra)


def row_doc(entity: str) -> Callable[[Sequence[Any]], tuple[str, str, str]] | None:
    """`build_doc` for rows read as stored (the DOC_FIELDS columns in their order, list
    fields as their JSON text), without making a dict of each: the index builder's form.
    None for unsearched entities."""
    if entity == "account":
        def account(row: Sequence[Any]) -> tuple[str, str, str]:
            name, phone, uscc, ext = row
            extra = [uscc] if uscc else []
            if ext is not None:
                extra += external_ids_of(orjson.loads(ext)).values()
            return _doc(name or "", [phone] if phone else (), extra)
        return account
    if entity == "contact":
        def contact(row: Sequence[Any]) -> tuple[str, str, str]:
            name, phones, email, wechat, ext = row
            extra = [t for t in (email, wechat) if t]
            if ext is not None:
                extra += external_ids_of(orjson.loads(ext)).values()
            return _doc(name or "", orjson.loads(phones) if phones else (), extra)
        return contact
    return None


def _doc(name: str, phones: Iterable[str], extra: Iterable[str]) -> tuple[str, str, str]:
    """build_doc's work, in one pass over the name's Chinese runs: the pairs of characters
    that decide its pinyin are its bigrams too."""
    name = normalize_query(name)
    runs = _CJK_RUN.findall(name)
    terms: list[str] = []
    bigrams = ""
    if runs:
        r = _readings()
        pairs = [list(map(str.__add__, run, run[1:])) for run in runs]
        if all(r.changing.isdisjoint(p) for p in pairs):  # most names (see pinyin_keys)
            cjk = "".join(runs)
            full, initials = cjk.translate(r.full_table), cjk.translate(r.initial_table)
        else:
            full, initials = pinyin_keys(name)
        terms = [t for t in (full, initials) if t]
        bigrams = "".join(BIGRAM_END.join(p) + BIGRAM_END for p in pairs if p)
    terms += phone_digits(phones)
    terms += [t for t in map(normalize_query, extra) if t]
    return name, " ".join(terms), bigrams


def insert_docs(conn: sqlite3.Connection, docs: Sequence[tuple[Any, ...]], *,
                whole: bool = False) -> None:
    """Add search documents (search rowid, name, terms, bigrams) whose rowids have none:
    the document table, its FTS5 index and the duplicate check's queues, all from here.
    Insert triggers did the second part until m011 and the third until m021; a trigger
    hands FTS5 one row per statement, which flushed its in-memory index each time and
    cost about three times as much per document.

    The FTS5 index takes the whole batch in one statement (one sqlite3_step, the GIL free
    throughout); with `whole` the document table does too (the documents as one JSON
    text: ~3 us a document more, but no GIL handed back and forth at every row, for the
    index builder, which makes its next slice in another thread meanwhile)."""
    if docs:
        if whole:
            conn.execute(
                "INSERT INTO search_doc (rowid, name, terms, bi) SELECT json_extract(value, "
                "'$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
                "json_extract(value, '$[3]') FROM json_each(?)", (orjson.dumps(docs).decode(),))
        else:
            conn.executemany(
                "INSERT INTO search_doc (rowid, name, terms, bi) VALUES (?, ?, ?, ?)", docs)
        rowids = orjson.dumps([d[0] for d in docs]).decode()
        conn.execute(
            "INSERT INTO search_fts (rowid, name, terms, bi) SELECT rowid, name, terms, bi "
            "FROM search_doc WHERE rowid IN (SELECT value FROM json_each(?)) ORDER BY rowid",
            (rowids,))
        # ... and the duplicate check's queues (desktop.dedupe): a trigger did this per
        # row until m021
        for queue in ("dedupe_dirty", "dedupe_unchecked"):
            conn.execute(f"INSERT OR IGNORE INTO {queue} (rowid) "
                         "SELECT value FROM json_each(?)", (rowids,))


def replace_doc(conn: sqlite3.Connection, rowid: int, doc: tuple[str, str, str] | None) -> None:
    """Set one record's search document (None: remove it). The delete trigger
    (search_doc_ad) takes the old text out of the FTS5 index."""
    conn.execute("DELETE FROM search_doc WHERE rowid = ?", (rowid,))
    if doc is not None:
        insert_docs(conn, [(rowid, *doc)])
