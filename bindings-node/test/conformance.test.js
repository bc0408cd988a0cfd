'use strict'
// The conformance runner: every case of the four vector sources, counted against what the files
// declare, so no case can be skipped silently. Ends with `conformance: N passed, N failed`.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { SHARED, SOURCES } = require('./vectors.js')

const totals = { ran: 0, failed: 0 }

test('shared vectors are found', () => {
  assert.ok(fs.statSync(path.join(SHARED, 'vectors')).isDirectory(), `set TRUSTCORE_SHARED (looked in ${SHARED})`)
})

for (const [name, run] of SOURCES) {
  test(`conformance: ${name}`, async () => {
    const { ran, declared, failures } = await run()
    totals.ran += ran
    totals.failed += failures.length
    console.log(`conformance ${name}: ${ran} cases run, ${declared} declared`)
    for (const failure of failures) console.log(`FAILED ${failure}`)
    assert.equal(ran, declared, `${name}: ran ${ran} cases but the files declare ${declared}`)
    assert.deepEqual(failures, [])
  })
}

after(() => {
  console.log(`conformance: ${totals.ran - totals.failed} passed, ${totals.failed} failed`)
})
