// Opt-out words (STOP, START, HELP and their kin): a message that is one such word, in any
// case and with or without accents or a trailing full stop, is an instruction to the
// gateway rather than conversation. Only a whole-message match counts, as carriers' and
// CTIA's rules have it: "stop by at 5" must not unsubscribe anyone.
import type { OptOutConfig } from '../config/index.ts';
import { firstWord, foldKeyword } from '../core/index.ts';

export type OptOutAction = 'stop' | 'start' | 'help';

const builtIn: Record<OptOutAction, string[]> = {
  stop: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'],
  start: ['START', 'UNSTOP'],
  help: ['HELP', 'INFO'],
};

export const defaultOptOutReplies: Record<OptOutAction, string> = {
  stop: 'You have been unsubscribed and will get no more messages from {{to}}. Reply START to resubscribe.',
  start: 'You have been resubscribed to messages from {{to}}. Reply STOP to unsubscribe.',
  help: 'Reply STOP to unsubscribe or START to resubscribe.',
};

export class OptOutWords {
  readonly #actions = new Map<string, OptOutAction>();

  constructor(config: Pick<OptOutConfig, 'stopWords' | 'startWords' | 'helpWords'>) {
    const words: Record<OptOutAction, string[]> = {
      stop: [...builtIn.stop, ...(config.stopWords ?? [])],
      start: [...builtIn.start, ...(config.startWords ?? [])],
      help: [...builtIn.help, ...(config.helpWords ?? [])],
    };
    for (const action of ['help', 'start', 'stop'] as const) {
      for (const word of words[action]) this.#actions.set(foldKeyword(word), action);
    }
  }

  /** What the message asks of the gateway, if it is one opt-out word and nothing else. */
  classify(text: string | null): OptOutAction | null {
    const word = firstWord(text);
    if (word === '' || (text ?? '').trim().split(/\s+/).length !== 1) return null;
    return this.#actions.get(foldKeyword(word)) ?? null;
  }
}
