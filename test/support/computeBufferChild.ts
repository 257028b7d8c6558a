/** Child process: loads a GGUF with a given batchTokens and encodes once, so llama.cpp logs its compute buffer size (BGE_GGUF_LOG=info). */
import { FlagModel } from '../../src/api/FlagModel.js';

const [file, batchTokens] = [process.argv[2], Number(process.argv[3])];
const model = await FlagModel.load(file, { batchTokens, threads: 1, parallelDecodes: 1 });
await model.encode(['hello']);
await model.dispose();
