// The `modem` connector's settings: defaults, and refusals naming the path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { configProblems as problemsOf } from './problems.ts';

test('type: modem takes devices, and optional pin and baudRate', () => {
  const config = parseConfig(`
connectors:
  - { id: gsm, type: modem, devices: [/dev/ttyUSB0, /dev/ttyUSB2], pin: "0000" }
`);
  assert.deepEqual(config.connectors[0], {
    id: 'gsm',
    type: 'modem',
    devices: ['/dev/ttyUSB0', '/dev/ttyUSB2'],
    pin: '0000',
    baudRate: 115_200,
    commandTimeoutSeconds: 10,
    sendTimeoutSeconds: 60,
    pollSeconds: 30,
  });
  // Like every connector, it takes costs for least-cost routing.
  const costed = parseConfig(`
connectors:
  - { id: gsm, type: modem, devices: [/dev/ttyUSB0], costs: [{ to: ["+44*"], cost: 0.02 }] }
`);
  assert.deepEqual(costed.connectors[0]?.costs, [{ to: ['+44*'], cost: 0.02 }]);
});

test('bad modem settings are refused naming their path; a device has one owner', () => {
  const problems = problemsOf(`
connectors:
  - { id: gsm, type: modem, pin: "12a4", baudRate: 5 }
`);
  assert.ok(problems.includes('connectors[0].devices: required'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('connectors[0].pin: ')));
  assert.ok(problems.includes('connectors[0].baudRate: expected integer 300..4000000'));
  assert.deepEqual(
    problemsOf(`
connectors:
  - { id: gsm2, type: modem, devices: [/dev/ttyUSB0, /dev/ttyUSB1] }
  - { id: gsm3, type: modem, devices: [/dev/ttyUSB1] }
`),
    ["connectors[1].devices[0]: /dev/ttyUSB1 is already used by connector 'gsm2'"],
  );
});
