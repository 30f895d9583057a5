// The problems parseConfig names for a YAML config (none when it loads).
import { ConfigError, parseConfig } from '../../src/config/index.ts';

export function configProblems(yaml: string): string[] {
  try {
    parseConfig(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
