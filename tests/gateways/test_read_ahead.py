"""gateways.newapi.read_ahead: the sync's pages made by a thread of their own, one ahead of
the page being stored; in order, errors in their place, nothing made after the caller stops."""

from __future__ import annotations

import threading
import time

import pytest

from gateways.newapi import GatewayUnreachable, read_ahead


class Pages:
    """Items 0, 1, … made on demand, recording how many were made and by which thread."""

    def __init__(self, n: int, *, fail_at: int | None = None):
        self.n = n
        self.fail_at = fail_at
        self.made = 0
        self.threads: set[str] = set()

    def __iter__(self):
        for i in range(self.n):
            if i == self.fail_at:
                raise GatewayUnreachable("lost the gateway database")
            self.threads.add(threading.current_thread().name)
            self.made += 1
            yield i


def test_it_yields_every_item_in_order_made_on_another_thread():
    pages = Pages(50)

    assert list(read_ahead(pages)) == list(range(50))
    assert pages.threads == {"gateway-read-ahead"}


def test_it_makes_at_most_one_item_ahead_of_the_one_held():
    pages = Pages(10)
    items = read_ahead(pages)

    assert next(items) == 0
    # The thread makes item 1 while the caller holds item 0, then waits.
    deadline = time.monotonic() + 5
    while pages.made < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    assert pages.made == 2
    assert next(items) == 1
    items.close()


def test_an_error_comes_after_the_items_made_before_it():
    got = []
    with pytest.raises(GatewayUnreachable):
        for item in read_ahead(Pages(10, fail_at=3)):
            got.append(item)

    assert got == [0, 1, 2]


def test_the_thread_ends_when_the_caller_stops_early():
    pages = Pages(1000)
    before = {t.name for t in threading.enumerate()}
    for item in read_ahead(pages):
        if item == 4:
            break

    assert pages.made <= 6  # the item held and the one made ahead; nothing after the stop
    assert "gateway-read-ahead" not in {t.name for t in threading.enumerate()} - before


def test_an_error_of_the_caller_stops_the_thread_and_is_raised_as_is():
    pages = Pages(1000)
    with pytest.raises(ZeroDivisionError):
        for item in read_ahead(pages):
            if item == 2:
                raise ZeroDivisionError

    assert pages.made <= 4
    assert not [t for t in threading.enumerate() if t.name == "gateway-read-ahead"]
