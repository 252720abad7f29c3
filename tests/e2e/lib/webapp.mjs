// Set-up of the staff app's browser tests: a daemon serving $BUILD/web over
// a fresh database with Utrecht's seed areas, an analyst with a password,
// and stories about "inbraak" in two wijken, one with a processed
// recording and a photo, released by a moderator.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { build, ctl, freshDatabase, startDaemon, tmpdir, top } from './harness.mjs';
import { addConsentTexts, addUser } from './accounts.mjs';
import { toneWav } from './consent.mjs';
import { fixtures } from './search.mjs';
import { waitMedia } from './media.mjs';

export const PASSWORD = 'analist wachtwoord 2024';

export async function webSetup(env = {}) {
  const url = freshDatabase();
  ctl(url, 'migrate');
  const seed = path.join(top, 'contrib/seed');
  ctl(url, 'import-areas', ...readdirSync(seed).filter((f) => /\.(csv|geojson)$/.test(f)).sort().map((f) => path.join(seed, f)));
  const d = await startDaemon({
    databaseUrl: url,
    env: { VERHAAL_WEB_ROOT: path.join(build, 'web'), VERHAAL_MEDIA_RUNNERS: '2', VERHAAL_LOG_LEVEL: 'info', ...env },
  });
  const key = ctl(url, 'collection', 'create', '--slug', 'wg', '--title', 'Wijkgesprekken').trim().split('\n').pop();
  addConsentTexts(url, 'wg');
  const mod = ctl(url, 'token', 'create', '--user', 'mod1', '--role', 'moderator').trim().split('\n').pop();
  addUser(url, 'analist', 'analyst', PASSWORD);

  const submit = async (entry, files = []) => {
    const form = new FormData();
    form.append('entry', JSON.stringify({ kind: 'story', consent: { scope: 'audio_to_staff', version: '2024-05', language: 'nl' }, ...entry }));
    for (const f of files) form.append('file', new Blob([f.data], { type: f.type }), f.name);
    const r = await fetch(`${d.url}/api/v1/collections/wg/uploads?key=${encodeURIComponent(key)}`, { method: 'POST', body: form });
    if (r.status !== 201) throw new Error(`upload: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const approve = async (id) => {
    const r = await fetch(`${d.url}/api/v1/entries/${id}/approve`, { method: 'POST', headers: { Authorization: `Bearer ${mod}` } });
    if (r.status !== 200) throw new Error(`approve ${id}: ${r.status} ${await r.text()}`);
  };

  const wav = toneWav(tmpdir('web'), 'verhaal.wav', 6, 330);
  const { png } = fixtures();
  const west = await submit({
    title: 'Inbraak in de schuur aan de Kanaalweg',
    text: 'Vorige week was er een inbraak in onze schuur. De buurman [naam] zag twee mannen met een zaklamp.\n\nSindsdien doen we alles op slot.',
    area: 'BU03440111', themes: ['woninginbraak'], occurred_at: '2024-03-14T21:00:00+01:00',
  }, [{ name: 'opname.wav', type: 'audio/wav', data: wav }, { name: 'schuur.png', type: 'image/png', data: png }]);
  const overvecht = await submit({
    title: 'Inbraakpogingen bij de flat',
    text: 'In onze flat zijn drie inbraakpogingen geweest deze winter.',
    area: 'BU03440311', themes: ['woninginbraak', 'veiligheidsgevoel'], occurred_at: '2024-01-20T10:00:00+01:00',
  });
  const other = await submit({
    title: 'Fietsen in het park', text: 'Veel fietsen zonder licht in het park.', area: 'BU03440112',
    themes: ['fietsendiefstal'], occurred_at: '2023-10-01T12:00:00+02:00',
  });
  // Enough quiet stories for a second page of results (20 a page).
  const filler = [];
  for (let i = 0; i < 22; i++) {
    filler.push(await submit({
      title: `Avond in de wijk ${i + 1}`, text: 'Het was rustig op straat.', area: 'BU03440211',
      themes: ['veiligheidsgevoel'], occurred_at: `2022-05-${String(i + 1).padStart(2, '0')}T20:00:00+02:00`,
    }));
  }
  for (const m of west.media) {
    const done = await waitMedia(d.url, mod, m.id, 90000);
    if (done.status !== 'ready') throw new Error(`media ${m.id}: ${done.reason}`);
  }
  for (const e of [west, overvecht, other, ...filler]) await approve(e.id);
  return { url, d, west, overvecht, other, key, mod };
}
