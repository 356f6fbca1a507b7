#!/usr/bin/env python3
"""A pyzmq client that authenticates to a QLink coordinator with a QLink-issued certificate.

Usage (after `pip install ./clients/python`):
  python3 qlink_client.py --endpoint tcp://127.0.0.1:5550 --certs certs/loopback --name alice-node \
      [--coordinator coordinator] [--message hello]

`qlink.certs.curve_socket` verifies the coordinator certificate against the lab CA and CRL (with the `openssl`
program, the way a third-party client without QLink would), takes the CURVE server key from that certificate and
loads this node's CURVE secret key from the PKCS#8 key file written by `qlink certs issue` (mode 0600). The
example sends one message on a DEALER socket and prints the reply. The secret key is never printed.
"""
import argparse
import sys

import zmq

from qlink.certs import CertificateError, curve_socket


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--certs", required=True, help="folder with ca.crt, ca.crl and certificates")
    parser.add_argument("--name", required=True, help="this node's name")
    parser.add_argument("--coordinator", default="coordinator")
    parser.add_argument("--message", default="hello")
    parser.add_argument("--timeout-ms", type=int, default=5000)
    args = parser.parse_args()
    try:
        socket = curve_socket(zmq.DEALER, args.certs, args.name, args.coordinator)
    except CertificateError as error:
        print(error, file=sys.stderr)
        return 2
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
