"""Content-Security-Policy: our origin only; no inline script or style in our templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import World, mfa_login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EMAIL_ONLY = {"insights/email"}  # mail clients, not browsers under our CSP


@pytest.mark.django_db
def test_every_page_gets_a_strict_policy(world: World) -> None:
    response = mfa_login(Client(), world.users["household_owner"]).get(
        f"/households/{world.household.pk}/"
    )
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    login = Client().get("/login/")
    assert "default-src 'self'" in login["Content-Security-Policy"]


def test_no_template_has_inline_script_style_or_handlers() -> None:
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if any(str(path.relative_to(TEMPLATES)).startswith(p) for p in EMAIL_ONLY):
            continue
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or "<style" in text:
            offenders.append(f"{path}: inline script or style")
        if re.search(r"\sstyle=\"|\son[a-z]+=\"", text):
            offenders.append(f"{path}: style or event handler attribute")
    assert offenders == []


@pytest.mark.django_db
def test_the_api_docs_load_their_script_from_a_file(world: World) -> None:
    client = mfa_login(Client(), world.users["household_owner"])
    page = client.get("/api/docs/")
    text = page.content.decode()
    assert page.status_code == 200 and "<script>" not in text
    assert "script-src 'self'" in page["Content-Security-Policy"]
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
