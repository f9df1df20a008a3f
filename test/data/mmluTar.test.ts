import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_TAR_LIMITS, readMmluCsvsFromTar } from '../../src/data/mmluTar.js';
import { UsageError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';
import { csvFor, makeMmluTar } from './upstreamFixture.js';

async function tarFile(buf: Buffer): Promise<string> {
  const f = join(await tempDir(), 'data.tar');
  await writeFile(f, buf);
  return f;
}

describe('readMmluCsvsFromTar', () => {
  it('takes data/{dev,val,test}/<subject>_<split>.csv only, keyed by their place under mmlu/', async () => {
    const csvs = await readMmluCsvsFromTar(await tarFile(await makeMmluTar({ subjects: ['anatomy', 'virology'] })), 'data.tar');
    assert.deepEqual([...csvs.keys()].sort(), [
      'mmlu/dev/anatomy_dev.csv',
      'mmlu/dev/virology_dev.csv',
      'mmlu/test/anatomy_test.csv',
      'mmlu/test/virology_test.csv',
      'mmlu/val/anatomy_val.csv',
      'mmlu/val/virology_val.csv',
    ]);
    assert.equal(csvs.get('mmlu/val/virology_val.csv')?.toString(), csvFor('virology', 'val'));
  });

  it('refuses an archive with an entry that climbs out with ../', async () => {
    const f = await tarFile(await makeMmluTar({ subjects: ['anatomy'], escape: true }));
    await assert.rejects(readMmluCsvsFromTar(f, 'data.tar'), (e: unknown) => e instanceof UsageError && /entry "\.\.\/escape\.csv" points outside the target folder; refusing the archive/.test(e.message));
  });

  it('refuses an archive holding a symbolic link', async () => {
    const f = await tarFile(await makeMmluTar({ subjects: ['anatomy'], symlink: true }));
    await assert.rejects(readMmluCsvsFromTar(f, 'data.tar'), (e: unknown) => e instanceof UsageError && /"data\/dev\/evil_dev\.csv" is a symbolic link \(to "\/etc\/passwd"\)/.test(e.message));
  });

  it('refuses entries over the size cap, and a file that is not a tar', async () => {
    const f = await tarFile(await makeMmluTar({ subjects: ['anatomy'] }));
    await assert.rejects(readMmluCsvsFromTar(f, 'data.tar', { ...DEFAULT_TAR_LIMITS, maxEntryBytes: 10 }), /more than the 10 a CSV may have/);
    await assert.rejects(readMmluCsvsFromTar(f, 'data.tar', { ...DEFAULT_TAR_LIMITS, maxTotalBytes: 100 }), /add up to more than 100 bytes/);
    const html = await tarFile(Buffer.from('<html><body>Not Found</body></html>\n'.repeat(40)));
    await assert.rejects(readMmluCsvsFromTar(html, 'data.tar'), (e: unknown) => e instanceof UsageError && /data\.tar: (not a readable tar archive|it holds no data)/.test(e.message));
  });
});
