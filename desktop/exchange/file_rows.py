"""An import's check of each row against the file's own earlier new rows.

New rows of an import are not in the book's duplicate index until the index builder has
keyed them, so the last RECENT of them are kept here, by key, and each row is compared
(desktop.dedupe.match.compare) with the ones that share a key with it: the latest
PER_KEY of each key. A row alike to one of them is a duplicate; else it joins them.

Most of those sharers share only a brand's first or last characters (the `b` / `e`
keys: a city and a first character, the last three digits), and almost none of them is
alike. They are sorted out a chunk at a time: every such pair of the chunk (per key, its
rows against the key's window and against each other) is scored at once by rapidfuzz
cpdist, on the texts and on the pinyin, not by a Python test per pair. What is left out
is only what `compare` cannot find alike: two Chinese brands that share no identifier
and no reading's brand (those share other keys), of which
- the brands and the rest of a company name beside them (CN_NAME_REST) are less than
  the threshold alike (fuzz.ratio; a shared suffix never lowers it, and
  match.brand_score gives no more than that ratio to a pair that is not of one length,
  nor to a pair of one length unless its differing characters are homophones), and
- the brands are not homophones of one length with at most `97 - threshold`
  characters differing (a homophone typo scores 97 less the characters that differ):
  where no character of either reads otherwise beside its neighbour (most brands),
  homophones have the same pinyin string; the others are asked of the pinyin per pair.
Rows whose brand is Latin, or who have none, are compared with every sharer.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Hamming, Indel

from desktop.dedupe.match import CN_NAME_REST, HOMOPHONE_TYPO, compare

if TYPE_CHECKING:
    from desktop.dedupe.match import Probe

# New rows remembered (older ones are in the book's index by then, or far behind).
RECENT = 20_000
PER_KEY = 200  # of them, the latest sharing one key that a row is compared with
_EDGE_KINDS = frozenset("be")
# match.brand_score: a homophone typo scores this less the characters that differ
_HOMOPHONE_TOP = HOMOPHONE_TYPO + 1


def _text(me: Probe) -> str | None:
    """What the pair filter compares: a Chinese brand with the rest of a company name;
    None for a Latin brand or none (compared with every sharer)."""
    parts = me.parts
    if parts is None or parts.latin or not parts.core:
        return None
    return parts.core + CN_NAME_REST


def _sound(me: Probe) -> tuple[str, bool]:
    """A Chinese brand's pinyin (as its `y` key), and whether a character of it reads
    otherwise beside its neighbour (then its pinyin is not each character's own)."""
    from desktop.dedupe.index import pinyin_string_of
    from desktop.store.textindex import read_in_context

    core = me.parts.core  # type: ignore[union-attr]
    return pinyin_string_of(core), read_in_context(core)


class FileRows:
    """    rows = FileRows(threshold)
        rows.check([(probe, keys), ...])  # per row, in file order: alike to an earlier one?
    """

    def __init__(self, threshold: float, recent: int = RECENT, per_key: int = PER_KEY) -> None:
        self.threshold = threshold
        self.recent = recent
        self.per_key = per_key
        self.max_differ = int(_HOMOPHONE_TOP - threshold)  # -1 and less: no homophone pass
        self.seq = 0
        self.rows: OrderedDict[int, tuple[Probe, set[str]]] = OrderedDict()
        self.by_key: dict[str, list[int]] = {}  # key -> the rows' numbers, oldest first
        # edge key -> the texts of its rows (None: ""), as by_key holds their numbers
        self.texts: dict[str, list[str]] = {}
        # edge key -> its rows with no text (compared with every row of the key)
        self.textless: dict[str, list[int]] = {}
        # edge key -> its rows' brands' pinyin, and whether a character of the brand reads
        # otherwise beside its neighbour (银行), as texts holds their texts
        self.sounds: dict[str, list[str]] = {}
        self.context: dict[str, list[bool]] = {}

    def check(self, batch: list[tuple[Probe, set[str]]]) -> list[bool]:
        """Per row of `batch` (in file order): is it alike to an earlier new row? Those
        that are not join the new rows."""
        if not batch:
            return []
        base = self.seq
        self.seq += len(batch)
        texts = [_text(me) for me, _ in batch]
        sounds = [_sound(me) if t is not None else ("", False) for (me, _), t in
                  zip(batch, texts, strict=True)]
        near = self._near(batch, texts, sounds, base)
        out = []
        for i, (me, keys) in enumerate(batch):
            seq = base + 1 + i
            alike = any(compare(me, self.rows[o][0], self.threshold)
                        for o in self._candidates(keys, texts[i] is None, near.get(i, ())))
            if not alike:
                self._add(seq, me, keys, texts[i], sounds[i])
            out.append(alike)
        return out

    def _window_start(self, seqs: list[int]) -> int:
        return seqs[-self.per_key] if len(seqs) > self.per_key else 0

    def _candidates(self, keys: set[str], textless: bool,
                    near: Any) -> set[int]:
        """The new rows to compare with: every row of a key's window, except for a
        Chinese brand's edge keys, of which only those the filter kept (`near`) and the
        rows with no text."""
        found: set[int] = set()
        by_key = self.by_key
        for k in keys:
            seqs = by_key.get(k)
            if not seqs:
                continue
            if textless or k[8] not in _EDGE_KINDS:
                found.update(seqs[-self.per_key:])
                continue
            others = self.textless.get(k)
            if others:
                start = self._window_start(seqs)
                found.update(s for s in others if s >= start)
        rows = self.rows
        for s, k in near:
            seqs = by_key.get(k)
            if s in rows and seqs and s >= self._window_start(seqs):
                found.add(s)
        return found

    def _near(self, batch: list[tuple[Probe, set[str]]], texts: list[str | None],
              sounds: list[tuple[str, bool]],
              base: int) -> dict[int, list[tuple[int, str]]]:
        """Per row of the batch with a text, the (row number, key) of the rows sharing
        an edge key with it, earlier in the file, that the filter keeps: the key's
        window as the batch begins and the batch's earlier rows (which may not join).
        All pairs of the batch are scored at once (rapidfuzz cpdist), not key by key."""
        import numpy as np  # here: a plain command must not load numpy (test_cli)

        users: dict[str, list[int]] = {}
        for i, (_, keys) in enumerate(batch):
            if texts[i] is not None:
                for k in keys:
                    if k[8] in _EDGE_KINDS:
                        users.setdefault(k, []).append(i)
        mine_of: list[int] = []  # per pair: the batch's row
        theirs: list[int] = []  # per pair: the earlier row's number
        key_of: list[str] = []
        a: list[str] = []  # per pair: the row's text
        b: list[str] = []  # per pair: the earlier row's text
        pa: list[str] = []  # per pair: the row's pinyin
        pb: list[str] = []
        ca: list[bool] = []  # per pair: the row's brand reads by context
        cb: list[bool] = []
        for k, mine in users.items():
            seqs = self.by_key.get(k, [])[-self.per_key:]
            if not seqs and len(mine) < 2:
                continue
            window = self.texts[k][-self.per_key:] if seqs else []
            window_sounds = self.sounds[k][-self.per_key:] if seqs else []
            window_context = self.context[k][-self.per_key:] if seqs else []
            batch_seqs = [base + 1 + i for i in mine]
            batch_texts = [cast(str, texts[i]) for i in mine]  # rows with a text only
            batch_sounds = [sounds[i][0] for i in mine]
            batch_context = [sounds[i][1] for i in mine]
            for at, i in enumerate(mine):
                n = len(seqs) + at
                if not n:
                    continue
                mine_of.extend([i] * n)
                key_of.extend([k] * n)
                a.extend([batch_texts[at]] * n)
                theirs.extend(seqs)
                theirs.extend(batch_seqs[:at])
                b.extend(window)
                b.extend(batch_texts[:at])
                pa.extend([batch_sounds[at]] * n)
                pb.extend(window_sounds)
                pb.extend(batch_sounds[:at])
                ca.extend([batch_context[at]] * n)
                cb.extend(window_context)
                cb.extend(batch_context[:at])
        if not a:
            return {}
        keep = process.cpdist(a, b, scorer=fuzz.ratio, score_cutoff=self.threshold - 2,
                              dtype=np.uint8) > 0  # 2: slack for the rounding to integers
        if self.max_differ >= 0:
            keep |= self._homophones(a, b, pa, pb, np.array(ca) | np.array(cb))
        near: dict[int, list[tuple[int, str]]] = {}
        for j in np.flatnonzero(keep).tolist():
            near.setdefault(mine_of[j], []).append((theirs[j], key_of[j]))
        return near

    def _homophones(self, a: list[str], b: list[str], pa: list[str], pb: list[str],
                    context: Any) -> Any:
        """Per pair: could its brands be one length with every differing character a
        homophone (pinyin) of the other's? Where neither brand has a character read by
        its neighbour (most), exactly when their pinyin strings are the same; else when
        at most `max_differ` characters differ, then asked of match's pinyin itself."""
        import numpy as np

        from desktop.dedupe.match import pinyin_of

        out = process.cpdist(pa, pb, scorer=Indel.distance, score_cutoff=0,
                             dtype=np.uint8) == 0  # the same pinyin
        if context.any():
            differ = process.cpdist(a, b, scorer=Hamming.distance,
                                    score_cutoff=self.max_differ, dtype=np.int32)
            rest = len(CN_NAME_REST)
            for j in np.flatnonzero(context & ~out & (differ <= self.max_differ)).tolist():
                x, y = a[j][:-rest], b[j][:-rest]
                if len(x) == len(y):
                    px, py = pinyin_of(x), pinyin_of(y)
                    out[j] = all(p == q or sx == sy
                                 for sx, sy, p, q in zip(x, y, px, py, strict=True))
        return out

    def _add(self, seq: int, me: Probe, keys: set[str], text: str | None,
             sound: tuple[str, bool]) -> None:
        self.rows[seq] = (me, keys)
        for k in keys:
            self.by_key.setdefault(k, []).append(seq)
            if k[8] in _EDGE_KINDS:
                self.texts.setdefault(k, []).append(text or "")
                self.sounds.setdefault(k, []).append(sound[0])
                self.context.setdefault(k, []).append(sound[1])
                if text is None:
                    self.textless.setdefault(k, []).append(seq)
        if len(self.rows) > self.recent:
            self._forget(*self.rows.popitem(last=False))

    def _forget(self, seq: int, row: tuple[Probe, set[str]]) -> None:
        for k in row[1]:
            seqs = self.by_key[k]
            at = seqs.index(seq)  # the oldest: at or near the front
            del seqs[at]
            if k[8] in _EDGE_KINDS:
                del self.texts[k][at]
                del self.sounds[k][at]
                del self.context[k][at]
                others = self.textless.get(k)
                if others and others[0] == seq:
                    del others[0]
                    if not others:
                        del self.textless[k]
            if not seqs:
                del self.by_key[k]
                self.texts.pop(k, None)
                self.sounds.pop(k, None)
                self.context.pop(k, None)
