"""Exports a Hugging Face BERT checkpoint to ONNX (fp32) and ONNX Runtime's dynamic int8 quantization,
in the layout transformers.js loads: <out>/onnx/model.onnx and <out>/onnx/model_int8.onnx.

usage: python export_onnx.py <checkpoint-dir> <out-dir>
Needs torch, transformers, onnx, onnxruntime (bench/real/onnx-env.mjs provides them).
"""
import os
import sys

import torch
from transformers import AutoModel


def export_fp32(checkpoint, path):
    model = AutoModel.from_pretrained(checkpoint, torch_dtype=torch.float32).eval()
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    types = torch.zeros_like(ids)
    axes = {0: "batch_size", 1: "sequence_length"}
    torch.onnx.export(
        model,
        (ids, mask, types),
        path,
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
        opset_version=17,
        do_constant_folding=True,
        dynamo=False,
    )


def quantize_int8(src, dst):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # What Optimum's and transformers.js's own int8 exports use: per-tensor dynamic int8 weights.
    quantize_dynamic(src, dst, weight_type=QuantType.QInt8)


def main():
    checkpoint, out = sys.argv[1], sys.argv[2]
    onnx_dir = os.path.join(out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    fp32 = os.path.join(onnx_dir, "model.onnx")
    int8 = os.path.join(onnx_dir, "model_int8.onnx")
    if not os.path.exists(fp32):
        export_fp32(checkpoint, fp32 + ".tmp")
        os.replace(fp32 + ".tmp", fp32)
    if not os.path.exists(int8):
        quantize_int8(fp32, int8 + ".tmp.onnx")
        os.replace(int8 + ".tmp.onnx", int8)
    print(onnx_dir)


if __name__ == "__main__":
    main()
