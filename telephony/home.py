"""GET /: a small page in Dutch and English that says what this server is and links the
agent desk and the health check. It shows no calls and no personal data."""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Loket</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;
line-height:1.5}}a{{color:#1a5490}}li{{margin:.3rem 0}}</style></head>
<body>
<h1>Loket</h1>
<p>Dit is de telefoonassistent van {names}. Inwoners bellen het gewone nummer van de
gemeente. Deze pagina is voor medewerkers en beheerders.</p>
<ul>
{desk_nl}<li><a href="/health">Status van de server</a> (<code>/health</code>)</li>
</ul>
<p lang="en">This is Loket, the phone assistant of {names}. Residents call the
municipality's usual number; this page is for staff and operators.</p>
<ul lang="en">
{desk_en}<li><a href="/health">Server health</a> (<code>/health</code>)</li>
</ul>
</body>
</html>
"""


def home_page(municipalities: list[str], desk: bool) -> str:
    """The page's HTML for these municipality names."""
    names = escape(", ".join(municipalities) or "de gemeente")
    return PAGE.format(
        names=names,
        desk_nl='<li><a href="/desk">Medewerkersscherm</a>: doorverbindingen en '
                'terugbelverzoeken</li>\n' if desk else "",
        desk_en='<li><a href="/desk">Agent desk</a>: transfers and callback requests</li>\n'
                if desk else "",
    )


def install_home(app: FastAPI, municipalities: list[str], desk: bool) -> None:
    """GET / answers the page instead of a JSON 'Not Found'."""
    page = home_page(municipalities, desk)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home() -> HTMLResponse:
        return HTMLResponse(page)
