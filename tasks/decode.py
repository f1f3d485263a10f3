"""Bytes to clean Unicode text, and HTML-or-plain-text sniffing.

Order of trust for the encoding follows the WHATWG sniffing algorithm in spirit:
a byte-order mark, then the transport's charset (HTTP ``Content-Type``), then a
``<meta charset>`` in the first bytes, then strict UTF-8, then a statistical
detector (charset-normalizer). A declared charset that does not decode cleanly
is not trusted: pages that say UTF-8 and are cp1252 are common.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import ftfy
from charset_normalizer import from_bytes

__all__ = [
    "DecodeError",
    "Decoded",
    "decode_bytes",
    "decode_page",
    "normalize_unicode",
    "repair_mojibake",
    "sniff_binary",
    "sniff_kind",
]

PageKind = Literal["html", "text"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE
)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"RIFF", "riff"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
    (b"\x7fELF", "elf"),
    (b"wOFF", "woff"),
    (b"wOF2", "woff2"),
)
# WHATWG: these labels mean windows-1252 in a browser, and so they do here.
_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252",
            "us-ascii": "cp1252", "iso8859-1": "cp1252", "x-user-defined": "cp1252"}
_HTML_HINT = re.compile(
    r"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|meta\s|title>|div[\s>]|p[\s>]|article[\s>]|script[\s>])",
    re.IGNORECASE,
)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?>")
# Horizontal whitespace that must become one plain space: runs of two or more of space, tab and
# the exotic spaces (a lone tab stays), and any single exotic space. normalize_unicode does this
# in steps that each search for a literal (str.replace, or a regex with a literal prefix, which
# re scans for fast) instead of one regex whose every attempt starts at every space of the page:
# 2.5 ms instead of 9 on a 275 KB page.
_EXOTIC_SPACES = ("\u00a0", *map(chr, range(0x2000, 0x200B)), "\u202f", "\u205f", "\u3000")
_SPACE_RUN = re.compile("  +")
_TAB_RUN = re.compile("\t\t+")
# Removed outright: soft hyphens, zero-width spaces and stray byte-order marks.
_INVISIBLE = ("\u00ad", "\u200b", "\ufeff")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_CONTROL_CHARS = tuple(map(chr, (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xFFFE, 0xFFFF)))


class DecodeError(ValueError):
    """The bytes are not a text page we can read; ``reason`` is for the manifest."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    kind: PageKind


# Every byte but the C0 controls that mark binary data (tab, newline, form feed, CR and escape are text's):
# deleting them leaves those controls, counted in C.
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not (b < 32 and b not in (9, 10, 12, 13, 27)))


def sniff_binary(data: bytes) -> str | None:
    """Name the binary format of ``data``, or None when it may be text.

    Checked before decoding so that a PNG served as text/html fails with a
    reason instead of becoming a record of mojibake.
    """
    head = data[:16]
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    sample = data[:4096]
    if not sample:
        return None
    if any(sample.startswith(bom) for bom, _ in _BOMS):
        return None
    if _looks_utf16(sample):
        return None
    nul = sample.count(0)
    if nul > len(sample) * 0.01:
        return "binary"
    # Many C0 control bytes (not tab/newline/CR/FF) also mean binary.
    controls = len(sample.translate(None, _NOT_CONTROL_BYTES))
    if controls > len(sample) * 0.1:
        return "binary"
    return None


def _looks_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: the NUL bytes of ASCII characters all sit at one parity."""
    if len(sample) < 8:
        return None
    sample = sample[: len(sample) // 2 * 2]
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    half = len(sample) // 2
    for nul, other, enc in ((odd_nul, even_nul, "utf-16-le"), (even_nul, odd_nul, "utf-16-be")):
        if nul > half * 0.1 and other <= half * 0.01:
            text = sample.decode(enc, errors="replace")
            printable = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
            if printable >= len(text) * 0.95:
                return enc
    return None


def _canonical_codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode page bytes; return the text (not yet normalized) and the encoding used.

    ``declared`` is the transport's charset (HTTP ``Content-Type``), if any.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace"), enc
    utf16 = _looks_utf16(data[:4096])
    if utf16:
        return data.decode(utf16, errors="replace"), utf16
    candidates: list[str] = []
    for label in (declared, _meta_charset(data)):
        enc = _canonical_codec(label)
        if enc and enc not in candidates:
            candidates.append(enc)
    utf8 = _strict(data, "utf-8")
    for enc in candidates:
        # A UTF-16/32 declaration on bytes without NUL patterns is a lie (the meta itself was ASCII).
        if enc.startswith(("utf-16", "utf-32")):
            continue
        # Non-ASCII bytes that form valid UTF-8 are UTF-8 whatever a single-byte
        # label says: read as cp1252 they would be mojibake ("letâ€™s").
        if utf8 is not None and enc != "utf-8" and _single_byte(enc) and not data.isascii():
            return utf8, "utf-8"
        text = _strict(data, enc)
        if text is not None:
            return text, enc
    if utf8 is not None:
        return utf8, "utf-8"
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        enc = _canonical_codec(best.encoding) or best.encoding
        return data.decode(enc, errors="replace"), enc
    return data.decode("cp1252", errors="replace"), "cp1252"


def _single_byte(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in _SINGLE_BYTE or encoding.startswith(("cp12", "iso8859", "latin", "koi8", "mac-"))
    except LookupError:
        return False


_SINGLE_BYTE = frozenset(("cp1252", "latin-1", "iso8859-1", "iso8859-15", "cp1251", "cp1250", "koi8-r", "mac-roman", "ascii"))


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:8192])
    return match.group(1).decode("ascii", "replace") if match else None


def normalize_unicode(text: str) -> str:
    """NFC, no-break and exotic spaces to plain spaces, no control characters.

    Only horizontal whitespace is folded: line structure carries meaning for
    plain-text captures.
    """
    # Each step first looks for its characters with ``in`` (a memchr-like scan, and none at all
    # for a character wider than the string's storage): most pages have none of them.
    if any(char in text for char in _CONTROL_CHARS):
        text = _CONTROL.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    for char in _INVISIBLE:
        if char in text:
            text = text.replace(char, "")
    # Whitespace last (removing a soft hyphen can join two runs). An exotic space becomes a plain
    # one first: a lone one must become a space anyway, and in a run it counts like any other.
    for char in _EXOTIC_SPACES:
        if char in text:
            text = text.replace(char, " ")
    # Now every run to fold is a run of spaces and tabs. Runs of spaces become one space; then a
    # run that still holds two or more characters holds a tab, and its spaces (single now, next
    # to a tab) become tabs, which keeps its length: runs of two or more tabs become one space.
    # A lone tab has no space or tab beside it, so it is never touched.
    text = _SPACE_RUN.sub(" ", text)
    if "\t" in text:
        # str.replace looks for the pair itself (and returns the text as it is without one):
        # an ``in`` test first would search a page holding it twice.
        text = text.replace(" \t", "\t\t").replace("\t ", "\t\t")
        text = _TAB_RUN.sub(" ", text)
    return text


# Mojibake: UTF-8 read as Latin-1 leaves C1 control characters ("\u00e2\x80\x99" for "\u2019"),
# read as cp1252 it leaves "\u00e2\u20ac\u2122" or "\u00c3\u00a9"; and "&#146;", which HTML means
# as cp1252's "\u2019", comes out of lxml as U+0092. 14 of the 974 benchmark pages are repaired.
_C1_CONTROLS = tuple(map(chr, range(0x80, 0xA0)))
_CP1252_MARKS = ("\u00c3", "\u00c2", "\u00e2\u20ac")


def repair_mojibake(text: str) -> str:
    """Text with mojibake undone by ftfy (made for it), where the text shows it.

    A C1 control character is never meant in text, so one is enough; the cp1252
    marks are letters too, so it takes two of them: an article that quotes one
    piece of mojibake ('"\u00c3\u00a4" instead of "\u00e4"') keeps it. The marks
    are cheap to count; ftfy runs only on a text that has them.
    """
    if text.isascii():
        return text
    if any(c in text for c in _C1_CONTROLS) or sum(text.count(m) for m in _CP1252_MARKS) >= 2:
        # ftfy restores a broken no-break space as U+00A0: normalized like the rest of the text.
        return normalize_unicode(ftfy.fix_encoding(text))
    return text


def sniff_kind(text: str) -> PageKind:
    """HTML or plain text, by content: a suffix can lie, markup cannot hide."""
    head = text[:4096].lstrip()
    if head.startswith("<") and _HTML_HINT.search(head[:1024]):
        return "html"
    return "html" if len(_TAG.findall(text[:65536])) >= 5 else "text"


def decode_page(data: bytes, declared: str | None = None, *, prepare_html: Callable[[str], str] | None = None) -> Decoded:
    """Bytes of a page to normalized text, with its encoding and kind.

    ``prepare_html`` rewrites an HTML page's text before it is normalized:
    extract leaves out the bodies of scripts and style sheets there, so that
    they are not normalized (nor checked, nor parsed) at all.
    Raises DecodeError for empty or binary input.
    """
    if not data.strip():
        raise DecodeError("empty input")
    binary = sniff_binary(data)
    if binary:
        raise DecodeError(f"binary content ({binary}), not a text page")
    raw, encoding = decode_bytes(data, declared)
    kind = sniff_kind(raw)
    if prepare_html is not None and kind == "html":
        raw = prepare_html(raw)
    text = normalize_unicode(raw)
    if not text.strip():
        raise DecodeError("empty input (only whitespace after decoding)")
    if text.count("\ufffd") > max(20, len(text) // 50):
        raise DecodeError(f"undecodable: too many invalid bytes for {encoding}")
    return Decoded(text=text, encoding=encoding, kind=kind)
