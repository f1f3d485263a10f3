"""Make the hostile corpus: saved pages that must not crash, hang or exhaust a pagescrub run.

Nothing here is downloaded and nothing is kept in the repository: every page is
generated, byte for byte, by the functions below (the 50 MB page, the
million-element page and the decompression bomb take a second to write).

    python tests/hostile/make_corpus.py OUT_DIR        # writes OUT_DIR/<case>.html ... and OUT_DIR/expected.json

Each ``Case`` says what the pipeline must make of its page: a record (with
checks on it), or a failed entry whose reason starts with a given text. The
server behaviours (gzip bomb in Content-Encoding, redirects to file:// and to
private addresses, redirect loops, entity bombs in sitemaps...) are served by
``tests/test_hostile.py`` itself, from the same byte builders where they apply.

Standard library only, so it runs anywhere.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["CASES", "Case", "article_html", "gzip_bomb", "gzip_bomb_single", "make_corpus"]

MB = 1024 * 1024

# -- prose -------------------------------------------------------------------------------------

EN_PARAGRAPHS = [
    ("The harbour reopened on Tuesday after six weeks of repairs to the sea wall damaged in the February storm, "
     "the port authority said in a statement to reporters gathered on the quay."),
    ("Fishing boats returned to their moorings by mid-morning, and the ferry service to the islands will resume "
     "its full timetable next week, according to the operator."),
    ("Engineers rebuilt two hundred metres of the wall with larger granite blocks, a design meant to withstand "
     "waves a third higher than the ones that broke through during the storm."),
    ("Local traders said the closure had cost them most of the early season, and the council has promised a "
     "fund to help the businesses that lost the most."),
]

ARABIC = (
    "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في المدينة، ويضم المستشفى أكثر من مئتي سرير وقسما متخصصا لعلاج الأطفال. "
    "وقال الوزير في مؤتمر صحفي إن المشروع استغرق ثلاث سنوات من العمل المتواصل، وإنه سيخدم نحو نصف مليون نسمة في المنطقة الشمالية. "
    "وأضاف أن الحكومة تخطط لبناء خمسة مستشفيات أخرى خلال السنوات القادمة لتحسين الخدمات الصحية في جميع أنحاء البلاد."
)
CHINESE = (
    "市政府今天宣布，新的地铁线路将于明年春季正式开通运营。这条线路全长三十二公里，共设二十四个车站，连接城市东部的居民区和西部的商业中心。"
    "交通部门负责人在新闻发布会上表示，项目建设历时五年，总投资超过两百亿元。开通后，预计每天可运送乘客约六十万人次，将大大缓解地面交通的压力。"
    "市民对此普遍表示欢迎，许多人认为这将使上下班变得更加方便。"
)
RUSSIAN = (
    "Городские власти объявили о начале реконструкции центрального парка, которая продлится около двух лет. "
    "По словам мэра, в парке появятся новые пешеходные дорожки, детские площадки и освещение, а старые деревья "
    "будут обследованы специалистами. Стоимость работ оценивается в полтора миллиарда рублей, большую часть средств "
    "выделит региональный бюджет. Жители района уже обсуждают проект на общественных слушаниях и предлагают "
    "сохранить летнюю эстраду, построенную в прошлом веке."
)
FRENCH_CAFE = (
    "Le café de la gare a rouvert ses portes après trois mois de travaux, et les habitués étaient déjà là à "
    "l'aube. « C'est notre deuxième maison », a déclaré une cliente fidèle, émue de retrouver la façade rénovée. "
    "Le propriétaire a précisé que la carte resterait la même, avec ses crêpes, son crème brûlée et son thé à la menthe."
)


def article_html(
    title: str = "Harbour reopens after storm repairs",
    paragraphs: list[str] | None = None,
    *,
    head: str = "",
    lang: str = "en",
    charset: str | None = "utf-8",
    before: str = "",
    after: str = "",
) -> str:
    """An ordinary article page with some chrome around it."""
    paras = "".join(f"<p>{p}</p>\n" for p in (paragraphs or EN_PARAGRAPHS))
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f'<!doctype html><html lang="{lang}"><head>{meta}<title>{title} | The Coast Times</title>{head}</head>\n'
        f'<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>{before}\n'
        f"<article><h1>{title}</h1>\n{paras}</article>{after}\n"
        f"<footer>Copyright 2023 The Coast Times. All rights reserved.</footer></body></html>\n"
    )


def _enc(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


# -- binary builders ----------------------------------------------------------------------------


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(range(48)) for _ in range(16))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    body = "BT /F1 12 Tf 72 720 Td (Harbour reopens) Tj ET"
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>endobj\n"
        + f"4 0 obj<</Length {len(body)}>>stream\n{body}\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".encode()
    )


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.html", article_html())
    return buf.getvalue()


def random_bytes(n: int = 64 * 1024, seed: int = 9) -> bytes:
    return random.Random(seed).randbytes(n)


def gzip_bomb(decompressed: int = 1024 * MB, member: int = 8 * MB) -> bytes:
    """A gzip stream of ``decompressed`` zero bytes in ~1 KiB per MiB: many identical members, cheap to make."""
    one = gzip.compress(b"\0" * member, compresslevel=9, mtime=0)
    return one * max(1, decompressed // member)


# -- page builders -----------------------------------------------------------------------------


def deep_nesting(depth: int = 10_000, closed: bool = True) -> bytes:
    inner = "".join(f"<p>{p}</p>" for p in EN_PARAGRAPHS)
    html = "<!doctype html><html><head><title>Deep</title></head><body>" + "<div>" * depth + inner
    if closed:
        html += "</div>" * depth
    return (html + "</body></html>").encode()


def _around_article(markup_chunks: Callable[[], Iterator[str]]) -> bytes:
    """An article page with generated markup after the article, inside <body>."""
    head, tail = article_html().rsplit("<footer>", 1)
    out = io.StringIO()
    out.write(head)
    for chunk in markup_chunks():
        out.write(chunk)
    out.write("<footer>" + tail)
    return out.getvalue().encode()


def many_elements(count: int, unit: str = "<b>x</b>") -> bytes:
    """``count`` copies of ``unit`` (``{i}`` is numbered) in a block after the article."""

    def chunks() -> Iterator[str]:
        yield "<div class='grid'>"
        numbered = "{i}" in unit
        for start in range(0, count, 10_000):
            stop = min(count, start + 10_000)
            yield "".join(unit.format(i=i) for i in range(start, stop)) if numbered else unit * (stop - start)
        yield "</div>"

    return _around_article(chunks)


def many_attributes(count: int) -> bytes:
    return _around_article(lambda: iter(["<div " + " ".join(f"a{i}=1" for i in range(count)) + "></div>"]))


def attribute_heavy_tags(count: int, attributes: int) -> bytes:
    """``count`` tags with ``attributes`` distinct (valueless) attributes each, after the article."""
    names = [a + b + c for a in "abcdefghijklmnopqrstuvwxyz" for b in "abcdefghijklmnopqrstuvwxyz" for c in "abcdefghij"]
    tag = "<i " + " ".join(names[:attributes]) + ">x</i>"
    return _around_article(lambda: iter([tag * count]))


def unclosed_scripts(count: int) -> bytes:
    """A long tag, then ``count`` <script> never closed (a ``<script>.*?</script>`` scan is quadratic on them)."""
    return _around_article(lambda: iter(["<div data-x='" + "y" * 400 + "' class=" + "z" * 300 + "></div>", "<script>a" * count]))


def long_article(chars: int) -> bytes:
    """An article whose own text is ``chars`` long: thousands of distinct paragraphs."""
    base = " ".join(EN_PARAGRAPHS)
    paras = [f"Part {i}. {base}" for i in range(chars // (len(base) + 10) + 1)]
    return article_html(paragraphs=paras).encode()


def many_paragraphs_article(n: int) -> bytes:
    """An article of ``n`` short distinct paragraphs: its cost grows with the elements, under every size limit."""
    head = " ".join(EN_PARAGRAPHS)[:110]
    return article_html(paragraphs=[f"Part {i}. {head}" for i in range(n)]).encode()


def big_page(size: int) -> Callable[[Path], None]:
    """A real-looking article followed by ordinary paragraphs up to ``size`` bytes, written in a stream."""

    def write(path: Path) -> None:
        head, tail = article_html().rsplit("<footer>", 1)
        with open(path, "wb") as fh:
            fh.write((head + "<section class='archive'>").encode())
            para = ("<p>" + " ".join(EN_PARAGRAPHS) + "</p>\n").encode()
            block = para * 200
            written = fh.tell()
            while written < size:
                fh.write(block)
                written += len(block)
            fh.write(("</section><footer>" + tail).encode())

    return write


def gzip_bomb_single(decompressed: int = 256 * MB) -> bytes:
    """One gzip member of ``decompressed`` zero bytes (for readers that stop after the first member)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    out = [packer.compress(zeros) for _ in range(decompressed // MB)]
    out.append(packer.flush())
    return b"".join(out)


def bomb_file(decompressed: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(gzip_bomb(decompressed))

    return write


def jsonld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def home_page() -> str:
    items = "".join(
        f'<li><a href="/news/{i}">Council approves budget for road repairs in district {i}</a></li>' for i in range(40)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>The Coast Times - News, Sport, Weather</title></head>"
        "<body><header><nav><a href='/'>Home</a><a href='/news'>News</a><a href='/sport'>Sport</a></nav></header>"
        f"<main><h2>Latest</h2><ul class='headlines'>{items}</ul></main>"
        "<footer>Copyright 2023 The Coast Times</footer></body></html>"
    )


def login_page() -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Sign in | The Coast Times</title></head><body>"
        "<nav><a href='/'>Home</a></nav><main><h1>Sign in</h1><form method='post' action='/login'>"
        "<label>Email <input name='email' type='email'></label><label>Password <input name='password' type='password'></label>"
        "<button>Sign in</button></form><p>Forgot your password? <a href='/reset'>Reset it</a>.</p>"
        "<p>New here? <a href='/register'>Create an account</a> to read every story.</p></main></body></html>"
    )


def soft_404() -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Page not found | The Coast Times</title></head><body>"
        "<nav><a href='/'>Home</a><a href='/news'>News</a></nav><main><h1>404 - Page not found</h1>"
        "<p>Sorry, we could not find the page you were looking for. It may have been moved, renamed or deleted, "
        "or the address may have been typed incorrectly. Please check the address, try searching our site for the "
        "story you wanted, or go back to the home page to see the latest news from the coast.</p>"
        "<form action='/search'><input name='q'><button>Search</button></form></main>"
        "<footer>Copyright 2023 The Coast Times</footer></body></html>"
    )


def entity_bomb_xhtml() -> str:
    ents = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return (
        f'<?xml version="1.0"?><!DOCTYPE html [{ents}]>'
        + article_html(before="<p>&a9;</p>").split("<!doctype html>", 1)[1]
    )


def xxe_xhtml() -> str:
    return (
        '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + article_html(before="<p>&xxe;</p>").split("<!doctype html>", 1)[1]
    )


def garbage_tags() -> bytes:
    rng = random.Random(3)
    junk = bytes(rng.randrange(0x80, 0x100) for _ in range(40))
    html = (
        "<html><head><title>Harbour reopens</title><body><div class=story><h1>Harbour reopens after storm repairs"
        + "".join(f"<p>{p}<b><i><span>" for p in EN_PARAGRAPHS)
        + "<<<>>></p></p></div></table><td><tr>< /div><div <p>>"
    ).encode()
    return html[:200] + junk + html[200:] + junk


def unclosed_comment() -> str:
    return article_html().replace("<article>", "<!-- begin story <article>")


def mixed_charsets() -> bytes:
    """A UTF-8 page with one paragraph pasted in as cp1252 bytes (invalid UTF-8)."""
    page = article_html(paragraphs=[*EN_PARAGRAPHS, "PLACEHOLDER"])
    head, tail = page.split("PLACEHOLDER")
    return head.encode("utf-8") + FRENCH_CAFE.encode("cp1252") + tail.encode("utf-8") + " Ünïcödé ✓".encode()


def nul_sprinkled() -> bytes:
    data = bytearray(article_html().encode())
    for i in range(600, len(data), 700):
        data[i:i] = b"\x00"
    return bytes(data)


def nul_heavy() -> bytes:
    return b"\x00\x00\x00<html>" + b"\x00".join(article_html().encode()[i : i + 3] for i in range(0, 6000, 3))


def huge_attribute() -> str:
    return article_html(before=f"<div class=\"{'x ' * (2 * MB)}\" data-blob=\"{'y' * MB}\"></div>")


def script_heavy() -> str:
    return article_html(head="<script>" + "var a=1;" * (1024 * 1024) + "</script>", after="<style>" + "p{}" * 200_000 + "</style>")


def one_huge_word() -> str:
    return article_html(paragraphs=[*EN_PARAGRAPHS, "A" * (2 * MB)])


def huge_text_capture(lines: int) -> bytes:
    rng = random.Random(5)
    words = "the council met on tuesday and discussed budget for harbour repairs with engineers traders".split()
    out = ["Harbour reopens after storm repairs", "By Ana Ruiz", "March 14, 2023", ""]
    for i in range(lines):
        out.append(" ".join(rng.choice(words) for _ in range(rng.randrange(3, 14))) + ".")
        if i % 5 == 4:
            out.append("")
    return "\n".join(out).encode()


def long_line_capture(size: int) -> bytes:
    line = " ".join(EN_PARAGRAPHS) + " "
    return ("Harbour reopens after storm repairs\n\n" + line * (size // len(line))).encode()


def many_dates_capture(lines: int) -> bytes:
    rows = [f"Updated {1 + i % 28} March 2023, {i % 12 + 1}:{i % 60:02d} pm" for i in range(lines)]
    return ("Harbour reopens\n\n" + "\n".join(rows) + "\n\n" + "\n\n".join(EN_PARAGRAPHS)).encode()


def many_links_page(count: int) -> str:
    links = "".join(f'<a href="/n/{i}">Story {i}</a> ' for i in range(count))
    return article_html(after=f"<div class='related'>{links}</div>")


def deep_json_ld(depth: int) -> str:
    return article_html(head='<script type="application/ld+json">' + "[" * depth + "]" * depth + "</script>")


def huge_json_ld() -> str:
    node = {"@type": "NewsArticle", "headline": "Harbour reopens after storm repairs", "articleBody": "x " * (1_500_000)}
    graph = {"@context": "https://schema.org", "@graph": [node] + [{"@type": "Thing", "name": f"t{i}"} for i in range(20_000)]}
    return article_html(head=jsonld(graph))


# -- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One page of the corpus and what the pipeline must make of it."""

    name: str
    """File name in the corpus folder."""
    build: Callable[[], bytes | str] | Callable[[Path], None]
    """The page's bytes (or text, written as UTF-8); a function taking a path writes big pages itself."""
    expect: str
    """``record`` or ``failed``."""
    reason: str = ""
    """For ``failed``: the manifest reason starts with this."""
    checks: dict[str, object] = field(default_factory=dict)
    """For ``record``: ``language``, ``title``, ``title_max``, ``contains``, ``absent``, ``authors``, ``published_at``."""
    or_reason: str = ""
    """For a ``record`` case at the limits: failing with this reason instead is also right (the CPU
    budget stops a page between steps, and a slower machine may reach it)."""
    note: str = ""
    known_issue: str = ""
    """A wrong outcome known and reported, with its fix elsewhere: the case is expected to fail until then."""
    writes: bool = False
    """``build`` writes the file itself (big pages, streamed)."""


_ART = {"contains": ["sea wall damaged"]}
_TOO_LARGE = "too large: over 10485760 bytes"

CASES: list[Case] = [
    # emptiness
    Case("empty.html", lambda: b"", "failed", "empty input", note="zero bytes"),
    Case("whitespace.html", lambda: b" \n\t\r\n   \n" * 100, "failed", "empty input", note="only ASCII whitespace"),
    Case("whitespace-nbsp.html", lambda: "\u00a0\u2003 \n\ufeff\u3000".encode() * 50, "failed", "empty input",
         note="only Unicode spaces (no-break, em, ideographic) and a BOM"),
    Case("markup-only.html", lambda: "<html><head></head><body><div><span></span></div></body></html>", "failed",
         "no article found", note="tags, no text"),
    # binary served/saved as HTML
    Case("png.html", png_bytes, "failed", "binary content (png)", note="a PNG saved as .html"),
    Case("pdf.html", pdf_bytes, "failed", "binary content (pdf)", note="a PDF saved as .html"),
    Case("zip.html", zip_bytes, "failed", "binary content (zip)", note="a ZIP (of an article!) saved as .html"),
    Case("random.html", random_bytes, "failed", "binary content (binary)", note="64 KiB of random bytes"),
    Case("nul-heavy.html", nul_heavy, "failed", "binary content (binary)", note="HTML shot through with NUL bytes"),
    Case("double-gzip.html.gz", lambda: gzip.compress(gzip.compress(article_html().encode())), "failed",
         "binary content (gzip)", note="gzip inside gzip: one layer is undone, the other is binary"),
    # size and shape
    Case("huge-50mb.html", big_page(50 * MB), "failed", _TOO_LARGE, writes=True, note="a 50 MB page"),
    Case("big-9mb.html", big_page(9 * MB), "failed", "too much text", writes=True,
         note="9 MB of paragraphs, under the size limit: over the text limit"),
    Case("bomb.html.gz", bomb_file(1024 * MB), "failed", f"{_TOO_LARGE} after decompression", writes=True,
         note="1 GiB of zeros in a 1 MiB .html.gz"),
    Case("truncated.html.gz", lambda: gzip.compress(article_html().encode())[:300], "failed", "corrupt gzip",
         note="a gzip file cut short"),
    Case("deep-10000.html", lambda: deep_nesting(10_000), "failed", "too deeply nested",
         note="10,000 nested <div> around the article"),
    Case("deep-10000-unclosed.html", lambda: deep_nesting(10_000, closed=False), "failed", "too deeply nested",
         note="10,000 <div> never closed"),
    Case("deep-200.html", lambda: deep_nesting(200), "record", "", dict(_ART), note="200 nested <div>: deep but allowed"),
    Case("elements-1m.html", lambda: many_elements(1_200_000), "failed", "too many elements",
         note="1.2 million tiny elements (9.6 MB): refused before parsing"),
    Case("elements-30k.html", lambda: many_elements(30_000, "<span>x</span>"), "failed", "too many elements",
         note="30,000 elements: refused after parsing, before cleaning"),
    Case("elements-20k-links.html", lambda: many_elements(19_900, "<a href='/n/{i}'>Story {i}</a> "), "record", "",
         {**_ART, "absent": ["Story 1999"]}, or_reason="too slow",
         note="19,900 links, just under the element limit (links cost most per element)"),
    Case("elements-20k-blocks.html",
         lambda: many_elements(9_950, "<div class='c{i}'><p>Text {i} of a paragraph that has twenty-five chars</p></div>"),
         "record", "", {}, or_reason="too slow",
         note="9,950 short paragraphs in their own <div>, just under the element limit: the costliest shape"),
    Case("attributes-100k.html", lambda: many_attributes(100_000), "failed", "too many attributes",
         note="100,000 attributes on one element (libxml2 is quadratic in them)"),
    Case("attributes-1250x1999.html", lambda: attribute_heavy_tags(1250, 1999), "failed", "too many attributes",
         note="1,250 tags of 1,999 attributes each (10 MB: 6 s of parsing in C)"),
    Case("unclosed-scripts.html", lambda: unclosed_scripts(100_000), "record", "", dict(_ART),
         note="100,000 <script> never closed after the article"),
    Case("text-2.5m.html", lambda: long_article(2_500_000), "failed", "too much text",
         note="an article of 2.5 million characters"),
    Case("text-1.9m.html", lambda: long_article(1_900_000), "record", "", dict(_ART), or_reason="too slow",
         note="an article of 1.9 million characters, just under the text limit"),
    Case("links-50k.html", lambda: many_links_page(50_000), "failed", "too many elements",
         note="a related block of 50,000 links"),
    Case("svg-icons.html", lambda: many_elements(300, "<svg viewBox='0 0 8 8'>" + "<path d='M0 0h8v8z'/>" * 100 + "</svg>"),
         "record", "", dict(_ART), note="300 inline SVG icons of 100 paths: 30,000 elements that do not count"),
    Case("huge-attribute.html", huge_attribute, "record", "", dict(_ART), note="5 MB of attribute values"),
    Case("script-heavy.html", script_heavy, "record", "", {**_ART, "absent": ["var a=1"]}, or_reason="too slow",
         note="8 MB of inline script and 800 KB of style (htmldate's full-text search reads the scripts: 4-5 s)"),
    Case("one-huge-word.html", one_huge_word, "record", "", dict(_ART), note="a 2 MB word without spaces"),
    Case("capture-huge.txt", lambda: huge_text_capture(170_000), "failed", "too much text",
         note="a 9 MB plain-text capture of 200,000 lines"),
    Case("capture-1.9m.txt", lambda: huge_text_capture(36_000), "record", "", {"contains": ["harbour"]},
         note="a 1.9 MB plain-text capture of 43,000 lines, under the text limit"),
    Case("capture-one-line.txt", lambda: long_line_capture(9 * MB), "failed", "too much text",
         note="a 9 MB plain-text capture on one line"),
    Case("capture-one-line-1.9m.txt", lambda: long_line_capture(1_900_000), "record", "", {"contains": ["sea wall"]},
         note="a 1.9 MB plain-text capture on one line"),
    Case("capture-dates.txt", lambda: many_dates_capture(20_000), "record", "", dict(_ART),
         note="20,000 date lines before the text (date parsing is slow per line)"),
    # broken markup
    Case("garbage-tags.html", garbage_tags, "record", "", dict(_ART), note="unclosed tags, stray '<', garbage bytes"),
    Case("unclosed-title.html", lambda: article_html().replace("</title>", ""), "failed", "no article found",
         note="an unclosed <title> swallows the page (as in a browser)"),
    Case("unclosed-comment.html", unclosed_comment, "failed", "no article found",
         note="an unclosed <!-- swallows the article"),
    Case("entity-bomb.xhtml", entity_bomb_xhtml, "record", "", {**_ART, "absent": ["lollol"]},
         note="billion laughs in the DOCTYPE of an XHTML page: never expanded"),
    Case("xxe.xhtml", xxe_xhtml, "record", "", {**_ART, "absent": ["root:"]},
         note="external entity to file:///etc/passwd: never resolved"),
    # charsets
    Case("utf8-declared-cp1252.html",
         lambda: article_html(paragraphs=[FRENCH_CAFE] * 2, lang="fr").encode("cp1252"), "record", "",
         {"contains": ["Le café de la gare", "« C'est"], "language": "fr", "encoding_not": "utf-8"},
         note="declares UTF-8, bytes are cp1252"),
    Case("cp1252-declared-utf8.html",
         lambda: article_html(paragraphs=[FRENCH_CAFE] * 2, lang="fr", charset="windows-1252").encode("utf-8"),
         "record", "", {"contains": ["Le café de la gare"], "language": "fr"}, note="declares windows-1252, bytes are UTF-8"),
    Case("utf16le-no-bom.html", lambda: article_html(charset=None).encode("utf-16-le"), "record", "",
         {**_ART, "encoding": "utf-16-le"}, note="UTF-16 little-endian without a BOM"),
    Case("utf16be-no-bom.html", lambda: article_html(charset=None).encode("utf-16-be"), "record", "",
         {**_ART, "encoding": "utf-16-be"}, note="UTF-16 big-endian without a BOM"),
    Case("mixed-charsets.html", mixed_charsets, "record", "", {**_ART, "contains": ["sea wall damaged", "caf"]},
         note="UTF-8 with a cp1252 paragraph pasted in"),
    Case("bogus-charset.html", lambda: article_html(charset="x-no-such-charset").encode(), "record", "", dict(_ART),
         note="<meta charset> naming no charset"),
    Case("utf16-declared-ascii.html", lambda: article_html(charset="utf-16").encode(), "record", "", dict(_ART),
         note="declares UTF-16, bytes are ASCII"),
    Case("russian-cp1251-undeclared.html",
         lambda: article_html("Реконструкция парка", [RUSSIAN] * 2, lang="ru", charset=None).encode("cp1251"),
         "record", "", {"language": "ru", "contains": ["Городские власти"]}, note="Russian in cp1251, no charset anywhere"),
    Case("nul-sprinkled.html", nul_sprinkled, "record", "", dict(_ART), note="a NUL byte every 700 bytes"),
    Case("invalid-utf8-flood.html",
         lambda: b"<html><body><p>" + bytes(random.Random(1).randrange(0x80, 0x100) for _ in range(60_000)) + b"</p></body></html>",
         "failed", "no article found", note="60 KB of high bytes that form no words in any charset"),
    # metadata
    Case("title-100kb.html", lambda: article_html(title="Harbour reopens " + "and more " * 11_500), "record", "",
         {**_ART, "title_max": 1000}, note="a 100 KB <title> and <h1>"),
    Case("jsonld-invalid.html", lambda: article_html(head='<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'),
         "record", "", {**_ART, "title": "Harbour reopens after storm repairs"}, note="JSON-LD that is not JSON"),
    Case("jsonld-huge.html", huge_json_ld, "record", "", dict(_ART), note="3 MB of JSON-LD with 20,000 nodes"),
    Case("jsonld-deep.html", lambda: deep_json_ld(100_000), "record", "", dict(_ART),
         note="JSON-LD nested 100,000 arrays deep"),
    Case("jsonld-wrong-types.html",
         lambda: article_html(head=jsonld({
             "@type": "NewsArticle", "headline": ["", {"x": 1}], "author": 12345, "datePublished": "yesterday",
             "dateModified": {"@value": 17}, "image": 5, "keywords": {"a": [1, 2]}, "publisher": "not an object",
             "inLanguage": 42, "url": ["javascript:alert(1)"],
         })), "record", "", {**_ART, "authors": [], "published_at": None}, note="author a number, date 'yesterday', ..."),
    # no article
    Case("home-page.html", home_page, "failed", "no article found", note="a home page: 40 headlines, no story"),
    Case("login-page.html", login_page, "failed", "no article found", note="a sign-in form"),
    Case("soft-404.html", soft_404, "failed", "no article found", note="a 'page not found' page saved with status 200"),
    # other languages
    Case("arabic.html", lambda: article_html("افتتاح مستشفى جديد", [ARABIC] * 2, lang="ar"), "record", "",
         {"language": "ar", "contains": ["أعلنت وزارة الصحة"]}, note="Arabic article (right-to-left)"),
    Case("chinese.html", lambda: article_html("新地铁线路明年开通", [CHINESE] * 2, lang="zh"), "record", "",
         {"language": "zh", "contains": ["市政府今天宣布"]}, note="Chinese article (no spaces between words)"),
    Case("russian.html", lambda: article_html("Реконструкция парка", [RUSSIAN] * 2, lang="ru"), "record", "",
         {"language": "ru", "contains": ["Городские власти"]}, note="Russian article"),
    Case("chinese-gb18030-undeclared.txt",
         lambda: ("新地铁线路明年开通\n\n" + CHINESE.replace("交通部门", "\n\n交通部门")).encode("gb18030"), "record", "",
         {"language": "zh", "contains": ["市政府今天宣布", "交通部门负责人"]},
         note="a Chinese text capture in GB18030, undeclared"),
]


def make_corpus(out: str | Path, cases: list[Case] | None = None) -> dict[str, Case]:
    """Write every case into ``out`` (created), plus ``expected.json``; returns the cases by name."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    chosen = CASES if cases is None else cases
    for case in chosen:
        path = root / case.name
        if case.writes:
            case.build(path)  # type: ignore[call-arg]
        else:
            data = case.build()  # type: ignore[call-arg]
            path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    expected = {
        c.name: {k: v for k, v in asdict(c).items() if k in ("expect", "reason", "or_reason", "checks", "note", "known_issue")} for c in chosen
    }
    (root / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False), encoding="utf-8")
    return {c.name: c for c in chosen}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder to write the corpus into")
    args = parser.parse_args(argv)
    cases = make_corpus(args.out)
    total = sum((Path(args.out) / n).stat().st_size for n in cases)
    print(f"{len(cases)} cases, {total / MB:.1f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
