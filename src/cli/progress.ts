import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr (callers show it only when stderr is a terminal). */
export function progressBar(total: number): { update(done: number): void; stop(): void } {
  const bar = new SingleBar({ stream: process.stderr, format: 'embedding [{bar}] {value}/{total} texts | {eta_formatted} left', hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
