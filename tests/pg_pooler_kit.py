"""A stand-in for PgBouncer in transaction pooling mode, for the tests that must
see what a session-level lock does through such a pooler.

`TransactionPooler(url)` listens on a free port of 127.0.0.1 and keeps a pool of
server connections per startup message (user, database, options). A client's
transaction runs on one server connection; once the server reports it idle
(ReadyForQuery 'I') that connection goes to the back of the pool and the next
transaction takes another, so a session-level advisory lock taken by one
statement is not held by the session that runs the next. SSL and GSS encryption
requests are refused ('N'); the server must trust the user (the pooler logs in
on the client's behalf), and cancel requests are dropped.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from collections import deque
from contextlib import suppress
from urllib.parse import urlsplit, urlunsplit

_SSL_REQUEST, _GSSENC_REQUEST, _CANCEL_REQUEST = 80877103, 80877104, 80877102


class _Closed(Exception):
    """A peer closed its end."""


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise _Closed
        data += chunk
    return bytes(data)


def _message(sock: socket.socket) -> tuple[bytes, bytes]:
    """One typed message: (type byte, the whole message as sent)."""
    head = _exactly(sock, 5)
    (length,) = struct.unpack("!I", head[1:])
    return head[:1], head + _exactly(sock, length - 4)


def _startup(sock: socket.socket) -> bytes:
    """The client's startup message, after answering 'N' to encryption requests."""
    while True:
        (length,) = struct.unpack("!I", _exactly(sock, 4))
        body = _exactly(sock, length - 4)
        (code,) = struct.unpack("!I", body[:4])
        if code in (_SSL_REQUEST, _GSSENC_REQUEST):
            sock.sendall(b"N")
            continue
        if code == _CANCEL_REQUEST:
            raise _Closed
        return struct.pack("!I", length) + body


def _error(text: str) -> bytes:
    fields = b"SFATAL\0C08004\0M" + text.encode() + b"\0\0"
    return b"E" + struct.pack("!I", len(fields) + 4) + fields


class _Pool:
    """Server connections made with one startup message, handed out in turn."""

    def __init__(self, address: tuple[str, int], startup: bytes, size: int) -> None:
        self.address, self.startup, self.size = address, startup, size
        self.idle: deque[socket.socket] = deque()
        self.made = 0
        self.greeting = b""  # what the first server said after the login
        self.ready = threading.Condition()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address)
        sock.sendall(self.startup)
        greeting = bytearray()
        while True:
            kind, message = _message(sock)
            if kind == b"R" and message[5:9] != b"\0\0\0\0":
                sock.close()
                raise ConnectionRefusedError("the pooler logs in only where the server trusts")
            if kind == b"E":
                sock.close()
                raise ConnectionRefusedError(message[5:].replace(b"\0", b" ").decode())
            greeting += message
            if kind == b"Z":
                break
        if not self.greeting:
            self.greeting = bytes(greeting)
        return sock

    def take(self) -> socket.socket:
        with self.ready:
            while not self.idle and self.made >= self.size:
                self.ready.wait()
            if self.made >= self.size:  # the pool is full: its connections in turn
                return self.idle.popleft()
            self.made += 1
        try:
            return self._connect()
        except BaseException:
            self.lost()
            raise

    def give_back(self, sock: socket.socket) -> None:
        with self.ready:
            self.idle.append(sock)
            self.ready.notify()

    def lost(self) -> None:
        with self.ready:
            self.made -= 1
            self.ready.notify()

    def close(self) -> None:
        with self.ready:
            while self.idle:
                self.idle.popleft().close()


class TransactionPooler:
    """A context manager: `with TransactionPooler(url) as pooled_url:`; the URL
    is `url` with the pooler's host and port (user, database and options kept)."""

    def __init__(self, url: str, server_connections: int = 2) -> None:
        self.url = url
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.size = server_connections
        self.pools: dict[bytes, _Pool] = {}
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.clients: set[socket.socket] = set()
        self.threads: list[threading.Thread] = []
        self.closing = False

    def __enter__(self) -> str:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self.threads.append(thread)
        parts = urlsplit(self.url)
        user = f"{parts.username}@" if parts.username else ""
        port = self.listener.getsockname()[1]
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))

    def __exit__(self, *exc: object) -> None:
        self.closing = True
        with suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.listener.close()
        with self.lock:
            for client in list(self.clients):
                with suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)
        for thread in self.threads:
            thread.join(timeout=10)
        for pool in self.pools.values():
            pool.close()

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.clients.add(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _pool(self, startup: bytes) -> _Pool:
        with self.lock:
            return self.pools.setdefault(startup, _Pool(self.address, startup, self.size))

    def _serve(self, client: socket.socket) -> None:
        try:
            pool = self._pool(_startup(client))
            first = pool.take()
            client.sendall(pool.greeting)
            pool.give_back(first)
            while True:
                kind, message = _message(client)
                if kind == b"X":
                    return
                self._transaction(pool, client, message)
        except ConnectionRefusedError as e:
            with suppress(OSError):
                client.sendall(_error(f"pooler: {e}"))
        except (_Closed, OSError):
            pass
        finally:
            with self.lock:
                self.clients.discard(client)
            client.close()

    def _transaction(self, pool: _Pool, client: socket.socket, first: bytes) -> None:
        """Relay one transaction (from `first` to the server's next idle
        ReadyForQuery) over one server connection, then give that one back."""
        server = pool.take()
        try:
            server.sendall(first)
            with selectors.DefaultSelector() as both:
                both.register(client, selectors.EVENT_READ)
                both.register(server, selectors.EVENT_READ)
                while True:
                    for key, _ in both.select():
                        if key.fileobj is client:
                            server.sendall(_message(client)[1])
                            continue
                        kind, message = _message(server)
                        client.sendall(message)
                        if kind == b"Z" and message[5:6] == b"I":
                            pool.give_back(server)
                            return
        except BaseException:
            server.close()
            pool.lost()
            raise
