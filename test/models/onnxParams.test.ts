import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { countOnnxParams, readOnnxSummary } from '../../src/models/onnxParams.js';
import { UsageError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';

// A fuller slice of onnx.proto than the reader's, to write files with data the reader must skip.
const WRITER = protobuf.parse(`
syntax = "proto2";
message ModelProto { optional int64 ir_version = 1; optional string producer_name = 2; optional GraphProto graph = 7; }
message GraphProto { repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5; }
message NodeProto { repeated string input = 1; optional string op_type = 4; repeated AttributeProto attribute = 5; }
message AttributeProto { optional string name = 1; optional GraphProto g = 6; optional int32 type = 20; }
message TensorProto {
  repeated int64 dims = 1; optional int32 data_type = 2; repeated float float_data = 4 [packed = true];
  optional string name = 8; optional bytes raw_data = 9; repeated Entry external_data = 13; optional int32 data_location = 14;
}
message Entry { optional string key = 1; optional string value = 2; }
`, { keepCase: true }).root.lookupType('ModelProto');

async function writeModel(model: object): Promise<string> {
  const file = join(await tempDir(), 'model.onnx');
  await writeFile(file, WRITER.encode(WRITER.fromObject(model)).finish());
  return file;
}

describe('countOnnxParams / readOnnxSummary', () => {
  it('sums the elements of every initializer, subgraphs included, and lists external data files', async () => {
    const file = await writeModel({
      ir_version: 8,
      producer_name: 'flan-eval test',
      graph: {
        name: 'main',
        initializer: [
          { name: 'w', dims: [3, 4], data_type: 1, raw_data: Buffer.alloc(48, 7) },
          { name: 'b', dims: [5], data_type: 1, float_data: [1, 2, 3, 4, 5] },
          { name: 'scalar', dims: [], data_type: 1, float_data: [1] },
          // Weights of a >2 GB model: dims in the graph, bytes elsewhere.
          {
            name: 'big',
            dims: [1000, 2000],
            data_type: 1,
            data_location: 1,
            external_data: [
              { key: 'location', value: 'model.onnx_data' },
              { key: 'offset', value: '0' },
            ],
          },
        ],
        node: [{ op_type: 'If', input: ['use_cache_branch'], attribute: [{ name: 'then_branch', type: 5, g: { name: 'then', initializer: [{ name: 'inner', dims: [2, 2], data_type: 1, raw_data: Buffer.alloc(16) }] } }] }],
      },
    });
    assert.deepEqual(await readOnnxSummary(file), { params: 12 + 5 + 1 + 2_000_000 + 4, initializers: 5, externalData: ['model.onnx_data'] });
    assert.equal(await countOnnxParams(file), 2_000_022);
  });

  it('calls a file that is not ONNX what it is', async () => {
    const file = join(await tempDir(), 'encoder_model.onnx');
    await writeFile(file, '<!DOCTYPE html><html>Sign in to continue</html>');
    await assert.rejects(countOnnxParams(file), (e: unknown) => e instanceof UsageError && /encoder_model\.onnx: not an ONNX model/.test(e.message));
    await assert.rejects(countOnnxParams(join(file, '..', 'absent.onnx')), /absent\.onnx: ONNX file not found/);
  });
});
