"""A ThreadingHTTPServer on 127.0.0.1 served from a daemon thread: the test servers' plumbing."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve_in_thread(handler: type[BaseHTTPRequestHandler], port: int, name: str) -> ThreadingHTTPServer:
    """Listen on 127.0.0.1:`port` (0: a free one) and serve until `stop_serving`."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


def stop_serving(server: ThreadingHTTPServer | None) -> None:
    """Stop and close `server` (a client then gets "connection refused"); None does nothing."""
    if server is not None:
        server.shutdown()
        server.server_close()
