"""CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF), as the wire
protocol and `.qtag` files use it. Check value: crc32c(b"123456789") == 0xE3069283.

Long inputs are cut into equal blocks whose CRCs numpy computes side by side, then joined with the CRC's
linearity (a block's CRC shifted past the bytes after it, like zlib's crc32_combine), so megabytes take
milliseconds instead of a byte-by-byte Python loop. Without numpy (the wire codec needs only the standard
library) every input takes the byte loop.
"""
import math

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy is a declared dependency of the package
    np = None

POLYNOMIAL = 0x82F63B78
_SHORT = 4096  # below this the byte loop is as fast


def _make_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ POLYNOMIAL if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
_NP_TABLE = np.array(_TABLE, dtype=np.uint32) if np is not None else None


def _bytewise(data, register):
    for b in data:
        register = _TABLE[(register ^ b) & 0xFF] ^ (register >> 8)
    return register


def _apply(columns, values):
    """The GF(2) 32x32 matrix with `columns` applied to every register in `values`."""
    out = np.zeros_like(values)
    for bit in range(32):
        out ^= np.where((values >> np.uint32(bit)) & np.uint32(1) != 0, columns[bit], np.uint32(0))
    return out


def crc32c(data):
    """The CRC-32C of `data` (bytes-like)."""
    view = memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) else data
    n = len(view)
    if n < _SHORT or np is None:
        return _bytewise(bytes(view), 0xFFFFFFFF) ^ 0xFFFFFFFF
    message = np.frombuffer(view, dtype=np.uint8)
    block = max(64, math.isqrt(n) // 4)
    blocks = -(-n // block)
    blocks += blocks % 2  # an even count keeps the pairwise joining simple
    # Leading zero bytes leave a zero register unchanged, so the message is padded in front and run from register 0;
    # the initial value 0xFFFFFFFF is the same as complementing the first four message bytes.
    padded = np.zeros(blocks * block, dtype=np.uint8)
    padded[-n:] = message
    padded[-n:-n + 4] ^= 0xFF
    columns = padded.reshape(blocks, block).T.astype(np.uint32)  # byte i of every block, contiguous
    registers = np.zeros(blocks, dtype=np.uint32)
    for byte in columns:
        registers = _NP_TABLE[(registers ^ byte) & np.uint32(0xFF)] ^ (registers >> np.uint32(8))
    # `shift` advances a register over `length` zero bytes; joining A‖B is shift(crc(A)) ^ crc(B).
    shift = np.array([1 << bit for bit in range(32)], dtype=np.uint32)
    for _ in range(block):
        shift = _NP_TABLE[shift & 0xFF] ^ (shift >> np.uint32(8))
    while len(registers) > 1:
        if len(registers) % 2:
            registers = np.concatenate([np.zeros(1, np.uint32), registers])
        registers = _apply(shift, registers[0::2]) ^ registers[1::2]
        shift = _apply(shift, shift)
    return int(registers[0]) ^ 0xFFFFFFFF
