/**
 * Loads a GGUF with the native engine directly, bypassing validateGguf, and encodes one text:
 * shows what llama.cpp itself does with a file (test/gguf-validate.test.ts expects a signal).
 *   node --import tsx rawLoad.ts <file.gguf>
 */
import { createNativeEngine } from '../../../src/runtime/native.js';

const engine = await createNativeEngine(process.argv[2], { threads: 1, gpu: false });
const ids = engine.tokenize('hello', { addSpecial: true });
await engine.encodeBatch([ids], engine.info.causal ? 'last' : 'cls');
await engine.dispose();
