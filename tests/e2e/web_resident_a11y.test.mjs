// The resident's page for every person (issue 13): axe-core (WCAG 2.1 A
// and AA) finds no violation in any step, in Dutch and in Arabic (right
// to left), and a screenshot of every step at 360×740 is saved under
// $BUILD/screenshots for review. And an iPhone-shaped recording
// (audio/mp4 made by ffmpeg) and an Android-shaped one
// (audio/webm;codecs=opus) both become playable renditions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from './lib/harness.mjs';
import { skipWithoutChromium, axe, describeViolations, screenshot } from './lib/browser.mjs';
import { residentDaemon, launchWithMic, speechWav, SLUG, admin } from './lib/resident.mjs';
import { waitMedia, fetchTo, decodedSeconds } from './lib/media.mjs';

const skip = skipWithoutChromium();

const WORDS = {
  nl: { next: 'Volgende', scope: 'Alleen gebruiken voor onderzoek', mic: 'Microfoon aanzetten', rec: 'Opnemen', stop: 'Stoppen', send: 'Versturen', text: 'Uw verhaal in tekst', status: 'Wat is er met mijn verhaal gebeurd?', withdraw: 'Mijn verhaal intrekken', lang: 'Taal' },
  ar: { next: 'التالي', scope: 'للبحث فقط', mic: 'تشغيل الميكروفون', rec: 'تسجيل', stop: 'إيقاف', send: 'إرسال', text: 'قصتك مكتوبة', status: 'ماذا حدث لقصتي؟', withdraw: 'سحب قصتي', lang: 'اللغة' },
};

async function check(page, lang, name) {
  const v = await axe(page);
  assert.equal(v.length, 0, `${lang} ${name}:\n${describeViolations(v)}`);
  const file = await screenshot(page, `resident-${lang}-${name}`, 360, 740);
  return file;
}

for (const lang of ['nl', 'ar']) {
  test(`every step passes axe (WCAG 2.1 AA) in ${lang}, with a screenshot at 360×740`, { skip }, async () => {
    const ctx = await residentDaemon();
    const browser = await launchWithMic({ locale: lang === 'ar' ? 'ar' : 'nl-NL' });
    const w = WORDS[lang];
    const shots = [];
    try {
      const page = await browser.newPage();
      await page.setViewportSize({ width: 360, height: 740 });
      await page.goto(ctx.link);
      await page.locator('#vh-step-title').waitFor();
      // The browser's language chose the page's.
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
      assert.equal(await page.evaluate(() => document.documentElement.dir), lang === 'ar' ? 'rtl' : 'ltr');
      await page.getByTestId('retention').waitFor();
      shots.push(await check(page, lang, '1-waarom'));
      await page.getByRole('button', { name: w.next }).click();
      await page.getByTestId('consent-text').waitFor();
      if (lang === 'ar') {
        // No Arabic text: the Dutch one, marked as Dutch, said so in Arabic.
        assert.equal(await page.getByTestId('consent-text').getAttribute('lang'), 'nl');
      }
      await page.getByRole('button', { name: w.next }).click(); // the "choose first" message
      shots.push(await check(page, lang, '2-toestemming'));
      await page.getByLabel(w.scope).check();
      await page.getByRole('button', { name: w.next }).click();
      shots.push(await check(page, lang, '3-opnemen'));
      await page.getByRole('button', { name: w.mic }).click();
      await page.getByRole('button', { name: w.rec, exact: true }).click();
      await page.waitForTimeout(1500);
      shots.push(await check(page, lang, '3b-opnemen-bezig'));
      await page.getByRole('button', { name: w.stop, exact: true }).click();
      await page.locator('[data-duration-ms]').waitFor();
      shots.push(await check(page, lang, '3c-opnemen-klaar'));
      await page.getByRole('button', { name: w.next }).click();
      await page.getByLabel(w.text).fill(lang === 'ar' ? 'الشارع غير آمن في الليل.' : 'Het plein is \'s avonds onveilig.');
      await page.waitForFunction(() => document.querySelectorAll('#vh-buurt option').length > 1);
      shots.push(await check(page, lang, '4-meer-vertellen'));
      // Sending, slowed so that the step can be looked at.
      let release;
      const held = new Promise((r) => { release = r; });
      await page.route('**/api/v1/uploads/*', async (route) => {
        if (route.request().method() === 'PATCH') await held;
        await route.continue();
      });
      await page.getByRole('button', { name: w.send }).click();
      await page.locator('#vh-progress').waitFor();
      shots.push(await check(page, lang, '5-versturen'));
      release();
      await page.getByTestId('receipt').waitFor({ timeout: 60000 });
      shots.push(await check(page, lang, '6-bedankt'));
      const receipt = (await page.getByTestId('receipt').textContent()).trim();

      await page.getByRole('link', { name: w.status }).click();
      await page.locator('#vh-status-code').fill(receipt);
      await page.locator('#vh-status-code').press('Enter');
      await page.getByTestId('story-state').waitFor();
      shots.push(await check(page, lang, '7-status'));
      await page.getByRole('link', { name: w.withdraw }).click();
      await page.locator('#vh-withdraw-code').fill(receipt);
      await page.locator('#vh-withdraw-code').press('Enter');
      await page.locator('.vh-result ul').waitFor();
      shots.push(await check(page, lang, '8-intrekken'));
      // The dead link's page too.
      await page.goto(`${ctx.d.url}/api/v1/collections/${SLUG}/uploads?key=vh_oud`);
      shots.push(await check(page, lang, '9-link-werkt-niet'));
      console.log(`screenshots:\n${shots.map((f) => `  ${path.relative(process.cwd(), f)}`).join('\n')}`);
    } finally {
      await browser.close();
      await ctx.d.stop('SIGKILL');
    }
  });
}

test('an iPhone-shaped recording (audio/mp4) and an Android-shaped one (audio/webm;codecs=opus) both become playable renditions', async () => {
  const ctx = await residentDaemon();
  const dir = tmpdir('shapes');
  try {
    const wav = speechWav();
    const m4a = path.join(dir, 'iphone.m4a');
    const webm = path.join(dir, 'android.webm');
    execFileSync('ffmpeg', ['-v', 'error', '-i', wav, '-c:a', 'aac', '-b:a', '64k', '-f', 'mp4', m4a]);
    execFileSync('ffmpeg', ['-v', 'error', '-i', wav, '-c:a', 'libopus', '-b:a', '32k', '-f', 'webm', webm]);
    const { Upload } = await import('tus-js-client');
    for (const [file, type] of [[m4a, 'audio/mp4'], [webm, 'audio/webm;codecs=opus']]) {
      const data = readFileSync(file);
      let receipt = null;
      const device = randomBytes(32).toString('base64url');
      await new Promise((resolve, reject) => {
        const u = new Upload(data, {
          endpoint: `${ctx.d.url}/api/v1/collections/${SLUG}/uploads`,
          headers: { 'X-Upload-Key': ctx.key },
          metadata: { filename: path.basename(file), filetype: type, kind: 'story', device,
            consent: JSON.stringify({ scope: 'audio_to_staff', version: '2026-11', language: 'nl' }) },
          chunkSize: 16 * 1024,
          onAfterResponse: (_q, res) => { receipt = res.getHeader('Upload-Receipt') ?? receipt; },
          onError: reject, onSuccess: resolve,
        });
        u.start();
      });
      assert.match(receipt, /^vh_/);
      const r = await fetch(`${ctx.d.url}/api/v1/entries?collection=${SLUG}&facets=false&sort=recent`, { headers: admin(ctx) });
      const [item] = (await r.json()).items;
      const entry = await (await fetch(`${ctx.d.url}/api/v1/entries/${item.id}`, { headers: admin(ctx) })).json();
      assert.equal(entry.media[0].declared_type, type);
      const m = await waitMedia(ctx.d.url, ctx.admin, entry.media[0].id);
      assert.equal(m.status, 'ready', `${type}: ${JSON.stringify(m)}`);
      const want = decodedSeconds(wav);
      for (const [rend, name] of [['audio.opus', 'a.opus'], ['audio.m4a', 'a.m4a']]) {
        const { file: out } = await fetchTo(ctx.d.url, ctx.admin, m.links[rend], dir, `${type.replace(/\W/g, '_')}-${name}`);
        const secs = decodedSeconds(out);
        assert.ok(Math.abs(secs - want) < 0.3, `${type} → ${rend}: ${secs} s, the speech is ${want} s`);
      }
    }
  } finally {
    await ctx.d.stop('SIGKILL');
  }
});
