"""Hostile TLS servers on loopback that hold a client by sending a little, slowly, for ever.

Each mode stalls one phase of the exchange, always sending *something* well within any per-read
timeout, so only a deadline over the whole exchange can end it:

- ``handshake``: a relay in front of a real TLS server that passes the server's handshake on one
  byte at a time;
- ``headers``: ``HTTP/1.1 200 OK`` and then one short header line after another;
- ``body``: complete headers (JSON, a large Content-Length), then the body a few bytes at a time.
"""
from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field

import trustme

MODES = ("handshake", "headers", "body")


@dataclass
class TrickleServer:
    mode: str
    interval: float
    context: ssl.SSLContext
    port: int = 0
    connections: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None
    _backend: "TrickleServer | None" = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "TrickleServer":
        if self.mode == "handshake":
            # The relay's backend answers at once; the relay is what trickles.
            self._backend = TrickleServer("answer", 0.0, self.context).start()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._backend is not None:
            self._backend.stop()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        with self._listener:
            while not self.stopping.is_set():
                try:
                    client, _ = self._listener.accept()
                except (TimeoutError, OSError):
                    continue
                with self._lock:
                    self.connections += 1
                threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            with client:
                if self.mode == "handshake":
                    self._relay(client)
                    return
                client.settimeout(30)
                with self.context.wrap_socket(client, server_side=True) as tls:
                    self._answer(tls)
        except (OSError, ssl.SSLError):
            pass  # the client cut us off, which is what the tests want

    def _read_request(self, tls: ssl.SSLSocket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = tls.recv(4096)
            if not chunk:
                raise OSError("client left")
            data += chunk

    def _answer(self, tls: ssl.SSLSocket) -> None:
        self._read_request(tls)
        if self.mode == "answer":
            body = b'{"ok": true}'
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                        + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            return
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        if self.mode == "headers":
            number = 0
            while not self.stopping.wait(self.interval):
                number += 1
                tls.sendall(b"X-Trickle-%d: x\r\n" % number)
            return
        tls.sendall(b"Content-Length: 1000000\r\n\r\n[")
        while not self.stopping.wait(self.interval):
            tls.sendall(b"0,")

    def _relay(self, client: socket.socket) -> None:
        assert self._backend is not None
        with socket.create_connection(("127.0.0.1", self._backend.port)) as backend:
            def forward() -> None:  # the client's bytes go on at once
                try:
                    while chunk := client.recv(4096):
                        backend.sendall(chunk)
                except OSError:
                    pass
            threading.Thread(target=forward, daemon=True).start()
            while not self.stopping.is_set():
                chunk = backend.recv(4096)
                if not chunk:
                    return
                for byte in chunk:
                    if self.stopping.wait(self.interval):
                        return
                    client.sendall(bytes([byte]))


@dataclass
class TrickleCA:
    """One CA and certificate for every name the servers answer as."""

    ca: trustme.CA
    ca_path: str
    context: ssl.SSLContext


def make_ca(tmp_path, names: list[str]) -> TrickleCA:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    path = tmp_path / "trickle-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return TrickleCA(ca, str(path), context)
