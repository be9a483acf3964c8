'use strict';
/*
 * The repository and its two commands: git holds no build output, make
 * clean removes every build folder, and what make run installs
 * (nginx/deps) is what running needs and nothing of the tests': no
 * browser, Apache, PostgreSQL server, valgrind or clang, not even among
 * the packages those pull in (apt-cache's reading of their Depends and
 * Pre-Depends; nginx/deps installs no recommended packages).
 */
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { TOP } = require('./harness');

const TEST_ONLY = /^(chromium.*|apache2.*|postgresql(-[0-9]+)?|postgresql-client.*|valgrind.*|clang.*|libclang.*|llvm.*|npm|libcmocka.*|libjwt.*)$/;

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('git holds no build output', { skip: fs.existsSync(path.join(TOP, '.git')) && has('git') ? false : 'not a git checkout' }, () => {
  it('no file under a build folder, no object, archive or program built here', () => {
    const files = execFileSync('git', ['-C', TOP, 'ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
    const built = files.filter((f) => /^build(-[^/]*)?\//.test(f) || /\.(o|a|so)$/.test(f));
    assert.deepEqual(built, []);
    /* A tracked file that is an ELF binary was built. */
    const elf = files.filter((f) => {
      const p = path.join(TOP, f);
      if (!fs.statSync(p, { throwIfNoEntry: false })?.isFile()) return false;
      const fd = fs.openSync(p, 'r');
      const b = Buffer.alloc(4);
      fs.readSync(fd, b, 0, 4, 0);
      fs.closeSync(fd);
      return b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    });
    assert.deepEqual(elf, []);
  });

  it('git ignores every build folder', () => {
    for (const d of ['build', 'build-asan', 'build-fuzz', 'build-prof', 'build-mine']) {
      const r = spawnSync('git', ['-C', TOP, 'check-ignore', '-q', `${d}/x.o`]);
      assert.equal(r.status, 0, `${d}/ is not ignored`);
    }
  });
});

describe('make clean', () => {
  it('removes every build folder, and leaves the rest', () => {
    /* A copy of what make clean reads: the Makefile alone, in a folder of its own. */
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-clean-'));
    try {
      fs.copyFileSync(path.join(TOP, 'Makefile'), path.join(dir, 'Makefile'));
      for (const d of ['build', 'build-asan', 'build-fuzz', 'build-prof', 'build-mine', 'run', 'lib']) {
        fs.mkdirSync(path.join(dir, d, 'sub'), { recursive: true });
        fs.writeFileSync(path.join(dir, d, 'sub', 'f'), 'x');
      }
      execFileSync('make', ['-s', '-C', dir, 'clean'], { stdio: ['ignore', 'pipe', 'pipe'] });
      assert.deepEqual(fs.readdirSync(dir).sort(), ['Makefile', 'lib', 'run']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('make run installs what running needs, nothing of the tests', () => {
  const run = execFileSync(path.join(TOP, 'nginx/deps'), ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);

  it('nginx/deps names the compiler, the libraries, nginx and Node.js', () => {
    for (const p of ['build-essential', 'pkg-config', 'libfcgi-dev', 'libcurl4-openssl-dev', 'libjson-c-dev',
      'libsqlite3-dev', 'libssl-dev', 'libpq-dev', 'nginx-light', 'nodejs']) assert.ok(run.includes(p), p);
    assert.deepEqual(run.filter((p) => TEST_ONLY.test(p)), []);
  });

  it('make run calls nginx/deps, never tests/deps; make test calls tests/deps', () => {
    const dry = (t) => execFileSync('make', ['-n', '--no-print-directory', '-C', TOP, t], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const r = dry('run');
    assert.match(r, /^nginx\/deps$/m);
    assert.doesNotMatch(r, /tests\/deps/);
    assert.match(dry('test').split('\n')[0], /^tests\/deps$/);
  });

  it('tests/deps installs through nginx/deps, so that make test has what make run has', () => {
    assert.match(fs.readFileSync(path.join(TOP, 'tests/deps'), 'utf8'), /^"\$top\/nginx\/deps" "\$\{test_pkgs\[@\]\}"$/m);
  });

  it('the packages those pull in hold no browser, Apache, PostgreSQL server, valgrind or clang',
    { skip: has('apt-cache') ? false : 'no apt-cache: not Debian' }, () => {
      const out = execFileSync('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests',
        '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...run],
      { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
      const names = new Set(out.split('\n').filter((l) => l && !l.startsWith(' ')).map((l) => l.trim()));
      assert.ok(names.has('nginx-light') && names.size > run.length, 'apt-cache read the packages');
      assert.deepEqual([...names].filter((p) => TEST_ONLY.test(p)), []);
    });
});
