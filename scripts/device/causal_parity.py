"""Check that make-test-model's decoder-only ONNX graphs compute transformers' Llama, Qwen2 and GPT-2.

Like t5_parity.py: runs where PyTorch and transformers are installed (the lent GPU machine; not CI). Reads
the random weights from onnx/model.onnx, loads them into LlamaForCausalLM / Qwen2ForCausalLM /
GPT2LMHeadModel, and compares greedy generation and log-likelihoods with what flan-eval's ONNX backend
produced (make-parity-input.js). NOT YET RUN: the session that wrote it had no GPU machine.

    node dist/scripts/device/make-parity-input.js <model-dir> parity.json
    python3 scripts/device/causal_parity.py <model-dir> parity.json
"""
import json
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

model_dir, input_path = sys.argv[1], sys.argv[2]
cfg = json.load(open(f"{model_dir}/config.json"))
arch = cfg["model_type"]
w = {t.name: numpy_helper.to_array(t) for t in onnx.load(f"{model_dir}/onnx/model.onnx").graph.initializer}


def t(name):
    return torch.from_numpy(np.ascontiguousarray(w[name]))


def lin(name):  # ONNX MatMul weights are [in, out]; torch Linear wants [out, in]
    return torch.from_numpy(np.ascontiguousarray(w[name].T))


sd = {}
if arch == "gpt2":
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=cfg["vocab_size"], n_embd=cfg["n_embd"], n_layer=cfg["n_layer"], n_head=cfg["n_head"],
                        n_positions=cfg["n_positions"], layer_norm_epsilon=cfg["layer_norm_epsilon"], activation_function="gelu_new",
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=cfg["bos_token_id"], eos_token_id=cfg["eos_token_id"])
    model = GPT2LMHeadModel(config).eval()
    sd["transformer.wte.weight"] = t("embed")
    sd["transformer.wpe.weight"] = t("wpe")
    sd["transformer.ln_f.weight"], sd["transformer.ln_f.bias"] = t("final_norm"), t("final_norm_bias")
    for i in range(config.n_layer):
        p, q = f"layers.{i}", f"transformer.h.{i}"
        # GPT-2's Conv1D keeps weights as [in, out], like ONNX MatMul: no transpose.
        sd[f"{q}.attn.c_attn.weight"] = torch.from_numpy(np.concatenate([w[f"{p}.q"], w[f"{p}.k"], w[f"{p}.v"]], axis=1))
        sd[f"{q}.attn.c_attn.bias"] = torch.from_numpy(np.concatenate([w[f"{p}.q_bias"], w[f"{p}.k_bias"], w[f"{p}.v_bias"]]))
        sd[f"{q}.attn.c_proj.weight"], sd[f"{q}.attn.c_proj.bias"] = t(f"{p}.o"), t(f"{p}.o_bias")
        sd[f"{q}.mlp.c_fc.weight"], sd[f"{q}.mlp.c_fc.bias"] = t(f"{p}.fc"), t(f"{p}.fc_bias")
        sd[f"{q}.mlp.c_proj.weight"], sd[f"{q}.mlp.c_proj.bias"] = t(f"{p}.proj"), t(f"{p}.proj_bias")
        sd[f"{q}.ln_1.weight"], sd[f"{q}.ln_1.bias"] = t(f"{p}.attn_norm"), t(f"{p}.attn_norm_bias")
        sd[f"{q}.ln_2.weight"], sd[f"{q}.ln_2.bias"] = t(f"{p}.ffn_norm"), t(f"{p}.ffn_norm_bias")
else:
    if arch == "llama":
        from transformers import LlamaConfig as Config, LlamaForCausalLM as Model
    else:
        from transformers import Qwen2Config as Config, Qwen2ForCausalLM as Model
    kw = dict(vocab_size=cfg["vocab_size"], hidden_size=cfg["hidden_size"], intermediate_size=cfg["intermediate_size"],
              num_hidden_layers=cfg["num_hidden_layers"], num_attention_heads=cfg["num_attention_heads"],
              num_key_value_heads=cfg["num_key_value_heads"], head_dim=cfg["head_dim"], rms_norm_eps=cfg["rms_norm_eps"],
              rope_theta=cfg["rope_theta"], max_position_embeddings=cfg["max_position_embeddings"], tie_word_embeddings=True,
              bos_token_id=cfg["bos_token_id"], eos_token_id=cfg["eos_token_id"], attention_dropout=0.0)
    if arch == "llama":
        kw["attention_bias"] = False
    config = Config(**kw)
    model = Model(config).eval()
    sd["model.embed_tokens.weight"] = t("embed")
    sd["model.norm.weight"] = t("final_norm")
    for i in range(config.num_hidden_layers):
        p, q = f"layers.{i}", f"model.layers.{i}"
        for x in "qkvo":
            sd[f"{q}.self_attn.{x}_proj.weight"] = lin(f"{p}.{x}")
        if arch == "qwen2":
            for x in "qkv":
                sd[f"{q}.self_attn.{x}_proj.bias"] = t(f"{p}.{x}_bias")
        sd[f"{q}.mlp.gate_proj.weight"], sd[f"{q}.mlp.up_proj.weight"], sd[f"{q}.mlp.down_proj.weight"] = lin(f"{p}.gate"), lin(f"{p}.up"), lin(f"{p}.down")
        sd[f"{q}.input_layernorm.weight"], sd[f"{q}.post_attention_layernorm.weight"] = t(f"{p}.attn_norm"), t(f"{p}.ffn_norm")

missing, unexpected = model.load_state_dict(sd, strict=False)
missing = [m for m in missing if m != "lm_head.weight"]  # tied to the embedding
assert not missing and not unexpected, (missing, unexpected)
model.tie_weights()

data = json.load(open(input_path))
eos = {cfg["eos_token_id"]} if isinstance(cfg["eos_token_id"], int) else set(cfg["eos_token_id"])
worst_lp, worst_ll, same = 0.0, 0.0, 0
with torch.no_grad():
    for k, case in enumerate(data["cases"]):
        ids = torch.tensor([case["ids"]])
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=data["maxNewTokens"], do_sample=False,
                             num_beams=1, output_scores=True, return_dict_in_generate=True, pad_token_id=min(eos))
        seq = out.sequences[0, ids.shape[1]:].tolist()
        if seq and seq[-1] in eos:
            seq = seq[:-1]
        ok = seq == case["tokens"]
        same += ok
        lps = [torch.log_softmax(s[0].double(), -1)[tok].item() for s, tok in zip(out.scores, case["tokens"])] if ok else []
        d = max([abs(a - b) for a, b in zip(lps, case["logprobs"])] or [0.0])
        worst_lp = max(worst_lp, d)
        for j, cont in enumerate(data["continuations"]):
            full = torch.tensor([case["ids"] + cont])
            logits = model(input_ids=full).logits[0].double().log_softmax(-1)
            n = len(case["ids"])
            ll = sum(logits[n - 1 + m, c].item() for m, c in enumerate(cont))
            worst_ll = max(worst_ll, abs(ll - case["loglik"][j]))
        print(f"case {k}: {len(case['ids'])} input tokens, {'same' if ok else 'DIFFERENT'} greedy tokens ({len(seq)} vs {len(case['tokens'])}), max |dlogprob| {d:.2e}")
print(f"{arch}: torch {torch.__version__}, transformers {__import__('transformers').__version__}")
print(f"greedy continuations identical: {same}/{len(data['cases'])}; max |dlogprob| {worst_lp:.2e}; max |dloglik| {worst_ll:.2e}")
sys.exit(0 if same == len(data["cases"]) and worst_lp < 1e-3 and worst_ll < 1e-3 else 1)
