// The werkbezoek XForm rendered by ODK Web Forms (@getodk/web-forms, a
// Vue component). Vue and the form engine load only here, when the page
// mounts the form, so no other page carries them. Submitting hands the
// engine's FormData to the same OpenRosa endpoint ODK Collect uses.
//
// A chosen photo reaches the form's instance only after the engine has
// scaled it down to the form's orx:max-pixels, asynchronously; its Send
// button waits one tick, not for that. A Send pressed meanwhile would
// submit the visit without its photo (it did, on a busy machine). So
// this page follows each file picked in the form until the form shows it
// as its answer (the preview of the new file), and a Send pressed before
// then is held and pressed again once every file is in.
import { werkbezoekFormulier, werkbezoekVersturen, type OpenRosaAnswer } from '../shared/api';

export interface Mounted { unmount(): void }

// Far longer than any scaling takes (a 5 MP photo took 5 s on a machine
// under heavy load); past it a pick no longer holds Send, so that a form
// that never shows the preview this page looks for is still sendable.
const PICK_TIMEOUT_MS = 300000;

// The files picked but not yet in the form, and whether Send waits.
class Bijlagen {
  private pending = new Map<Element, { before: string | null; timer: number }>();
  private waiters: Array<() => void> = [];
  private observer: MutationObserver;
  settled = 0;	// picks that reached the form; a payload older than one is stale

  constructor(private host: HTMLElement) {
    this.observer = new MutationObserver(() => this.check());
    this.observer.observe(host, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
  }

  get busy(): boolean { return this.pending.size > 0; }

  // The image question a file input belongs to: the control around its
  // buttons (web-forms' image control holds the inputs, then the
  // preview). Other uploads show no preview to wait for.
  static question(input: HTMLInputElement): Element | null {
    return input.closest('.capture-buttons')?.parentElement ?? null;
  }

  static preview(question: Element): string | null {
    return question.querySelector('.preview-captured-image img')?.getAttribute('src') || null;
  }

  picked(input: HTMLInputElement) {
    const q = Bijlagen.question(input);
    if (!q) return;
    const old = this.pending.get(q);
    if (old) window.clearTimeout(old.timer);
    if (!input.files?.length) {
      this.done(q);
      return;
    }
    const before = old?.before ?? Bijlagen.preview(q);
    this.pending.set(q, { before, timer: window.setTimeout(() => this.done(q), PICK_TIMEOUT_MS) });
  }

  private check() {
    for (const [q, p] of this.pending) {
      const now = Bijlagen.preview(q);
      if (!q.isConnected || (now !== null && now !== p.before)) this.done(q);
    }
  }

  private done(q: Element) {
    const p = this.pending.get(q);
    if (!p) return;
    window.clearTimeout(p.timer);
    this.pending.delete(q);
    this.settled++;
    if (!this.busy) for (const w of this.waiters.splice(0)) w();
  }

  idle(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }

  stop() {
    this.observer.disconnect();
    for (const p of this.pending.values()) window.clearTimeout(p.timer);
    this.pending.clear();
  }
}

const sendButton = (target: EventTarget | null, host: HTMLElement): HTMLButtonElement | null => {
  const b = target instanceof Element ? target.closest('button') : null;
  return b && host.contains(b) && (b.closest('.footer') !== null || b.textContent?.trim() === 'Send') ? b : null;
};

export async function mountOdkFormulier(host: HTMLElement,
  onAnswer: (a: OpenRosaAnswer) => void, onWaiting: (waiting: boolean) => void = () => {}): Promise<Mounted> {
  const [xml, vue, wf] = await Promise.all([
    werkbezoekFormulier(), import('vue'), import('@getodk/web-forms'),
  ]);
  const bijlagen = new Bijlagen(host);
  // What the press that started a submission saw: a payload built before
  // a later pick reached the form does not hold that pick.
  let settledAtPress = 0;
  let button: HTMLButtonElement | null = null;

  const resend = async () => {
    onWaiting(true);
    await bijlagen.idle();
    onWaiting(false);
    button?.click();
  };
  // Capturing: seen before the form's own handlers on the input and the
  // button.
  const onChange = (e: Event) => {
    if (e.target instanceof HTMLInputElement && e.target.type === 'file') bijlagen.picked(e.target);
  };
  const onClick = (e: Event) => {
    const b = sendButton(e.target, host);
    if (!b) return;
    button = b;
    if (bijlagen.busy) {
      e.preventDefault();
      e.stopImmediatePropagation();
      void resend();
      return;
    }
    settledAtPress = bijlagen.settled;
  };
  host.addEventListener('change', onChange, true);
  host.addEventListener('click', onClick, true);

  const app = vue.createApp({
    render: () => vue.h(wf.OdkWebForm, {
      formXml: xml,
      // The form has no attachments of its own (no media, no itemsets).
      fetchFormAttachment: () => Promise.resolve(new Response(null, { status: 404 })),
      trackDevice: true,
      onSubmit: async (payload: { data: FormData[] }, callback?: (r: unknown) => void) => {
        // A file picked (or finished) after the press: this payload may
        // lack it. Send the one the next press builds instead.
        if (bijlagen.busy || bijlagen.settled !== settledAtPress) {
          void resend();
          return;
        }
        const answer = await werkbezoekVersturen(payload.data[0]);
        onAnswer(answer);
        callback?.({ status: answer.status === 201 ? 'success' : 'failure' });
      },
    }),
  });
  app.use(wf.webFormsPlugin);
  app.mount(host);
  return {
    unmount: () => {
      host.removeEventListener('change', onChange, true);
      host.removeEventListener('click', onClick, true);
      bijlagen.stop();
      app.unmount();
    },
  };
}
