import logging

from desk_helpers import CALLER, PASSWORD, add_handover, csrf_of, login

from telephony.desk import auth, throttle
from telephony.desk.routes import COOKIE, LOGIN_COOKIE


def _page_csrf(client) -> str:
    page = client.get("/desk")
    assert page.status_code == 200
    return csrf_of(page.text)


def test_desk_needs_login(client):
    response = client.get("/desk")
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/login"
    assert client.get("/desk/handovers").status_code == 401
    assert client.get("/desk/events").status_code == 401


def test_login_page_is_dutch_with_secure_headers(client):
    page = client.get("/desk/login")
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text and "Wachtwoord" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"]
    assert LOGIN_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie


def test_login_sets_session_cookie_and_shows_handovers(client, store):
    call_id = "CA" + "1" * 32
    hid = add_handover(store, call_id=call_id)
    other = add_handover(store, "voorbeeldrijk", summary="Niet voor Anna.")
    response = login(client)
    assert response.status_code == 303 and response.headers["location"] == "/desk"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/desk" in cookie
    page = client.get("/desk")
    assert page.status_code == 200
    assert f'id="overdracht-{hid}"' in page.text and f"overdracht-{other}" not in page.text
    assert CALLER in page.text and "Jan de Vries" in page.text
    assert "10:14:05" in page.text and "+0:05" in page.text  # transcript timings
    assert "Demodam" in page.text and "Afgehandeld" in page.text
    assert page.headers["cache-control"] == "no-store"
    data = client.get("/desk/handovers").json()["handovers"]
    assert [h["id"] for h in data] == [hid]
    assert data[0]["caller"] == CALLER and data[0]["transcript"][0]["at"]


def test_secure_cookies_when_asked(content, store, hub):
    from fastapi.testclient import TestClient

    from telephony.app import create_app
    from telephony.desk import install_desk
    from telephony.settings import Settings

    app = create_app(Settings(validate_signature=False, public_url="https://loket.example.nl"),
                     content)
    install_desk(app, store, hub)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = login(client)
        assert response.status_code == 303
        cookie = next(c for c in response.headers.get_list("set-cookie")
                      if c.startswith(COOKIE))
        assert "Secure" in cookie


def test_html_is_escaped(client, store):
    add_handover(store, summary='<script>alert("x")</script>')
    login(client)
    page = client.get("/desk").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_wrong_password_unknown_user_and_empty_form(client, caplog):
    caplog.set_level(logging.INFO)
    response = login(client, password="verkeerd-wachtwoord")
    assert response.status_code == 401
    assert "klopt niet" in response.text
    assert login(client, username="niemand").status_code == 401
    page = client.get("/desk/login")
    empty = client.post("/desk/login", data={"csrf": csrf_of(page.text), "username": "anna"})
    assert empty.status_code == 400 and "Vul uw gebruikersnaam" in empty.text
    assert client.get("/desk").status_code == 303
    assert "niemand" not in caplog.text and "verkeerd" not in caplog.text


def test_login_without_or_with_forged_csrf(client):
    client.get("/desk/login")
    data = {"username": "anna", "password": PASSWORD}
    assert client.post("/desk/login", data=data).status_code == 403
    forged = client.post("/desk/login", data={**data, "csrf": "vervalst"})
    assert forged.status_code == 403 and "verlopen" in forged.text
    assert client.get("/desk").status_code == 303


def test_bad_form_posts(client):
    page = client.get("/desk/login")
    token = csrf_of(page.text)
    assert client.post("/desk/login").status_code == 403  # no token at all
    files = {"username": ("a.txt", b"anna")}
    assert client.post("/desk/login", data={"csrf": token}, files=files).status_code == 400
    big = client.post("/desk/login", data={"csrf": token, "username": "x" * 20_000})
    assert big.status_code == 400
    garbage = client.post("/desk/login", content=b"\xff\xfe=\x00",
                          headers={"content-type": "multipart/form-data; boundary=zz"})
    assert garbage.status_code == 400
    assert "Traceback" not in garbage.text


def test_login_is_throttled(client, monkeypatch):
    for _ in range(throttle.FREE_FAILS):
        assert login(client, password="nog-steeds-fout").status_code == 401
    blocked = login(client)  # even the right password waits now, from this address
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "te vaak" in blocked.text
    assert login(client, username="bert").status_code == 401  # another name may try


def test_mark_handled(client, store, hub):
    hid = add_handover(store)
    login(client)
    token = _page_csrf(client)
    response = client.post(f"/desk/handovers/{hid}/handled", data={"csrf": token})
    assert response.status_code == 303 and response.headers["location"] == "/desk"
    row = store.handover(hid)
    assert row.status == "handled" and row.handled_by == "anna"
    assert f"overdracht-{hid}" not in client.get("/desk").text
    again = client.post(f"/desk/handovers/{hid}/handled", headers={"X-CSRF-Token": token,
                        "Accept": "application/json"}, data={"x": "1"})
    assert again.status_code == 200
    assert again.json() == {"id": hid, "status": "handled", "handled_by": "anna"}


def test_mark_handled_needs_csrf(client, store):
    hid = add_handover(store)
    login(client)
    assert client.post(f"/desk/handovers/{hid}/handled", data={"x": "1"}).status_code == 403
    forged = client.post(f"/desk/handovers/{hid}/handled", data={"csrf": "nep"},
                         headers={"Accept": "application/json"})
    assert forged.status_code == 403 and "verlopen" in forged.json()["error"]
    assert store.handover(hid).status == "open"


def test_other_municipality_and_unknown_ids(client, store):
    other = add_handover(store, "voorbeeldrijk")
    login(client)
    token = _page_csrf(client)
    for hid in (str(other), "999999", "abc", "-1", "1" * 40):
        response = client.post(f"/desk/handovers/{hid}/handled", data={"csrf": token})
        assert response.status_code == 404, hid
        assert "bestaat niet" in response.text
    assert store.handover(other).status == "open"


def test_handled_without_login(client, store):
    hid = add_handover(store)
    response = client.post(f"/desk/handovers/{hid}/handled", data={"csrf": "x"})
    assert response.status_code == 401 and "niet ingelogd" in response.text


def test_logout(client):
    login(client)
    token = _page_csrf(client)
    assert client.post("/desk/logout", data={"csrf": "fout"}).status_code == 403
    response = client.post("/desk/logout", data={"csrf": token})
    assert response.status_code == 303 and response.headers["location"].startswith("/desk/login")
    assert client.get("/desk").status_code == 303
    assert "uitgelogd" in client.get("/desk/login?uit").text


def test_old_cookie_is_dead_after_logout(client, app):
    login(client)
    cookie = client.cookies.get(COOKIE)
    client.post("/desk/logout", data={"csrf": _page_csrf(client)})
    client.cookies.set(COOKIE, cookie, path="/desk")
    assert client.get("/desk").status_code == 303
    assert len(app.state.desk.sessions) == 0


def test_password_change_and_removal_end_sessions(client, store):
    login(client)
    assert client.get("/desk").status_code == 200
    store.update_agent("anna", password="een-nieuw-wachtwoord")
    assert client.get("/desk").status_code == 303
    login(client, password="een-nieuw-wachtwoord")
    assert client.get("/desk").status_code == 200
    store.remove_agent("anna")
    assert client.get("/desk").status_code == 303


def test_session_expires(client, monkeypatch):
    login(client)
    assert client.get("/desk").status_code == 200
    monkeypatch.setattr(auth, "IDLE_S", -1)
    assert client.get("/desk").status_code == 303


def test_static_files(client):
    js = client.get("/desk/static/desk.js")
    assert js.status_code == 200 and "EventSource" in js.text
    assert js.headers["content-type"].startswith("text/javascript")
    css = client.get("/desk/static/desk.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_no_personal_data_in_logs(client, store, caplog):
    caplog.set_level(logging.DEBUG)
    hid = add_handover(store, call_id="CA" + "2" * 32, summary="Geheime samenvatting")
    login(client)
    client.get("/desk")
    client.post(f"/desk/handovers/{hid}/handled", data={"csrf": _page_csrf(client)})
    assert f"handover {hid}" in caplog.text
    for secret in (CALLER, "Geheime samenvatting", "Jan de Vries", "paspoort."):
        assert secret not in caplog.text
