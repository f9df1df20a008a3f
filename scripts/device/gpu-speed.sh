#!/usr/bin/env bash
# GPU speed and agreement on the lent H200 in ONE device `run` call (under 10 minutes; results in $OUT).
# Prepare here first: `bash scripts/device/pack.sh` (Node, dist/ and node_modules as .devpack/, the Vulkan
# loader as .gl/). Then: run(command="bash scripts/device/gpu-speed.sh", carry=[".gl", ".devpack"], timeout_s=600).
# Writes: doctor.json, gpu-speed.json, gpu-speed.md, nvidia-smi.txt, log.txt (copy the .md/.json into
# benchmarks/speed/results/).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/flan-eval-gpu-out}"
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
start=$SECONDS
left() { echo $((560 - (SECONDS - start))); }

for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export XDG_RUNTIME_DIR="$(mktemp -d)"
tar -xJf .devpack/flan-eval.tar.xz
export PATH="$PWD/.node:$PATH"
node --version
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || true

webgpu_starts() { node bin/flan-eval.js doctor --json 2>/dev/null >"$OUT/doctor.json" && grep -q '"starts": true' <(node -e 'console.log(JSON.stringify(require(process.argv[1]).webgpu))' "$OUT/doctor.json"); }
if ! webgpu_starts; then
  # The device README: point the loader at NVIDIA's ICD when it finds no driver by itself.
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  webgpu_starts || echo "gpu-speed: WebGPU does not start here (see doctor.json); the webgpu sides will fail"
fi
node bin/flan-eval.js doctor 2>/dev/null

M=/tmp/flan-eval-models
mkdir -p "$M"
echo "== models ($(left)s left)"
node bin/flan-eval.js make-test-model --shape flan-t5-base --fp16 --seed 1 --out "$M/flan-t5-base" >/dev/null
models=(--model "$M/flan-t5-base")
if node bin/flan-eval.js make-test-model --help 2>/dev/null | grep -q -- '--arch'; then
  node bin/flan-eval.js make-test-model --arch llama --shape smollm2-135m --seed 1 --out "$M/smollm2-135m" >/dev/null && models+=(--model "$M/smollm2-135m")
fi

# Real-length prompts where this checkout can synthesise them (benchmarks/speed/workloads.ts), else the sample data.
echo "== bench ($(left)s left)"
timeout "$(left)" node dist/benchmarks/speed/gpu.js "${models[@]}" --synthetic \
  --workloads bbh-cot,mmlu-direct-generate --examples 16 --batch-size 16 --threads "$(nproc)" \
  --sides cpu,webgpu,webgpu-fp16,webgpu-mask,reference-webgpu \
  --out "$OUT/gpu-speed.json" --md "$OUT/gpu-speed.md"
echo "gpu-speed: exit $? after $((SECONDS - start))s"
cat "$OUT/gpu-speed.md" 2>/dev/null
