// BGE-M3's output heads (torch.nn.Linear over every token's hidden state), off the JS thread.
#pragma once

#include <napi.h>

namespace bge {

// applyLinear(rows: Float32Array, count, weight: Float32Array (out x in), bias: Float32Array, threads)
//   -> Promise<Float32Array> of count x out: rows · weightᵀ + bias.
Napi::Value ApplyLinear(const Napi::CallbackInfo& info);

}  // namespace bge
