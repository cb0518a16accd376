"""QR codes for pupils' links (segno: PNG and SVG, no image library needed), a one-page A4 poster for the
classroom wall or screen, and a printable sheet of one-time pupil codes, one slip per pupil.

The poster and the sheet are self-contained HTML files (the QR code inline as SVG), so they print from
any browser without an internet connection."""

from __future__ import annotations

import html
import io

import segno

from bot.i18n import t


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)  # medium error correction survives a smudged print


def qr_png(url: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    _qr(url).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(url: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    _qr(url).save(buffer, kind="svg", scale=scale, border=4, xmldecl=True, svgclass=None, lineclass=None)
    return buffer.getvalue()


def _inline_svg(url: str, label: str) -> str:
    """The code as inline SVG that scales with its box (width/height left to the style sheet)."""
    svg = _qr(url).svg_inline(scale=1, border=4, svgclass="qr", lineclass=None, omitsize=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label, quote=True)}" ', 1)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


POSTER_STYLE = """
@page{size:A4;margin:0}
*{box-sizing:border-box}
html,body{margin:0}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#fff}
main{width:210mm;height:296mm;padding:18mm 16mm;display:flex;flex-direction:column;align-items:center;
text-align:center;overflow:hidden;margin:0 auto}
h1{font-size:30pt;line-height:1.15;margin:0 0 8mm}
.qr{width:130mm;height:130mm;margin:0 0 8mm}
.scan{font-size:20pt;font-weight:700;margin:0 0 4mm}
.url{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12pt;overflow-wrap:anywhere;margin:0 0 8mm}
.mode{font-size:14pt;max-width:160mm;margin:0}
@media screen{body{background:#e9ecef}main{background:#fff;margin:1rem auto;box-shadow:0 0 .5rem #0003}}
""".strip()


def poster_html(title: str, url: str, lang: str, anonymity: str) -> bytes:
    """One A4 page: the survey's title, a big QR code, the address spelled out and what anonymity means."""
    scan = t(lang, "web.poster.scan")
    body = (f'<main><h1>{_e(title)}</h1>{_inline_svg(url, t(lang, "web.poster.qr_label", title=title))}'
            f'<p class="scan">{_e(scan)}</p><p class="url">{_e(url)}</p>'
            f'<p class="mode"><strong>{_e(t(lang, f"web.mode.{anonymity}.title"))}</strong> '
            f'{_e(t(lang, f"web.mode.{anonymity}.text"))}</p></main>')
    page = (f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(t(lang, 'web.poster.title', title=title))}</title><style>{POSTER_STYLE}</style></head>"
            f"<body>{body}</body></html>")
    return page.encode("utf-8")


SHEET_STYLE = """
@page{size:A4;margin:10mm}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;margin:0}
main{max-width:190mm;margin:0 auto}
h1{font-size:14pt;margin:0 0 2mm}p.note{font-size:9pt;margin:0 0 4mm}
ul{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(3,1fr)}
li{border:1px dashed #555;padding:3mm;height:33mm;display:flex;gap:3mm;align-items:center;break-inside:avoid}
.qr{width:24mm;height:24mm;flex:none}
.slip strong{display:block;font-size:9pt}
.code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:16pt;letter-spacing:.12em;font-weight:700}
""".strip()


def codes_sheet_html(title: str, url: str, codes: list[str], lang: str) -> bytes:
    """Slips to cut apart, one per pupil: the QR code, the survey's title and one one-time code."""
    qr = _inline_svg(url, t(lang, "web.poster.qr_label", title=title))
    slips = "".join(f'<li>{qr}<div class="slip"><strong>{_e(title)}</strong>'
                    f'<span>{_e(t(lang, "web.page.code_label"))}:</span> <span class="code">{_e(code)}</span></div></li>'
                    for code in codes)
    body = (f'<main><h1>{_e(t(lang, "web.codes.title", title=title))}</h1>'
            f'<p class="note">{_e(t(lang, "web.codes.note", count=len(codes)))}</p><ul>{slips}</ul></main>')
    page = (f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(t(lang, 'web.codes.title', title=title))}</title><style>{SHEET_STYLE}</style></head>"
            f"<body>{body}</body></html>")
    return page.encode("utf-8")
