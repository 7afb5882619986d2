import math

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from telephony.app import create_app
from telephony.metrics import LATENCY_BUCKETS, OUTCOMES, Metrics, install_metrics
from telephony.settings import Settings


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = metrics.render()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples}


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    return _samples(metrics)[(name, tuple(sorted(labels.items())))]


def test_fresh_metrics_show_every_outcome_at_zero():
    m = Metrics()
    assert _value(m, "loket_active_calls") == 0
    for outcome in OUTCOMES:
        assert _value(m, "loket_calls_total", outcome=outcome) == 0
    assert _value(m, "loket_transfers_total", reason="asked") == 0
    assert _value(m, "loket_turn_latency_seconds_count") == 0
    assert _value(m, "loket_recognition_failures_total") == 0


def test_recognition_failures_are_counted():
    m = Metrics()
    m.recognition_failed()
    m.recognition_failed(2)
    m.recognition_failed(0)
    assert _value(m, "loket_recognition_failures_total") == 3
    with pytest.raises(ValueError):
        m.recognition_failed(-1)


def test_calls_and_transfers_are_counted():
    m = Metrics()
    for _ in range(3):
        m.call_started()
    assert _value(m, "loket_active_calls") == 3
    m.call_ended("contained")
    m.transfer("asked")
    m.call_ended("transferred")
    assert _value(m, "loket_active_calls") == 1
    m.call_ended("contained")
    m.call_ended("abandoned")  # a stray end never drives the gauge below 0
    assert _value(m, "loket_active_calls") == 0
    assert _value(m, "loket_calls_total", outcome="contained") == 2
    assert _value(m, "loket_calls_total", outcome="transferred") == 1
    assert _value(m, "loket_calls_total", outcome="abandoned") == 1
    assert _value(m, "loket_transfers_total", reason="asked") == 1
    assert _value(m, "loket_transfers_total", reason="sensitive") == 0


def test_unknown_transfer_reason_never_becomes_a_label():
    m = Metrics()
    m.transfer("beller 06 12345678 wil iemand")
    assert _value(m, "loket_transfers_total", reason="other") == 1
    assert b"12345678" not in m.render()[0]


def test_histograms():
    m = Metrics()
    m.greeting(0.4)
    m.turn(0.25, 0.12)
    m.turn(2.5, None)
    m.turn(None, 0.8)
    assert _value(m, "loket_greeting_seconds_count") == 1
    assert _value(m, "loket_turn_latency_seconds_count") == 2
    assert math.isclose(_value(m, "loket_turn_latency_seconds_sum"), 2.75)
    assert _value(m, "loket_turn_latency_seconds_bucket", le="0.3") == 1
    assert _value(m, "loket_turn_latency_seconds_bucket", le="3.0") == 2
    assert _value(m, "loket_recognition_seconds_count") == 2
    assert _value(m, "loket_recognition_seconds_bucket", le="0.1") == 0
    assert _value(m, "loket_recognition_seconds_bucket", le="0.2") == 1
    text = m.render()[0].decode()
    assert 'loket_turn_latency_seconds_bucket{le="5.0"} 2.0' in text
    buckets = {k[1][0][1] for k in _samples(m) if k[0] == "loket_turn_latency_seconds_bucket"}
    assert buckets == {str(float(b)) for b in LATENCY_BUCKETS} | {"+Inf"}


@pytest.mark.parametrize("call", [
    lambda m: m.call_ended("gelukt"),
    lambda m: m.turn(-0.1, None),
    lambda m: m.turn(None, float("nan")),
    lambda m: m.greeting(float("inf")),
])
def test_bad_values_are_refused(call):
    with pytest.raises(ValueError):
        call(Metrics())


def test_two_instances_are_independent():
    a, b = Metrics(), Metrics()
    a.call_started()
    a.call_ended("error")
    assert _value(a, "loket_calls_total", outcome="error") == 1
    assert _value(b, "loket_calls_total", outcome="error") == 0
    assert _value(b, "loket_active_calls") == 0


def test_metrics_route(content):
    metrics = Metrics()
    app = create_app(Settings(validate_signature=False), content)
    install_metrics(app, metrics)
    metrics.call_started()
    metrics.turn(0.6, 0.3)
    with TestClient(app) as client:
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "loket_active_calls 1.0" in response.text
        assert 'loket_turn_latency_seconds_bucket{le="0.75"} 1.0' in response.text
        assert client.post("/metrics").status_code == 405
        assert client.get("/health").status_code == 200
    assert app.state.metrics is metrics


def test_two_apps_in_one_process(content):
    apps = []
    for _ in range(2):
        metrics = Metrics()
        app = create_app(Settings(validate_signature=False), content)
        install_metrics(app, metrics)
        apps.append((app, metrics))
    apps[0][1].call_started()
    first, second = (TestClient(app).get("/metrics").text for app, _ in apps)
    assert "loket_active_calls 1.0" in first
    assert "loket_active_calls 0.0" in second
