#!/usr/bin/env python3
"""Writes a random-weight Llama GGUF of a realistic shape, for throughput benchmarks only.

The models in ../shared are tiny (stories260K: n_embd 64, head_dim 8), so their per-token work
(attention over llama.cpp's minimum of 256 KV cells with 8-wide dot products, and the logits) is
not amortised by batching: even llama.cpp's own llama-batched-bench gains only ~1.1-1.4x from
8-16 parallel sequences on them. Real deployed models are weight-bandwidth bound at one sequence,
which is what parallel decoding pays off for. Nothing that size can be downloaded here, so this
writes one with llama.cpp's own GGUF writer (gguf-py from the llama.cpp source that node-llama-cpp
bundles) and the tokenizer of a donor GGUF (stories260K's 512-token SPM vocabulary).

The weights are random (normal, std 0.02; norms 1), so the text is gibberish: use it to measure
speed, never quality.

    python3 bench/make-synthetic-model.py --gguf-py DIR --donor stories260K.gguf --out model.gguf \
        [--n-embd 1024] [--n-layer 8] [--n-ff 2816] [--n-head 16] [--n-head-kv 4] [--dtype f16|f32] [--seed 0]
        [--n-vocab N]

--n-vocab pads the donor's vocabulary with unused tokens (never produced by the tokenizer) up to
N entries, so the logits have a real model's width (Llama 3: 128k, Gemma: 256k) while the text
tokenizes as with the donor: this measures the distribution math at those widths.
"""
import argparse
import sys

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--gguf-py", required=True, help="llama.cpp's gguf-py folder")
p.add_argument("--donor", required=True, help="GGUF whose tokenizer is copied")
p.add_argument("--out", required=True)
p.add_argument("--n-embd", type=int, default=1024)
p.add_argument("--n-layer", type=int, default=8)
p.add_argument("--n-ff", type=int, default=2816)
p.add_argument("--n-head", type=int, default=16)
p.add_argument("--n-head-kv", type=int, default=4)
p.add_argument("--n-ctx", type=int, default=4096)
p.add_argument("--dtype", choices=["f16", "f32"], default="f16", help="type of the weight matrices")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--n-vocab", type=int, default=0, help="pad the vocabulary with unused tokens to this size")
a = p.parse_args()
sys.path.insert(0, a.gguf_py)
import gguf  # noqa: E402

donor = gguf.GGUFReader(a.donor)


def field(name):
    f = donor.fields.get(name)
    return None if f is None else f.contents()


tokens = list(field("tokenizer.ggml.tokens"))
scores = list(field("tokenizer.ggml.scores"))
token_types = list(field("tokenizer.ggml.token_type"))
for i in range(len(tokens), a.n_vocab):
    tokens.append(f"<unused_{i}>")
    scores.append(-1e9)
    token_types.append(int(gguf.TokenType.UNUSED))
n_vocab = len(tokens)
rng = np.random.default_rng(a.seed)
w = gguf.GGUFWriter(a.out, "llama")
w.add_name(f"synthetic-llama-{a.n_embd}x{a.n_layer}-v{n_vocab}")
w.add_context_length(a.n_ctx)
w.add_embedding_length(a.n_embd)
w.add_block_count(a.n_layer)
w.add_feed_forward_length(a.n_ff)
w.add_head_count(a.n_head)
w.add_head_count_kv(a.n_head_kv)
w.add_rope_dimension_count(a.n_embd // a.n_head)
w.add_layer_norm_rms_eps(1e-5)
w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if a.dtype == "f16" else gguf.LlamaFileType.ALL_F32)
w.add_tokenizer_model(field("tokenizer.ggml.model"))
w.add_token_list(tokens)
w.add_token_scores(scores)
w.add_token_types(token_types)
for key, add in (("bos", w.add_bos_token_id), ("eos", w.add_eos_token_id), ("unknown", w.add_unk_token_id)):
    v = field(f"tokenizer.ggml.{key}_token_id")
    if v is not None:
        add(v)


def mat(rows, cols):
    m = rng.standard_normal((rows, cols), dtype=np.float32) * 0.02
    return m.astype(np.float16) if a.dtype == "f16" else m


ones = lambda n: np.ones(n, dtype=np.float32)  # noqa: E731
kv = a.n_embd // a.n_head * a.n_head_kv
w.add_tensor("token_embd.weight", mat(n_vocab, a.n_embd))
for i in range(a.n_layer):
    b = f"blk.{i}."
    w.add_tensor(b + "attn_norm.weight", ones(a.n_embd))
    w.add_tensor(b + "attn_q.weight", mat(a.n_embd, a.n_embd))
    w.add_tensor(b + "attn_k.weight", mat(kv, a.n_embd))
    w.add_tensor(b + "attn_v.weight", mat(kv, a.n_embd))
    w.add_tensor(b + "attn_output.weight", mat(a.n_embd, a.n_embd))
    w.add_tensor(b + "ffn_norm.weight", ones(a.n_embd))
    w.add_tensor(b + "ffn_gate.weight", mat(a.n_ff, a.n_embd))
    w.add_tensor(b + "ffn_up.weight", mat(a.n_ff, a.n_embd))
    w.add_tensor(b + "ffn_down.weight", mat(a.n_embd, a.n_ff))
w.add_tensor("output_norm.weight", ones(a.n_embd))
w.add_tensor("output.weight", mat(n_vocab, a.n_embd))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(a.out)
