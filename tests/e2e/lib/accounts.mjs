// Helpers for tests of accounts and sessions: users with passwords made by
// verhaalctl, logins that keep the cookie and CSRF token, tokens per role.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { build, ctl } from './harness.mjs';

export const ROLES = ['admin', 'moderator', 'analyst', 'fieldworker'];

// verhaalctl with stdin (for passwords); returns stdout.
export function ctlInput(url, input, ...args) {
  return execFileSync(path.join(build, 'verhaalctl'), args, {
    encoding: 'utf8', input,
    env: { ...process.env, VERHAAL_DATABASE_URL: url },
  });
}

export function addUser(url, name, role, password) {
  return ctlInput(url, `${password}\n`, 'user', 'add', name, '--role', role);
}

export function token(url, user, role, ...extra) {
  return ctl(url, 'token', 'create', '--user', user, '--role', role, ...extra).trim().split('\n').pop();
}

// POST /api/v1/session; resolves to the response, its JSON, and a ready
// {cookie, csrf} pair when it succeeded.
export async function login(base, name, password, headers = {}) {
  const r = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ name, password }),
  });
  const body = await r.json();
  let session = null;
  const set = r.headers.get('set-cookie');
  if (r.status === 200 && set) {
    session = { cookie: set.split(';')[0], csrf: body.csrf_token, setCookie: set };
  }
  return { r, body, session };
}

// Headers that authenticate as a session, with or without its CSRF token.
export function sessionHeaders(s, { csrf = true } = {}) {
  const h = { Cookie: s.cookie };
  if (csrf) h['X-CSRF-Token'] = s.csrf;
  return h;
}

// Consent texts of a collection (verhaalctl collection consent add): the
// versions and languages the scenarios' stories name must exist for their
// collection, as a real collection's would.
export const CONSENT_TEXTS = [['2024-05', 'nl'], ['1', 'nl'], ['3', 'en-GB']];

export function addConsentText(url, slug, version, language, text = `Toestemming ${version} (${language}): ik geef mijn verhaal aan de gemeente.`) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'consent-'));
  const file = path.join(dir, 'text.txt');
  writeFileSync(file, text);
  try {
    return ctl(url, 'collection', 'consent', 'add', '--slug', slug, '--version', version, '--language', language, '--file', file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function addConsentTexts(url, slug, texts = CONSENT_TEXTS) {
  for (const [version, language] of texts) addConsentText(url, slug, version, language);
}
