"""A TCP proxy on loopback for tests that break or move a connection without touching a shared
server: `cut()` drops the open connections and refuses new ones (an outage for one process),
`restore()` ends that, and `switch(port)` sends new connections to another upstream and drops
the open ones (a load balancer moving a browser to another app process). `connections` counts
the connections made to each upstream port."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.open = True
        self.connections: dict[int, int] = {}
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            self.open = False
            self._drop()

    def restore(self) -> None:
        with self.lock:
            self.open = True

    def switch(self, port: int) -> None:
        with self.lock:
            self.target = (self.target[0], port)
            self._drop()

    def close(self) -> None:
        self.cut()
        _close(self.listener)

    def _drop(self) -> None:
        for s in self.sockets:
            _close(s)
        self.sockets.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if not self.open:
                    _close(client)
                    continue
                try:
                    upstream = socket.create_connection(self.target)
                except OSError:
                    _close(client)
                    continue
                port = self.target[1]
                self.connections[port] = self.connections.get(port, 0) + 1
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()
