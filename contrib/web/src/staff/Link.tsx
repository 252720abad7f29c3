import type { ComponentChildren, JSX } from 'preact';
import { linkClick } from './router';

// An in-app link: a real <a href>, so it opens in a new tab too.
export function Link(props: { href: string; children: ComponentChildren } & JSX.HTMLAttributes<HTMLAnchorElement>) {
  const { children, class: cls, ...rest } = props;
  return <a {...rest} class={`utrecht-link ${cls ?? ''}`} onClick={linkClick}>{children}</a>;
}
