"""Local mail servers for fault tests: one that accepts connections and never answers (a
hung relay), and a minimal SMTP server that keeps what it receives."""

from __future__ import annotations

import socket
import socketserver
import threading


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class BlackHole:
    """Accepts TCP connections and says nothing, ever."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


class SmtpSink:
    """Enough of SMTP (RFC 5321) for Django's backend: keeps each message's raw text."""

    def __init__(self):
        self.messages: list[str] = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                self.reply("220 sink ESMTP")
                while line := self.rfile.readline():
                    verb = line.decode(errors="replace").strip().split(" ")[0].upper()
                    if verb == "EHLO":
                        self.reply("250 sink")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        body = []
                        while (part := self.rfile.readline()) not in (b".\r\n", b""):
                            body.append(part.decode(errors="replace"))
                        sink.messages.append("".join(body))
                        self.reply("250 kept")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # HELO, MAIL, RCPT, RSET, NOOP
                        self.reply("250 ok")

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
