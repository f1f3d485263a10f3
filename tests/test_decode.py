"""Decoding bytes and telling HTML from plain text."""

from __future__ import annotations

import pytest

from pagescrub.tasks.decode import DecodeError, decode_bytes, decode_page, normalize_unicode, repair_mojibake, sniff_kind

CP1252_PAGE = (
    '<html><head><meta charset="windows-1252"><title>Caf\u00e9</title></head>'
    "<body><p>\u201cQuoted\u201d caf\u00e9 \u2013 na\u00efve \u20ac5</p></body></html>"
).encode("cp1252")


def test_cp1252_page_with_only_meta_charset_decodes_without_mojibake() -> None:
    page = decode_page(CP1252_PAGE)
    assert page.encoding == "cp1252"
    assert "\u201cQuoted\u201d caf\u00e9 \u2013 na\u00efve \u20ac5" in page.text
    assert "\u00e2\u20ac" not in page.text  # the classic UTF-8-as-cp1252 mojibake
    assert page.kind == "html"


def test_iso_8859_1_label_means_windows_1252() -> None:
    data = CP1252_PAGE.replace(b"windows-1252", b"iso-8859-1")
    text, enc = decode_bytes(data)
    assert enc == "cp1252"
    assert "\u20ac5" in text


def test_utf8_bom_is_removed_and_wins_over_meta() -> None:
    data = b"\xef\xbb\xbf" + '<html><head><meta charset="iso-8859-1"></head><body><p>Gr\u00fc\u00dfe</p></body></html>'.encode()
    page = decode_page(data)
    assert page.encoding == "utf-8"
    assert page.text.startswith("<html>")
    assert "Gr\u00fc\u00dfe" in page.text


def test_declared_utf8_that_is_really_cp1252_falls_back() -> None:
    data = '<html><head><meta charset="utf-8"></head><body><p>Caf\u00e9 society\u2019s \u201cbest\u201d</p></body></html>'.encode("cp1252")
    page = decode_page(data)
    assert "Caf\u00e9 society\u2019s \u201cbest\u201d" in page.text
    assert "\ufffd" not in page.text


def test_transport_charset_beats_meta() -> None:
    data = '<html><head><meta charset="utf-8"></head><body><p>\u041f\u0440\u0438\u0432\u0435\u0442</p></body></html>'.encode("koi8-r")
    text, enc = decode_bytes(data, declared="koi8-r")
    assert enc == "koi8-r"
    assert "\u041f\u0440\u0438\u0432\u0435\u0442" in text


def test_utf16_without_bom() -> None:
    page = decode_page("<p>\u043f\u0440\u0438\u0432\u0435\u0442 world</p>".encode("utf-16-le"))
    assert page.encoding == "utf-16-le"
    assert "\u043f\u0440\u0438\u0432\u0435\u0442 world" in page.text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty input"),
        (b"   \n\t  \n", "empty input"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary content (png)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary content (pdf)"),
        (b"PK\x03\x04\x14\x00\x00\x00" + bytes(100), "binary content (zip)"),
        (bytes(range(256)) * 8, "binary content"),
    ],
)
def test_unreadable_input_fails_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_page(data)
    assert info.value.reason.startswith(reason)


def test_normalize_unicode_nfc_nbsp_and_controls() -> None:
    text = normalize_unicode("Cafe\u0301\u00a0au\u2009lait\x00\r\nnext\u200bline")
    assert text == "Caf\u00e9 au lait\nnextline"


def _normalize_unicode_reference(text: str) -> str:
    """The one-regex-per-step implementation normalize_unicode replaced (for speed): same output."""
    import re
    import unicodedata

    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]", "", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    return re.sub(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|[\u00a0\u2000-\u200a\u202f\u205f\u3000]", " ", text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\t",
        "a\tb",  # a lone tab stays
        "a\t\tb",
        "a \tb",
        "a\t b",
        "a \t \t  b",
        "\t \t",
        "a  \t\t   \t b\t",
        "a\u00a0b",  # a lone exotic space becomes a space
        "a\u00a0\tb",
        "a\t\u2009\tb",
        "a\u3000\u3000b",
        "\u2000\u2001\u200a\u202f\u205f",
        "a \u00ad b",  # removing the soft hyphen joins two spaces into a run
        "a\t\u200b\tb",
        "a\t\ufeffb",
        "a\t\x00\tb",  # so does removing a control character
        "x\r\n\ty\r\tz",
        "\ufffe\uffff\x7f\x0b\x0c\x1f\x00",
        "e\u0301 \u0301\u00a0\u0301",
        "\U0001f600 \U0001f600\t\t\U0001f600",
        "\n \n\t\n  \n",
        "\u2028 \u1680 \x85 \u2029",  # not folded (not horizontal spaces of the set)
        "     indented\n\t\t\ttabbed\n \t mixed " * 3,
    ],
)
def test_normalize_unicode_matches_reference(text: str) -> None:
    assert normalize_unicode(text) == _normalize_unicode_reference(text)


def test_normalize_unicode_matches_reference_on_random_strings() -> None:
    import random

    rng = random.Random(7)
    alphabet = ["a", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u2000", "\u2001", "\u2009", "\u200a",
                "\u200b", "\u202f", "\u205f", "\u3000", "\u00ad", "\ufeff", "\x00", "\x0b", "\x7f", "\ufffe",
                "e\u0301", "\u0301", "\u00e9", "\U0001f600", "\u2028", "\x85"]
    for _ in range(20_000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 12)))
        assert normalize_unicode(text) == _normalize_unicode_reference(text), repr(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("  <html lang=en><head><title>t</title></head></html>", "html"),
        ("Headline\n\nA paragraph of text. Another one < 5 and > 3.", "text"),
        ("Intro line\n<div><p>a</p><p>b</p><p>c</p><span>d</span></div>", "html"),
    ],
)
def test_sniff_kind_by_content(text: str, kind: str) -> None:
    assert sniff_kind(text) == kind


def test_valid_utf8_beats_a_single_byte_label() -> None:
    data = '<html><head><meta charset="iso-8859-1"></head><body><p>Let\u2019s go \u2014 caf\u00e9</p></body></html>'.encode("utf-8")
    page = decode_page(data)
    assert page.encoding == "utf-8"
    assert "Let\u2019s go \u2014 caf\u00e9" in page.text


def _cp1252(byte: int) -> str:
    """One byte as a browser reads cp1252: its five unassigned bytes become C1 controls."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


RIGHT = "The Earth\u2019s \u201cnatural\u201d systems \u2014 caf\u00e9, na\u00efve, \u00e0 la carte"


@pytest.mark.parametrize(
    ("broken", "how"),
    [
        (RIGHT.encode().decode("latin-1"), "UTF-8 read as Latin-1: C1 controls"),
        ("".join(_cp1252(b) for b in RIGHT.encode()), "UTF-8 read as cp1252"),
        (RIGHT.replace("\u2019", "\x92").replace("\u201c", "\x93").replace("\u201d", "\x94"), "&#146; as lxml reads it"),
    ],
)
def test_repair_mojibake_undoes_it(broken: str, how: str) -> None:
    assert broken != RIGHT
    assert repair_mojibake(broken) == RIGHT, how


def test_repair_mojibake_restores_a_broken_no_break_space_as_a_space() -> None:
    assert repair_mojibake("5.\u00c2\u00a0\u00c2\u00a0Myth: organic is better") == "5. Myth: organic is better"


@pytest.mark.parametrize(
    "text",
    [
        RIGHT,
        "plain ASCII text",
        "S\u00c3O PAULO \u2014 A cidade de S\u00e3o Paulo amanheceu com chuva.",  # a real capital \u00c3
        "\u00c2ge moyen: 42 ans. Le ch\u00e2teau, la f\u00eate.",  # a real \u00c2 and \u00e2
        "\u041c\u043e\u0441\u043a\u0432\u0430 \u2014 \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
        'I lost count of how many times I saw "\u00c3\u00a4" instead of "\u00e4".',  # mojibake quoted, once
    ],
)
def test_repair_mojibake_leaves_good_text_alone(text: str) -> None:
    assert repair_mojibake(text) == text


def test_control_bytes_counted_as_one_by_one() -> None:
    """sniff_binary counts C0 control bytes (not tab, newline, form feed, CR, escape) in C: the same count."""
    import random

    from pagescrub.tasks.decode import _NOT_CONTROL_BYTES, sniff_binary

    rnd = random.Random(3)
    for _ in range(1000):
        sample = bytes(rnd.randrange(256) if rnd.random() < 0.3 else rnd.randrange(40) for _ in range(rnd.randint(0, 400)))
        assert len(sample.translate(None, _NOT_CONTROL_BYTES)) == sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    text = b"<p>" + b"a\tb\nc\rd\x0ce\x1bf" * 400 + b"</p>"
    assert sniff_binary(text) is None  # text's own control bytes
    assert sniff_binary(b"<p>" + b"\x01\x02\x03abcdefgh" * 400) == "binary"  # 27 % controls, no NUL
