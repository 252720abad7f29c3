// Collecties, Beheer and Exporteren in a real browser. An admin creates a
// collection with its consent text and gets its resident link as a URL
// and a QR code: the code, decoded from a screenshot of the page (jsQR),
// is that URL, and a story sent to it is accepted; renewing the link
// makes the old one fail. On Beheer the admin adds an account, disables
// it, makes a token, sets up a field worker's phone for ODK Collect (the QR
// code decodes to Collect's settings with a working token, which a revoke
// stops) and filters the audit trail; Exporteren says what
// small-number suppression did. axe-core on each page and state, 320 px,
// screenshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import { launch, skipWithoutChromium } from './lib/browser.mjs';
import { checkPage, json, signIn, skipWithoutWeb, staffSetup } from './lib/staffweb.mjs';

const require = createRequire(import.meta.url);
const jsQR = require('jsqr');
const { PNG } = require('pngjs');

async function decodeQr(locator) {
  const png = PNG.sync.read(await locator.screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return code?.data ?? null;
}

async function story(url, scope = 'analysis_only') {
  const form = new FormData();
  form.append('entry', JSON.stringify({ kind: 'story', text: 'Mijn verhaal uit de wijk.', consent: { scope, version: '2026-12', language: 'nl' } }));
  const r = await fetch(url, { method: 'POST', body: form });
  await r.arrayBuffer();
  return r.status;
}

test('an admin creates a collection and gets its QR code; Beheer and Exporteren', { skip: skipWithoutChromium() || skipWithoutWeb(), timeout: 180000 }, async () => {
  const ctx = await staffSetup();
  const u = ctx.d.url;
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (x) => errors.push(String(x)));
    await signIn(page, u, 'admin1', '/collecties');
    await page.getByRole('heading', { level: 1, name: 'Collecties' }).waitFor();
    await page.getByRole('cell', { name: 'buurt', exact: true }).waitFor();

    // Errors shown next to the fields.
    await page.getByRole('button', { name: 'Collectie aanmaken' }).click();
    await page.getByText('Vul een titel in.').waitFor();
    await checkPage(page, 'collecties-fouten');

    await page.getByLabel('Titel', { exact: true }).fill('Wijkgesprek Overvecht, mei');
    await page.getByLabel('Versie').fill('2026-12');
    await page.getByLabel('Toestemmingstekst (Nederlands)').fill('Ik geef de gemeente toestemming mijn verhaal te gebruiken voor analyse.');
    await page.getByRole('button', { name: 'Collectie aanmaken' }).click();
    const qr = page.getByRole('img', { name: /QR-code van de uploadlink voor Wijkgesprek Overvecht, mei/ });
    await qr.waitFor();
    const url = await page.getByLabel('Link voor bewoners').inputValue();
    assert.match(url, new RegExp(`^${u}/api/v1/collections/wijkgesprek-overvecht-mei/uploads\\?key=vh_`));
    assert.equal(await decodeQr(qr), url, 'the QR code holds the link');
    await page.getByRole('rowheader', { name: 'Wijkgesprek Overvecht, mei' }).waitFor();
    await checkPage(page, 'collecties-link');
    assert.equal(await story(url), 201, 'a resident can send a story to the link');

    // Renew: the dialog, then a new link and code; the old link fails.
    await page.getByRole('button', { name: 'Nieuwe link voor Wijkgesprek Overvecht, mei' }).click();
    await page.getByRole('dialog', { name: 'Nieuwe uploadlink maken' }).waitFor();
    await checkPage(page, 'collecties-vernieuwen');
    await page.getByRole('button', { name: 'Nieuwe link maken' }).click();
    await page.waitForFunction((old) => document.querySelector('#link-url')?.value !== old, url);
    const url2 = await page.getByLabel('Link voor bewoners').inputValue();
    assert.equal(await decodeQr(page.getByRole('img', { name: /QR-code/ })), url2);
    assert.equal(await story(url), 401, 'the old link is refused');
    assert.equal(await story(url2), 201);

    // Beheer: an account added, disabled; a token; the audit trail filtered.
    await page.goto(`${u}/beheer`);
    await page.getByRole('heading', { level: 1, name: 'Beheer' }).waitFor();
    await page.getByRole('rowheader', { name: 'moderator1' }).waitFor();
    await page.getByLabel('Naam', { exact: true }).fill('wijkteam-oost');
    await page.getByLabel('Rol', { exact: true }).selectOption('fieldworker');
    await page.getByLabel('Wachtwoord (minstens 12 tekens)').fill('kort');
    await page.getByRole('button', { name: 'Account toevoegen' }).click();
    await page.getByText('Het wachtwoord moet minstens 12 tekens hebben.').waitFor();
    await checkPage(page, 'beheer-fout');
    await page.getByLabel('Wachtwoord (minstens 12 tekens)').fill('een lang genoeg wachtwoord');
    await page.getByRole('button', { name: 'Account toevoegen' }).click();
    await page.getByText('Het account wijkteam-oost is toegevoegd.').waitFor();
    await page.getByRole('button', { name: 'wijkteam-oost uitschakelen' }).click();
    await page.getByRole('button', { name: 'wijkteam-oost inschakelen' }).waitFor();
    const accs = await json(u, ctx.tokens.admin, 'GET', '/api/v1/accounts');
    assert.equal(accs.body.find((a) => a.name === 'wijkteam-oost').disabled, true);

    await page.getByLabel('Account', { exact: true }).selectOption('analyst1');
    await page.getByLabel('Omschrijving').fill('rapportage');
    await page.getByRole('button', { name: 'Token maken' }).click();
    const secret = await page.getByLabel('Nieuw token').inputValue();
    assert.match(secret, /^vh_/);
    const who = await fetch(`${u}/api/v1/session`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal((await who.json()).name, 'analyst1');

    // A field worker's phone: the QR code holds ODK Collect's settings
    // (zlib-compressed JSON, base64) naming the server and a live token.
    assert.equal((await json(u, ctx.tokens.admin, 'POST', '/api/v1/accounts',
      { name: 'veldwerker-west', role: 'fieldworker', password: 'een lang genoeg wachtwoord' })).status, 201);
    await page.reload();
    await page.getByRole('heading', { level: 2, name: 'Telefoons met ODK Collect' }).waitFor();
    await page.getByLabel('Veldwerker', { exact: true }).selectOption('veldwerker-west');
    await page.getByRole('button', { name: 'QR-code maken' }).click();
    const odkQr = page.getByRole('img', { name: 'QR-code met de ODK Collect-instellingen voor veldwerker-west' });
    await odkQr.waitFor();
    const settings = JSON.parse(inflateSync(Buffer.from(await decodeQr(odkQr), 'base64')).toString('utf8'));
    assert.match(settings.general.server_url, new RegExp(`^${u}/odk/key/[^/]+$`));
    assert.equal((await fetch(`${settings.general.server_url}/formList`)).status, 200, 'the phone can fetch its form');
    await checkPage(page, 'beheer-odk');
    const odkId = (await json(u, ctx.tokens.admin, 'GET', '/api/v1/odk/tokens')).body.tokens.find((t) => t.name === 'veldwerker-west').id;
    await page.getByRole('button', { name: `ODK-token ${odkId} intrekken` }).click();
    await page.getByText(`ODK-token ${odkId} is ingetrokken`).waitFor();
    assert.equal((await fetch(`${settings.general.server_url}/formList`)).status, 401, 'a revoked phone is refused');

    await page.getByLabel('Handeling').selectOption('user_disable');
    await page.getByRole('button', { name: 'Filteren' }).click();
    const table = page.getByTestId('audit-table');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="audit-table"] tbody tr')].every((r) => r.innerText.includes('user_disable')));
    assert.match(await table.innerText(), /account wijkteam-oost/);
    await checkPage(page, 'beheer');

    // Exporteren of a search: the line on small numbers.
    await page.goto(`${u}/exporteren?collection=wijkgesprek-overvecht-mei`);
    await page.getByRole('heading', { level: 1, name: 'Exporteren' }).waitFor();
    const line = await page.getByTestId('export-suppression').innerText();
    // The line says what the API did to this search's counts: totals are
    // exact (privacy.md), facet cells under k come as text ("<5", "x").
    const api = await json(u, ctx.tokens.admin, 'GET', '/api/v1/entries?collection=wijkgesprek-overvecht-mei&limit=1');
    const small = Object.values(api.body.facets ?? {}).flat().filter((f) => typeof f.count === 'string').length;
    if (small > 0) assert.match(line, new RegExp(`${small} aantal\\(len\\).*kleiner dan 5`), line);
    else assert.match(line, /niets afgeschermd/, line);
    assert.match(await page.getByRole('link', { name: 'CSV downloaden' }).getAttribute('href'), /collection=wijkgesprek-overvecht-mei/);
    await checkPage(page, 'exporteren');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await ctx.d.stop('SIGKILL');
  }
});
