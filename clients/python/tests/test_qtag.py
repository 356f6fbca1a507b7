"""`.qtag` files: read what the Swift side wrote, write what the Swift side reads, refuse damaged files."""
import struct

import numpy as np
import pytest

from qlink import qtag


def read_csv(path):
    """`qlink tags convert`'s CSV: `channel,time_ps` photons, `M<n>,time` markers, `G,start,end,lost,channel` gaps."""
    times, channels, markers, gaps = [], [], [], []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("channel"):
            continue
        fields = line.split(",")
        if fields[0].startswith("M"):
            markers.append((int(fields[1]), int(fields[0][1:])))
        elif fields[0] == "G":
            gaps.append((int(fields[1]), int(fields[2]), int(fields[3]) if fields[3] else -1,
                         int(fields[4]) if fields[4] else 0, bool(fields[4])))
        else:
            channels.append(int(fields[0]))
            times.append(int(fields[1]))
    return np.array(times, np.int64), np.array(channels, np.int32), markers, gaps


def time_order(times, channels):
    order = np.argsort(times, kind="stable")
    return times[order], channels[order]


def test_reads_simulated_files_like_the_swift_csv_conversion(simulated, qlink_tool, tmp_path):
    photons = 0
    for path in simulated:
        tags = qtag.read(path)
        assert tags.times_ps.dtype == np.int64 and tags.channels.dtype == np.int32
        assert tags.torn_tail is None
        assert tags.header["formatVersion"] == 1
        csv = tmp_path / (path.stem + ".csv")
        qlink_tool("tags", "convert", path, csv, "--quiet", "--force")
        times, channels, markers, gaps = read_csv(csv)
        assert len(tags.times_ps) == len(times)
        ours = time_order(tags.times_ps, tags.channels)
        assert np.array_equal(ours[0], times)
        assert np.array_equal(ours[1], channels)
        assert sorted(map(tuple, tags.markers.tolist())) == sorted(markers)
        assert sorted(map(tuple, tags.gaps.tolist())) == sorted(gaps)
        photons += len(times)
    assert photons > 0, "the simulated run produced no photons to compare"


def test_round_trip_of_a_simulated_file_is_exact(simulated, tmp_path):
    original = qtag.read(simulated[0])
    copy = tmp_path / "copy.qtag"
    qtag.write(copy, original.times_ps, original.channels, header=original.header, markers=original.markers,
               gaps=original.gaps, chunk_tags=1000)
    again = qtag.read(copy)
    assert again.header == original.header
    assert np.array_equal(again.times_ps, original.times_ps)
    assert np.array_equal(again.channels, original.channels)
    assert np.array_equal(again.markers, original.markers)
    assert np.array_equal(again.gaps, original.gaps)


def info(qlink_tool, path):
    lines = qlink_tool("tags", "info", path).stdout.splitlines()
    return {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines if ":" in line}


def test_swift_reads_what_python_writes(qlink_tool, tmp_path):
    rng = np.random.default_rng(5)
    times = np.cumsum(rng.integers(1, 2_000_000, 5000)).astype(np.int64) - 10**6
    channels = rng.choice(np.array([1, 2, -3, 300], np.int32), 5000)
    markers = np.array([(times[10], 1), (times[4000], 2), (times[-1] + 50, 1)], qtag.MARKER_DTYPE)
    gaps = np.array([(times[100], times[101], 12, 2, True), (times[2000], times[2001], -1, 0, False)], qtag.GAP_DTYPE)
    path = tmp_path / "python.qtag"
    header = qtag.default_header(resolution_ps=1, device="pytest", channel_names={1: "alice-h"})
    qtag.write(path, times, channels, header=header, markers=markers, gaps=gaps, chunk_tags=777)
    described = info(qlink_tool, path)
    assert described["format"] == "native (converted from native)" or described["format"].startswith("native")
    assert described["device"] == "pytest"
    assert described["photons"] == "5000"
    assert described["markers"].split()[0] == "3"
    assert described["gaps"].split()[0] == "2"
    assert described["sorted"] == "yes"
    for channel in (1, 2, -3, 300):
        count = int(np.sum(channels == channel))
        key = f"channel {channel} alice-h" if channel == 1 else f"channel {channel}"
        assert described[key].split()[0] == str(count)
    assert "tail" not in described and "damaged" not in described
    csv = tmp_path / "python.csv"
    qlink_tool("tags", "convert", path, csv, "--quiet", "--force")
    back_times, back_channels, back_markers, back_gaps = read_csv(csv)
    assert np.array_equal(back_times, times) and np.array_equal(back_channels, channels)
    assert sorted(back_markers) == sorted(map(tuple, markers.tolist()))
    assert sorted(back_gaps) == sorted(map(tuple, gaps.tolist()))


def test_unsorted_times_and_wide_deltas_round_trip(qlink_tool, tmp_path):
    times = np.array([5, -(2**62), 2**62, 3, 3, 0], np.int64)
    channels = np.array([0, 1, 2, 3, 4, 5], np.int32)
    path = tmp_path / "unsorted.qtag"
    qtag.write(path, times, channels)
    tags = qtag.read(path)
    assert np.array_equal(tags.times_ps, times) and np.array_equal(tags.channels, channels)
    assert info(qlink_tool, path)["photons"] == "6"


def sample(tmp_path, name="sample.qtag"):
    path = tmp_path / name
    qtag.write(path, np.arange(0, 1000, 10, dtype=np.int64), np.ones(100, np.int32), chunk_tags=40)
    return path, bytearray(path.read_bytes())


def header_end(data):
    (json_length,) = struct.unpack_from("<I", data, 12)
    return 20 + json_length


def test_refuses_a_file_that_is_not_qtag(tmp_path):
    path = tmp_path / "plain.qtag"
    path.write_bytes(b"channel,time_ps\n1,2\n" * 3)
    with pytest.raises(qtag.QTagError, match="bad magic"):
        qtag.read(path)


def test_refuses_a_damaged_header(tmp_path):
    path, data = sample(tmp_path)
    data[20] ^= 0x01  # inside the JSON
    path.write_bytes(data)
    with pytest.raises(qtag.QTagError, match="header checksum mismatch"):
        qtag.read(path)


def test_refuses_a_chunk_with_a_flipped_payload_bit_naming_chunk_and_offset(tmp_path, qlink_tool):
    path, data = sample(tmp_path)
    first = header_end(data)
    (payload_bytes,) = struct.unpack_from("<I", data, first + 4)
    second = first + 52 + payload_bytes
    data[second + 60] ^= 0x10
    path.write_bytes(data)
    with pytest.raises(qtag.QTagError, match="CRC32C") as caught:
        qtag.read(path)
    assert caught.value.chunk == 1 and caught.value.offset == second
    assert qlink_tool("tags", "info", path, check=False).returncode != 0  # the Swift reader refuses it too


def test_refuses_garbage_between_chunks(tmp_path):
    path, data = sample(tmp_path)
    first = header_end(data)
    data[first:first + 4] = b"XXXX"
    path.write_bytes(data)
    with pytest.raises(qtag.QTagError, match="expected a chunk") as caught:
        qtag.read(path)
    assert caught.value.offset == first


def test_refuses_inconsistent_counts(tmp_path):
    path, data = sample(tmp_path)
    first = header_end(data)
    struct.pack_into("<I", data, first + 8, 41)  # N no longer matches P
    path.write_bytes(data)
    with pytest.raises(qtag.QTagError, match="does not match its counts"):
        qtag.read(path)


def test_reports_a_torn_tail_and_keeps_the_complete_chunks(tmp_path, qlink_tool):
    path, data = sample(tmp_path)
    path.write_bytes(data[:-7])
    tags = qtag.read(path)
    assert len(tags.times_ps) == 80 and tags.chunks == 2
    offset, size = tags.torn_tail
    assert info(qlink_tool, path)["tail"].startswith(f"torn at byte {offset} ({size} bytes")


def test_crc32c_matches_the_bytewise_definition():
    from qlink.crc import POLYNOMIAL, crc32c

    def reference(data):
        register = 0xFFFFFFFF
        for byte in data:
            register ^= byte
            for _ in range(8):
                register = (register >> 1) ^ POLYNOMIAL if register & 1 else register >> 1
        return register ^ 0xFFFFFFFF

    assert crc32c(b"123456789") == 0xE3069283
    rng = np.random.default_rng(3)
    for length in (0, 1, 4095, 4096, 4097, 10_007, 70_000):
        data = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        assert crc32c(data) == reference(data), length
