// Debian's Chromium driven by playwright-core (which brings no browser of its own): a
// headless browser with a fresh temporary profile, nothing fetched from the network.
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
}

/**
 * A page in a fresh Chromium for a test of the console of `gateway`, both closed after the
 * test; `problems` collects what the page reports (pageProblems). `signIn` opens the
 * console and signs in with a key; `text` is an element's trimmed text.
 */
export async function consolePage(
  t: TestContext,
  gateway: { base: string; close(): Promise<void> },
  timeoutMs: number,
): Promise<{
  page: Page;
  problems: string[];
  signIn(key: string): Promise<void>;
  text(selector: string): Promise<string>;
}> {
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await gateway.close();
  });
  browser = await launchChromium();
  const page = await browser.newPage();
  page.setDefaultTimeout(timeoutMs);
  return {
    page,
    problems: pageProblems(page),
    async signIn(key) {
      await page.goto(`${gateway.base}/console`);
      await page.fill('#key', key);
      await page.click('#sign-in button[type=submit]');
      // Until the key is checked the console has not landed: a navigation before then would
      // be overwritten by the landing page. A refused key leaves its message instead.
      // (The form disables its button while the key is checked.)
      await page
        .locator('#signed-in')
        .or(page.locator('#sign-in button[type=submit]:enabled'))
        .first()
        .waitFor();
    },
    text: async (selector) => ((await page.textContent(selector)) ?? '').trim(),
  };
}

/**
 * Every script error, console error and CSP violation the page reports: a console that
 * works only because an error went unseen is broken. The browser's own line for an API
 * refusal (4xx) is left out: the tests provoke those and check what the page shows.
 */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d /.test(msg.text()))
      problems.push(`console error: ${msg.text()}`);
  });
  return problems;
}

const axeSource = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

/** What axe-core finds against WCAG 2 A and AA on the page as it is (`rule: element`). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the devtools protocol: the console's CSP does not apply to it.
  await page.evaluate(axeSource);
  return page.evaluate(
    `axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] }).then((r) => r.violations.flatMap((v) => v.nodes.map((n) => v.id + ': ' + n.target.join(' '))))`,
  );
}
