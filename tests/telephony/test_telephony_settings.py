import pytest

from telephony.errors import TelephonyError
from telephony.settings import Settings


def test_defaults():
    s = Settings.from_env({})
    assert s == Settings()
    assert s.public_url is None and s.twilio_auth_token is None
    assert s.validate_signature is True
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.database_url is None
    assert (s.retention_days, s.max_call_seconds, s.silence_reprompt_s) == (30, 600, 6.0)


def test_values_from_env():
    s = Settings.from_env({
        "LOKET_PUBLIC_URL": "https://loket.example.nl/",
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "geheim",
        "LOKET_HOST": "0.0.0.0",
        "LOKET_PORT": "9000",
        "LOKET_DATABASE_URL": "sqlite:///calls.db",
        "LOKET_RETENTION_DAYS": "7",
        "LOKET_MAX_CALL_SECONDS": "300",
        "LOKET_SILENCE_REPROMPT_S": "4.5",
    })
    assert s.public_url == "https://loket.example.nl"
    assert (s.twilio_account_sid, s.twilio_auth_token) == ("AC123", "geheim")
    assert (s.host, s.port, s.database_url) == ("0.0.0.0", 9000, "sqlite:///calls.db")
    assert (s.retention_days, s.max_call_seconds, s.silence_reprompt_s) == (7, 300, 4.5)


def test_from_process_environment(monkeypatch):
    monkeypatch.setenv("LOKET_PORT", "8181")
    assert Settings.from_env().port == 8181


@pytest.mark.parametrize(("value", "on"), [
    ("0", False), ("false", False), ("FALSE", False), (" False ", False),
    ("1", True), ("true", True), ("no", True), ("off", True), ("", True),
])
def test_only_an_explicit_false_turns_signature_checking_off(value, on):
    assert Settings.from_env({"LOKET_VALIDATE_SIGNATURE": value}).validate_signature is on


@pytest.mark.parametrize(("name", "value"), [
    ("LOKET_PORT", "acht"), ("LOKET_PORT", "70000"), ("LOKET_PORT", "0"),
    ("LOKET_RETENTION_DAYS", "1.5"), ("LOKET_MAX_CALL_SECONDS", "-1"),
    ("LOKET_SILENCE_REPROMPT_S", "kort"),
    ("LOKET_PUBLIC_URL", "loket.example.nl"), ("LOKET_PUBLIC_URL", "ftp://loket.example.nl"),
    ("LOKET_PUBLIC_URL", "https://loket.example.nl/?a=1"),
])
def test_bad_values_are_reported(name, value):
    with pytest.raises(TelephonyError, match=name):
        Settings.from_env({name: value})


def test_settings_are_frozen_and_hide_secrets():
    s = Settings.from_env({"TWILIO_AUTH_TOKEN": "geheim",
                           "LOKET_DATABASE_URL": "postgresql://u:wachtwoord@db/loket"})
    assert "geheim" not in repr(s) and "wachtwoord" not in repr(s)
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_end_silence():
    assert Settings.from_env({}).end_silence_ms == 600
    assert Settings.from_env({"LOKET_END_SILENCE_MS": "450"}).end_silence_ms == 450
    for bad in ("100", "5000", "snel"):
        with pytest.raises(TelephonyError, match="LOKET_END_SILENCE_MS"):
            Settings.from_env({"LOKET_END_SILENCE_MS": bad})


def test_twilio_api_url():
    assert Settings.from_env({}).twilio_api_url is None
    s = Settings.from_env({"LOKET_TWILIO_API_URL": " http://127.0.0.1:8099/ "})
    assert s.twilio_api_url == "http://127.0.0.1:8099"
    assert Settings.from_env({"LOKET_TWILIO_API_URL": "https://api.twilio.com"}).twilio_api_url \
        == "https://api.twilio.com"


@pytest.mark.parametrize("value", ["127.0.0.1:8099", "ftp://api.twilio.com",
                                   "https://api.twilio.com/2010-04-01", "https://x?y=1"])
def test_bad_twilio_api_url(value):
    with pytest.raises(TelephonyError, match="LOKET_TWILIO_API_URL"):
        Settings.from_env({"LOKET_TWILIO_API_URL": value})


def test_early_end_switch():
    assert Settings.from_env({}).early_end
    assert not Settings.from_env({"LOKET_EARLY_END": "0"}).early_end
    assert not Settings.from_env({"LOKET_EARLY_END": "False"}).early_end
    assert Settings.from_env({"LOKET_EARLY_END": "1"}).early_end


def test_trusted_proxies():
    assert Settings.from_env({}).trusted_proxies == ("127.0.0.1", "::1")
    assert Settings.from_env({"LOKET_TRUSTED_PROXIES": "none"}).trusted_proxies == ()
    s = Settings.from_env({"LOKET_TRUSTED_PROXIES": " 10.0.0.5 , 192.168.1.0/24,fd00::1 "})
    assert s.trusted_proxies == ("10.0.0.5", "192.168.1.0/24", "fd00::1")


@pytest.mark.parametrize("value", ["proxy.example.nl", "10.0.0.5,,10.0.0.6", "10.0.0.0/33"])
def test_bad_trusted_proxies(value):
    with pytest.raises(TelephonyError, match="LOKET_TRUSTED_PROXIES"):
        Settings.from_env({"LOKET_TRUSTED_PROXIES": value})
