"""QLink-issued certificates for pyzmq CURVE sockets.

`qlink certs issue` (and `qlink demo`) write a lab CA (`ca.crt`, `ca.crl`), one certificate per name
(`NAME.crt`, carrying the X25519 CURVE public key) and the private keys (`private/NAME.key`, PKCS#8 PEM,
mode 0600). These helpers check the coordinator's certificate with the `openssl` program, the way a
third-party client without QLink would, and turn the keys into the Z85 strings pyzmq wants. Secret keys are
never printed.
"""
import base64
import os
import stat
import subprocess

import zmq
from zmq.utils import z85

# DER prefixes of RFC 8410 X25519 structures; the 32 key bytes follow.
X25519_PRIVATE_PREFIX = bytes.fromhex("302e020100300506032b656e04220420")
X25519_SPKI_PREFIX = bytes.fromhex("302a300506032b656e032100")


class CertificateError(Exception):
    """A certificate or key that cannot be used; the message says what to do."""


def pem_body(path, label):
    """The DER bytes of the first `label` PEM block in `path`."""
    with open(path, encoding="ascii") as handle:
        text = handle.read()
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    if begin not in text:
        raise CertificateError(f"{path}: no {label} PEM block")
    return base64.b64decode(text.split(begin, 1)[1].split(end, 1)[0])


def load_secret_key(path):
    """The 32-byte CURVE secret key in the PKCS#8 file `path`; refuses files readable by others."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise CertificateError(f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")
    der = pem_body(path, "PRIVATE KEY")
    if len(der) != 48 or not der.startswith(X25519_PRIVATE_PREFIX):
        raise CertificateError(f"{path} is not an X25519 CURVE key")
    return der[-32:]


def certificate_curve_key(path):
    """The 32-byte CURVE public key carried by the certificate at `path`."""
    der = pem_body(path, "CERTIFICATE")
    at = der.find(X25519_SPKI_PREFIX)
    if at < 0:
        raise CertificateError(f"{path} does not carry an X25519 CURVE key")
    start = at + len(X25519_SPKI_PREFIX)
    return der[start:start + 32]


def verify_coordinator(certs, coordinator="coordinator"):
    """Checks `certs/COORDINATOR.crt` against the lab CA and CRL with `openssl verify`; raises when refused."""
    command = ["openssl", "verify", "-x509_strict", "-purpose", "sslserver",
               "-CAfile", os.path.join(certs, "ca.crt"), "-crl_check", "-CRLfile", os.path.join(certs, "ca.crl"),
               os.path.join(certs, coordinator + ".crt")]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise CertificateError("coordinator certificate refused: " + (result.stdout + result.stderr).strip())


def curve_socket(socket_type, certs, name, coordinator="coordinator", context=None):
    """A pyzmq socket of `socket_type` set up as CURVE client `name` towards the verified coordinator."""
    verify_coordinator(certs, coordinator)
    server_key = certificate_curve_key(os.path.join(certs, coordinator + ".crt"))
    secret = z85.encode(load_secret_key(os.path.join(certs, "private", name + ".key")))
    socket = (context or zmq.Context.instance()).socket(socket_type)
    socket.curve_secretkey = secret
    socket.curve_publickey = zmq.curve_public(secret)
    socket.curve_serverkey = z85.encode(server_key)
    socket.linger = 0
    return socket
