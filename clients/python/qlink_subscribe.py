#!/usr/bin/env python3
"""Subscribes to a QLink coordinator's heralds and status over CURVE with a QLink-issued certificate.

Usage:
  python3 qlink_subscribe.py --endpoint tcp://127.0.0.1:5551 --certs run/demo-…/pki --name alice-node \
      [--coordinator coordinator] [--heralds 10] [--statuses 1] [--timeout-s 20]

Connects a SUB socket to the coordinator's publish endpoint, authenticating with the node's CURVE secret key
(the PKCS#8 X25519 key `qlink certs issue` or `qlink demo` wrote) and pinning the coordinator's key taken from
its certificate, after checking that certificate against the lab CA and CRL with `openssl verify`.
Prints one line per herald (`herald seq attempt outcome detection_ps`) and per status (`status heralds fidelity`)
until it has seen the requested numbers; exits 1 on a timeout. Herald sequence numbers are consecutive:
a gap means the PUB socket dropped messages, which this script reports (`gap first..last`).
"""
import argparse
import os
import sys
import time

import zmq
from zmq.utils import z85

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "python"))
import qlink_wire  # noqa: E402
from qlink_client import certificate_curve_key, load_secret_key, verify_coordinator  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="the coordinator's publish endpoint")
    parser.add_argument("--certs", required=True, help="folder with ca.crt, ca.crl, certificates and private/")
    parser.add_argument("--name", required=True, help="the node certificate to authenticate with")
    parser.add_argument("--coordinator", default="coordinator")
    parser.add_argument("--heralds", type=int, default=10, help="stop after this many heralds")
    parser.add_argument("--statuses", type=int, default=1, help="and this many status messages")
    parser.add_argument("--timeout-s", type=float, default=20)
    args = parser.parse_args()

    verify_coordinator(args.certs, args.coordinator)
    server_key = certificate_curve_key(os.path.join(args.certs, args.coordinator + ".crt"))
    secret = z85.encode(load_secret_key(os.path.join(args.certs, "private", args.name + ".key")))

    socket = zmq.Context.instance().socket(zmq.SUB)
    socket.curve_secretkey = secret
    socket.curve_publickey = zmq.curve_public(secret)
    socket.curve_serverkey = z85.encode(server_key)
    socket.linger = 0
    socket.setsockopt(zmq.SUBSCRIBE, b"herald")
    socket.setsockopt(zmq.SUBSCRIBE, b"status")
    socket.connect(args.endpoint)

    heralds = statuses = 0
    last_seq = None
    deadline = time.monotonic() + args.timeout_s
    while heralds < args.heralds or statuses < args.statuses:
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0 or socket.poll(remaining_ms) == 0:
            print(f"timeout: {heralds} heralds, {statuses} statuses", file=sys.stderr)
            return 1
        frame = socket.recv()
        try:
            message = qlink_wire.decode_broadcast(frame)
        except ValueError as error:
            print(f"malformed message: {error}", file=sys.stderr)
            continue
        if message["type"] == "herald":
            seq = message["seq"]
            if last_seq is not None and seq > last_seq + 1:
                print(f"gap {last_seq + 1}..{seq - 1}")
            last_seq = seq
            body = message["body"]
            print(f"herald {seq} {body['attempt']} {body['outcome']} {body['detection_ps']}")
            heralds += 1
        elif message["type"] == "status":
            body = message["body"]
            print(f"status {body.get('heralds')} {body.get('fidelity')}")
            statuses += 1
    socket.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
