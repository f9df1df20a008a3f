import ort from 'onnxruntime-node';

type Data = Float32Array | Uint16Array | BigInt64Array;

/**
 * Stack the row blocks of several tensors into one batch: `parts[i].tensor` holds the rows listed in
 * `parts[i].rows` (batch row indices, in the tensor's order). With `pad`, axis `pad.axis` of every part is
 * widened to `pad.width` with zeros, e.g. cross-attention caches [rows, heads, source, d] of encoder groups
 * of different lengths, padded to the batch's longest (the attention mask hides the zeros).
 */
export function stackRows(parts: readonly { rows: readonly number[]; tensor: ort.Tensor }[], batch: number, pad?: { axis: number; width: number }): ort.Tensor {
  const first = parts[0]!.tensor;
  const dims = [batch, ...first.dims.slice(1)];
  if (pad) dims[pad.axis] = pad.width;
  const rowSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const Ctor = (first.data as Data).constructor as new (n: number) => Data;
  const out = new Ctor(batch * rowSize);
  const axis = pad?.axis ?? 1;
  for (const { rows, tensor } of parts) {
    const src = tensor.data as Float32Array;
    const d = tensor.dims;
    // A row is `outer` runs of `len × inner` elements along the padded axis.
    const outer = d.slice(1, axis).reduce((a, b) => a * b, 1);
    const inner = d.slice(axis + 1).reduce((a, b) => a * b, 1);
    const len = axis < d.length ? d[axis]! : 1;
    const width = axis < dims.length ? dims[axis]! : 1;
    const srcRow = outer * len * inner;
    rows.forEach((r, k) => {
      for (let o = 0; o < outer; o++) {
        const from = k * srcRow + o * len * inner;
        (out as Float32Array).set(src.subarray(from, from + len * inner), r * rowSize + o * width * inner);
      }
    });
  }
  return new ort.Tensor(first.type as 'float32', out as Float32Array, dims);
}
