// Syntax check of the golden T-SQL with a real parser (datafusion
// sqlparser-rs, MsSql dialect, as WebAssembly), since no SQL Server runs
// where this package is developed. Not part of `go test`. Run from a scratch
// directory:
//
//   npm install @guanmingchiu/sqlparser-ts@0.62.0
//   node <repo>/internal/sink/sqlserver/tsqlcheck/check.mjs <repo>/internal/sink/sqlserver/testdata/*.sql
//
// The parser lacks a few T-SQL forms this package uses (listed in SKIP and
// STRIP below); those parts are left out of the check, everything else of
// each GO-separated batch must parse. The flow_*.sql transcripts are skipped:
// they are not GO-separated scripts.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

// Resolved from the working directory, where the package was installed.
const require = createRequire(path.join(process.cwd(), 'index.js'));
const { init, validate } = require('@guanmingchiu/sqlparser-ts');

// Constructs sqlparser-rs 0.62 does not parse, all documented T-SQL.
const STRIP = [
  [/ WITH \(HOLDLOCK\)/g, ''],                                  // table hint on MERGE / DELETE targets
  [/ OUTPUT DELETED\.\[Id\] INTO @(hit|gone) \(\[Id\]\)/g, ''], // OUTPUT on DELETE ... FROM
  [/INTO @hit \(\[Id\]\)/g, 'INTO @hit'],                       // OUTPUT INTO with a column list
  [/\n\s*OPTION \(HASH JOIN, MERGE JOIN\);/g, ';'],               // query hint
  [/^CREATE OR ALTER PROCEDURE[\s\S]*?\nBEGIN\n/, ''],          // procedure header (body is checked)
  [/\nEND;$/, ''],
];
const SKIP = /ALTER COLUMN|AS TABLE|^GRANT|sp_getapplock/;      // ALTER COLUMN <type>, CREATE TYPE, GRANT, EXEC @r =

await init();
let ok = 0, bad = 0, skipped = 0;
for (const f of process.argv.slice(2)) {
  if (path.basename(f).startsWith('flow_')) continue;
  for (const raw of fs.readFileSync(f, 'utf8').split(/\nGO\n/)) {
    let b = raw.split('\n').filter((l) => !l.trim().startsWith('--')).join('\n').trim();
    if (!b) continue;
    for (const [re, to] of STRIP) b = b.replace(re, to);
    if (SKIP.test(b)) { skipped++; continue; }
    try {
      validate(b, 'mssql');
      ok++;
    } catch (e) {
      bad++;
      console.log(`== ${f}: ${e}\n${b}\n`);
    }
  }
}
console.log(`${ok} passed, ${bad} failed, ${skipped} skipped`);
process.exit(bad ? 1 : 0);
