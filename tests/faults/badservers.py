"""Small real servers on 127.0.0.1 that answer like the things a device meets instead of a good
county platform: broken JSON, 500s, a captive portal's login page, a server of another protocol
version, a county whose clock is far off — and TLS certificates, trusted or not.

Each is an ``http.server`` (or the real county app under uvicorn, for the clock) in a thread of
the test process; tests put them behind :class:`tests.faults.proxy.TcpProxy`, so a device stays
enrolled to one address while the server behind it changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PORTAL_PAGE = (
    "<!DOCTYPE html><html><head><title>无线网络认证 Wi-Fi Login</title></head>"
    "<body><form>请输入手机号登录 <input name='phone'></form></body></html>"
).encode()
NGINX_500 = (
    b"<html><head><title>500 Internal Server Error</title></head><body>"
    b"<center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center>"
    b"</body></html>"
)

#: What each bad server answers to every request: (status, headers, body).
ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    # Cut mid-document but framed (Content-Length matches): not an accident of the link.
    "broken_json": (200, {"Content-Type": "application/json"}, b'{"server_time": 1795, "pull": {'),
    # Valid JSON, but not what the protocol answers.
    "wrong_json": (200, {"Content-Type": "application/json"}, b'["ok", {"pull": "everything"}]'),
    "wrong_fields": (
        200,
        {"Content-Type": "application/json"},
        b'{"server_time": "now", "pull": {"items": "none", "cursor": "7"}, "push": []}',
    ),
    "error_500": (
        500,
        {"Content-Type": "application/json"},
        json.dumps(
            {
                "error": {
                    "code": "server_error",
                    "message": "The county server failed; retry later.",
                    "retry": True,
                }
            }
        ).encode(),
    ),
    "nginx_500": (500, {"Content-Type": "text/html"}, NGINX_500),
    "portal": (200, {"Content-Type": "text/html; charset=utf-8"}, PORTAL_PAGE),
    "portal_redirect": (
        302,
        {"Location": "http://10.10.0.1/portal/login?next=county", "Content-Type": "text/html"},
        b"<html><body>Redirecting</body></html>",
    ),
    "newer_protocol": (
        426,
        {"Content-Type": "application/json", "Gridroom-Protocol": "2"},
        json.dumps(
            {
                "error": {
                    "code": "protocol_version",
                    "message": "This server speaks protocol 2, not 1; update Gridroom.",
                    "retry": False,
                    "supported": [2],
                }
            }
        ).encode(),
    ),
    "bare_426": (426, {"Content-Type": "text/plain"}, b"Upgrade Required"),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    server: BadServer
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.requests.append(f"{self.command} {self.path}")
        status, headers, body = ANSWERS[self.server.mode]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


class BadServer(http.server.ThreadingHTTPServer):
    """An HTTP server answering every request with ``ANSWERS[mode]``; counts requests."""

    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.requests: list[str] = []

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", int(self.server_address[1]))


@contextlib.contextmanager
def bad_server(mode: str) -> Iterator[BadServer]:
    server = BadServer(mode)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def county_with_clock(db: Path, clock: Callable[[], int]) -> Iterator[tuple[str, int]]:
    """The real county app over the same database, with its clock off: uvicorn in a thread.
    Yields its (host, port)."""
    import socket

    import uvicorn

    from sync.county.app import create_app

    app = create_app(str(db), clock=clock)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the county app with a shifted clock did not start")
            time.sleep(0.02)
        yield ("127.0.0.1", port)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


# -- certificates ----------------------------------------------------------------------------------


@dataclass
class Certs:
    """A CA, a server certificate for 127.0.0.1 it signed, and the server's key (PEM files)."""

    ca: Path
    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def make_certs(
    folder: Path, *, host: str = "127.0.0.1", ca_name: str = "某县政务 Test CA"
) -> Certs:
    """A fresh CA and a server certificate for ``host`` (an IP address or a DNS name)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    try:
        san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        san = x509.DNSName(host)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    out = Certs(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    out.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out.key.write_bytes(_pem(key))
    return out
