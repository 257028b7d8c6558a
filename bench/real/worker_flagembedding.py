"""FlagEmbedding's FlagModel (torch, CPU) on the real checkpoint, mean pooling; same job/result protocol
as the Node workers (bench/child.mjs): prints one line `BENCH_RESULT <json>`."""
import json
import resource
import sys
import time

import torch


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        job = json.load(f)
    torch.set_num_threads(job["threads"])
    torch.set_num_interop_threads(1)
    read = lambda p: json.load(open(p, encoding="utf-8"))
    passages, queries, long = read(job["passagesPath"]), read(job["queriesPath"]), read(job["longPath"])
    t0 = time.perf_counter()
    from FlagEmbedding import FlagModel

    model = FlagModel(job["modelDir"], pooling_method="mean", normalize_embeddings=True, use_fp16=False, devices="cpu")
    load_ms = (time.perf_counter() - t0) * 1000
    kw = dict(batch_size=job["batchSize"], max_length=512)

    def timed(fn):
        t = time.perf_counter()
        v = fn()
        return v, (time.perf_counter() - t) * 1000

    model.encode_corpus(passages[: job["warmup"]], **kw)
    p, p_ms = timed(lambda: model.encode_corpus(passages, **kw))
    q, q_ms = timed(lambda: model.encode_queries(queries, **kw))
    _, l_ms = timed(lambda: model.encode_corpus(long, **kw))
    for t in job["latencyTexts"][:24]:  # untimed round first, as the Node workers do
        model.encode_queries([t], **kw)
    lat = [timed(lambda: model.encode_queries([t], **kw))[1] for t in job["latencyTexts"]]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = dict(info={"torch": torch.__version__}, loadMs=load_ms, passagesMs=p_ms, queriesMs=q_ms, longMs=l_ms,
               latencyMs=lat, vectors=p[: job["vectorsOf"]].tolist(), queryVectors=q[:3].tolist() if job["vectorsOf"] else [],
               count=len(p), maxRssMiB=rss)
    sys.stdout.write("BENCH_RESULT " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
