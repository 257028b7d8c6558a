"""Compares two GGUF files key by key and tensor by tensor (bytes), e.g. bge-gguf's conversion
against llama.cpp's convert_hf_to_gguf.py output for the same checkpoint.

usage (gguf-py from the llama.cpp checkout, numpy from the parity venv):
  PYTHONPATH=.llama/llama.cpp/gguf-py .cache/parity-venv/bin/python scripts/parity/compare-gguf.py A.gguf B.gguf
Exit status 1 when a tensor differs or a key other than general.* differs.
"""
import sys

import numpy as np
from gguf import GGUFReader


def main():
    a, b = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
    keys_a = [k for k in a.fields if not k.startswith("GGUF.")]
    keys_b = [k for k in b.fields if not k.startswith("GGUF.")]
    problems = 0
    for k in keys_a:
        if k not in b.fields:
            print(f"only in A: {k}")
            problems += not k.startswith("general.")
    for k in keys_b:
        if k not in a.fields:
            print(f"only in B: {k}")
            problems += not k.startswith("general.")
    for k in (k for k in keys_a if k in b.fields):
        fa, fb = a.fields[k], b.fields[k]
        if fa.types != fb.types or fa.contents() != fb.contents():
            va, vb = fa.contents(), fb.contents()
            show = (lambda v: v[:5] if isinstance(v, list) else v)
            print(f"value differs: {k}: {show(va)!r} vs {show(vb)!r}")
            problems += not k.startswith("general.")
    common = [k for k in keys_a if k in b.fields]
    print("key order of common keys:", "same" if common == [k for k in keys_b if k in a.fields] else "different")
    ta = {t.name: t for t in a.tensors}
    tb = {t.name: t for t in b.tensors}
    print("tensor order:", "same" if [t.name for t in a.tensors] == [t.name for t in b.tensors] else "different")
    for name in sorted(set(ta) | set(tb)):
        x, y = ta.get(name), tb.get(name)
        if x is None or y is None:
            print(f"tensor only in {'B' if x is None else 'A'}: {name}")
            problems += 1
        elif list(x.shape) != list(y.shape) or x.tensor_type != y.tensor_type:
            print(f"tensor {name}: {list(x.shape)} {x.tensor_type.name} vs {list(y.shape)} {y.tensor_type.name}")
            problems += 1
        elif not np.array_equal(np.asarray(x.data).view(np.uint8).ravel(), np.asarray(y.data).view(np.uint8).ravel()):
            print(f"tensor {name}: bytes differ")
            problems += 1
    print(f"{len(ta)} vs {len(tb)} tensors, {problems} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
