"""The gallery console: a web page on the LAN for technicians, curators and the artist.

config.py   the [web] listen address and the roles (pure; the show schema imports it)
users.py    the users file under the show's storage: scrypt hashes, written atomically
commands.py `installation web user add|list|remove`
auth.py     sessions, CSRF, HTTP Basic, the sign-in rate limit
console.py  the input edge: a uvicorn server on its own thread, acting only via the inbox
pages.py    the HTML pages; api.py the JSON API and /metrics; archive_view.py the archive
Starlette, uvicorn, Jinja2 and prometheus-client are imported only when the console runs.
"""
