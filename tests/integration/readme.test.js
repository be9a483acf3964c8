'use strict';
/*
 * The README and docs/*.md tell the truth: every shell example runs as
 * written against a stack (as against make run, from the repository's
 * root) and prints what the page says it prints, in a fresh stack per
 * page; a shell block that is not run is a command for a real host or a
 * long job, named below with the reason. The README's own route is
 * compiled from its text and served through the nginx lines it shows.
 * The example program of WRITING_ROUTES.md is the one that ships; every
 * configuration key and error code is in its page; every link between
 * the pages leads to a file and a heading that exist.
 */
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { start, TOP, BUILD } = require('./harness');

const read = (f) => fs.readFileSync(path.join(TOP, f), 'utf8');
const PAGES = ['README.md', ...fs.readdirSync(path.join(TOP, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

/*
 * Shell blocks that are not run, by page and first line: each is a
 * command for a real host (root, systemd, the system's nginx), or a job
 * of minutes that has a test of its own.
 */
const NOT_RUN = {
  'README.md': {
    'make run     # build,': 'starts the stack the examples run against',
    'make && sudo make install': 'a host\'s install; install.test.js runs make install into a DESTDIR',
  },
  'docs/FILES.md': {
    'SIM="http://127.0.0.1:$(cat run/sim.port)"': 'files-doc.test.js runs it against a stack with the file store and the simulator\'s file options set',
  },
  'docs/DEVELOPING.md': {
    'make run     # build,': 'starts the stack the examples run against',
    'make run SENTC_CONFIG=': 'needs a config of a real app',
  },
  'docs/DEPLOY.md': {
    'sudo adduser --system': 'a host\'s users and folders',
    'sudo systemctl daemon-reload': 'systemd; install.test.js checks the units with systemd-analyze',
    'sudo install -d -o sentc-backend -g www-data': 'a host\'s programs as root; privileges.test.js drops to a user',
    'sudo cp /usr/local/share/sentc-backend/nginx/': 'the system\'s nginx; install.test.js serves the installed snippet',
    'sudo nginx -t && sudo nginx -s reload': 'the system\'s nginx; admin.test.js reloads a stack\'s nginx with that edit',
    'sudo install -d /etc/apache2/sentc-backend': 'the system\'s Apache; tests/e2e/apache.test.js runs the config',
  },
  'docs/OPERATIONS.md': {
    'systemctl status \'sentc-backend@*\'': 'systemd',
    'git pull && make && sudo make install': 'a host\'s upgrade',
  },
  'docs/RELIABILITY.md': { 'make soak': 'ten minutes of load (make soak)' },
  'docs/BENCHMARKS.md': {
    'make bench': 'minutes of load (make bench)',
    'BENCH_SECONDS=1 BENCH_ROUNDS=1': 'minutes of load (make bench)',
  },
};

/* The fenced blocks of one language in a text. */
function blocks(text, lang) {
  const out = [];
  // A block may be indented (in a list item): its lines lose the indent.
  const re = new RegExp('^( *)```' + lang + '\\n([\\s\\S]*?)^\\1```', 'gm');
  for (let m; (m = re.exec(text));) {
    out.push(m[2].split('\n').map((l) => (l.startsWith(m[1]) ? l.slice(m[1].length) : l)).join('\n'));
  }
  return out;
}

/* The text of a "## " section of a page, up to the next one. */
function section(text, title) {
  const at = text.indexOf(`\n## ${title}\n`);
  assert.notEqual(at, -1, `a section "${title}"`);
  const end = text.indexOf('\n## ', at + 1);
  return text.slice(at, end === -1 ? undefined : end);
}

/* A page's shell blocks, with the reason where one is not run. */
function shellBlocks(page) {
  const skip = NOT_RUN[page] || {};
  return blocks(read(page), 'sh').map((b) => {
    const first = b.trimStart();
    const key = Object.keys(skip).find((k) => first.startsWith(k));
    return { text: b, notRun: key === undefined ? null : skip[key], key };
  });
}

/*
 * Does the actual value match the page's? "…" is any string, "{…}" any
 * object, and an integer of ten digits or more a time: any integer of
 * as many digits (seconds, or milliseconds with 13).
 */
function like(actual, expected, where) {
  if (expected === '…') {
    assert.equal(typeof actual, 'string', `${where}: a string`);
    return;
  }
  if (expected === '{…}') {
    assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${where}: an object`);
    return;
  }
  if (Number.isInteger(expected) && expected >= 1e9) {
    assert.ok(Number.isInteger(actual), `${where}: a number, not ${JSON.stringify(actual)}`);
    assert.equal(String(actual).length, String(expected).length, `${where}: a time of as many digits as ${expected}`);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    assert.deepEqual(actual, expected, where);
    return;
  }
  assert.equal(Array.isArray(actual), Array.isArray(expected), `${where}: array or object`);
  if (Array.isArray(expected)) {
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.forEach((v, i) => like(actual[i], v, `${where}[${i}]`));
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object', `${where}: an object`);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: members`);
  for (const k of Object.keys(expected)) like(actual[k], expected[k], `${where}.${k}`);
}

/*
 * Runs a page's shell examples in order, in one shell, against stack s,
 * and checks each answer against the one shown under it.
 */
function runExamples(s, page, examples) {
  // curl -s prints no newline of its own: one line per answer.
  let script = 'set -e\ncurl() { command curl "$@"; local rc=$?; echo; return $rc; }\n';
  examples.forEach((b, i) => { script += `echo "@@ ${i}"\n${b}\n`; });
  // run/ is make run's folder: here, the stack's.
  script = script.replaceAll('run/', `${s.dir}/`);
  const out = execFileSync('bash', ['-c', script], {
    encoding: 'utf8', cwd: TOP, env: { ...process.env, PORT: String(s.port) },
  });
  const outputs = out.split(/^@@ \d+\n/m).slice(1);
  assert.equal(outputs.length, examples.length, 'every block ran');
  let shown = 0;
  examples.forEach((b, i) => {
    const want = b.split('\n').filter((l) => /^# (\{|eyJ|sentc_backend_)/.test(l)).map((l) => l.slice(2));
    const got = outputs[i].split('\n').filter((l) => l !== '');
    const where = `${page} example ${i + 1} (${b.split('\n')[0].slice(0, 60)})`;
    assert.equal(got.length, want.length, `${where}: one shown answer per answer\n${outputs[i]}`);
    shown += want.length;
    want.forEach((w, j) => {
      if (w.startsWith('eyJ')) { // a JWT, shown by its first characters
        assert.match(got[j], /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/, where);
        return;
      }
      if (w.startsWith('sentc_backend_')) { // a Prometheus sample; "…" is any value
        const re = w.split('…').map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\S+');
        assert.match(got[j], new RegExp(`^${re}$`), where);
        return;
      }
      let actual;
      try { actual = JSON.parse(got[j]); } catch { assert.fail(`${where}: not JSON: ${got[j]}`); }
      like(actual, JSON.parse(w.replaceAll('{…}', '"{…}"')), `${where}: ${got[j]}\n`);
    });
  });
  return shown;
}

/*
 * The README's own route, as its text has it: the C file compiled as
 * make would, beside the built programs, and its nginx lines added to
 * copies of the snippet and its upstreams. Returns the stack's
 * environment (BIN_DIR, SNIPPET) and the folder to remove.
 */
function ownRoute() {
  const text = section(read('README.md'), 'Your own route in five minutes');
  const [src] = blocks(text, 'c');
  const name = /Save it as `cgi-bin\/([\w-]+)\.c`/.exec(text)?.[1];
  assert.ok(src && name, 'a program and its file name');
  const nginx = blocks(text, 'nginx');
  const upstream = nginx.find((b) => b.startsWith('upstream '));
  const location = nginx.find((b) => b.startsWith('location '));
  assert.ok(upstream && location, 'an upstream and a location');
  assert.match(upstream, new RegExp(`/run/sentc-backend/${name}\\.sock;`), 'the upstream names the program\'s socket');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-readme-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const p of fs.readdirSync(path.join(TOP, BUILD, 'bin'))) fs.symlinkSync(path.join(TOP, BUILD, 'bin', p), path.join(bin, p));
  fs.writeFileSync(path.join(dir, `${name}.c`), src);
  const flag = (v) => execFileSync('make', ['-s', '--no-print-directory', '-C', TOP, `BUILD=${BUILD}`,
    '--eval', `print-flag: ; @echo $(${v})`, 'print-flag'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  execFileSync('cc', [...flag('ALL_CFLAGS'), ...flag('CPPFLAGS'), '-o', path.join(bin, name), path.join(dir, `${name}.c`),
    path.join(TOP, BUILD, 'libsb.a'), ...flag('LDLIBS')], { cwd: TOP, stdio: ['ignore', 'pipe', 'pipe'] });
  const nx = path.join(dir, 'nginx');
  fs.mkdirSync(nx);
  fs.writeFileSync(path.join(nx, 'sentc-backend.conf'), `${read('nginx/sentc-backend.conf')}\n${location}`);
  fs.writeFileSync(path.join(nx, 'sentc-backend-upstreams.conf'), `${read('nginx/sentc-backend-upstreams.conf')}\n${upstream}`);
  return { dir, env: { BIN_DIR: bin, SNIPPET: path.join(nx, 'sentc-backend.conf') } };
}

describe('the pages\' shell blocks', () => {
  it('are each run below, or named as a host command with the reason', () => {
    for (const page of PAGES) {
      const bs = shellBlocks(page);
      for (const key of Object.keys(NOT_RUN[page] || {}))
        assert.ok(bs.some((b) => b.key === key), `${page}: no block starts "${key}" any more`);
      for (const b of bs.filter((x) => x.notRun === null)) {
        // The port is make run's: PORT, 8080 unless set; no example names it.
        assert.doesNotMatch(b.text.replaceAll('${PORT:-8080}', ''), /:8080\b/, `${page}: ${b.text.split('\n')[0]}`);
      }
    }
  });
});

for (const page of PAGES) {
  const examples = shellBlocks(page).filter((b) => b.notRun === null).map((b) => b.text);
  if (examples.length === 0) continue;
  describe(`${page}: the examples`, () => {
    let s;
    let own;
    before(async () => {
      if (page === 'README.md') own = ownRoute();
      s = await start(own ? own.env : {});
    });
    after(() => {
      if (s) s.stop();
      if (own) fs.rmSync(own.dir, { recursive: true, force: true });
    });

    it('run as written and print what the page shows', () => {
      const shown = runExamples(s, page, examples);
      assert.ok(shown > 0, 'answers shown');
    });
  });
}

describe('the reference pages', () => {
  it('the routes page has an example for every route', () => {
    assert.ok(shellBlocks('docs/ROUTES.md').filter((b) => b.notRun === null).length >= 10, 'an example per route');
  });

  it('WRITING_ROUTES.md shows the shipped example program as it is, and its nginx lines as the snippet has them', () => {
    const text = read('docs/WRITING_ROUTES.md');
    const [prog] = blocks(text, 'c');
    assert.equal(prog, read('cgi-bin/group-data.c'));
    const nginx = read('nginx/sentc-backend.conf') + read('nginx/sentc-backend-upstreams.conf');
    const shown = blocks(text, 'nginx');
    assert.ok(shown.length >= 2);
    for (const b of shown) assert.ok(nginx.includes(b), b);
  });

  it('CONFIG.md lists every configuration key', () => {
    const src = read('lib/sb_config.c');
    const keys = [...src.matchAll(/^\s*\{ "(SENTC_[A-Z0-9_]+)"/gm)].map((m) => m[1]);
    assert.ok(keys.length > 10);
    const table = read('docs/CONFIG.md');
    for (const k of keys) assert.match(table, new RegExp(`^\\| \`${k}\` \\|`, 'm'), k);
  });

  it('ERRORS.md lists every error code with its status', () => {
    const src = read('lib/sb.h');
    const codes = [...src.matchAll(/\/\* (2\d{4}) (\d{3}) /g)].map((m) => [m[1], m[2]]);
    assert.ok(codes.length > 20);
    const errors = read('docs/ERRORS.md');
    for (const [code, status] of codes)
      assert.match(errors, new RegExp(`^\\| ${code} \\| ${status} \\|`, 'm'), code);
  });

  it('routes every program in the nginx snippet, through a kept-alive upstream', () => {
    const conf = read('nginx/sentc-backend.conf');
    const ups = read('nginx/sentc-backend-upstreams.conf');
    assert.match(conf, /^fastcgi_keep_conn on;$/m);
    for (const f of fs.readdirSync(path.join(TOP, 'cgi-bin')).filter((n) => n.endsWith('.c'))) {
      const name = f.slice(0, -2);
      const up = `sentc_backend_${name.replace(/-/g, '_')}`;
      assert.match(conf, new RegExp(`fastcgi_pass ${up};`), name);
      assert.match(ups, new RegExp(`upstream ${up} \\{\\n\\tserver unix:/run/sentc-backend/${name}\\.sock;\\n\\tkeepalive \\d+;\\n\\}`), name);
    }
    assert.doesNotMatch(conf, /fastcgi_pass unix:/, 'every program through its upstream');
  });

  it('the README is under 16 KB, and its sections come in the newcomer\'s order', () => {
    const text = read('README.md');
    assert.ok(Buffer.byteLength(text) < 16 * 1024, `${Buffer.byteLength(text)} bytes`);
    const order = ['Prerequisites', 'Two commands', 'Smoke test', 'Browser quick start',
      'Your own route in five minutes', 'Deployment', 'Documentation'];
    const at = order.map((t) => text.indexOf(`\n## ${t}\n`));
    assert.ok(at.every((x) => x > 0), 'every section');
    assert.deepEqual([...at].sort((a, b) => a - b), at, 'in this order');
    assert.match(text, /Node\.js 20 or later/);
  });
});

/* GitHub's anchor of a heading. */
function slug(h) {
  return h.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replaceAll(' ', '-');
}

/* The anchors of a page's headings. */
function anchors(text) {
  const out = new Set();
  const seen = new Map();
  let fence = false;
  for (const l of text.split('\n')) {
    if (l.startsWith('```')) fence = !fence;
    const m = !fence && /^#{1,6} (.*)$/.exec(l);
    if (!m) continue;
    let s = slug(m[1]);
    if (seen.has(s)) { seen.set(s, seen.get(s) + 1); s = `${s}-${seen.get(s)}`; } else seen.set(s, 0);
    out.add(s);
  }
  return out;
}

describe('links between the pages', () => {
  // BENCHMARKS.md is the lead's to edit: its links are not checked here.
  const checked = PAGES.filter((p) => p !== 'docs/BENCHMARKS.md');

  it('lead to files and headings that exist', () => {
    const bad = [];
    for (const page of checked) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [file, anchor] = target.split('#');
        const to = file ? path.normalize(path.join(path.dirname(page), file)) : page;
        if (!fs.existsSync(path.join(TOP, to))) { bad.push(`${page}: ${target}`); continue; }
        if (anchor && to.endsWith('.md') && !anchors(read(to)).has(anchor)) bad.push(`${page}: ${target}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('the README links every page of docs/', () => {
    const text = read('README.md');
    for (const page of PAGES.filter((p) => p !== 'README.md')) assert.ok(text.includes(`](${page})`), page);
  });
});
