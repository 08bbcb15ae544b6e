"""Reading a new-api / one-api gateway database: its ``logs`` table, read-only, in keyset
pages on (created_at, id) — never OFFSET — and each consume row as our usage record.

The table is the gorm model ``model.Log`` of new-api (``model/log.go``): ``id``,
``created_at`` (Unix seconds), ``type`` (2 = consume), ``token_id``, ``model_name``,
``prompt_tokens``, ``completion_tokens`` and ``other`` (JSON text with the cache counts).
one-api's table has no ``token_id`` and no ``other``: its rows map by ``token_name``
(see ``external_id_of``) and carry no cache counts.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote, urlsplit

import orjson

CONSUME = 2
PAGE_SIZE = 5000
CONNECT_TIMEOUT = 10


class GatewayUnreachable(Exception):
    """The gateway database could not be reached or read (the message names it, without
    its password)."""


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class LogRow(NamedTuple):
    """One consume row as read (a tuple: a page is thousands of them, made in one call)."""

    id: int
    created_at: int
    token: Any  # token_id (new-api), or token_name (one-api)
    model_name: Any
    prompt_tokens: Any
    completion_tokens: Any
    other: Any  # the JSON text as stored (None for one-api)


class LogReader:
    """A read-only connection to one gateway database. ``pages()`` yields lists of LogRow
    in (created_at, id) order; a connection lost mid-way raises GatewayUnreachable."""

    def __init__(self, url: str):
        self.url = url
        scheme = urlsplit(url).scheme.split("+")[0].lower()
        if scheme in ("postgres", "postgresql"):
            self.dialect = "postgresql"
        elif scheme in ("mysql", "mariadb"):
            self.dialect = "mysql"
        else:
            raise GatewayUnreachable(
                f"{redacted(url)}: not a database URL this connector reads (postgres://… or mysql://…)"
            )
        self.connection = None
        self.columns: set[str] = set()
        self.backend = 0

    # --- connection -------------------------------------------------------------------

    def __enter__(self) -> LogReader:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        try:
            if self.dialect == "postgresql":
                import psycopg

                self.connection = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
                self.connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            else:
                import pymysql

                parts = urlsplit(self.url)
                self.connection = pymysql.connect(
                    host=parts.hostname or "127.0.0.1",
                    port=parts.port or 3306,
                    user=unquote(parts.username or ""),
                    password=unquote(parts.password or ""),
                    database=unquote(parts.path.lstrip("/")) or None,
                    charset="utf8mb4",
                    connect_timeout=CONNECT_TIMEOUT,
                    autocommit=True,
                )
                with self.connection.cursor() as cursor:
                    cursor.execute("SET SESSION TRANSACTION READ ONLY")
            self.columns, self.backend = self._columns()
        except GatewayUnreachable:
            self.close()
            raise
        except Exception as exc:  # noqa: BLE001 - every driver error is "cannot read the gateway"
            self.close()
            raise GatewayUnreachable(f"cannot read the gateway database {redacted(self.url)}: {_reason(exc)}") from exc
        missing = {"id", "created_at", "type", "model_name", "prompt_tokens", "completion_tokens"} - self.columns
        if missing or not self.columns & {"token_id", "token_name"}:
            self.close()
            raise GatewayUnreachable(
                f"{redacted(self.url)}: the logs table lacks {', '.join(sorted(missing)) or 'token_id'}; "
                "is this a new-api / one-api database?"
            )

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # closing a lost connection may fail too
                self.connection.close()
            self.connection = None

    def _query(self, sql: str, params: list[Any]) -> list[tuple]:
        try:
            cursor = self.connection.cursor()
            try:
                cursor.execute(sql, params)
                return list(cursor.fetchall()) if cursor.description else []
            finally:
                cursor.close()
        except Exception as exc:  # noqa: BLE001
            raise GatewayUnreachable(f"lost the gateway database {redacted(self.url)}: {_reason(exc)}") from exc

    def _columns(self) -> tuple[set[str], int]:
        """The logs table's columns, and this connection's server process / thread id."""
        cursor = self.connection.cursor()
        try:
            cursor.execute("SELECT * FROM logs WHERE 1 = 0")
            columns = {d[0].lower() for d in cursor.description}
            cursor.execute("SELECT pg_backend_pid()" if self.dialect == "postgresql" else "SELECT CONNECTION_ID()")
            return columns, int(cursor.fetchone()[0])
        finally:
            cursor.close()

    # --- reading ----------------------------------------------------------------------

    def _select(self) -> str:
        token = "token_id" if "token_id" in self.columns else "token_name"
        other = "other" if "other" in self.columns else "NULL"
        return f"SELECT id, created_at, {token}, model_name, prompt_tokens, completion_tokens, {other} FROM logs"

    def pages(self, *, since: int, until: int | None = None, page_size: int = PAGE_SIZE) -> Iterator[list[LogRow]]:
        """Consume rows with ``since <= created_at`` (and ``< until`` when given), in
        (created_at, id) order, ``page_size`` at a time: each page starts after the last
        row of the one before (keyset), so rows inserted meanwhile are neither skipped
        behind an offset nor read twice."""
        after_created, after_id = since, None
        bound = " AND created_at < %s" if until is not None else ""
        while True:
            if after_id is None:
                where, params = "created_at >= %s", [after_created]
            else:
                # The leading ``created_at >= %s`` is implied by the rest, and is what lets
                # PostgreSQL start the index scan (created_at, type) at the page instead of at
                # the table's first row and filter its way there: without it each page costs
                # the rows before it, and a sync of a million rows is quadratic (bench/README.md).
                where = "created_at >= %s AND (created_at > %s OR (created_at = %s AND id > %s))"
                params = [after_created, after_created, after_created, after_id]
            sql = f"{self._select()} WHERE type = {CONSUME} AND {where}{bound} ORDER BY created_at, id LIMIT %s"
            rows = self._query(sql, [*params, *([until] if until is not None else []), page_size])
            if not rows:
                return
            page = list(map(LogRow._make, rows))
            yield page
            if len(rows) < page_size:
                return
            after_created, after_id = page[-1].created_at, page[-1].id

    def backend_id(self) -> int:
        """This connection's server process / thread id (tests kill it to cut the line), read
        when it opened: the connection may be busy with a page read ahead meanwhile."""
        return self.backend


T = TypeVar("T")


def read_ahead(items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` (e.g. pages read and turned into records), each one made by a
    thread of its own while the caller works on the one before: the gateway's database
    answers the next page and its rows are parsed while ours stores the last one (what it
    gains: bench/README.md, "Gateway connector").

    At most one item is made ahead of the one the caller holds, so a failure (a lost
    connection) reaches the caller after at most one more page. An error making an item is
    raised here, in order; when the caller stops early the thread finishes the item it is
    making and ends (the caller may then close what the items are read from)."""
    made: queue.SimpleQueue = queue.SimpleQueue()
    wanted = threading.Semaphore(1)  # items the thread may make beyond those taken
    stop = threading.Event()
    end = object()

    def make() -> None:
        try:
            iterator = iter(items)
            while True:
                wanted.acquire()
                if stop.is_set():
                    return
                item = next(iterator, end)
                made.put((item, None))
                if item is end:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            made.put((end, exc))

    thread = threading.Thread(target=make, name="gateway-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = made.get()
            if error is not None:
                raise error
            if item is end:
                return
            wanted.release()  # the next one is made while the caller works on this one
            yield item
    finally:
        stop.set()
        wanted.release()
        thread.join()


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


# --- A row as our record ------------------------------------------------------------------


def external_id_of(source: str, row: LogRow) -> str:
    """The external id of the key a row belongs to: ``{source}:{token_id}`` (one-api, which
    has no token id: ``{source}:{token_name}``)."""
    return f"{source}:{row.token}"


def _count(value: Any) -> Any:
    """A count from ``other`` as stored: JSON numbers that are whole stay ints; anything else
    is passed on as it is, for ingestion to refuse naming the field."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@lru_cache(maxsize=4096)
def _occurred_at(created_at: int) -> str:
    """RFC 3339 of a Unix second (many rows share one: cached)."""
    return datetime.fromtimestamp(created_at, UTC).isoformat()


def record_of(source: str, row: LogRow, key_id: str) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The usage record of one consume row (CONTRACT "Gateway connectors"), or the errors that
    keep it from being one (``other`` that is not a JSON object, a time no clock can hold).
    Counts are passed on as stored: ingestion's rules judge them (a negative count is
    rejected there, naming the field)."""
    other: dict[str, Any] = {}
    if row.other not in (None, ""):
        try:
            parsed = orjson.loads(row.other)
        except (TypeError, ValueError):
            return None, {"other": ["The log's other column is not JSON."]}
        if not isinstance(parsed, dict):
            return None, {"other": ["The log's other column is not a JSON object."]}
        other = parsed
    try:
        occurred_at = _occurred_at(row.created_at)
    except (OverflowError, OSError, ValueError, TypeError):
        return None, {"occurred_at": [f"created_at {row.created_at!r} is not a time."]}
    get = other.get
    cache_read = _count(get("cache_tokens") or 0)
    write_5m = _count(get("cache_creation_tokens_5m") or 0)
    write_1h = _count(get("cache_creation_tokens_1h") or 0)
    cache_write = _count(get("cache_creation_tokens") or 0)
    input_tokens = row.prompt_tokens
    whole = (
        type(input_tokens) is int
        and type(cache_read) is int
        and type(cache_write) is int
        and type(write_5m) is int
        and type(write_1h) is int
    )
    if whole and write_5m + write_1h > cache_write:
        cache_write = write_5m + write_1h  # the total, when only its parts were written
    if get("claude") is True and whole:
        # The Claude path: prompt_tokens is Anthropic's input_tokens, without the cache.
        input_tokens += cache_read + cache_write
    record: dict[str, Any] = {
        "request_id": f"{source}:{row.id}",
        "key_id": key_id,
        "model": row.model_name,
        "input_tokens": input_tokens,
        "output_tokens": row.completion_tokens,
        "occurred_at": occurred_at,
    }
    # Only counts that are there: a record in the plain shape takes ingestion's fast path.
    if cache_read:
        record["cached_input_tokens"] = cache_read
    if cache_write:
        record["cache_write_tokens"] = cache_write
    if write_5m:
        record["cache_write_5m_tokens"] = write_5m
    if write_1h:
        record["cache_write_1h_tokens"] = write_1h
    return record, {}
