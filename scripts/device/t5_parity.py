"""Check that make-test-model's ONNX graph computes Hugging Face transformers' T5 (v1.1 / Flan-T5).

Runs where PyTorch and transformers are installed (the lent GPU machine has them; this project's CI does
not, so this is a recorded one-off check, not a test). It reads the random weights straight from the ONNX
initializers, loads them into transformers' T5ForConditionalGeneration, and compares greedy generation and
log-likelihoods with what flan-eval's ONNX backend produced (make-parity-input.js).

    python3 scripts/device/t5_parity.py <model-dir> <parity-input.json>
"""
import json
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from transformers import T5Config, T5ForConditionalGeneration

model_dir, input_path = sys.argv[1], sys.argv[2]
cfg = json.load(open(f"{model_dir}/config.json"))
config = T5Config(
    vocab_size=cfg["vocab_size"], d_model=cfg["d_model"], d_kv=cfg["d_kv"], d_ff=cfg["d_ff"],
    num_layers=cfg["num_layers"], num_decoder_layers=cfg["num_decoder_layers"], num_heads=cfg["num_heads"],
    relative_attention_num_buckets=cfg["relative_attention_num_buckets"],
    relative_attention_max_distance=cfg["relative_attention_max_distance"],
    dropout_rate=0.0, layer_norm_epsilon=cfg["layer_norm_epsilon"], feed_forward_proj="gated-gelu",
    tie_word_embeddings=False, is_encoder_decoder=True, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
)
w = {}
for f in ("encoder_model.onnx", "decoder_model.onnx"):
    for t in onnx.load(f"{model_dir}/onnx/{f}").graph.initializer:
        w[t.name] = numpy_helper.to_array(t)

def lin(name):  # ONNX MatMul weights are [in, out]; torch Linear wants [out, in]
    return torch.from_numpy(np.ascontiguousarray(w[name].T))

sd = {"shared.weight": torch.from_numpy(w["shared"]), "lm_head.weight": lin("lm_head")}
sd["encoder.embed_tokens.weight"] = sd["decoder.embed_tokens.weight"] = sd["shared.weight"]
for side, n in (("encoder", config.num_layers), ("decoder", config.num_decoder_layers)):
    sd[f"{side}.final_layer_norm.weight"] = torch.from_numpy(w[f"{side}.final_norm"])
    sd[f"{side}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = torch.from_numpy(w[f"{side}.relative_attention_bias"])
    for i in range(n):
        p, q = f"{side}.block.{i}", f"{side}.block.{i}.layer"
        for x in "qkvo":
            sd[f"{q}.0.SelfAttention.{x}.weight"] = lin(f"{p}.{x}")
        sd[f"{q}.0.layer_norm.weight"] = torch.from_numpy(w[f"{p}.attn_norm"])
        ff = 1
        if side == "decoder":
            for x in "qkvo":
                sd[f"{q}.1.EncDecAttention.{x}.weight"] = lin(f"{p}.cross_{x}")
            sd[f"{q}.1.layer_norm.weight"] = torch.from_numpy(w[f"{p}.cross_norm"])
            ff = 2
        for x in ("wi_0", "wi_1", "wo"):
            sd[f"{q}.{ff}.DenseReluDense.{x}.weight"] = lin(f"{p}.ff.{x}")
        sd[f"{q}.{ff}.layer_norm.weight"] = torch.from_numpy(w[f"{p}.ff_norm"])

model = T5ForConditionalGeneration(config).eval()
# transformers 5 ties lm_head to the shared embedding even with tie_word_embeddings=False (seen on 5.17):
# loading would then overwrite one with the other. Flan-T5 / T5 v1.1 have an untied head, so untie it.
model.config.tie_word_embeddings = False
model.lm_head.weight = torch.nn.Parameter(torch.empty_like(model.lm_head.weight))
missing, unexpected = model.load_state_dict(sd, strict=False)
missing = [m for m in missing if "embed_tokens" not in m]
assert not missing and not unexpected, (missing, unexpected)

# The weights must be exactly the ONNX initializers (a tied lm_head/shared pair would silently overwrite one).
worst_w = max((p - sd[n].to(p.dtype)).abs().max().item() for n, p in model.state_dict().items() if n in sd)
print(f"lm_head tied to shared: {model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()}; max |weight - initializer| {worst_w:.2e}")

data = json.load(open(input_path))
try:  # Localise any difference: encoder output and first decoder step against the ONNX files themselves.
    import onnxruntime as ort
    enc = ort.InferenceSession(f"{model_dir}/onnx/encoder_model.onnx")
    dec = ort.InferenceSession(f"{model_dir}/onnx/decoder_model.onnx")
    ids = np.array([data["cases"][3]["ids"]], dtype=np.int64)
    mask = np.ones_like(ids)
    h_onnx = enc.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    with torch.no_grad():
        h_torch = model.encoder(input_ids=torch.from_numpy(ids)).last_hidden_state.numpy()
        l_torch = model(input_ids=torch.from_numpy(ids), decoder_input_ids=torch.tensor([[0, 5, 6]])).logits.numpy()
    l_onnx = dec.run(["logits"], {"input_ids": np.array([[0, 5, 6]], dtype=np.int64), "encoder_hidden_states": h_onnx, "encoder_attention_mask": mask})[0]
    print(f"encoder |onnx - torch| max {np.abs(h_onnx - h_torch).max():.2e} (scale {np.abs(h_torch).max():.2e}); decoder logits |onnx - torch| max {np.abs(l_onnx - l_torch).max():.2e}")
except ImportError:
    print("onnxruntime not importable: skipped the per-stage comparison")

worst_lp, worst_ll, same = 0.0, 0.0, 0
with torch.no_grad():
    for k, case in enumerate(data["cases"]):
        ids = torch.tensor([case["ids"]])
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=data["maxNewTokens"], do_sample=False,
                             num_beams=1, output_scores=True, return_dict_in_generate=True)
        seq = out.sequences[0, 1:].tolist()
        if seq and seq[-1] == 1:
            seq = seq[:-1]
        ok = seq == case["tokens"]
        same += ok
        lps = [torch.log_softmax(s[0].double(), -1)[t].item() for s, t in zip(out.scores, case["tokens"])] if ok else []
        d = max([abs(a - b) for a, b in zip(lps, case["logprobs"])] or [0.0])
        worst_lp = max(worst_lp, d)
        for j, cont in enumerate([[5, 6, 7], [105, 36, 12]]):
            dec = torch.tensor([[0] + cont[:-1]])
            logits = model(input_ids=ids, decoder_input_ids=dec).logits[0].double().log_softmax(-1)
            ll = sum(logits[t, c].item() for t, c in enumerate(cont))
            worst_ll = max(worst_ll, abs(ll - case["loglik"][j]))
        print(f"case {k}: {len(case['ids'])} input tokens, {'same' if ok else 'DIFFERENT'} greedy tokens ({len(seq)} vs {len(case['tokens'])}), max |dlogprob| {d:.2e}")
print(f"torch {torch.__version__}, transformers {__import__('transformers').__version__}")
print(f"greedy continuations identical: {same}/{len(data['cases'])}; max |dlogprob| {worst_lp:.2e}; max |dloglik| {worst_ll:.2e}")
sys.exit(0 if same == len(data["cases"]) and worst_lp < 1e-3 and worst_ll < 1e-3 else 1)
