// golden.js writes transforms/testdata/corpus/golden.json: for every case of
// transforms/testdata/corpus/cases.json, what the reference JSONata
// implementation (jsonata-js, pinned in package-lock.json) gives, as the
// body hookgate would send (JSON.stringify of the result), undefined, or
// the error. Run it with `make golden`; TestCorpusGolden compares both Go
// engines against the file without needing node.
'use strict';

const fs = require('fs');
const path = require('path');
const jsonata = require('jsonata');
const { version } = require('jsonata/package.json');

const testdata = path.resolve(__dirname, '../../transforms/testdata');
const corpus = path.join(testdata, 'corpus');

// An input is the name of a payload file (corpus/payloads/NAME.json; the
// default is the seed envelope) or a JSON value written in the case.
function input(c) {
  if (c.input === undefined) {
    return JSON.parse(fs.readFileSync(path.join(testdata, 'seed-envelope.json'), 'utf8'));
  }
  if (typeof c.input === 'string') {
    return JSON.parse(fs.readFileSync(path.join(corpus, 'payloads', c.input + '.json'), 'utf8'));
  }
  return c.input;
}

async function run(c) {
  const out = { name: c.name, template: c.template };
  if (c.input !== undefined) out.input = c.input;
  let result;
  try {
    result = await jsonata(c.template).evaluate(input(c));
  } catch (e) {
    out.error = { code: e.code, position: e.position, message: e.message };
    return out;
  }
  // JSON.stringify is what a body is: it drops undefined members, and a
  // function (a lambda is a circular object in jsonata-js) cannot be sent.
  let body;
  try {
    body = result === undefined ? undefined : JSON.stringify(result);
  } catch (e) {
    out.error = { code: 'JSON.stringify', message: e.message.split('\n')[0] };
    return out;
  }
  if (body === undefined) {
    out.undefined = true;
  } else {
    out.result = JSON.parse(body);
  }
  return out;
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(path.join(corpus, 'cases.json'), 'utf8'));
  const names = new Set();
  const golden = [];
  for (const c of cases) {
    if (names.has(c.name)) throw new Error('duplicate case name ' + c.name);
    names.add(c.name);
    golden.push(await run(c));
  }
  const file = path.join(corpus, 'golden.json');
  fs.writeFileSync(file, JSON.stringify({ jsonata: version, cases: golden }, null, 2) + '\n');
  console.log(`${path.relative(process.cwd(), file)}: ${golden.length} cases, jsonata ${version}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
