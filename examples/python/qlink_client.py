#!/usr/bin/env python3
"""A pyzmq client that authenticates to a QLink coordinator with a QLink-issued certificate.

Usage:
  python3 qlink_client.py --endpoint tcp://127.0.0.1:5550 --certs certs/loopback --name alice-node \
      [--coordinator coordinator] [--message hello]

It verifies the coordinator certificate against the lab CA and CRL (with the `openssl` program, the way a
third-party client without QLink would), takes the CURVE server key from that certificate, loads its own
CURVE secret key from the PKCS#8 key file written by `qlink certs issue` (mode 0600), sends one message on a
DEALER socket and prints the reply. The secret key is never printed.
"""
import argparse
import base64
import os
import stat
import subprocess
import sys

import zmq
from zmq.utils import z85

# DER prefixes of RFC 8410 X25519 structures; the 32 key bytes follow.
X25519_PRIVATE_PREFIX = bytes.fromhex("302e020100300506032b656e04220420")
X25519_SPKI_PREFIX = bytes.fromhex("302a300506032b656e032100")


def pem_body(path, label):
    text = open(path, encoding="ascii").read()
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in text:
        raise SystemExit(f"{path}: no {label} PEM block")
    return base64.b64decode(text.split(begin, 1)[1].split(end, 1)[0])


def load_secret_key(path):
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise SystemExit(f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")
    der = pem_body(path, "PRIVATE KEY")
    if len(der) != 48 or not der.startswith(X25519_PRIVATE_PREFIX):
        raise SystemExit(f"{path} is not an X25519 CURVE key")
    return der[-32:]


def certificate_curve_key(path):
    der = pem_body(path, "CERTIFICATE")
    at = der.find(X25519_SPKI_PREFIX)
    if at < 0:
        raise SystemExit(f"{path} does not carry an X25519 CURVE key")
    start = at + len(X25519_SPKI_PREFIX)
    return der[start:start + 32]


def verify_coordinator(certs, coordinator):
    command = ["openssl", "verify", "-x509_strict", "-purpose", "sslserver",
               "-CAfile", os.path.join(certs, "ca.crt"), "-crl_check", "-CRLfile", os.path.join(certs, "ca.crl"),
               os.path.join(certs, coordinator + ".crt")]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("coordinator certificate refused: " + (result.stdout + result.stderr).strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--certs", required=True, help="folder with ca.crt, ca.crl and certificates")
    parser.add_argument("--name", required=True, help="this node's name")
    parser.add_argument("--coordinator", default="coordinator")
    parser.add_argument("--message", default="hello")
    parser.add_argument("--timeout-ms", type=int, default=5000)
    args = parser.parse_args()

    verify_coordinator(args.certs, args.coordinator)
    server_key = certificate_curve_key(os.path.join(args.certs, args.coordinator + ".crt"))
    secret = load_secret_key(os.path.join(args.certs, "private", args.name + ".key"))
    secret_z85 = z85.encode(secret)

    context = zmq.Context.instance()
    socket = context.socket(zmq.DEALER)
    socket.curve_secretkey = secret_z85
    socket.curve_publickey = zmq.curve_public(secret_z85)
    socket.curve_serverkey = z85.encode(server_key)
    socket.linger = 0
    socket.connect(args.endpoint)
    socket.send_string(args.message)
    if socket.poll(args.timeout_ms) == 0:
        print("no reply: the coordinator refused this certificate or is not running", file=sys.stderr)
        return 1
    print(socket.recv_string())
    socket.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
