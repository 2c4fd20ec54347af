#!/usr/bin/env python3
"""The contract's Python client check (SPEC section 1) against a running `kitt web`.

Usage: Scripts/smoke-tls.py PORT CA_PEM

Trusts only CA_PEM through ssl.create_default_context(cafile=...) with hostname checking on
and VERIFY_X509_STRICT (what Python 3.13 turns on by default), then:
  - GET https://localhost:PORT/api/v1/health twice on one connection (keep-alive) -> 200 {"status":"ok"}
  - GET https://localhost:PORT/api/v1/version -> 200 with api_version "v1"
  - GET https://127.0.0.1:PORT/api/v1/health (IP subjectAltName)
  - the negotiated protocol is TLS 1.2 or newer
Prints one line per check; exits 0 when all pass, 1 on the first failure.
"""
import http.client
import json
import ssl
import sys


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def get_json(connection, path):
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        fail(f"GET {path}: status {response.status}: {body[:200]!r}")
    if response.getheader("Content-Type") != "application/json":
        fail(f"GET {path}: Content-Type {response.getheader('Content-Type')!r}")
    try:
        return json.loads(body)
    except ValueError:
        fail(f"GET {path}: not JSON: {body[:200]!r}")


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    port, ca = int(sys.argv[1]), sys.argv[2]

    context = ssl.create_default_context(cafile=ca)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED

    for host in ("localhost", "127.0.0.1"):
        connection = http.client.HTTPSConnection(host, port, context=context, timeout=10)
        try:
            for _ in range(2):
                if get_json(connection, "/api/v1/health") != {"status": "ok"}:
                    fail(f"{host}: /api/v1/health body")
            version = get_json(connection, "/api/v1/version")
            if version.get("api_version") != "v1" or version.get("name") != "KITT":
                fail(f"{host}: /api/v1/version body {version!r}")
            protocol = connection.sock.version()
            if protocol not in ("TLSv1.2", "TLSv1.3"):
                fail(f"{host}: negotiated {protocol}")
            cipher = connection.sock.cipher()[0]
        except (ssl.SSLError, ssl.CertificateError, OSError) as error:
            fail(f"https://{host}:{port}: {error}")
        finally:
            connection.close()
        print(f"ok https://{host}:{port} {protocol} {cipher} (strict X.509, hostname checked)")


if __name__ == "__main__":
    main()
