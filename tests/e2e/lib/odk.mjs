// Helpers for the OpenRosa e2e tests: requests shaped like ODK Collect's
// (its headers, its multipart parts in its order) and Enketo's, instance
// XML for the werkbezoek form, and xmllint for namespace checks.
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ctl, tmpdir } from './harness.mjs';

export const COLLECT_UA = 'Dalvik/2.1.0 (Linux; U; Android 13; Pixel 6 Build/TQ3A.230901.001) org.odk.collect.android/v2024.3.2';

// Collect's Date header: "E, dd MMM yyyy hh:mm:ss zz" in GMT, a 12-hour
// clock without AM/PM (so 15:04 is sent as 03:04).
export function collectDate(d = new Date()) {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n) => String(n).padStart(2, '0');
  const h12 = d.getUTCHours() % 12 || 12;
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(h12)}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

export function collectHeaders(extra = {}) {
  return {
    'User-Agent': COLLECT_UA,
    'X-OpenRosa-Version': '1.0',
    'Accept-Encoding': 'gzip',
    Date: collectDate(new Date(Date.UTC(2026, 11, 1, 15, 4, 5))),
    ...extra,
  };
}

// One raw request; resolves {status, headers, text}. body: a Buffer sent
// with Content-Length, or an array of Buffers sent chunked.
export function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = { ...headers };
    if (Buffer.isBuffer(body)) h['Content-Length'] = body.length;
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else if (Array.isArray(body)) { for (const b of body) req.write(b); req.end(); }
    else req.end();
  });
}

// A multipart body the way OkHttp (ODK Collect) builds it: a UUID
// boundary, each part with Content-Disposition, Content-Type and
// Content-Length. parts: [{name, filename?, type?, data}]
export function multipart(parts, boundary = randomUUID()) {
  const bufs = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    const data = Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data, 'utf8');
    if (!p.noLength) head += `Content-Length: ${data.length}\r\n`;
    bufs.push(Buffer.from(head + '\r\n', 'utf8'), data, Buffer.from('\r\n'));
  }
  bufs.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(bufs), type: `multipart/form-data; boundary=${boundary}` };
}

// The werkbezoek instance as Collect writes it (ns 'orx' puts meta and
// the version in the orx namespace, as some clients do).
export function instanceXml({ id, deprecated, version = 'v0', formId = 'werkbezoek', title = 'Bezoek Lombok',
  note = 'Drukte bij de speeltuin.\nBewoners vertellen over overlast.', date = '2026-11-30',
  themes = 'overlast-en-leefbaarheid veiligheidsgevoel', buurt = '', location = '', photos = [], memo = '', ns = 'plain' }) {
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const fotos = photos.map((p) => `<fotos><foto>${esc(p)}</foto></fotos>`).join('');
  const dep = deprecated ? `<deprecatedID>${deprecated}</deprecatedID>` : '';
  if (ns === 'orx') {
    return `<?xml version='1.0' ?><data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="${formId}" orx:version="${version}">`
      + `<titel>${esc(title)}</titel><notitie>${esc(note)}</notitie><datum>${date}</datum><themas>${themes}</themas>`
      + `<buurt>${buurt}</buurt><locatie>${location}</locatie>${fotos}<spraakmemo>${esc(memo)}</spraakmemo>`
      + `<orx:meta><orx:instanceID>${id}</orx:instanceID>${dep.replace(/deprecatedID/g, 'orx:deprecatedID')}</orx:meta></data>`;
  }
  return `<?xml version='1.0' ?><data id="${formId}" version="${version}" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">`
    + `<titel>${esc(title)}</titel><notitie>${esc(note)}</notitie><datum>${date}</datum><themas>${themes}</themas>`
    + `<buurt>${buurt}</buurt><locatie>${location}</locatie>${fotos}<spraakmemo>${esc(memo)}</spraakmemo>`
    + `<meta><instanceID>${id}</instanceID>${dep}</meta></data>`;
}

// POSTs a submission as Collect does: xml_submission_file first, then
// each attachment named by its file name, then *isIncomplete* if split.
export function collectPost(url, xml, files = [], { incomplete = false, query = '?deviceID=collect%3Aabc123XYZ&unknown=1' } = {}) {
  const parts = [{ name: 'xml_submission_file', filename: 'Werkbezoek_2026-11-30_15-04-05.xml', type: 'text/xml', data: xml }];
  for (const f of files) parts.push({ name: f.filename, filename: f.filename, type: f.type, data: f.data });
  if (incomplete) parts.push({ name: '*isIncomplete*', data: 'yes' });
  const m = multipart(parts);
  return request(url + query, { method: 'POST', headers: collectHeaders({ 'Content-Type': m.type }), body: m.body });
}

export function newToken(dbUrl, name, base) {
  const out = ctl(dbUrl, 'odk', 'token', 'add', name, '--url', base);
  const get = (k) => new RegExp(`^${k} (.*)$`, 'm').exec(out)[1];
  return { token: get('token'), serverUrl: get('server_url'), settings: get('settings') };
}

export function md5(s) { return createHash('md5').update(s).digest('hex'); }

// xmllint --noout over text; throws with its message when not well-formed.
export function xmllint(text, ...args) {
  const f = path.join(tmpdir('xml'), 'doc.xml');
  writeFileSync(f, text);
  return execFileSync('xmllint', [...args, f], { encoding: 'utf8' });
}

// The string value of an XPath 1.0 expression over text (xmllint;
// namespaces are tested with namespace-uri(), which needs no bindings).
export function xpath(text, expr) {
  const f = path.join(tmpdir('xml'), 'doc.xml');
  writeFileSync(f, text);
  return execFileSync('xmllint', ['--xpath', `string(${expr})`, f], { encoding: 'utf8' }).trim();
}
