"""Several servers, one dataset: every write from any process is visible to the next request of every server.

Two gunicorn servers on different ports share one database (and, in the Redis case, one Redis). A write from a
``manage.py shell`` process and a write through one server's admin are each visible at once on both servers, which
agree on the ETags. This holds with the default settings (local-memory caches, no Redis) as well as with Redis:
the dataset version is a database row (deals/caching.py), not a per-process cache entry.
"""

from __future__ import annotations

import json
import re

import pytest
import redis
import requests

from tests.redis_dbs import redis_url
from tests.serving.servers import server_env, shell, start_gunicorn

REDIS_URL = redis_url(14)  # this module's own Redis database
# Behind one proxy every server sees the same public host; links in bodies (and so ETags) are built from it.
HOST = {"Host": "localhost"}


@pytest.fixture(scope="module", params=["local-memory", "redis"])
def two_servers(request, served_url, static_collected):
    overrides = {"DATABASE_URL": served_url}
    if request.param == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
        overrides["REDIS_URL"] = REDIS_URL
    env = server_env(**overrides)
    servers = [start_gunicorn(env=env, workers=2), start_gunicorn(env=env, workers=2)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()
        if request.param == "redis":
            redis.Redis.from_url(REDIS_URL).flushdb()


def _get_twice_on_each(servers, path):
    """GET the path twice on each server (the second is a cached hit); all four answers must agree."""
    answers = [server.get(path, headers=HOST) for server in servers for _ in range(2)]
    assert all(answer.status == 200 for answer in answers), [a.status for a in answers]
    assert len({answer.headers["etag"] for answer in answers}) == 1
    assert len({answer.body for answer in answers}) == 1
    return answers[0]


def test_a_shell_delete_is_visible_at_once_on_every_server(two_servers):
    a, b = two_servers
    deals = _get_twice_on_each(two_servers, "/api/v1/deals/?page_size=100")
    slug = json.loads(deals.body)["results"][-1]["slug"]
    detail = f"/api/v1/deals/{slug}/"
    assert a.get(detail).status == b.get(detail).status == 200
    for server in two_servers:
        etag = {**HOST, "If-None-Match": deals.headers["etag"]}
        assert server.get("/api/v1/deals/?page_size=100", headers=etag).status == 304

    printed = shell(f"from deals.models import Deal; print(Deal.objects.get(slug={slug!r}).delete()[0])", env=a.env)
    assert int(printed) >= 1

    after = _get_twice_on_each(two_servers, "/api/v1/deals/?page_size=100")
    assert slug not in [deal["slug"] for deal in json.loads(after.body)["results"]]
    assert after.headers["etag"] != deals.headers["etag"]
    for server in two_servers:
        assert server.get(detail).status == 404
        revalidated = server.get(
            "/api/v1/deals/?page_size=100", headers={**HOST, "If-None-Match": deals.headers["etag"]}
        )
        assert revalidated.status == 200
        assert revalidated.body == after.body


def _admin_session(server) -> requests.Session:
    """A superuser logged in to this server's admin (made from a shell, as an operator would)."""
    username = "serving-admin"
    shell(
        "from django.contrib.auth.models import User\n"
        f"user, _ = User.objects.get_or_create(username={username!r})\n"
        "user.is_staff = user.is_superuser = True\n"
        "user.set_password('a-long-test-pass-42')\n"
        "user.save()\n",
        env=server.env,
    )
    session = requests.Session()
    base = f"http://127.0.0.1:{server.port}"
    login = session.get(f"{base}/admin/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    response = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": "a-long-test-pass-42"},
        headers={"Referer": f"{base}/admin/login/"},
        timeout=30,
    )
    assert response.url.endswith("/admin/"), response.text[:500]
    return session


def test_a_write_through_one_servers_admin_is_visible_at_once_on_the_other(two_servers):
    a, b = two_servers
    commodities = _get_twice_on_each(two_servers, "/api/v1/commodities/?page_size=100")
    results = json.loads(commodities.body)["results"]
    parents = {c["parent"]["slug"] for c in results if c.get("parent")}
    slug = next(c["slug"] for c in results if c["slug"] not in parents)  # a leaf: parents are protected
    assert b.get(f"/api/v1/commodities/{slug}/").status == 200
    pk = int(shell(f"from deals.models import Commodity; print(Commodity.objects.get(slug={slug!r}).pk)", env=a.env))

    session = _admin_session(a)
    base = f"http://127.0.0.1:{a.port}"
    confirm = session.get(f"{base}/admin/deals/commodity/{pk}/delete/", timeout=30)
    assert confirm.status_code == 200, confirm.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', confirm.text).group(1)
    deleted = session.post(
        f"{base}/admin/deals/commodity/{pk}/delete/",
        data={"csrfmiddlewaretoken": token, "post": "yes"},
        headers={"Referer": confirm.url},
        timeout=30,
    )
    assert deleted.status_code == 200 and deleted.url.endswith("/admin/deals/commodity/"), deleted.url

    assert b.get(f"/api/v1/commodities/{slug}/").status == 404
    after = _get_twice_on_each(two_servers, "/api/v1/commodities/?page_size=100")
    assert slug not in [c["slug"] for c in json.loads(after.body)["results"]]
    assert after.headers["etag"] != commodities.headers["etag"]
