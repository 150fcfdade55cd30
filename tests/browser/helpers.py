"""What several browser tests do: sign a member in through the real sign-in page."""

import re

from playwright.sync_api import Page

PASSWORD = "a long and unusual passphrase 42"


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label(re.compile("Username or e-?mail", re.I)).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name=re.compile("^(Sign in|Log in)$", re.I)).click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))
