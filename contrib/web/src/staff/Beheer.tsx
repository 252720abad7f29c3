// Beheer (admins): accounts (add, role, disable), API tokens (create,
// shown once; revoke) and the audit trail with its filters.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime } from '../shared/i18n';
import type { PageProps } from './routes';
import { accounts as getAccounts, addAccount, audit, changeAccount, createOdkToken, createToken, odkTokens, revokeOdkToken,
  revokeToken, tokens as getTokens, type Account, type AuditFilter, type AuditRow, type OdkToken, type Token } from './staffApi';
import { Qr } from './Qr';
import { problem } from './staffErrors';
import './staff.css';
import { useStackedTables } from './stackedTables';
import { st, type StaffKey } from './staffI18n';

const ROLES = ['admin', 'moderator', 'analyst', 'fieldworker'];
const ACTIONS = ['read', 'dossier', 'search', 'play', 'view', 'export', 'approve', 'publish', 'reject', 'redact', 'edit',
  'withdraw', 'purge', 'delete', 'login', 'login_failed', 'login_throttled', 'logout', 'user_add', 'user_role', 'user_passwd',
  'user_disable', 'user_enable', 'token_create', 'token_revoke', 'collection_create', 'consent_text_add', 'config_reload', 'audit_trim'];

export function Beheer(props: PageProps) {
  const root = useRef<HTMLElement>(null);
  useStackedTables(root);
  return (
    <section aria-labelledby="adm-title" ref={root}>
      <h1 id="adm-title" class="utrecht-heading-1">{st('adm.title')}</h1>
      <Accounts me={props.session.name} />
      <Tokens />
      <OdkPhones />
      <AuditTrail />
    </section>
  );
}

function Msg({ m }: { m: { ok: boolean; text: string } | null }) {
  if (!m) return null;
  return <p class={`utrecht-paragraph ${m.ok ? 'vh-ok' : 'vh-error'}`} role={m.ok ? 'status' : 'alert'}>{m.text}</p>;
}

// One of the page's four tables: its caption, its column heads and the
// rows it is given, in a region that scrolls sideways where it must, and
// drawn as cards below 48em (table.vh-stack, stackedTables.ts).
function StackTable(p: { caption: string; heads: StaffKey[]; testid?: string; children: ComponentChildren }) {
  return (
    <div class="vh-table-scroll" tabIndex={0} role="region" aria-label={st('table.scroll')}>
      <table class="utrecht-table vh-stack" data-testid={p.testid}>
        <caption class="utrecht-table__caption">{p.caption}</caption>
        <thead class="utrecht-table__header"><tr class="utrecht-table__row">
          {p.heads.map((k) => <th key={k} scope="col" class="utrecht-table__header-cell">{st(k)}</th>)}
        </tr></thead>
        <tbody class="utrecht-table__body">{p.children}</tbody>
      </table>
    </div>
  );
}

function Accounts({ me }: { me: string }) {
  const [rows, setRows] = useState<Account[]>([]);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [name, setName] = useState(''), [role, setRole] = useState('analyst'), [pw, setPw] = useState('');
  const [addMsg, setAddMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const load = () => getAccounts().then(setRows, (e) => setMsg({ ok: false, text: problem(e) }));
  useEffect(() => { load(); }, []);
  const change = async (a: Account, c: { role?: string; disabled?: boolean }) => {
    setMsg(null);
    try { await changeAccount(a.name, c); setMsg({ ok: true, text: st('adm.acc.changed', { name: a.name }) }); load(); }
    catch (e) { setMsg({ ok: false, text: problem(e) }); load(); }
  };
  const add = async (ev: Event) => {
    ev.preventDefault();
    setAddMsg(null);
    if (pw.length < 12) { setAddMsg({ ok: false, text: st('adm.acc.pwshort') }); return; }
    try { await addAccount(name.trim(), role, pw); setAddMsg({ ok: true, text: st('adm.acc.added', { name }) }); setName(''); setPw(''); load(); }
    catch (e) { setAddMsg({ ok: false, text: problem(e) }); }
  };
  return (
    <section aria-labelledby="adm-acc">
      <h2 id="adm-acc" class="utrecht-heading-2">{st('adm.acc')}</h2>
      <Msg m={msg} />
      <StackTable caption={st('adm.acc.list')} heads={['field.name', 'field.role', 'adm.acc.state', 'adm.acc.lastlogin', 'adm.acc.tokens', 'adm.actions']}>
        {rows.map((a) => (
          <tr key={a.name} class="utrecht-table__row">
            <th scope="row" class="utrecht-table__header-cell">{a.name}</th>
            <td class="utrecht-table__cell">
              <label class="vh-visually-hidden" for={`role-${a.name}`}>{st('adm.acc.rolefor', { name: a.name })}</label>
              <select id={`role-${a.name}`} class="utrecht-select utrecht-select--html-select" value={a.role} disabled={a.name === me}
                onChange={(e) => change(a, { role: (e.target as HTMLSelectElement).value })}>
                {ROLES.map((r) => <option key={r} value={r}>{st(`role.${r}` as StaffKey)}</option>)}
              </select>
            </td>
            <td class="utrecht-table__cell">{a.disabled ? st('adm.acc.disabled') : st('adm.acc.active')}</td>
            <td class="utrecht-table__cell">{a.last_login_at ? formatDateTime(a.last_login_at) : '–'}</td>
            <td class="utrecht-table__cell utrecht-table__cell--numeric">{a.tokens}</td>
            <td class="utrecht-table__cell">
              {a.name !== me && (
                <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => change(a, { disabled: !a.disabled })}>
                  {a.disabled ? st('adm.acc.enable', { name: a.name }) : st('adm.acc.disable', { name: a.name })}</button>)}
            </td>
          </tr>
        ))}
      </StackTable>
      <h3 class="utrecht-heading-3">{st('adm.acc.new')}</h3>
      <form onSubmit={add} class="vh-form vh-form--row" noValidate>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="acc-name">{st('field.name')}</label>
          <input id="acc-name" class="utrecht-textbox" value={name} autoComplete="off" required onInput={(e) => setName((e.target as HTMLInputElement).value)} /></div>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="acc-role">{st('field.role')}</label>
          <select id="acc-role" class="utrecht-select utrecht-select--html-select" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {ROLES.map((r) => <option key={r} value={r}>{st(`role.${r}` as StaffKey)}</option>)}</select></div>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="acc-pw">{st('adm.acc.pw')}</label>
          <input id="acc-pw" type="password" class="utrecht-textbox" value={pw} autoComplete="new-password" required minLength={12}
            onInput={(e) => setPw((e.target as HTMLInputElement).value)} /></div>
        <button type="submit" class="utrecht-button utrecht-button--primary-action">{st('adm.acc.add')}</button>
      </form>
      <Msg m={addMsg} />
    </section>
  );
}

function Tokens() {
  const [rows, setRows] = useState<Token[]>([]);
  const [accs, setAccs] = useState<Account[]>([]);
  const [account, setAccount] = useState(''), [label, setLabel] = useState(''), [days, setDays] = useState('90');
  const [shown, setShown] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const load = () => getTokens().then(setRows, (e) => setMsg({ ok: false, text: problem(e) }));
  useEffect(() => { load(); getAccounts().then((a) => { setAccs(a); setAccount(a[0]?.name ?? ''); }, () => undefined); }, []);
  const create = async (ev: Event) => {
    ev.preventDefault();
    setMsg(null); setShown(null);
    try {
      const t = await createToken(account, label, days ? Number(days) : undefined);
      setShown(t.token); setLabel(''); load();
    } catch (e) { setMsg({ ok: false, text: problem(e) }); }
  };
  const revoke = async (t: Token) => {
    setMsg(null);
    try { await revokeToken(t.id); setMsg({ ok: true, text: st('adm.tok.revoked', { id: t.id }) }); load(); }
    catch (e) { setMsg({ ok: false, text: problem(e) }); }
  };
  return (
    <section aria-labelledby="adm-tok">
      <h2 id="adm-tok" class="utrecht-heading-2">{st('adm.tok')}</h2>
      <Msg m={msg} />
      <StackTable caption={st('adm.tok.list')} heads={['adm.tok.id', 'field.account', 'field.label', 'adm.acc.state', 'adm.tok.expires', 'adm.tok.used', 'adm.actions']}>
        {rows.map((t) => (
          <tr key={t.id} class="utrecht-table__row">
            <td class="utrecht-table__cell">{t.id}</td>
            <td class="utrecht-table__cell">{t.account} ({st(`role.${t.role}` as StaffKey)})</td>
            <td class="utrecht-table__cell">{t.label || '–'}</td>
            <td class="utrecht-table__cell">{st(`adm.tok.state.${t.state}` as StaffKey)}</td>
            <td class="utrecht-table__cell">{t.expires_at ? formatDateTime(t.expires_at) : st('adm.tok.never')}</td>
            <td class="utrecht-table__cell">{t.last_used_at ? formatDateTime(t.last_used_at) : '–'}</td>
            <td class="utrecht-table__cell">{t.state === 'active' && (
              <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => revoke(t)}>{st('adm.tok.revoke', { id: t.id })}</button>)}</td>
          </tr>
        ))}
      </StackTable>
      <h3 class="utrecht-heading-3">{st('adm.tok.new')}</h3>
      <form onSubmit={create} class="vh-form vh-form--row" noValidate>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="tok-acc">{st('field.account')}</label>
          <select id="tok-acc" class="utrecht-select utrecht-select--html-select" value={account} onChange={(e) => setAccount((e.target as HTMLSelectElement).value)}>
            {accs.map((a) => <option key={a.name} value={a.name}>{a.name}</option>)}</select></div>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="tok-label">{st('field.label')}</label>
          <input id="tok-label" class="utrecht-textbox" value={label} maxLength={200} onInput={(e) => setLabel((e.target as HTMLInputElement).value)} /></div>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="tok-days">{st('field.expires')}</label>
          <input id="tok-days" class="utrecht-textbox" inputMode="numeric" value={days} onInput={(e) => setDays((e.target as HTMLInputElement).value)} /></div>
        <button type="submit" class="utrecht-button utrecht-button--primary-action">{st('adm.tok.create')}</button>
      </form>
      {shown && (
        <div class="vh-secret" role="status">
          <p class="utrecht-paragraph">{st('adm.tok.once')}</p>
          <label class="utrecht-form-label" for="tok-secret">{st('adm.tok.secret')}</label>
          <input id="tok-secret" class="utrecht-textbox vh-linkcard__url" readOnly value={shown} onFocus={(e) => (e.target as HTMLInputElement).select()} />
        </div>
      )}
    </section>
  );
}

// A field worker's phone: an ODK token whose Collect settings are shown
// once, as the QR code Collect scans (issue 15, docs/odk.md).
function OdkPhones() {
  const [rows, setRows] = useState<OdkToken[]>([]);
  const [workers, setWorkers] = useState<string[]>([]);
  const [name, setName] = useState('');
  const [made, setMade] = useState<{ name: string; settings: string; server_url: string } | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const load = () => odkTokens().then((r) => setRows(r.tokens), (e) => setMsg({ ok: false, text: problem(e) }));
  useEffect(() => {
    load();
    getAccounts().then((a) => {
      const w = a.filter((x) => x.role === 'fieldworker' && !x.disabled).map((x) => x.name);
      setWorkers(w); setName(w[0] ?? '');
    }, () => undefined);
  }, []);
  const create = async (ev: Event) => {
    ev.preventDefault();
    setMsg(null); setMade(null);
    try { const t = await createOdkToken(name); setMade({ name, settings: t.settings, server_url: t.server_url }); load(); }
    catch (e) { setMsg({ ok: false, text: problem(e) }); }
  };
  const revoke = async (t: OdkToken) => {
    setMsg(null);
    try { await revokeOdkToken(t.id); setMsg({ ok: true, text: st('adm.odk.revoked', { id: t.id }) }); load(); }
    catch (e) { setMsg({ ok: false, text: problem(e) }); }
  };
  return (
    <section aria-labelledby="adm-odk">
      <h2 id="adm-odk" class="utrecht-heading-2">{st('adm.odk')}</h2>
      <p class="utrecht-paragraph">{st('adm.odk.intro')}</p>
      <Msg m={msg} />
      <StackTable caption={st('adm.odk.list')} heads={['adm.tok.id', 'adm.odk.name', 'adm.odk.created', 'adm.tok.used', 'adm.acc.state', 'adm.actions']}>
        {rows.map((t) => (
          <tr key={t.id} class="utrecht-table__row">
            <td class="utrecht-table__cell">{t.id}</td>
            <td class="utrecht-table__cell">{t.name}</td>
            <td class="utrecht-table__cell">{formatDateTime(t.created_at)}</td>
            <td class="utrecht-table__cell">{t.last_used_at ? formatDateTime(t.last_used_at) : '–'}</td>
            <td class="utrecht-table__cell">{t.revoked_at ? st('adm.odk.revokedstate') : st('adm.odk.active')}</td>
            <td class="utrecht-table__cell">{!t.revoked_at && (
              <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => revoke(t)}>{st('adm.odk.revoke', { id: t.id })}</button>)}</td>
          </tr>
        ))}
      </StackTable>
      {workers.length === 0 ? <p class="utrecht-paragraph">{st('adm.odk.none')}</p> : (
        <form onSubmit={create} class="vh-form vh-form--row" noValidate>
          <div class="utrecht-form-field"><label class="utrecht-form-label" for="odk-name">{st('adm.odk.name')}</label>
            <select id="odk-name" class="utrecht-select utrecht-select--html-select" value={name} onChange={(e) => setName((e.target as HTMLSelectElement).value)}>
              {workers.map((w) => <option key={w} value={w}>{w}</option>)}</select></div>
          <button type="submit" class="utrecht-button utrecht-button--primary-action">{st('adm.odk.create')}</button>
        </form>
      )}
      {made && (
        <div class="vh-secret" role="status">
          <p class="utrecht-paragraph">{st('adm.odk.once', { name: made.name })}</p>
          <Qr text={made.settings} label={st('adm.odk.qr', { name: made.name })} />
          <p class="utrecht-paragraph">{st('adm.odk.server')}: <code>{made.server_url}</code></p>
        </div>
      )}
    </section>
  );
}

function AuditTrail() {
  const [f, setF] = useState<AuditFilter>({});
  const [rows, setRows] = useState<AuditRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const run = async (filter: AuditFilter, more = false) => {
    setErr(null);
    try {
      const r = await audit(filter);
      setRows(more ? [...rows, ...r.items] : r.items);
      const b = r.next ? new URL(r.next, window.location.origin).searchParams.get('before') : null;
      setNext(b);
    } catch (e) { setErr(problem(e)); }
  };
  useEffect(() => { run({}); }, []);
  const set = (k: keyof AuditFilter) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value || undefined });
  const submit = (ev: Event) => { ev.preventDefault(); run(f); };
  return (
    <section aria-labelledby="adm-audit">
      <h2 id="adm-audit" class="utrecht-heading-2">{st('adm.audit')}</h2>
      <form onSubmit={submit} class="vh-form vh-form--row" aria-label={st('adm.audit.filters')}>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="aud-actor">{st('adm.audit.actor')}</label>
          <input id="aud-actor" class="utrecht-textbox" value={f.actor ?? ''} onInput={set('actor')} /></div>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="aud-action">{st('adm.audit.action')}</label>
          <select id="aud-action" class="utrecht-select utrecht-select--html-select" value={f.action ?? ''} onChange={set('action')}>
            <option value="">{st('adm.audit.any')}</option>
            {ACTIONS.map((a) => <option key={a} value={a}>{a}</option>)}</select></div>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="aud-entry">{st('adm.audit.entry')}</label>
          <input id="aud-entry" class="utrecht-textbox" inputMode="numeric" value={f.entry ?? ''} onInput={set('entry')} /></div>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="aud-since">{st('adm.audit.since')}</label>
          <input id="aud-since" type="date" class="utrecht-textbox" value={f.since ?? ''} onInput={set('since')} /></div>
        <div class="utrecht-form-field"><label class="utrecht-form-label" for="aud-until">{st('adm.audit.until')}</label>
          <input id="aud-until" type="date" class="utrecht-textbox" value={f.until ?? ''} onInput={set('until')} /></div>
        <button type="submit" class="utrecht-button utrecht-button--primary-action">{st('adm.audit.apply')}</button>
      </form>
      {err && <p class="utrecht-paragraph vh-error" role="alert">{err}</p>}
      <StackTable caption={st('adm.audit.list')} heads={['adm.audit.at', 'adm.audit.actor', 'adm.audit.action', 'adm.audit.object', 'adm.audit.reason']} testid="audit-table">
        {rows.map((r) => (
          <tr key={r.id} class="utrecht-table__row">
            <td class="utrecht-table__cell"><time dateTime={r.at}>{formatDateTime(r.at)}</time></td>
            <td class="utrecht-table__cell">{r.actor}{r.role ? ` (${st(`role.${r.role}` as StaffKey)})` : ''}</td>
            <td class="utrecht-table__cell">{r.action}</td>
            <td class="utrecht-table__cell">{r.object_type ? `${r.object_type} ${r.object_id}` : '–'}</td>
            <td class="utrecht-table__cell">{r.reason || '–'}</td>
          </tr>
        ))}
      </StackTable>
      {rows.length === 0 && <p class="utrecht-paragraph">{st('adm.audit.none')}</p>}
      {next && <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => run({ ...f, before: next }, true)}>{st('more')}</button>}
    </section>
  );
}
