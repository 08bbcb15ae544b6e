"""new-api's real ``logs`` table (the gorm model ``model.Log``, new-api model/log.go) in a
database of its own, in PostgreSQL and in MariaDB; rows written as new-api writes them."""

from __future__ import annotations

import json
import os
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pymysql
import pytest
from django.conf import settings

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}

# gorm's DDL for model.Log on each database (int → bigint, string → text / varchar(191) +
# longtext, bool → boolean), with its indexes.
PG_DDL = [
    """CREATE TABLE logs (
        id bigserial PRIMARY KEY, user_id bigint, created_at bigint, type bigint, content text,
        username text DEFAULT '', token_name text DEFAULT '', model_name text DEFAULT '',
        quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0, completion_tokens bigint DEFAULT 0,
        use_time bigint DEFAULT 0, is_stream boolean, channel_id bigint, token_id bigint DEFAULT 0,
        "group" text, ip text DEFAULT '', other text)""",
    "CREATE INDEX idx_created_at_id ON logs (id, created_at)",
    "CREATE INDEX idx_created_at_type ON logs (created_at, type)",
    "CREATE INDEX idx_logs_token_id ON logs (token_id)",
]
MYSQL_DDL = [
    """CREATE TABLE logs (
        id bigint AUTO_INCREMENT PRIMARY KEY, user_id bigint, created_at bigint, type bigint, content longtext,
        username varchar(191) DEFAULT '', token_name varchar(191) DEFAULT '', model_name varchar(191) DEFAULT '',
        quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0, completion_tokens bigint DEFAULT 0,
        use_time bigint DEFAULT 0, is_stream boolean, channel_id bigint, token_id bigint DEFAULT 0,
        `group` varchar(191), ip varchar(191) DEFAULT '', other longtext,
        INDEX idx_created_at_id (id, created_at), INDEX idx_created_at_type (created_at, type),
        INDEX idx_logs_token_id (token_id)) DEFAULT CHARSET=utf8mb4""",
]
COLUMNS = ("created_at", "type", "token_id", "model_name", "prompt_tokens", "completion_tokens", "other")


class GatewayDb:
    """A new-api log database the tests write to (as the gateway does) and the sync reads."""

    def __init__(self, dialect: str, url: str, connect):
        self.dialect = dialect
        self.url = url
        self._connect = connect
        self.conn = connect()

    def execute(self, sql: str, params=()) -> list[tuple]:
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        rows = list(cursor.fetchall()) if cursor.description else []
        cursor.close()
        return rows

    def log(
        self,
        created_at: int,
        token_id: int,
        model: str = "gpt-4o",
        prompt=1000,
        completion=100,
        *,
        other: dict | str | None = None,
        type: int = 2,
        user_id: int = 1,
    ) -> int:
        other_text = other if isinstance(other, str) or other is None else json.dumps(other)
        values = (created_at, type, token_id, model, prompt, completion, other_text)
        sql = (
            f"INSERT INTO logs (user_id, content, {', '.join(COLUMNS)}, quota, is_stream, channel_id, "
            + ('"group"' if self.dialect == "postgresql" else "`group`")
            + ") VALUES (%s, '倍率：1.00 × 1.00 × 1.00', "
            + ", ".join(["%s"] * len(COLUMNS))
            + ", 10, false, 1, 'default')"
            + (" RETURNING id" if self.dialect == "postgresql" else "")
        )
        cursor = self.conn.cursor()
        cursor.execute(sql, (user_id, *values))
        new_id = cursor.fetchone()[0] if self.dialect == "postgresql" else cursor.lastrowid
        cursor.close()
        return int(new_id)

    def kill(self, backend_id: int) -> None:
        """Cut another connection to this database (as a network failure or a restart would)."""
        if self.dialect == "postgresql":
            self.execute("SELECT pg_terminate_backend(%s)", [backend_id])
        else:
            self.execute(f"KILL {int(backend_id)}")


def _pg_admin_url(name: str) -> tuple[str, str]:
    parts = urlsplit(settings.DATABASE_URL or os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(params=["postgresql", "mysql"])
def gateway_db(request):
    """An empty new-api ``logs`` table in a database made for this test, PostgreSQL or MariaDB."""
    name = f"pc_gateways_test_{os.getpid()}_{int(time.time() * 1000) % 10**7}"
    if request.param == "postgresql":
        admin_url, url = _pg_admin_url(name)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")

        def connect():
            return psycopg.connect(url, autocommit=True)

        db = GatewayDb("postgresql", url, connect)
        for statement in PG_DDL:
            db.execute(statement)
        yield db
        db.conn.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        admin = pymysql.connect(**MARIADB, autocommit=True)
        admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")

        def connect():
            return pymysql.connect(**MARIADB, database=name, autocommit=True, charset="utf8mb4")

        db = GatewayDb("mysql", f"mysql://root@127.0.0.1:3306/{name}", connect)
        for statement in MYSQL_DDL:
            db.execute(statement)
        yield db
        db.conn.close()
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
