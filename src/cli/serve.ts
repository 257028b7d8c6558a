import { createEmbeddingServer } from '../server/server.js';
import { intFlag, parseArgs, stringFlag } from './args.js';
import { loadModelFromArgs } from './loadModel.js';

/** `bge-gguf serve [--port 8080] [--host 127.0.0.1] [--model …]` */
export async function runServe(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['cpu']);
  const port = intFlag(args, 'port') ?? 8080;
  const host = stringFlag(args, 'host') ?? '127.0.0.1';
  const model = await loadModelFromArgs(args);
  const server = createEmbeddingServer(model, { modelName: stringFlag(args, 'model') ?? 'default' });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  console.log(`bge-gguf: serving ${model.dimension}-dim embeddings (${model.engineKind}) on http://${host}:${port} — POST /embed, POST /v1/embeddings, GET /health`);
  const stop = () => {
    server.close();
    void model.dispose().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>(() => {}); // runs until a signal
}
