// `npm run docs:config`: writes docs/configuration.md from the config schema
// (src/config/reference.ts). test/config/reference.test.ts fails when it is out of date.
import { writeFileSync } from 'node:fs';
import { configReference } from '../src/config/index.ts';

const file = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(file, configReference());
process.stdout.write(`wrote ${file.pathname}\n`);
