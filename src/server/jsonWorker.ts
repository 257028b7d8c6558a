/** Parses large JSON request bodies off the HTTP thread: {id, bytes} in, {id, value} or {id, error} out. */
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', ({ id, bytes }: { id: number; bytes: Uint8Array }) => {
  try {
    parentPort!.postMessage({ id, value: JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) });
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
