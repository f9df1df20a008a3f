import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPins, parsePins, pinnedPaths } from '../../src/data/pins.js';
import { checkMirror, githubUrl, mirrorUrl, MMLU_SUBJECTS, mmluCsvPaths, parseBenchmarks } from '../../src/data/sources.js';
import { UsageError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { makeUpstream, mirrorPath } from './upstreamFixture.js';

describe('the shipped pin table and the upstream sources', () => {
  it('lists the 27 BBH tasks (json + CoT prompt), 11 MGSM languages + exemplars.py, and mmlu-cot.json', async () => {
    const pins = await loadPins(undefined, {});
    const bbh = pinnedPaths(pins, 'bbh');
    const tasks = bbh.filter((p) => p.startsWith('bbh/bbh/')).map((p) => p.slice('bbh/bbh/'.length, -'.json'.length));
    assert.equal(tasks.length, 27);
    assert.deepEqual(bbh.filter((p) => p.startsWith('bbh/cot-prompts/')), tasks.map((t) => `bbh/cot-prompts/${t}.txt`));
    assert.ok(tasks.includes('word_sorting') && tasks.includes('tracking_shuffled_objects_seven_objects'));
    assert.deepEqual(pinnedPaths(pins, 'mgsm').sort(), [...['bn', 'de', 'en', 'es', 'fr', 'ja', 'ru', 'sw', 'te', 'th', 'zh'].map((l) => `mgsm/mgsm_${l}.tsv`), 'mgsm/exemplars.py'].sort());
    assert.deepEqual(pinnedPaths(pins, 'mmlu'), ['mmlu/mmlu-cot.json']);
    assert.equal(pins.pins.size, 67);
  });

  it('maps data paths to the upstream URLs of docs/protocol.md §1, and upstream URLs into a mirror', () => {
    assert.equal(githubUrl('bbh/bbh/snarks.json'), 'https://raw.githubusercontent.com/suzgunmirac/BIG-Bench-Hard/main/bbh/snarks.json');
    assert.equal(githubUrl('bbh/cot-prompts/snarks.txt'), 'https://raw.githubusercontent.com/suzgunmirac/BIG-Bench-Hard/main/cot-prompts/snarks.txt');
    assert.equal(githubUrl('mgsm/exemplars.py'), 'https://raw.githubusercontent.com/google-research/url-nlp/main/mgsm/exemplars.py');
    assert.equal(githubUrl('mmlu/mmlu-cot.json'), 'https://raw.githubusercontent.com/jasonwei20/flan-2/main/mmlu-cot.json');
    assert.equal(githubUrl('mmlu/dev/anatomy_dev.csv'), undefined);
    assert.equal(
      mirrorUrl('https://people.eecs.berkeley.edu/~hendrycks/data.tar', 'http://m.local:8000/base/'),
      'http://m.local:8000/base/people.eecs.berkeley.edu/~hendrycks/data.tar',
    );
    assert.equal(mirrorUrl('https://x.org/a', undefined), 'https://x.org/a');
    assert.throws(() => checkMirror('file:///srv/mirror'), /--mirror "file:\/\/\/srv\/mirror" must be an http:\/\/ or https:\/\/ URL/);
    assert.throws(() => checkMirror('not a url'), /--mirror "not a url" is not a URL/);
    assert.equal(MMLU_SUBJECTS.length, 57);
    assert.equal(mmluCsvPaths().length, 171);
  });

  it('parses benchmark words, with did-you-mean for typos', () => {
    assert.deepEqual(parseBenchmarks([]), ['mmlu', 'bbh', 'mgsm', 'tydiqa']);
    assert.deepEqual(parseBenchmarks(['bbh', 'all']), ['mmlu', 'bbh', 'mgsm', 'tydiqa']);
    assert.deepEqual(parseBenchmarks(['MGSM', 'bbh', 'mgsm']), ['mgsm', 'bbh']);
    assert.throws(() => parseBenchmarks(['tydi']), (e: unknown) => e instanceof UsageError && /unknown benchmark "tydi"\. Did you mean "tydiqa"\?/.test(e.message));
  });

  it('rejects a malformed pin table naming the file and line', () => {
    const ok = `${'a'.repeat(64)}  bbh/bbh/x.json\n`;
    assert.equal(parsePins(`# comment\n\n${ok}`, 'p.txt').get('bbh/bbh/x.json'), 'a'.repeat(64));
    assert.throws(() => parsePins(`${ok}deadbeef  bbh/bbh/y.json\n`, 'p.txt'), /^UsageError: p\.txt:2: expected "<sha256> {2}<path>"/);
    assert.throws(() => parsePins(`${'b'.repeat(64)}  ../etc/passwd\n`, 'p.txt'), /p\.txt:1: path "\.\.\/etc\/passwd" leaves the data directory/);
    assert.throws(() => parsePins(`${'b'.repeat(64)}  tydiqa/x.json\n`, 'p.txt'), /p\.txt:1: no upstream source is known for "tydiqa\/x\.json"/);
    assert.throws(() => parsePins(ok + ok, 'p.txt'), /p\.txt:2: "bbh\/bbh\/x\.json" is listed twice/);
  });

  it('--list-urls prints every upstream URL once, and the test mirror serves each of them', async () => {
    const r = await runCli(['data', 'fetch', '--list-urls'], { env: { FLAN_EVAL_PINS: '' } });
    assert.equal(r.code, 0, r.stderr);
    const urls = r.stdout.trim().split('\n');
    assert.equal(urls.length, 67 + 1 + 2);
    assert.equal(new Set(urls).size, urls.length);
    const up = await makeUpstream({ subjects: ['anatomy'] });
    assert.deepEqual(urls.map(mirrorPath).sort(), [...up.routes.keys()].sort());
  });
});
