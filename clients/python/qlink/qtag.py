"""Read and write QLink's native time-tag files (`.qtag`, version 1) with numpy.

The layout is the one in docs/formats.md ("QLink native format"), byte for byte: a header with a JSON
document and a CRC-32C, then chunks of delta-coded times, channels, markers and gaps, each with its own
CRC-32C. `read` checks every checksum and every count and refuses a damaged file with a `QTagError` naming the
byte offset (and the chunk); a file whose writer stopped mid-chunk (a torn tail) reads up to its last
complete chunk and reports the tail in `QTagFile.torn_tail`.

    >>> from qlink import qtag
    >>> tags = qtag.read("run/alice.qtag")
    >>> tags.times_ps, tags.channels          # int64 picoseconds, int32 channels
    >>> qtag.write("copy.qtag", tags.times_ps, tags.channels, header=tags.header)
"""
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np

from .crc import crc32c

FILE_MAGIC = b"\x89QTAG\r\n\x1a"
CHUNK_MAGIC = b"QTCK"
FORMAT_VERSION = 1
CHUNK_HEADER = struct.Struct("<4sIIIIIqqIBBHI")  # magic, P, N, E, M, G, min, max, S, W, encoding, reserved, crc
assert CHUNK_HEADER.size == 52
MAX_PAYLOAD_BYTES = 1 << 30  # the Swift reader's guard against absurd lengths in damaged files
DEFAULT_CHUNK_TAGS = 1 << 16

#: One marker: its time (ps) and marker number.
MARKER_DTYPE = np.dtype([("time_ps", "<i8"), ("marker", "<i4")])
#: One gap: start and end (ps), lost events (-1 when unknown), channel and whether the channel is known.
GAP_DTYPE = np.dtype([("start_ps", "<i8"), ("end_ps", "<i8"), ("lost", "<i8"), ("channel", "<i4"),
                      ("has_channel", "?")])
_GAP_RECORD = np.dtype([("start_ps", "<i8"), ("end_ps", "<i8"), ("lost", "<i8"), ("channel", "<i4"),
                        ("flags", "<u4")])


class QTagError(ValueError):
    """A `.qtag` file that cannot be trusted: `offset` is the byte offset of the damage, `chunk` the index of
    the chunk it is in (None for the file header)."""

    def __init__(self, path, offset, problem, chunk=None):
        self.path, self.offset, self.problem, self.chunk = path, offset, problem, chunk
        where = f"chunk {chunk} at byte {offset}" if chunk is not None else f"byte {offset}"
        super().__init__(f"{path}: {where}: {problem}")


@dataclass
class QTagFile:
    """A whole `.qtag` file in numpy arrays."""
    #: The header's JSON document (formatVersion, sourceFormat, device, mode, resolutionPs, channelNames, ...).
    header: dict
    #: Photon times in picoseconds, in file order.
    times_ps: np.ndarray
    #: Photon channels, one per time.
    channels: np.ndarray
    #: Markers (`MARKER_DTYPE`), in file order.
    markers: np.ndarray = field(default_factory=lambda: np.empty(0, MARKER_DTYPE))
    #: Gaps (`GAP_DTYPE`), in file order.
    gaps: np.ndarray = field(default_factory=lambda: np.empty(0, GAP_DTYPE))
    #: (offset, byte count) of an incomplete last chunk a writer left behind, or None for a clean end.
    torn_tail: Optional[Tuple[int, int]] = None
    #: Complete chunks read.
    chunks: int = 0


def read(path) -> QTagFile:
    """Reads the `.qtag` file at `path`; raises `QTagError` for a damaged file."""
    path = os.fspath(path)
    with open(path, "rb") as handle:
        data = handle.read()
    header, position = _read_header(path, data)
    times, channels, markers, gaps = [], [], [], []
    chunk = 0
    torn_tail = None
    while position < len(data):
        remaining = len(data) - position
        if data[position:position + 4] != CHUNK_MAGIC[:min(4, remaining)]:
            if not any(data[position:]):  # a crash can leave zeros at the end of a file
                torn_tail = (position, remaining)
                break
            raise QTagError(path, position, f"expected a chunk (QTCK) after chunk {chunk}: the file is damaged here", chunk)
        if remaining < CHUNK_HEADER.size:
            torn_tail = (position, remaining)
            break
        fields = CHUNK_HEADER.unpack_from(data, position)
        _, P, N, E, M, G, tmin, tmax, S, W, encoding, _reserved, crc = fields
        problem = _chunk_header_problem(P, N, E, M, G, tmin, tmax, S, W, encoding)
        if problem:
            raise QTagError(path, position, "header is invalid: " + problem, chunk)
        start = position + CHUNK_HEADER.size
        if P > len(data) - start:
            torn_tail = (position, remaining)
            break
        payload = data[start:start + P]
        if crc32c(data[position + 4:position + 48] + payload) != crc:
            raise QTagError(path, position, "fails its CRC32C check: the file is damaged here", chunk)
        try:
            chunk_times, chunk_channels, chunk_markers, chunk_gaps = _decode_chunk(payload, N, E, M, G, tmin, tmax, S, W, encoding)
        except ValueError as error:
            raise QTagError(path, position, str(error), chunk) from None
        times.append(chunk_times)
        channels.append(chunk_channels)
        markers.append(chunk_markers)
        gaps.append(chunk_gaps)
        position = start + P
        chunk += 1
    return QTagFile(
        header=header,
        times_ps=np.concatenate(times) if times else np.empty(0, np.int64),
        channels=np.concatenate(channels) if channels else np.empty(0, np.int32),
        markers=np.concatenate(markers) if markers else np.empty(0, MARKER_DTYPE),
        gaps=np.concatenate(gaps) if gaps else np.empty(0, GAP_DTYPE),
        torn_tail=torn_tail, chunks=chunk)


def _read_header(path, data):
    if len(data) < 20:
        raise QTagError(path, len(data), "file is shorter than a QLink tag file header")
    if data[:8] != FILE_MAGIC:
        raise QTagError(path, 0, "not a QLink tag file (bad magic)")
    version, _flags, json_length = struct.unpack_from("<HHI", data, 8)
    if version != FORMAT_VERSION:
        raise QTagError(path, 8, f"format version {version} is not supported (this reader reads version {FORMAT_VERSION})")
    crc_offset = 16 + json_length
    if crc_offset + 4 > len(data):
        raise QTagError(path, 12, f"header JSON of {json_length} bytes runs past the end of the file")
    (crc,) = struct.unpack_from("<I", data, crc_offset)
    if crc32c(data[8:crc_offset]) != crc:
        raise QTagError(path, crc_offset, "header checksum mismatch")
    try:
        header = json.loads(data[16:crc_offset].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise QTagError(path, 16, f"header JSON is invalid: {error}") from None
    if not isinstance(header, dict):
        raise QTagError(path, 16, "header JSON is not an object")
    return header, crc_offset + 4


def _chunk_header_problem(P, N, E, M, G, tmin, tmax, S, W, encoding):
    if P > MAX_PAYLOAD_BYTES:
        return "payload too large"
    if not 1 <= W <= 8:
        return f"time field width {W} is not 1-8"
    if S < 1:
        return "time scale is 0"
    if tmin > tmax:
        return "time range is reversed"
    if W == 8 and E != 0:
        return "exceptions with 8-byte time fields"
    if E > N:
        return "more exceptions than tags"
    if encoding not in (0, 1):
        return f"channel encoding {encoding} is not 0 or 1"
    expected = N * W + 8 * E + N * (4 if encoding else 1) + 12 * M + 32 * G
    if P != expected:
        return f"payload length {P} does not match its counts ({expected})"
    return None


def _decode_chunk(payload, N, E, M, G, tmin, tmax, S, W, encoding):
    raw = np.frombuffer(payload, np.uint8, N * W, 0).reshape(N, W).astype(np.uint64)
    fields = (raw << (np.uint64(8) * np.arange(W, dtype=np.uint64))).sum(axis=1, dtype=np.uint64)
    deltas = fields.view(np.int64).copy()
    if W < 8:
        escaped = fields == np.uint64((1 << (8 * W)) - 1)
        if int(escaped.sum()) != E:
            raise ValueError(f"uses more or fewer time exceptions than it declares ({E})")
        deltas[escaped] = np.frombuffer(payload, "<i8", E, N * W)
    limit = (2 ** 63 - 1) // S
    if N and S > 1 and (deltas.max() > limit or deltas.min() < -limit - (1 if (2 ** 63) % S == 0 else 0)):
        raise ValueError(f"a time delta times the scale {S} ps overflows 64 bits")
    with np.errstate(over="ignore"):
        times = np.int64(tmin) + np.cumsum(deltas * np.int64(S), dtype=np.int64)  # wrap-around, as the format defines
    at = N * W + 8 * E
    channels = np.frombuffer(payload, "<i4" if encoding else np.uint8, N, at).astype(np.int32)
    at += N * (4 if encoding else 1)
    marker_records = np.frombuffer(payload, MARKER_DTYPE, M, at).copy()
    at += 12 * M
    records = np.frombuffer(payload, _GAP_RECORD, G, at)
    gaps = np.empty(G, GAP_DTYPE)
    for name in ("start_ps", "end_ps", "lost", "channel"):
        gaps[name] = records[name]
    gaps["has_channel"] = (records["flags"] & 1) != 0
    events = [times, marker_records["time_ps"], gaps["start_ps"], gaps["end_ps"]]
    if N + M + G:
        lowest = min(int(e.min()) for e in events if len(e))
        highest = max(int(e.max()) for e in events if len(e))
        if (lowest, highest) != (tmin, tmax):
            raise ValueError(f"header states the time range {tmin} to {tmax} ps but its events span {lowest} to {highest} ps")
    return times, channels, marker_records, gaps


def default_header(resolution_ps=1.0, device="python", mode="t2", channel_names=None, metadata=None):
    """A header document for `write`: native source format, the given resolution, device and mode."""
    return {"formatVersion": FORMAT_VERSION, "sourceFormat": "native", "device": device, "mode": mode,
            "resolutionPs": float(resolution_ps), "channelNames": {str(k): v for k, v in (channel_names or {}).items()},
            "metadata": dict(metadata or {})}


def write(path, times_ps, channels, header=None, markers=None, gaps=None, chunk_tags=DEFAULT_CHUNK_TAGS):
    """Writes photons (`times_ps`, `channels`), markers (`MARKER_DTYPE` or (time_ps, marker) pairs) and gaps
    (`GAP_DTYPE`) to a new `.qtag` file at `path`, in the order given.

    Chunks hold `chunk_tags` photons with 8-byte signed deltas (scale 1 ps, so any order of times is kept) and
    Int32 channels; markers and gaps go into the first chunk whose photons reach them, the rest into a last chunk
    without photons, as docs/formats.md requires. `header` defaults to `default_header()`."""
    times = np.ascontiguousarray(times_ps, dtype=np.int64)
    chans = np.ascontiguousarray(channels, dtype=np.int32)
    if times.shape != chans.shape or times.ndim != 1:
        raise ValueError(f"times_ps and channels must be 1-D and of equal length ({times.shape} vs {chans.shape})")
    if np.any(np.asarray(channels) != chans):
        raise ValueError("channels must fit Int32")
    marks = _as_markers(markers)
    gap_records = _as_gap_records(gaps)
    document = dict(header) if header is not None else default_header()
    document["formatVersion"] = FORMAT_VERSION
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
    head = struct.pack("<HHI", FORMAT_VERSION, 0, len(body)) + body
    out = [FILE_MAGIC, head, struct.pack("<I", crc32c(head))]
    marker_done = np.zeros(len(marks), bool)
    gap_done = np.zeros(len(gap_records), bool)
    for start in range(0, len(times), max(1, chunk_tags)):
        chunk_times = times[start:start + chunk_tags]
        reach = int(chunk_times.max())
        take_markers = ~marker_done & (marks["time_ps"] <= reach)
        take_gaps = ~gap_done & (gap_records["start_ps"] <= reach)
        marker_done |= take_markers
        gap_done |= take_gaps
        out.append(_chunk(chunk_times, chans[start:start + chunk_tags], marks[take_markers], gap_records[take_gaps]))
    if not marker_done.all() or not gap_done.all():
        out.append(_chunk(times[:0], chans[:0], marks[~marker_done], gap_records[~gap_done]))
    path = os.fspath(path)
    with open(path, "wb") as handle:
        handle.write(b"".join(out))
        handle.flush()
        os.fsync(handle.fileno())


def _as_markers(markers):
    if markers is None:
        return np.empty(0, MARKER_DTYPE)
    array = np.asarray(markers)
    if array.dtype.names:
        result = np.empty(len(array), MARKER_DTYPE)
        result["time_ps"], result["marker"] = array["time_ps"], array["marker"]
        return result
    result = np.empty(len(array), MARKER_DTYPE)
    if len(array):
        result["time_ps"], result["marker"] = array[:, 0], array[:, 1]
    return result


def _as_gap_records(gaps):
    if gaps is None:
        return np.empty(0, _GAP_RECORD)
    gaps = np.asarray(gaps, GAP_DTYPE)
    records = np.zeros(len(gaps), _GAP_RECORD)
    for name in ("start_ps", "end_ps", "lost", "channel"):
        records[name] = gaps[name]
    records["flags"] = gaps["has_channel"].astype(np.uint32)
    records["channel"][~gaps["has_channel"]] = 0
    return records


def _chunk(times, channels, markers, gap_records):
    events = [times, markers["time_ps"], gap_records["start_ps"], gap_records["end_ps"]]
    if any(len(e) for e in events):
        tmin = min(int(e.min()) for e in events if len(e))
        tmax = max(int(e.max()) for e in events if len(e))
    else:
        tmin = tmax = 0
    previous = np.concatenate([[np.int64(tmin)], times[:-1]]) if len(times) else times
    with np.errstate(over="ignore"):
        deltas = (times - previous).astype("<i8")  # wrap-around, as the reader adds them
    payload = deltas.tobytes() + channels.astype("<i4").tobytes() + markers.astype(MARKER_DTYPE).tobytes() \
        + gap_records.tobytes()
    head = struct.pack("<IIIIIqqIBBH", len(payload), len(times), 0, len(markers), len(gap_records),
                       tmin, tmax, 1, 8, 1, 0)
    return CHUNK_MAGIC + head + struct.pack("<I", crc32c(head + payload)) + payload
