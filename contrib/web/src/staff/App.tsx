// The staff app's frame: who is signed in, the header and menu, and the
// page for the current path. With no session every page sends the person
// to sign in and, once signed in, back to where they were (?terug=).
import type { ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentSession, onSessionExpired, signOut, type Session } from '../shared/api';
import { t, type MessageKey } from '../shared/i18n';
import { Inloggen } from './Inloggen';
import { Link } from './Link';
import { staffMenu } from './staffMenu';
import { match, navigate, useLocation } from './router';
import { routes, type PageProps } from './routes';

// The menu; pages of other roles add their line here.
const menu: { href: string; label: MessageKey; roles?: string[] }[] = [
  { href: '/zoeken', label: 'nav.search' },
];

function here(): string { return window.location.pathname + window.location.search; }

export function App() {
  const loc = useLocation();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState<MessageKey | null>(null);
  const [Page, setPage] = useState<{ c: ComponentType<PageProps>; params: Record<string, string> } | null>(null);
  const [loadError, setLoadError] = useState(false);
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    currentSession().then(setSession, () => setSession(null));
    return onSessionExpired(() => {
      setSession(null);
      setNotice('signin.expired');
      if (window.location.pathname !== '/inloggen')
        navigate(`/inloggen?terug=${encodeURIComponent(here())}`);
    });
  }, []);

  // Without a session, every page but the sign-in page sends there first.
  useEffect(() => {
    if (session === null && loc.path !== '/inloggen')
      navigate(`/inloggen?terug=${encodeURIComponent(here())}`, { replace: true });
    else if (session && (loc.path === '/' || loc.path === '/inloggen'))
      navigate(safeReturn(loc.query.get('terug')), { replace: true });
  }, [session, loc.path]);

  useEffect(() => {
    setPage(null);
    setLoadError(false);
    if (!session) return;
    for (const r of routes) {
      const params = match(r.pattern, loc.path);
      if (!params) continue;
      r.load().then((c) => setPage({ c, params }), () => setLoadError(true));
      return;
    }
  }, [session, loc.path]);

  useEffect(() => {
    const title = main.current?.querySelector('h1')?.textContent;
    if (title) document.title = `${title} — ${t('app.name')}`;
  });

  if (session === undefined)
    return <p class="utrecht-paragraph vh-loading">{t('app.loading')}</p>;

  const doSignOut = async () => {
    await signOut().catch(() => undefined);
    setSession(null);
    setNotice('signin.signedout');
    navigate('/inloggen', { replace: true });
  };

  const known = routes.some((r) => match(r.pattern, loc.path));
  return (
    <div class="vh-app">
      <a class="utrecht-skip-link vh-skip" href="#inhoud">{t('app.skip')}</a>
      <header class="utrecht-page-header vh-header">
        <div class="vh-header__inner">
          <Link href="/zoeken" class="vh-brand">{t('app.name')}</Link>
          {session && (
            <nav aria-label={t('nav.label')} class="vh-nav">
              <ul class="vh-nav__list">
                {menu.filter((m) => !m.roles || m.roles.includes(session.role)).map((m) => (
                  <li key={m.href}>
                    <Link href={m.href} aria-current={loc.path.startsWith(m.href) ? 'page' : undefined}>{t(m.label)}</Link>
                  </li>
                ))}
                {staffMenu.filter((m) => !m.roles || m.roles.includes(session.role)).map((m) => (
                  <li key={m.href}>
                    <Link href={m.href} aria-current={loc.path.startsWith(m.href) ? 'page' : undefined}>{m.label()}</Link>
                  </li>
                ))}
              </ul>
              <span class="vh-user">{t('nav.signedin', { name: session.name, role: t(`role.${session.role}` as MessageKey) })}</span>
              <button type="button" class="utrecht-button utrecht-button--secondary-action" onClick={doSignOut}>{t('nav.signout')}</button>
            </nav>
          )}
        </div>
      </header>
      <main id="inhoud" class="vh-main" ref={main} tabIndex={-1}>
        {!session ? (
          <Inloggen notice={notice} onSignedIn={(s) => { setNotice(null); setSession(s); }} />
        ) : Page ? (
          <Page.c session={session} params={Page.params} />
        ) : loadError ? (
          <p class="utrecht-paragraph" role="alert">{t('error.network')}</p>
        ) : known ? (
          <p class="utrecht-paragraph vh-loading">{t('app.loading')}</p>
        ) : (
          <p class="utrecht-paragraph">{t('page.notfound')}</p>
        )}
      </main>
    </div>
  );
}

// Only a path of this app: never another origin (an open redirect).
function safeReturn(v: string | null): string {
  if (v && v.startsWith('/') && !v.startsWith('//') && !v.startsWith('/inloggen')) return v;
  return '/zoeken';
}
