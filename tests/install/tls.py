"""Test certificates and a small real HTTPS server on 127.0.0.1 for the doctor's network checks.

The server answers like the county platform's health endpoint, or like the things a township
network puts in its place (a captive portal's HTML page, a redirect), so ``gridroom doctor`` is
tested against real sockets and real TLS handshakes, not mocks.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.UTC)


@dataclass
class Pki:
    """A CA and a server certificate it signed, as PEM files."""

    ca_pem: Path
    cert_pem: Path
    key_pem: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(
    folder: Path,
    name: str = "Test County CA",
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    is_ca: bool = True,
) -> tuple[Path, ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed (CA) certificate written to ``folder/<name>.pem``."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / f"{name.replace(' ', '-').lower()}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def make_pki(folder: Path, *, hostnames: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Pki:
    """A CA and a server certificate for ``hostnames`` signed by it."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem, ca_key, ca_cert = make_ca(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for h in hostnames:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hostnames[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert_pem = folder / "server.pem"
    key_pem = folder / "server.key"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Pki(ca_pem, cert_pem, key_pem)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers every GET according to the server's ``mode``."""

    server: _Server

    def do_GET(self) -> None:
        mode = self.server.mode
        if mode == "portal":
            body = (
                "<!DOCTYPE html><html><head><title>无线网络认证 Wi-Fi Login</title></head>"
                "<body>请先登录</body></html>"
            ).encode()
            self._send(200, "text/html; charset=utf-8", body)
        elif mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://portal.example.net/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "not-found":
            self._send(404, "application/json", b'{"detail":"Not Found"}')
        else:
            body = json.dumps(
                {
                    "status": "ok",
                    "county": "330825",
                    "server_version": "test",
                    "protocol": self.server.protocols,
                    "server_time": int(time.time() * 1000) + self.server.clock_offset_ms,
                }
            ).encode()
            self._send(200, "application/json", body)

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    mode = "health"
    protocols: list[int] = [1]  # noqa: RUF012 — set per instance by serve()
    clock_offset_ms = 0


@contextmanager
def serve(
    pki: Pki | None,
    *,
    mode: str = "health",
    protocols: tuple[int, ...] = (1,),
    clock_offset_ms: int = 0,
) -> Iterator[str]:
    """Run a server on 127.0.0.1 (TLS when ``pki`` is given); yield its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.mode = mode
    server.protocols = list(protocols)
    server.clock_offset_ms = clock_offset_ms
    scheme = "http"
    if pki is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki.cert_pem, pki.key_pem)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
