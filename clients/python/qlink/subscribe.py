"""Heralds and status from a QLink coordinator's publish endpoint, over CURVE with a QLink-issued certificate.

    from qlink.subscribe import Subscriber
    with Subscriber("tcp://127.0.0.1:5551", certs="run/demo-…/pki", name="bob-node") as sub:
        for message in sub.messages(timeout_s=20):
            print(message["type"], message["seq"], message["body"])

As a program (`python -m qlink.subscribe --endpoint … --certs … --name …`) it prints one line per herald
(`herald seq attempt outcome detection_ps`) and per status (`status heralds fidelity`) until it has seen the
requested numbers, and exits 1 on a timeout. Herald sequence numbers are consecutive: a gap means the PUB socket
dropped messages, reported as a `gap` message (`gap first..last` on the command line).
"""
import argparse
import sys
import time

import zmq

from . import wire
from .certs import CertificateError, curve_socket

TOPICS = (b"herald", b"status")


class Subscriber:
    """A SUB socket on the coordinator's publish endpoint, authenticated as certificate `name` from `certs`
    (ca.crt, ca.crl, certificates and private/), pinning the coordinator's key after `openssl verify`."""

    def __init__(self, endpoint, certs, name, coordinator="coordinator", topics=TOPICS):
        self.socket = curve_socket(zmq.SUB, certs, name, coordinator)
        for topic in topics:
            self.socket.setsockopt(zmq.SUBSCRIBE, topic)
        self.socket.connect(endpoint)
        self.malformed = 0
        self._last_herald = None

    def messages(self, timeout_s=None):
        """Yields decoded broadcasts (`wire.decode_broadcast` dicts: type, seq, time_ps, body) and, before a herald
        that follows missing ones, `{"type": "gap", "first": …, "last": …}`. Stops silently when nothing arrives
        for `timeout_s` seconds (None waits forever); malformed frames are counted in `malformed` and skipped."""
        while True:
            if self.socket.poll(None if timeout_s is None else int(timeout_s * 1000)) == 0:
                return
            try:
                message = wire.decode_broadcast(self.socket.recv())
            except ValueError:
                self.malformed += 1
                continue
            if message["type"] == "herald":
                seq = message["seq"]
                if self._last_herald is not None and seq > self._last_herald + 1:
                    yield {"type": "gap", "first": self._last_herald + 1, "last": seq - 1}
                self._last_herald = seq
            yield message

    def close(self):
        self.socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    __iter__ = messages


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m qlink.subscribe",
                                     description="Subscribes to a QLink coordinator's heralds and status over CURVE.")
    parser.add_argument("--endpoint", required=True, help="the coordinator's publish endpoint")
    parser.add_argument("--certs", required=True, help="folder with ca.crt, ca.crl, certificates and private/")
    parser.add_argument("--name", required=True, help="the node certificate to authenticate with")
    parser.add_argument("--coordinator", default="coordinator")
    parser.add_argument("--heralds", type=int, default=10, help="stop after this many heralds")
    parser.add_argument("--statuses", type=int, default=1, help="and this many status messages")
    parser.add_argument("--timeout-s", type=float, default=20)
    args = parser.parse_args(argv)
    try:
        subscriber = Subscriber(args.endpoint, args.certs, args.name, args.coordinator)
    except CertificateError as error:
        print(error, file=sys.stderr)
        return 2
    heralds = statuses = 0
    deadline = time.monotonic() + args.timeout_s
    with subscriber:
        for message in subscriber.messages(timeout_s=args.timeout_s):
            kind = message["type"]
            if kind == "gap":
                print(f"gap {message['first']}..{message['last']}")
            elif kind == "herald":
                body = message["body"]
                print(f"herald {message['seq']} {body['attempt']} {body['outcome']} {body['detection_ps']}")
                heralds += 1
            elif kind == "status":
                body = message["body"]
                print(f"status {body.get('heralds')} {body.get('fidelity')}")
                statuses += 1
            if (heralds >= args.heralds and statuses >= args.statuses) or time.monotonic() > deadline:
                break
    if heralds < args.heralds or statuses < args.statuses:
        print(f"timeout: {heralds} heralds, {statuses} statuses (malformed: {subscriber.malformed})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
