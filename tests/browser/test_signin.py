"""Sign-in in a real browser: a team of three added with `trueup user add ... --password-stdin`
signs in, each sees the pages their role may use (Settings only for the admin), and signs out.
The test keeps a screenshot of the sign-in page (`signin.png` in its temporary folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import serve
from tests.browser.steps import idle

pytestmark = pytest.mark.browser

TEAM = {"dana": "admin", "pat": "approver", "vic": "viewer"}


def password(name: str) -> str:
    return f"{name} has a long password"


@pytest.fixture(scope="module")
def team_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Give back the address of the app, served on a store of its own holding the team."""
    folder = tmp_path_factory.mktemp("signin")
    url = f"sqlite:///{folder / 'trueup.db'}"
    trueup = Path(sys.executable).with_name("trueup")
    for name, role in TEAM.items():
        subprocess.run(
            [str(trueup), "user", "add", name, "--role", role, "--password-stdin"],
            input=password(name) + "\n",
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=True,
        )
    with serve(folder, url) as app:
        yield app


def nav(page: Any) -> list[str]:
    """Give back the names of the pages the top navigation offers, once it shows."""
    links = page.get_by_test_id("stTopNavLink")
    links.first.wait_for(timeout=60_000)
    return [
        text.split()[-1] if " " not in text.strip() else text.strip().splitlines()[-1].strip()
        for text in links.all_inner_texts()
    ]


def sign_in(page: Any, name: str, secret: str) -> None:
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill(secret)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_each_role_signs_in_sees_its_pages_and_signs_out(
    browser: Any, team_app: str, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{team_app}/settings")  # an address asked for before signing in: not served
    page.get_by_role("heading", name="Sign in to TrueUp").wait_for(timeout=60_000)
    idle(page)
    assert page.get_by_test_id("stTopNavLink").count() == 0
    assert not page.get_by_role("heading", name="Settings").count()
    page.screenshot(path=tmp_path / "signin.png", full_page=True)

    sign_in(page, "vic", "not vic's password")
    page.get_by_text("That username and password do not match an account.").wait_for()
    assert page.get_by_test_id("stTopNavLink").count() == 0

    # dana asked for Settings' address and lands there; pat and vic sign in on that address
    # too, and are given Home: the address does not reach Settings for them
    for name, role in TEAM.items():
        sign_in(page, name, password(name))
        pages = nav(page)
        idle(page)
        assert ("Settings" in pages) is (role == "admin"), pages
        assert {"Home", "Cards", "Audit"} <= set(pages)
        landed = "Settings" if role == "admin" else "Home"
        assert page.get_by_role("heading", name=landed, exact=True).is_visible()
        page.get_by_role("button", name=name).click()
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in to TrueUp").wait_for(timeout=60_000)
        idle(page)
        assert page.get_by_test_id("stTopNavLink").count() == 0
    page.close()


def test_a_browser_stays_signed_in_through_a_reload_until_it_signs_out(
    browser: Any, team_app: str
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(team_app)
    page.get_by_role("heading", name="Sign in to TrueUp").wait_for(timeout=60_000)
    sign_in(page, "pat", password("pat"))
    nav(page)
    idle(page)

    page.reload()  # a new session of the app: the cookie signs pat in again
    assert "Cards" in nav(page)
    assert page.get_by_role("button", name="pat").is_visible()
    other = context.new_page()  # a new tab too
    other.goto(f"{team_app}/cards")
    other.get_by_role("heading", name="Cards", exact=True).wait_for(timeout=60_000)
    other.close()

    idle(page)
    page.get_by_role("button", name="pat").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to TrueUp").wait_for(timeout=60_000)
    idle(page)
    page.reload()  # signed out: the cookie is gone
    page.get_by_role("heading", name="Sign in to TrueUp").wait_for(timeout=60_000)
    assert page.get_by_test_id("stTopNavLink").count() == 0
    context.close()
