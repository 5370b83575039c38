"""The sandbox's device-login page (`/devicelogin`): where a person enters the code a client showed, picks one of
the tenant's accounts and approves or declines. Plain HTML forms, no JavaScript, labelled controls; every page
says it is the wi-wizard sandbox, so nobody mistakes it for Microsoft's sign-in."""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from wizard.sandbox import directory
from wizard.sandbox.entra import device_code, errors, forms
from wizard.sandbox.world import World

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f3f2f1;color:#1b1b1b;line-height:1.5}
main{max-width:30rem;margin:3rem auto;background:#fff;padding:2rem;border:1px solid #ccc}
.banner{background:#fff4ce;border-left:4px solid #8a6d00;padding:.5rem 1rem;margin:0 0 1.5rem}
.error{background:#fde7e9;border-left:4px solid #a4262c;padding:.5rem 1rem}
label,legend{font-weight:600}
input[type=text]{font-size:1.2rem;letter-spacing:.1em;padding:.4rem;width:100%;box-sizing:border-box}
fieldset{border:0;padding:0;margin:1rem 0}
.account{margin:.3rem 0}
button{font-size:1rem;padding:.5rem 1.2rem;margin:1rem .5rem 0 0}
:focus{outline:3px solid #005fb8;outline-offset:2px}
"""
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
NOT_USABLE = {
    "expired": "That code has expired. Go back to your application or device and start signing in again.",
    "declined": "That sign-in request was declined. Go back to your application or device and start again.",
    "approved": "That code has already been used.",
    "redeemed": "That code has already been used.",
}


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} – wi-wizard sandbox</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        '<p class="banner" role="note"><strong>wi-wizard sandbox.</strong> This is a local emulation of Microsoft '
        "Entra ID for trying out the wizard, not Microsoft's sign-in page. No real account or password is used "
        "and nothing leaves this computer.</p>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )
    return web.Response(status=status, text=html, content_type="text/html", charset="utf-8", headers=HEADERS)


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>\n' if message else ""


def _code_form(code: str = "", error: str | None = None, status: int = 200) -> web.Response:
    return _page("Enter code", (
        f"{_error(error)}<p>Enter the code shown by your application or device to allow it to sign in.</p>\n"
        '<form method="get" action="/devicelogin">\n<label for="code">Code</label>\n'
        f'<input type="text" id="code" name="code" value="{escape(code)}" required autocomplete="off" '
        'autocapitalize="characters" spellcheck="false" autofocus>\n'
        "<button type=\"submit\">Next</button>\n</form>"
    ), status)


def _where(world: World, record: device_code.Record) -> str:
    if record["tenant_id"] is None:
        return "your organization"
    tenant = directory.tenant(world, record["tenant_id"])
    return "the directory you chose" if tenant is None else f"{tenant['display_name']} ({tenant['domain']})"


def _account_form(world: World, record: device_code.Record, accounts: list[dict[str, Any]],
                  error: str | None = None, status: int = 200) -> web.Response:
    choices = "\n".join(
        f'<div class="account"><input type="radio" id="account-{i}" name="username" '
        f'value="{escape(a["username"])}"{" checked" if i == 0 else ""}>'
        f'<label for="account-{i}">{escape(a["display_name"])} ({escape(a["username"])})</label></div>'
        for i, a in enumerate(accounts)
    )
    return _page("Pick an account", (
        f"{_error(error)}<p><strong>{escape(record['client_name'])}</strong> is asking to sign in to "
        f"{escape(_where(world, record))} with code <strong>{escape(record['user_code'])}</strong>. Only continue "
        "if you started this sign-in yourself.</p>\n"
        '<form method="post" action="/devicelogin">\n'
        f'<input type="hidden" name="code" value="{escape(record["user_code"])}">\n'
        f"<fieldset>\n<legend>Sign in as</legend>\n{choices}\n</fieldset>\n"
        '<button type="submit" name="action" value="approve">Approve</button>\n'
        '<button type="submit" name="action" value="decline">Decline</button>\n</form>'
    ), status)


def _lookup(world: World, code: str) -> tuple[str, device_code.Record] | str:
    """The pending code, or why it cannot be used."""
    found = device_code.by_user_code(world, code)
    if found is None:
        return "That code was not recognized. Check it and try again."
    key, record = found
    current = device_code.state(world, key, record)
    return found if current == "pending" else NOT_USABLE[current]


async def show(world: World, request: web.Request) -> web.Response:
    code = request.query.get("code", "").strip()
    if not code:
        return _code_form()
    found = _lookup(world, code)
    if isinstance(found, str):
        return _code_form(code, found, 400)
    _, record = found
    return _account_form(world, record, device_code.accounts(world, record))


async def submit(world: World, request: web.Request) -> web.Response:
    try:
        form = await forms.read(request)
    except errors.EntraError:
        return _code_form(error="The form carried a field more than once; enter the code again.", status=400)
    code, username, action = (form.get(k, "").strip() for k in ("code", "username", "action"))
    if not code:
        return _code_form(error="Enter the code shown by your application or device.", status=400)
    found = _lookup(world, code)
    if isinstance(found, str):
        return _code_form(code, found, 400)
    key, record = found
    accounts = device_code.accounts(world, record)
    if action not in {"approve", "decline"}:
        return _account_form(world, record, accounts, "Choose Approve or Decline.", 400)
    if action == "decline":
        device_code.set_outcome(world, key, record, "declined", None)
        return _page("Sign-in declined", f"<p>You declined the sign-in to <strong>{escape(record['client_name'])}"
                                          "</strong>. You can close this window.</p>")
    account = next((a for a in accounts if a["username"].lower() == username.lower()), None)
    if account is None:
        return _account_form(world, record, accounts, "Pick one of the accounts listed.", 400)
    device_code.set_outcome(world, key, record, "approved", account["object_id"])
    return _page("Signed in", (
        f"<p>You have signed in to <strong>{escape(record['client_name'])}</strong> as "
        f"<strong>{escape(account['username'])}</strong>. You can close this window and go back to your "
        "application or device.</p>"
    ))
