"""Writes a state dict in torch.save's zip layout without torch (torch is not installable here).

It mirrors torch/serialization.py's _save: a protocol-2 pickle of an OrderedDict (with a
_metadata attribute, as nn.Module.state_dict() returns) whose tensors reduce to
torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict()),
storages as persistent ids ('storage', torch.<Type>Storage, key, 'cpu', numel), then a zip of
<archive>/data.pkl, byteorder, data/<key> (64-byte aligned), version and .data/serialization_id.

usage: torch_save_like.py OUT.pt ARCHIVE NAME:DTYPE:DIM0xDIM1:RAWFILE [--transpose NAME] ...
DTYPE is float32 | float16 | bfloat16; RAWFILE holds the values as little-endian float32;
--transpose stores NAME as the transpose of a contiguous storage (stride (1, rows)).
"""
import collections
import io
from math import prod
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = utils


def _rebuild_tensor_v2(*args):
    raise RuntimeError("never called while writing")


_rebuild_tensor_v2.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2
STORAGES = {}
for name in ("FloatStorage", "HalfStorage", "BFloat16Storage"):
    cls = type(name, (), {"__module__": "torch"})
    setattr(torch, name, cls)
    STORAGES[name] = cls


class Storage:
    def __init__(self, key, kind, data, numel):
        self.key, self.kind, self.data, self.numel = key, kind, data, numel


class Tensor:
    def __init__(self, storage, size, stride):
        self.storage, self.size, self.stride = storage, size, stride

    def __reduce_ex__(self, protocol):
        hooks = collections.OrderedDict()
        return (_rebuild_tensor_v2, (self.storage, 0, self.size, self.stride, False, hooks))


def encode(values, dtype):
    out = bytearray()
    for v in values:
        f32 = struct.pack("<f", v)
        if dtype == "float32":
            out += f32
        elif dtype == "float16":
            out += struct.pack("<e", v)
        else:  # bfloat16: the upper half of the float32, rounded to nearest even
            bits = struct.unpack("<I", f32)[0]
            bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
            out += struct.pack("<H", bits)
    return bytes(out)


def main(argv):
    out, archive, specs = argv[0], argv[1], argv[2:]
    transposed = {specs[i + 1] for i, s in enumerate(specs) if s == "--transpose"}
    specs = [s for i, s in enumerate(specs) if s != "--transpose" and (i == 0 or specs[i - 1] != "--transpose")]
    state = collections.OrderedDict()
    state._metadata = collections.OrderedDict([("", {"version": 1})])
    storages = []
    for spec in specs:
        name, dtype, dims, raw = spec.split(":")
        size = tuple(int(d) for d in dims.split("x"))
        with open(raw, "rb") as f:
            data = f.read()
        values = None if dtype == "float32" and name not in transposed else list(struct.unpack("<%df" % (len(data) // 4), data))
        kind = {"float32": "FloatStorage", "float16": "HalfStorage", "bfloat16": "BFloat16Storage"}[dtype]
        if name in transposed and len(size) == 2:
            rows, cols = size  # store column-major: the storage holds the transpose, contiguous
            values = [values[r * cols + c] for c in range(cols) for r in range(rows)]
            stride = (1, rows)
        else:
            stride = tuple(prod(size[i + 1:]) for i in range(len(size)))
        payload = data if values is None else encode(values, dtype)  # float32 input is already the storage's bytes
        storage = Storage(str(len(storages)), STORAGES[kind], payload, len(data) // 4)
        storages.append(storage)
        state[name] = Tensor(storage, size, stride)

    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=2)
    pickler.persistent_id = lambda obj: ("storage", obj.kind, obj.key, "cpu", obj.numel) if isinstance(obj, Storage) else None
    pickler.dump(state)

    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        def put(name, payload, align=False):
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            if align:  # torch pads the local header's extra field ('FB') so data starts on 64 bytes
                header = 30 + len(info.filename.encode())
                pad = (64 - (z.fp.tell() + header + 4) % 64) % 64
                info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
            z.writestr(info, payload)

        put("data.pkl", buf.getvalue())
        put("byteorder", b"little")
        for s in storages:
            put(f"data/{s.key}", s.data, align=True)
        put("version", b"3\n")
        put(".data/serialization_id", b"0123456789")


if __name__ == "__main__":
    main(sys.argv[1:])
