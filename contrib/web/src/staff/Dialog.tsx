// A modal dialog on the native <dialog> element: focus moves in and back,
// Escape closes it, and the page behind is inert while it is open.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
    } else if (!props.open && d.open) {
      d.close();
      (opener.current as HTMLElement | null)?.focus?.();
    }
  }, [props.open]);
  return (
    <dialog ref={ref} class="vh-dialog" aria-labelledby="vh-dialog-title" onClose={() => props.open && props.onClose()}>
      <h2 id="vh-dialog-title" class="utrecht-heading-2">{props.title}</h2>
      {props.open && props.children}
    </dialog>
  );
}
