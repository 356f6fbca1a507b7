"""Test peer: connects a DEALER to a QLink ROUTER, sends a hello and a tag batch built with numpy,
reads the acknowledgement, herald, rate schedule and rate proposal the ROUTER answers with, answers the
proposal (ready from link time 5 000 000 ps), and prints what it read as JSON.
Driven by Tests/ProtocolTests/PythonRoundTripTests.swift with the venv that has `qlink` installed."""
import json
import sys

import zmq

from qlink import wire

endpoint = sys.argv[1]
ctx = zmq.Context.instance()
dealer = ctx.socket(zmq.DEALER)
dealer.setsockopt(zmq.LINGER, 1000)
dealer.setsockopt(zmq.RCVTIMEO, 600000)  # only guards against a hang: the Swift side answers on a loaded machine too
dealer.connect(endpoint)
hello = json.dumps({"node": "py-node", "lab": "python", "protocol_version": wire.VERSION,
                    "capabilities": ["tags"], "software": "pyzmq"}).encode()
dealer.send(wire.encode("hello", 77, 1, hello))
dealer.send(wire.encode_tags(77, 2, [1000, 2500, 2600, 9_000_000_000_000], [1, 2, 3, -4]))
out = []
for _ in range(4):
    msg = wire.decode(dealer.recv())
    out.append(msg)
proposal = out[-1]["body"]
dealer.send(wire.encode_rate_answer(77, 3, proposal["change_id"], 5_000_000))
print(json.dumps(out))
dealer.close()
ctx.term()
