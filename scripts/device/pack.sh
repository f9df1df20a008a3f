#!/usr/bin/env bash
# Prepares, on this machine, what scripts/device/gpu-speed.sh needs on the lent GPU machine, which has no
# Node.js, no package registry and no Vulkan loader:
#   .devpack/flan-eval.tar.xz  the node binary and the production node_modules (linux-x64 only)
#   dist/                      compiled here (travels in carry too, so a code change needs no new pack)
#   .gl/*.deb                  Debian's Vulkan loader and GL libraries (as the device README says)
# Both folders are git-ignored (.git/info/exclude) and travel by naming them in the run call's `carry`.
# The working tree plus both must stay under the device tool's 64 MiB; this script checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
exclude="$(git rev-parse --git-path info/exclude)"
for d in /.devpack/ /.gl/; do grep -qxF "$d" "$exclude" || echo "$d" >>"$exclude"; done

npm run build >/dev/null
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -a package.json package-lock.json "$stage/"
cp -a node_modules "$stage/node_modules"
(cd "$stage" && npm prune --omit=dev --offline --no-audit --no-fund >/dev/null)
# Only what runs on linux-x64 Node: other platforms' binaries, source maps, and onnxruntime-web (Transformers.js
# bundles the part it uses in Node) stay behind.
rm -rf "$stage"/node_modules/onnxruntime-node/bin/napi-v6/{darwin,win32} "$stage"/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64
rm -rf "$stage"/node_modules/onnxruntime-web/dist
find "$stage/node_modules/@img" -mindepth 1 -maxdepth 1 ! -name '*linux-x64*' ! -name 'colour' -exec rm -rf {} + 2>/dev/null || true
find "$stage/node_modules" -name '*.map' -delete
mkdir -p "$stage/.node" && cp "$(command -v node)" "$stage/.node/node"
mkdir -p .devpack
tar -C "$stage" -cf - node_modules .node | xz -T0 -6 >.devpack/flan-eval.tar.xz

if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
fi
tree_kib=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | du -ck --files0-from=- 2>/dev/null | tail -1 | cut -f1)
pack_kib=$(du -ck .devpack .gl dist | tail -1 | cut -f1)
echo "pack: .devpack $(du -sh .devpack | cut -f1), .gl $(du -sh .gl | cut -f1), dist $(du -sh dist | cut -f1); with the working tree $(((tree_kib + pack_kib) / 1024)) MiB of 64"
[ $((tree_kib + pack_kib)) -lt $((63 * 1024)) ] || { echo "pack: over the device tool's 64 MiB" >&2; exit 1; }
