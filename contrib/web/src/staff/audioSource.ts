// Which rendition of a recording this browser plays: the Opus one where
// it can (canPlayType says "maybe" or "probably"), else the AAC one that
// the media job made beside it (Safari before 17, some older phones).
// Chosen here, once, as the audio element's src, rather than left to
// <source> elements, so that the page knows (and a test can see) which
// file is playing, and the waveform's peaks follow the same element.
export interface AudioSource { src: string; type: string }

export const OPUS_TYPE = 'audio/ogg; codecs=opus';
export const AAC_TYPE = 'audio/mp4; codecs=mp4a.40.2';

export function audioSource(opus: string | undefined, m4a: string | undefined): AudioSource | null {
  const probe = document.createElement('audio');
  if (opus && probe.canPlayType(OPUS_TYPE) !== '') return { src: opus, type: OPUS_TYPE };
  if (m4a && probe.canPlayType(AAC_TYPE) !== '') return { src: m4a, type: AAC_TYPE };
  // Neither is claimed: offer what there is and let the element try.
  if (m4a || opus) return { src: (opus ?? m4a)!, type: opus ? OPUS_TYPE : AAC_TYPE };
  return null;
}
