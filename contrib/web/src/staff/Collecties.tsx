// Collecties (admins): the collections with their number of stories; a
// new one with its title and consent text (version); its resident link
// as a URL and a QR code to print for a wijkgesprek. The link's secret is
// stored only hashed, so it is shown when made and can only be renewed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatCount, formatDate } from '../shared/i18n';
import { Dialog } from './Dialog';
import { Qr } from './Qr';
import type { PageProps } from './routes';
import { addConsentText, collectionList, createCollection, renewLink, type CollectionRow, type NewLink } from './staffApi';
import { problem } from './staffErrors';
import './staff.css';
import { useStackedTables } from './stackedTables';
import { st } from './staffI18n';

function slugOf(title: string): string {
  return title.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
}

export function Collecties(_props: PageProps) {
  const [rows, setRows] = useState<CollectionRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [link, setLink] = useState<(NewLink & { title: string }) | null>(null);
  const [renew, setRenew] = useState<CollectionRow | null>(null);
  const load = () => collectionList().then(setRows, (e) => setError(problem(e)));
  useEffect(() => { load(); }, []);

  const root = useRef<HTMLElement>(null);
  useStackedTables(root);
  return (
    <section aria-labelledby="coll-title" ref={root}>
      <h1 id="coll-title" class="utrecht-heading-1">{st('coll.title')}</h1>
      {error && <p class="utrecht-paragraph vh-error" role="alert">{error}</p>}
      {link && <LinkCard link={link} />}
      <div class="vh-table-scroll" tabIndex={0} role="region" aria-label={st('table.scroll')}>
        <table class="utrecht-table vh-stack">
          <caption class="utrecht-table__caption">{st('coll.list')}</caption>
          <thead class="utrecht-table__header"><tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">{st('field.title')}</th>
            <th scope="col" class="utrecht-table__header-cell">{st('field.slug')}</th>
            <th scope="col" class="utrecht-table__header-cell">{st('field.version')}</th>
            <th scope="col" class="utrecht-table__header-cell">{st('coll.entries')}</th>
            <th scope="col" class="utrecht-table__header-cell">{st('coll.created')}</th>
            <th scope="col" class="utrecht-table__header-cell">{st('coll.link')}</th>
          </tr></thead>
          <tbody class="utrecht-table__body">
            {rows?.map((c) => (
              <tr key={c.slug} class="utrecht-table__row">
                <th scope="row" class="utrecht-table__header-cell">{c.title}</th>
                <td class="utrecht-table__cell">{c.slug}</td>
                <td class="utrecht-table__cell">{c.consent_version}</td>
                <td class="utrecht-table__cell utrecht-table__cell--numeric">{formatCount(c.entries)}</td>
                <td class="utrecht-table__cell">{formatDate(c.created_at)}</td>
                <td class="utrecht-table__cell">
                  <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => setRenew(c)}>
                    {st('coll.renew')}<span class="vh-visually-hidden"> {st('coll.renew.for', { title: c.title })}</span></button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <NewCollection onCreated={(l) => { setLink(l); load(); }} />
      <Dialog open={renew !== null} title={st('coll.renew.title')} onClose={() => setRenew(null)}>
        <RenewForm c={renew} onDone={(l) => { setLink(l); setRenew(null); }} onCancel={() => setRenew(null)} />
      </Dialog>
    </section>
  );
}

function RenewForm(props: { c: CollectionRow | null; onDone: (l: NewLink & { title: string }) => void; onCancel: () => void }) {
  const [err, setErr] = useState<string | null>(null);
  if (!props.c) return null;
  const c = props.c;
  const go = async () => {
    try { props.onDone({ ...(await renewLink(c.slug)), title: c.title }); } catch (e) { setErr(problem(e)); }
  };
  return (
    <div>
      <p class="utrecht-paragraph">{st('coll.renew.warning', { title: c.title })}</p>
      {err && <p class="utrecht-paragraph vh-error" role="alert">{err}</p>}
      <div class="vh-buttons">
        <button type="button" class="utrecht-button utrecht-button--primary-action" onClick={go}>{st('coll.renew.confirm')}</button>
        <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={props.onCancel}>{st('cancel')}</button>
      </div>
    </div>
  );
}

function LinkCard({ link }: { link: NewLink & { title: string } }) {
  const url = new URL(link.link, window.location.origin).href;
  const [copied, setCopied] = useState(false);
  return (
    <section class="vh-linkcard" aria-labelledby="link-title">
      <h2 id="link-title" class="utrecht-heading-2">{st('coll.linkcard', { title: link.title })}</h2>
      <p class="utrecht-paragraph" role="status">{st('coll.linkcard.once')}</p>
      <div class="vh-linkcard__body">
        <Qr text={url} label={st('coll.qr', { title: link.title })} />
        <div>
          <label class="utrecht-form-label" for="link-url">{st('coll.url')}</label>
          <input id="link-url" class="utrecht-textbox vh-linkcard__url" readOnly value={url} onFocus={(e) => (e.target as HTMLInputElement).select()} />
          <div class="vh-buttons">
            <button type="button" class="utrecht-button utrecht-button--secondary-action"
              onClick={() => navigator.clipboard?.writeText(url).then(() => setCopied(true), () => undefined)}>{st('coll.copy')}</button>
            <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={() => window.print()}>{st('coll.print')}</button>
          </div>
          {copied && <p class="utrecht-paragraph vh-ok" role="status">{st('coll.copied')}</p>}
        </div>
      </div>
    </section>
  );
}

function NewCollection(props: { onCreated: (l: NewLink & { title: string }) => void }) {
  const [title, setTitle] = useState('');
  const [slug, setSlug] = useState('');
  const [version, setVersion] = useState('1');
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [err, setErr] = useState<string | null>(null);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const s = slug || slugOf(title);
    const e: Record<string, string> = {};
    if (!title.trim()) e.title = st('coll.err.title');
    if (!/^[a-z0-9][a-z0-9-]*$/.test(s)) e.slug = st('coll.err.slug');
    if (!/^[A-Za-z0-9._-]{1,32}$/.test(version)) e.version = st('coll.err.version');
    if (!text.trim()) e.text = st('coll.err.text');
    setErrors(e);
    setErr(null);
    if (Object.keys(e).length) return;
    try {
      const c = await createCollection({ slug: s, title: title.trim(), consent_version: version });
      await addConsentText(c.slug, version, 'nl', text.trim());
      props.onCreated({ slug: c.slug, upload_key: c.upload_key, link: c.link, title: c.title });
      setTitle(''); setSlug(''); setText(''); setVersion('1');
    } catch (x) { setErr(problem(x)); }
  };
  const field = (id: string, label: string, key: string, input: preact.JSX.Element, hint?: string) => (
    <div class={`utrecht-form-field${errors[key] ? ' utrecht-form-field--invalid' : ''}`}>
      <label class="utrecht-form-label" for={id}>{label}</label>
      {hint && <p class="utrecht-form-field-description" id={`${id}-hint`}>{hint}</p>}
      {input}
      {errors[key] && <p class="utrecht-form-field-error-message" id={`${id}-error`}>{errors[key]}</p>}
    </div>
  );
  const aria = (id: string, key: string, hint = false) => ({
    'aria-invalid': errors[key] ? 'true' as const : undefined,
    'aria-describedby': [hint ? `${id}-hint` : '', errors[key] ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined,
  });
  return (
    <section aria-labelledby="coll-new">
      <h2 id="coll-new" class="utrecht-heading-2">{st('coll.new')}</h2>
      {Object.keys(errors).length > 0 && <p class="utrecht-paragraph vh-error" role="alert">{st('form.errors', { n: Object.keys(errors).length })}</p>}
      <form onSubmit={submit} noValidate class="vh-form">
        {field('coll-t', st('field.title'), 'title', <input id="coll-t" class="utrecht-textbox" value={title} {...aria('coll-t', 'title')}
          onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />)}
        {field('coll-s', st('field.slug'), 'slug', <input id="coll-s" class="utrecht-textbox" value={slug} placeholder={slugOf(title)} {...aria('coll-s', 'slug', true)}
          onInput={(e) => setSlug((e.target as HTMLInputElement).value)} />, st('coll.slug.hint'))}
        {field('coll-v', st('field.version'), 'version', <input id="coll-v" class="utrecht-textbox" value={version} {...aria('coll-v', 'version', true)}
          onInput={(e) => setVersion((e.target as HTMLInputElement).value)} />, st('coll.version.hint'))}
        {field('coll-x', st('coll.consent'), 'text', <textarea id="coll-x" class="utrecht-textarea" rows={6} value={text} {...aria('coll-x', 'text', true)}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />, st('coll.consent.hint'))}
        {err && <p class="utrecht-paragraph vh-error" role="alert">{err}</p>}
        <button type="submit" class="utrecht-button utrecht-button--primary-action">{st('coll.create')}</button>
      </form>
    </section>
  );
}
