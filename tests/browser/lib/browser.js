// Debian's Chromium driven by playwright-core (no browser is ever downloaded), and
// what every journey does at each page it reaches: a screenshot at 360 and at 1280
// px wide, an axe-core scan, and a check that the page broke no rule of its
// Content-Security-Policy.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const WIDTHS = [360, 1280];
const WIDE = { width: 1280, height: 900 };

export const screenshots = process.env.TWOTIER_SCREENSHOTS || join(process.cwd(), 'screenshots');
const report = { pages: [], violations: [] };

export async function launch() {
  mkdirSync(screenshots, { recursive: true });
  return chromium.launch({
    executablePath: process.env.TWOTIER_CHROMIUM || '/usr/bin/chromium',
    // root (the test machines) has no user namespace sandbox for Chromium
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
}

// A new browser profile (no cookie, no cache, no storage) speaking LOCALE.
export async function person(browser, { locale = 'en-GB' } = {}) {
  const context = await browser.newContext({ viewport: WIDE, locale, serviceWorkers: 'block' });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // the browser reports a refused fetch (401, 404…) on the console too; those are
    // the pages' business and are asserted by the journeys
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.problems.push(`console: ${m.text()}`);
  });
  return page;
}

// The page as it is now: screenshots at both widths, axe-core's scan (no serious or
// critical violation), no CSP violation and no script error so far.
export async function snap(page, name) {
  await page.waitForFunction(() => !document.querySelector('main[aria-busy]'));
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    await page.screenshot({ path: join(screenshots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(WIDE);
  // evaluated through the DevTools protocol, which the page's CSP does not govern
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  const found = result.violations.map((v) => ({ page: name, id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  report.pages.push({ page: name, url: page.url(), violations: found.length, passes: result.passes.length });
  report.violations.push(...found);
  const grave = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(grave, [], `${name}: axe-core found serious or critical violations`);
  assert.deepEqual(page.problems, [], `${name}: script errors or CSP violations`);
}

export function record(key, value) {
  report[key] = value;
}

// NAME.json in the screenshots' folder: one a test file (they run one after another).
export function writeReport(name = 'report') {
  writeFileSync(join(screenshots, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

// The text that describes control LOCATOR to assistive technology (its hint and
// its error), as aria-describedby names them.
export function description(locator) {
  return locator.evaluate((el) =>
    (el.getAttribute('aria-describedby') || '')
      .split(/\s+/)
      .map((id) => document.getElementById(id))
      .filter((e) => e && !e.hidden)
      .map((e) => e.textContent)
      .join(' '),
  );
}

// Waits until text is in the page (role alert or status, or anywhere).
export async function sees(page, text, timeout = 10000) {
  await page.getByText(text, { exact: false }).first().waitFor({ state: 'visible', timeout });
}
