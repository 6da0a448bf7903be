"""``/healthz`` answers while the process lives; ``/readyz`` only when the database answers
at the schema this code needs — on SQLite and on PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from web import create_app
from workflow.app import AppContext
from workflow.core.config import Settings

PROBLEM = "application/problem+json"


def test_healthz_says_ok_without_touching_the_database(bare_client: TestClient) -> None:
    r = bare_client.get("/healthz")  # its database file is not even there
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_is_200_on_an_initialised_database(ctx: AppContext) -> None:
    with TestClient(create_app(ctx)) as client:
        r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


def test_readyz_is_503_on_an_uninitialised_database(db_url: str, web_settings: Settings) -> None:
    # SQLite: no file yet; PostgreSQL: a schema with no tables.
    a = AppContext(web_settings, db_url)
    try:
        with TestClient(create_app(a)) as client:
            r = client.get("/readyz")
    finally:
        a.close()
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "not_ready" and body["status"] == 503
    assert "尚未初始化" in body["detail"] and body["request_id"] == r.headers["X-Request-ID"]
    assert r.headers["Retry-After"] == "5"
    # The database's address is for the log, not for whoever asks.
    assert "sqlite" not in r.text and "postgresql" not in r.text and "127.0.0.1" not in r.text


def test_readyz_is_503_when_the_database_does_not_answer(web_settings: Settings) -> None:
    a = AppContext(web_settings, "postgresql://ssj:pw@127.0.0.1:1/none?connect_timeout=2")
    try:
        with TestClient(create_app(a)) as client:
            r = client.get("/readyz")
            assert client.get("/healthz").status_code == 200  # alive all the same
    finally:
        a.close()
    assert r.status_code == 503 and r.json()["code"] == "not_ready"
    assert "无法连接数据库" in r.json()["detail"] and "pw" not in r.text
