export * from './types.js';
export { readGguf, readTensorF32, metaValue, GGUF_MAGIC, GGUF_DEFAULT_ALIGNMENT } from './reader.js';
export { writeGguf, type WriteGgufOptions, type WritableTensor } from './writer.js';
export {
  f32ToF16Bits,
  f16BitsToF32,
  f32ToBf16Bits,
  bf16BitsToF32,
  quantizeF16,
  dequantizeF16,
  quantizeQ8_0,
  dequantizeQ8_0,
  encodeTensor,
  decodeTensor,
  roundTripValues,
  tensorByteLength,
  Q8_0_BLOCK,
  Q8_0_BLOCK_BYTES,
} from './quantize.js';
