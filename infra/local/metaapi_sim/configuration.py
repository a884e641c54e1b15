"""Configuration links, MetaApi's password-less onboarding: the account's owner types the login and
password into MetaApi's page (here, the simulator's), so whoever created the draft never sees them."""

from __future__ import annotations

import html
from dataclasses import dataclass
from string import Template

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from infra.local.metaapi_sim.accounts import Account
from infra.local.metaapi_sim.errors import invalid
from infra.local.metaapi_sim.provisioning import REJECTED_PASSWORD

PATH = "/_sim/configure/"
DAY_SECONDS = 86400
DEFAULT_TTL_DAYS, MAX_TTL_DAYS = 7, 30

_PAGE = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body { font-family: system-ui, sans-serif; background: #f3f4f6; color: #1f2937; margin: 0; }
main { max-width: 26rem; margin: 4rem auto; padding: 2rem; background: #fff; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0, 0, 0, .12); }
h1 { font-size: 1.25rem; margin: 0 0 1rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { box-sizing: border-box; width: 100%; margin-top: .3rem; padding: .5rem; font: inherit;
        border: 1px solid #d1d5db; border-radius: 4px; }
button { width: 100%; margin-top: 1.5rem; padding: .6rem; font: inherit; color: #fff;
         background: #2563eb; border: 0; border-radius: 4px; cursor: pointer; }
.problem { padding: .6rem; color: #991b1b; background: #fee2e2; border-radius: 4px; }
</style></head>
<body><main>
<h1>$title</h1>
$content
</main></body></html>
""")
_FORM = Template("""$problem<p>Enter the login and password of your trading account.</p>
<form method="post" action="$action">
<label for="login">Login</label>
<input id="login" name="login" inputmode="numeric" autocomplete="username" required value="$login">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="server">Server</label>
<input id="server" name="server" required value="$server">
<button type="submit">Connect the account</button>
</form>""")


@dataclass(frozen=True)
class Link:
    account_id: str
    expires_at: float  # on the wall clock


class FormProblem(Exception):
    """What the page asks the account's owner to fix."""


def ttl_days(raw: str | None) -> int:
    """`ttlInDays`: a whole number of days, 1 to 30 (default 7)."""
    if raw is None:
        return DEFAULT_TTL_DAYS
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_TTL_DAYS):
        raise invalid(f"must be an integer from 1 to {MAX_TTL_DAYS}", parameter="ttlInDays", value=raw)
    return int(raw)


def read_form(form: MultiDict[str, str], account: Account) -> tuple[str, str]:
    """The login and server the broker took. The password is only checked, never kept."""
    login = form.get("login", "").strip()
    server = form.get("server", "").strip() or account.server
    if not login.isdigit():
        raise FormProblem("The login is the account number: digits only.")
    if not form.get("password"):
        raise FormProblem("Enter the account's password.")
    if not server:
        raise FormProblem("Enter the name of the broker's server.")
    if form["password"] == REJECTED_PASSWORD:
        raise FormProblem("The broker refused this login and password.")
    return login, server


def form_page(
    account: Account, link_token: str, typed: MultiDict[str, str] | None = None, problem: str | None = None
) -> Response:
    """The form; after a refused submission, with what was typed (but the password) and the problem."""
    typed = typed or MultiDict()
    content = _FORM.substitute(
        problem="" if problem is None else f'<p class="problem" role="alert">{html.escape(problem)}</p>\n',
        action=html.escape(PATH + link_token),
        login=html.escape(typed.get("login", "")),
        server=html.escape(typed.get("server") or account.server or ""),
    )
    return _page(
        f"Connect {account.name} ({account.platform.upper()})", content, 200 if problem is None else 400
    )


def submit(account: Account, link_token: str, form: MultiDict[str, str]) -> Response:
    try:
        login, server = read_form(form, account)
    except FormProblem as refused:
        return form_page(account, link_token, form, str(refused))
    account.configure(login, server)
    return _page(
        f"{account.name} is configured",
        "<p>Your account is configured. You can close this page and go back to the application.</p>",
    )


def invalid_link_page() -> Response:
    return _page(
        "Link not valid",
        "<p>This configuration link is not valid or has expired. Ask for a new one.</p>",
        404,
    )


def _page(title: str, content: str, status: int = 200) -> Response:
    return Response(
        _PAGE.substitute(title=html.escape(title), content=content),
        status=status,
        content_type="text/html; charset=utf-8",
    )
