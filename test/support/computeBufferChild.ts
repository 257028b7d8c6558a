/**
 * Child process: loads a GGUF with a given batchTokens and encodes once, so llama.cpp logs its compute
 * buffer size (BGE_GGUF_LOG=info). The text is long enough (≥ 64 tokens) for the engine's main context;
 * shorter decodes go to a small plain-attention one.
 */
import { FlagModel } from '../../src/api/FlagModel.js';

const [file, batchTokens] = [process.argv[2], Number(process.argv[3])];
const model = await FlagModel.load(file, { batchTokens, threads: 1, parallelDecodes: 1 });
await model.encode(['hello '.repeat(100)]);
await model.dispose();
