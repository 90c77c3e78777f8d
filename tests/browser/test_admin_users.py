"""An admin in a real browser: creates a user (field errors first), resets a password, creates a token whose secret
is shown once, revokes it; at 1440, 1400 and 390 px."""
from __future__ import annotations

import re

from tests.browser.conftest import shot

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_admin_manages_users_and_tokens_from_the_browser(page, phone_page, live_server):
    page.goto(live_server + "/admin/users")
    page.locator("#new-user").click()
    page.wait_for_url(live_server + "/admin/users/new")
    page.get_by_label("Username").fill("Bad Name")
    page.locator("label[for='mode-1']").click()  # "type one"
    page.get_by_label("New password").fill("short")
    page.get_by_label("Repeat the password").fill("other")
    page.allow_console_error(r"status of 400")  # the re-rendered form answers 400
    page.locator("#submit-admin-form").click()
    page.wait_for_load_state()
    assert "lowercase letters" in page.locator("#username-error").inner_text()
    assert "12 to 256" in page.locator("#password-error").inner_text()
    assert page.locator("#form-errors").is_visible()
    shot(page, "admin-new-user-errors")

    page.get_by_label("Username").fill("browser-trader")
    page.select_option("#role", "trader")
    page.locator("label[for='mode-0']").click()  # "generate one"
    page.locator("#submit-admin-form").click()
    page.wait_for_url(live_server + "/admin/users")
    assert "Created the trader browser-trader" in page.locator(".alert-success").inner_text()
    password = page.locator("#once-secret").input_value()
    assert len(password) >= 12 and "Password of browser-trader" in page.locator("#shown-once").inner_text()
    shot(page, "admin-users-password-once")
    page.reload()
    assert page.locator("#shown-once").count() == 0  # shown exactly once

    page.get_by_role("link", name="New API token for browser-trader").click()
    page.get_by_label("Label").fill("browser-bot")
    page.locator("#submit-admin-form").click()
    page.wait_for_url(live_server + "/admin/users")
    secret = page.locator("#once-secret").input_value()
    assert secret.startswith("olr_")
    assert page.request.get(live_server + "/api/v1/trades?limit=1",
                            headers={"Authorization": f"Bearer {secret}"}).status == 200
    row = page.locator("#tokens-table tbody tr", has_text="browser-bot")
    token_id = row.get_attribute("data-token-id")
    page.set_viewport_size({"width": 1400, "height": 900})
    shot(page, "admin-users-token-once-1400")

    row.get_by_role("link", name=f"Revoke token {token_id}").click()
    page.wait_for_url(re.compile(rf".*/admin/tokens/{token_id}/revoke"))
    shot(page, "admin-token-revoke-confirm")
    page.get_by_role("button", name="Revoke token").click()
    page.wait_for_url(live_server + "/admin/users")
    assert "Revoked token" in page.locator(".alert-success").inner_text()
    assert "revoked" in page.locator(f"#tokens-table tr[data-token-id='{token_id}']").inner_text()
    assert page.request.get(live_server + "/api/v1/trades?limit=1",
                            headers={"Authorization": f"Bearer {secret}"}).status == 401

    page.get_by_role("link", name="Reset the password of browser-trader").click()
    page.locator("#submit-admin-form").click()  # "generate one" is preselected
    page.wait_for_url(live_server + "/admin/users")
    assert page.locator("#once-secret").input_value() not in ("", password)

    page.goto(live_server + "/admin/audit")
    audit = page.locator("main").inner_text()
    assert "token.revoke" in audit and "user.set_password" in audit and secret not in audit

    for path in ("/admin/users", "/admin/users/new", f"/admin/tokens/{token_id}/revoke"):
        phone_page.goto(live_server + path)
        assert phone_page.evaluate(NO_SIDEWAYS_SCROLL), f"{path} scrolls sideways at 390 px"
        if path.endswith("/new"):
            shot(phone_page, "admin-new-user-phone")
    phone_page.goto(live_server + "/admin/users")
