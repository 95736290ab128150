"""Request ids and the structured request log (deals/request_log.py), and server errors on stderr with tracebacks."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.urls import path

from deals.request_log import JsonFormatter, RequestIdFilter


def _boom(request):
    raise RuntimeError("the test view failed")


urlpatterns = [path("boom/", _boom)]


@pytest.fixture
def json_records():
    """Log records as the stderr handler formats them (the JSON formatter with the request id filter)."""
    lines: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(self.format(record)))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


@pytest.mark.django_db
def test_every_response_gets_a_new_request_id(client):
    first, second = client.get("/api/v1/"), client.get("/api/v1/deals/?nonsense=1")
    for response in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert client.get("/admin/login/").has_header("X-Request-ID")


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["abc", "7f3e-41c2_9.a:b+c=d/e", "x" * 128])
def test_a_valid_incoming_request_id_is_reused(client, incoming):
    assert client.get("/api/v1/", headers={"X-Request-ID": incoming})["X-Request-ID"] == incoming


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["", "x" * 129, "has space", 'quote"', "new\nline", "caf\u00e9", "a;b"])
def test_an_invalid_incoming_request_id_is_replaced(client, incoming):
    answered = client.get("/api/v1/", headers={"X-Request-ID": incoming})["X-Request-ID"]
    assert answered != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", answered)


@pytest.mark.django_db
def test_each_request_is_one_structured_line(client, json_records):
    response = client.get("/api/v1/deals/?page_size=2", headers={"X-Request-ID": "log-test-1"})
    lines = [line for line in json_records if line["logger"] == "reexapi.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "log-test-1" == response["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/deals/", 200)
    assert line["queries"] >= 2  # the version row, the count, the page…
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["level"] == "INFO" and line["time"].endswith("Z")


@pytest.mark.django_db
def test_a_server_error_is_logged_with_its_traceback_and_request_id(client, json_records, settings):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    response = client.get("/boom/", headers={"X-Request-ID": "log-test-2"})
    assert response.status_code == 500
    assert response["X-Request-ID"] == "log-test-2"
    errors = [line for line in json_records if line["level"] == "ERROR"]
    assert len(errors) == 1
    error = errors[0]
    assert error["logger"] == "django.request" and error["request_id"] == "log-test-2"
    assert "RuntimeError: the test view failed" in error["traceback"]
    assert "Traceback (most recent call last)" in error["traceback"]
    request_line = next(line for line in json_records if line["logger"] == "reexapi.request")
    assert request_line["status"] == 500 and request_line["request_id"] == "log-test-2"


def test_logging_sends_everything_to_stderr(settings):
    handler = settings.LOGGING["handlers"]["stderr"]
    assert handler["stream"] == "ext://sys.stderr"
    assert settings.LOGGING["root"]["handlers"] == ["stderr"]
    assert settings.LOGGING["loggers"]["django.request"]["level"] == "ERROR"
