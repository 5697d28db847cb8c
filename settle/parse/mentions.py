"""Which blobs spell a name: the byte search before any parse.

A name's answers (blob id → spells it) are kept in memory and in the disk cache, so a
repository searched before is searched again without reading the blobs that did not change.
Past a few names, a name made of word bytes is looked up in an index of the blobs' words
instead (`_BlobWords`): a branch that changes hundreds of symbols asks for each of them, of
every file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable

from settle.parse.store import DiskCache

MENTIONS_KEPT = 200_000  # blob answers one name's mention entry keeps (and sizes of blobs found)
# Names searched for byte by byte before the blobs' words are indexed: indexing a blob costs about
# sixty searches of it (mypy's 1,315 files in memory: 238 ms against 3.8 ms a name).
_ASKS_BEFORE_INDEX = 64
_INDEXED_BLOBS = 4096  # blobs whose words the index holds (a few MiB)
WORD_RUN = re.compile(rb"[A-Za-z0-9_$]+")  # the bytes of words (as the extractor's [\w$], ASCII)


def _mentions_key(name: str) -> str:
    return f"mentions/1|{name}"  # a fact about bytes: no settle or grammar version in it


class Mentions:
    """The byte search for names over blobs, its answers kept (see the module's text)."""

    def __init__(self, read_blob: Callable[[str], bytes], disk: DiskCache | None):
        self._read_blob = read_blob
        self.disk = disk
        self._known: dict[str, dict[str, bool]] = {}  # name → blob id → spells it
        self.sizes: dict[str, int] = {}  # blob id → bytes, of blobs the search found a name in
        self.asks = 0  # `mentioning` calls; past a few, word-bytes names are looked up in the words index
        self._blob_words = _BlobWords()

    def mentioning(self, name: str, files: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The (path, blob id) of `files` whose bytes contain the name."""
        needle = name.encode()
        known = self.known(name)
        self.asks += 1
        if self.asks > _ASKS_BEFORE_INDEX and WORD_RUN.fullmatch(needle):
            files = list(files)
            unknown = [blob_id for _, blob_id in files if blob_id not in known]
            if unknown and len(set(unknown)) <= _INDEXED_BLOBS:  # more: rebuilt for every name, slower than searching
                self._index_answers(needle, known, unknown)
        found, learned = [], False
        for path, blob_id in files:
            answer = known.get(blob_id)
            if answer is None:
                answer = self.spells(needle, known, blob_id)
                learned = True
            if answer:
                found.append((path, blob_id))
        if learned:
            self.keep(name, known)
        return found

    def spells(self, needle: bytes, known: dict[str, bool], blob_id: str) -> bool:
        """Does the blob hold the needle? Read and searched, the answer put in `known`."""
        data = self._read_blob(blob_id)
        answer = known[blob_id] = needle in data
        if answer and len(self.sizes) < MENTIONS_KEPT:
            self.sizes[blob_id] = len(data)
        return answer

    def known(self, name: str) -> dict[str, bool]:
        """The answers known for the name (blob id → spells it), read from the disk cache first."""
        known = self._known.get(name)
        if known is None:
            known = self._known[name] = {}
            value = self.disk.load("mentions", _mentions_key(name)) if self.disk is not None else None
            if isinstance(value, list) and len(value) == 2 and all(isinstance(part, list) for part in value):
                yes, no = value
                if all(isinstance(b, str) for b in yes) and all(isinstance(b, str) for b in no):
                    known.update(dict.fromkeys(no, False))
                    known.update(dict.fromkeys(yes, True))
            if len(known) > MENTIONS_KEPT:
                known.clear()  # start over rather than let one entry grow without bound
        return known

    def keep(self, name: str, known: dict[str, bool]) -> None:
        """The name's answers written to the disk cache."""
        if self.disk is not None:
            self.disk.store("mentions", _mentions_key(name), [sorted(b for b, yes in known.items() if yes),
                                                             sorted(b for b, yes in known.items() if not yes)])

    def _index_answers(self, needle: bytes, known: dict[str, bool], blob_ids: list[str]) -> None:
        """`spells` of a word-bytes needle for each blob, from the words index."""
        index = self._blob_words
        new = [blob_id for blob_id in dict.fromkeys(blob_ids) if blob_id not in index.sizes]
        if index.count + len(new) > _INDEXED_BLOBS:
            index = self._blob_words = _BlobWords()  # start over rather than grow without bound
            new = list(dict.fromkeys(blob_ids))
        for blob_id in new:
            index.add(blob_id, self._read_blob(blob_id))
        holding = index.holding(needle)
        for blob_id in blob_ids:
            answer = known[blob_id] = blob_id in holding
            if answer and len(self.sizes) < MENTIONS_KEPT:
                self.sizes[blob_id] = index.sizes[blob_id]

    @property
    def indexed(self) -> int:
        """Blobs the words index holds now."""
        return self._blob_words.count


class _BlobWords:
    """Which blobs hold a needle made of word bytes, for many needles over the same blobs.

    Such a needle is in a text exactly when it is inside one of the text's words (its maximal runs
    of word bytes): every byte of a place that spells it is a word byte, so one run holds the
    place whole. Each blob's distinct words are collected once; a needle's blobs are those of the
    words that contain it, found by `bytes.find` in one text of every word, newline-separated.
    """

    def __init__(self):
        self.sizes: dict[str, int] = {}  # blob id → its length in bytes
        self._blobs: dict[bytes, list[str]] = {}  # word → the blobs that have it
        self._text: bytes | None = None
        self._words: list[bytes] = []
        self._starts: list[int] = []

    @property
    def count(self) -> int:
        return len(self.sizes)

    def add(self, blob_id: str, data: bytes) -> None:
        self.sizes[blob_id] = len(data)
        for word in set(WORD_RUN.findall(data)):
            self._blobs.setdefault(word, []).append(blob_id)
        self._text = None

    def holding(self, needle: bytes) -> set[str]:
        if self._text is None:
            self._words = list(self._blobs)
            self._text = b"\n".join(self._words)
            self._starts, start = [], 0
            for word in self._words:
                self._starts.append(start)
                start += len(word) + 1
        found: set[str] = set()
        text, starts = self._text, self._starts
        place = text.find(needle)
        while place >= 0:
            word = bisect_right(starts, place) - 1
            found.update(self._blobs[self._words[word]])
            following = word + 1
            place = text.find(needle, starts[following]) if following < len(starts) else -1
        return found
