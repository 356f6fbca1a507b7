"""QLink wire protocol (version 3) for Python lab scripts: encode and decode messages.

Every message is one frame: a 48-byte little-endian header followed by the payload (a broadcast puts a 6-byte
topic in front). Send with `socket.send(encode(...))`, read with `decode(socket.recv())`. See docs/protocol.md.
Only the standard library is needed; numpy is used for tag batches when available.
"""
import json
import struct

from .crc import crc32c  # noqa: F401  (part of this module's interface)

VERSION = 3
HEADER = struct.Struct("<2sBBHHQQqIIII")  # magic, version, type, header length, flags, session, seq, time, len, crc, count, reserved
assert HEADER.size == 48

TYPES = {
    "hello": 1, "welcome": 2, "tag-batch": 3, "acknowledgement": 4, "heartbeat": 5, "herald": 6,
    "status": 7, "error": 8, "herald-request": 11,
    "rate-proposal": 12, "rate-answer": 13, "rate-commit": 14, "rate-abort": 15, "rate-applied": 16, "rate-schedule": 17,
}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
OUTCOMES = {0: "failure", 1: "psi+", 2: "psi-"}
ACK_STATUS = {0: "accepted", 1: "duplicate", 2: "resend-from", 3: "corrupt"}
TAG_DTYPE = [("time_ps", "<i8"), ("channel", "<i4")]
RATE_VERDICTS = {1: "ready", 2: "no-rate", 3: "invalid-rate"}
RATE_ABORT_REASONS = {1: "timeout", 2: "refused", 3: "coordinator-restart"}
RATE_OUTCOMES = {1: "applied", 2: "released", 3: "failed"}
_RATE_CHANGE = struct.Struct("<Qqd")  # change_id, at_ps, rate_hz (a commit, or one entry of a schedule)


def encode(type_name, session, seq, payload=b"", time_ps=0, count=0):
    """Returns the one frame (header, then payload) of a message of type `type_name`."""
    payload = bytes(payload)
    header = HEADER.pack(b"QL", VERSION, TYPES[type_name], 48, 0, session, seq, time_ps,
                         len(payload), crc32c(payload), count, 0)
    return header + payload


def encode_tags(session, seq, times_ps, channels):
    """A tag-batch message from sequences of times (ps) and channels."""
    payload = b"".join(struct.pack("<qi", t, c) for t, c in zip(times_ps, channels))
    first = times_ps[0] if len(times_ps) else 0
    return encode("tag-batch", session, seq, payload, time_ps=first, count=len(times_ps))


def encode_rate_answer(session, seq, change_id, earliest_ps, verdict="ready"):
    """A node's answer to a rate proposal: the earliest link time (ps) it can apply the change at, where it now
    holds its source, or why it cannot ("no-rate", "invalid-rate")."""
    code = {v: k for k, v in RATE_VERDICTS.items()}[verdict]
    return encode("rate-answer", session, seq, struct.pack("<QqB7x", change_id, earliest_ps, code))


def encode_rate_applied(session, seq, change_id, effective_ps, outcome="applied"):
    """A node's confirmation of a decided rate change: "applied" (at effective_ps), "released" or "failed"."""
    code = {v: k for k, v in RATE_OUTCOMES.items()}[outcome]
    return encode("rate-applied", session, seq, struct.pack("<QqB7x", change_id, effective_ps, code))


def _rate_change(payload, offset=0):
    change_id, at_ps, rate_hz = _RATE_CHANGE.unpack_from(payload, offset)
    return {"change_id": change_id, "at_ps": at_ps, "rate_hz": rate_hz}


TOPIC_LENGTH = 6  # b"herald" or b"status"


def decode_broadcast(frame):
    """Decodes a broadcast (one frame: 6-byte topic, header, payload); raises ValueError when malformed."""
    frame = bytes(frame)
    if len(frame) < TOPIC_LENGTH + 48:
        raise ValueError("short broadcast frame")
    message = decode(frame[TOPIC_LENGTH:])
    if frame[:TOPIC_LENGTH] != message["type"].encode("ascii"):
        raise ValueError("topic %r does not name the message type %s" % (frame[:TOPIC_LENGTH], message["type"]))
    return message


def decode(frame):
    """Decodes one frame (header, then payload) into a dict; raises ValueError for malformed messages.
    A list from `recv_multipart` is accepted when it holds exactly one frame."""
    if isinstance(frame, (list, tuple)):
        if len(frame) != 1:
            raise ValueError("expected 1 frame, got %d" % len(frame))
        frame = frame[0]
    frame = bytes(frame)
    if len(frame) < 48:
        raise ValueError("short header")
    magic, version, mtype, hlen, _flags, session, seq, time_ps, plen, crc, count, _ = HEADER.unpack_from(frame)
    if hlen < 48 or hlen > len(frame):
        raise ValueError("bad header length %d" % hlen)
    payload = frame[hlen:]
    if magic != b"QL":
        raise ValueError("bad magic")
    if version != VERSION:
        raise ValueError("protocol version %d, expected %d" % (version, VERSION))
    if plen != len(payload) or crc32c(payload) != crc:
        raise ValueError("payload length or CRC32C mismatch")
    kind = TYPE_NAMES.get(mtype)
    if kind is None:
        raise ValueError("unknown type %d" % mtype)
    msg = {"type": kind, "session": session, "seq": seq, "time_ps": time_ps, "count": count}
    if kind in ("hello", "status"):
        msg["body"] = json.loads(payload.decode("utf-8"))
    elif kind == "herald":
        attempt, outcome, detection = struct.unpack("<QB7xq", payload)
        msg["body"] = {"attempt": attempt, "outcome": OUTCOMES[outcome], "detection_ps": detection}
    elif kind == "acknowledgement":
        s, q, status, credit, resend = struct.unpack("<QQB3xIQ", payload)
        msg["body"] = {"session": s, "seq": q, "status": ACK_STATUS[status], "credit": credit, "resend_from": resend}
    elif kind == "welcome":
        last, credit, next_herald, run_id = struct.unpack("<QI4xQQ", payload)
        msg["body"] = {"last_accepted": last, "credit": credit, "next_herald": next_herald, "run_id": run_id}
    elif kind == "tag-batch":
        try:
            import numpy as np
            msg["body"] = np.frombuffer(payload, dtype=TAG_DTYPE)
        except ImportError:
            msg["body"] = [struct.unpack_from("<qi", payload, 12 * i) for i in range(len(payload) // 12)]
    elif kind == "rate-proposal":
        change_id, rate_hz = struct.unpack("<Qd", payload)
        msg["body"] = {"change_id": change_id, "rate_hz": rate_hz}
    elif kind in ("rate-answer", "rate-applied"):
        change_id, time_value, code = struct.unpack("<QqB7x", payload)
        if kind == "rate-answer":
            msg["body"] = {"change_id": change_id, "earliest_ps": time_value, "verdict": RATE_VERDICTS[code]}
        else:
            msg["body"] = {"change_id": change_id, "effective_ps": time_value, "outcome": RATE_OUTCOMES[code]}
    elif kind == "rate-commit":
        msg["body"] = _rate_change(payload)
    elif kind == "rate-abort":
        change_id, code = struct.unpack("<QB7x", payload)
        msg["body"] = {"change_id": change_id, "reason": RATE_ABORT_REASONS[code]}
    elif kind == "rate-schedule":
        open_id, open_rate, last_decided, n = struct.unpack_from("<QdQI4x", payload)
        if len(payload) != 32 + 24 * n:
            raise ValueError("rate-schedule of %d changes has %d bytes" % (n, len(payload)))
        msg["body"] = {"open_change_id": open_id, "open_rate_hz": open_rate, "last_decided_change_id": last_decided,
                       "changes": [_rate_change(payload, 32 + 24 * i) for i in range(n)]}
    elif kind == "error":
        code, = struct.unpack_from("<H", payload)
        msg["body"] = {"code": code, "text": payload[2:].decode("utf-8", "replace")}
    else:
        msg["body"] = payload
    return msg
