"""A TCP proxy for fault tests: it forwards both ways until told to stop, and counts what it forwarded."""

from __future__ import annotations

import socket
import threading


class PausableProxy:
    """A TCP proxy to PostgreSQL that can stop forwarding: the connection stays open and nothing comes back, as
    from a stalled server or network."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.forwarded = 0  # bytes passed on, both ways
        self._count = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = False
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self.flowing.wait()  # paused: the bytes wait here, unanswered
                sink.sendall(data)
                with self._count:
                    self.forwarded += len(data)
        except OSError:
            pass

    def close(self) -> None:
        self.closed = True
        self.flowing.set()
        for sock in [*self.sockets, self.server]:
            sock.close()
