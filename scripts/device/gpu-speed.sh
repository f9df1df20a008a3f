#!/usr/bin/env bash
# GPU speed and agreement on the lent H200 in ONE device `run` call (under 10 minutes; results in $OUT).
# Prepare here first: `bash scripts/device/pack.sh` (Node and the production node_modules as .devpack/, the
# Vulkan loader as .gl/, and a fresh dist/). Then:
#   run(command="bash scripts/device/gpu-speed.sh", carry=[".gl", ".devpack", "dist"], timeout_s=600)
# Writes: doctor.json, gpu-speed.json, gpu-speed.md, nvidia-smi.txt, log.txt (copy the .md/.json into
# benchmarks/speed/results/).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/flan-eval-gpu-out}"
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
start=$SECONDS
# Knobs for a dry run on a small machine (defaults are the H200 run): model shapes, examples, and
# GPU_SPEED_HOST_GL=1 to keep this machine's own Vulkan loader instead of unpacking .gl/.
T5_SHAPE="${GPU_SPEED_T5_SHAPE:-flan-t5-base}"
CAUSAL_SHAPE="${GPU_SPEED_CAUSAL_SHAPE:-smollm2-135m}"
EXAMPLES="${GPU_SPEED_EXAMPLES:-16}"
left() { echo $((560 - (SECONDS - start))); }

if [ -z "${GPU_SPEED_HOST_GL:-}" ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
export XDG_RUNTIME_DIR="$(mktemp -d)"
tar -xJf .devpack/flan-eval.tar.xz node_modules .node   # dist/ travels itself (carry), built from this checkout
[ -f dist/benchmarks/speed/gpu.js ] || { echo 'gpu-speed: dist/ is missing: run `npm run build` here and name dist in carry'; exit 2; }
export PATH="$PWD/.node:$PATH"
node --version
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || true

webgpu_starts() { node bin/flan-eval.js doctor --json 2>/dev/null >"$OUT/doctor.json" && node -e 'process.exit(require(process.argv[1]).webgpu.starts ? 0 : 1)' "$OUT/doctor.json"; }
if ! webgpu_starts; then
  # The device README: point the loader at NVIDIA's ICD when it finds no driver by itself.
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  webgpu_starts || echo "gpu-speed: WebGPU does not start here (see doctor.json); the webgpu sides will fail"
fi
node bin/flan-eval.js doctor 2>/dev/null

M=/tmp/flan-eval-models
mkdir -p "$M"
echo "== models ($(left)s left)"
node bin/flan-eval.js make-test-model --shape "$T5_SHAPE" --fp16 --seed 1 --out "$M/$T5_SHAPE" >/dev/null
models=(--model "$M/$T5_SHAPE")
if node bin/flan-eval.js make-test-model --help 2>/dev/null | grep -q -- '--arch'; then
  node bin/flan-eval.js make-test-model --arch llama --shape "$CAUSAL_SHAPE" --fp16 --seed 1 --out "$M/llama-$CAUSAL_SHAPE" >/dev/null && models+=(--model "$M/llama-$CAUSAL_SHAPE")
fi

# Real-length prompts where this checkout can synthesise them (benchmarks/speed/workloads.ts), else the sample data.
echo "== bench ($(left)s left)"
timeout "$(left)" node dist/benchmarks/speed/gpu.js "${models[@]}" --synthetic \
  --workloads bbh-cot,mmlu-direct-generate --examples "$EXAMPLES" --batch-size 16 --threads "$(nproc)" \
  --sides cpu,webgpu,webgpu-fp16,webgpu-mask,reference-webgpu \
  --out "$OUT/gpu-speed.json" --md "$OUT/gpu-speed.md"
echo "gpu-speed: exit $? after $((SECONDS - start))s"
cat "$OUT/gpu-speed.md" 2>/dev/null
