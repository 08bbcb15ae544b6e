"""The embedded server's settings are sized to the machine, not left at initdb's defaults."""

from procurement import embedded_db


def test_shared_buffers_are_a_quarter_of_the_ram_within_bounds(monkeypatch):
    page = 4096
    for ram_gb, expected in ((0.25, "128MB"), (8, "2048MB"), (24, "4096MB"), (256, "4096MB")):
        pages = int(ram_gb * 2**30) // page
        monkeypatch.setattr(
            embedded_db.os, "sysconf", lambda name, pages=pages: page if name == "SC_PAGE_SIZE" else pages
        )
        settings = embedded_db.tuned_settings()
        assert settings["shared_buffers"] == expected, ram_gb
        assert settings["max_wal_size"] == "4GB"
