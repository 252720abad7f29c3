// The werkbezoek XForm rendered by ODK Web Forms (@getodk/web-forms, a
// Vue component). Vue and the form engine load only here, when the page
// mounts the form, so no other page carries them. Submitting hands the
// engine's FormData to the same OpenRosa endpoint ODK Collect uses.
import { werkbezoekFormulier, werkbezoekVersturen, type OpenRosaAnswer } from '../shared/api';

export interface Mounted { unmount(): void }

export async function mountOdkFormulier(host: HTMLElement,
  onAnswer: (a: OpenRosaAnswer) => void): Promise<Mounted> {
  const [xml, vue, wf] = await Promise.all([
    werkbezoekFormulier(), import('vue'), import('@getodk/web-forms'),
  ]);
  const app = vue.createApp({
    render: () => vue.h(wf.OdkWebForm, {
      formXml: xml,
      // The form has no attachments of its own (no media, no itemsets).
      fetchFormAttachment: () => Promise.resolve(new Response(null, { status: 404 })),
      trackDevice: true,
      onSubmit: async (payload: { data: FormData[] }, callback?: (r: unknown) => void) => {
        const answer = await werkbezoekVersturen(payload.data[0]);
        onAnswer(answer);
        callback?.({ status: answer.status === 201 ? 'success' : 'failure' });
      },
    }),
  });
  app.use(wf.webFormsPlugin);
  app.mount(host);
  return { unmount: () => app.unmount() };
}
