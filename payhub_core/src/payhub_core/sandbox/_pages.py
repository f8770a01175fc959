"""HTML the emulators show: a hosted checkout page, and the auto-submitting return form.

Conventions the demo's scripted browser and the Playwright tests rely on: the checkout page
has one ``<form method="post">`` with three submit buttons named ``decision`` whose values
are ``approve``, ``decline`` and ``cancel`` and whose labels are Approve, Decline and
Cancel; the return page has one ``<form id="payhub-return">`` submitted by script on load.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

__all__ = ["autosubmit_page", "checkout_page"]

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;padding:40px}
main{max-width:420px;margin:auto;background:#fff;border-radius:12px;padding:28px;
box-shadow:0 2px 12px #0002}h1{font-size:20px;margin:0 0 4px}.amount{font-size:32px;
font-weight:600;margin:16px 0}dl{display:grid;grid-template-columns:auto 1fr;gap:6px 14px}
dt{color:#666}button{font-size:16px;padding:10px 18px;margin:16px 8px 0 0;border-radius:8px;
border:1px solid #ccc;cursor:pointer}button[value=approve]{background:#1a7f37;color:#fff}
button[value=decline]{background:#cf222e;color:#fff}.note{color:#888;font-size:12px;margin-top:20px}
"""


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in fields.items()
    )


def checkout_page(
    *,
    gateway: str,
    merchant: str,
    amount: str,
    invoice: str,
    action_url: str,
    hidden: Mapping[str, str] | None = None,
    details: Mapping[str, str] | None = None,
) -> str:
    """The hosted checkout page of an emulator."""
    rows = "".join(
        f"<dt>{escape(key)}</dt><dd>{escape(value)}</dd>"
        for key, value in {"Merchant": merchant, "Invoice": invoice, **(details or {})}.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(gateway)} sandbox checkout</title>
<style>{_STYLE}</style></head><body><main>
<h1>{escape(gateway)} <small>sandbox</small></h1>
<div class="amount" id="amount">{escape(amount)}</div>
<dl>{rows}</dl>
<form method="post" action="{escape(action_url)}">{_hidden(hidden or {})}
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="decline">Decline</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>
<p class="note">payhub sandbox: no real money moves.</p>
</main></body></html>"""


def autosubmit_page(*, action_url: str, fields: Mapping[str, str]) -> str:
    """A page that POSTs ``fields`` to ``action_url`` as a form as soon as it loads."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Returning to the merchant</title></head>
<body onload="document.getElementById('payhub-return').submit()">
<form id="payhub-return" method="post" action="{escape(action_url)}">{_hidden(fields)}
<noscript><button type="submit">Continue</button></noscript></form>
</body></html>"""
