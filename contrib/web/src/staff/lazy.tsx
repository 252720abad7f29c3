// A component loaded when first drawn (the map, the waveform): its code
// stays out of the page's first download.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { st } from './staffI18n';

export function lazy<P>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let cached: ComponentType<P> | null = null;
  return function Lazy(props: P) {
    const [C, setC] = useState<ComponentType<P> | null>(() => cached);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (!C) load().then((c) => { cached = c; setC(() => c); }, () => setFailed(true));
    }, []);
    if (failed) return <p class="utrecht-paragraph vh-error" role="alert">{st('lazy.failed')}</p>;
    return C ? <C {...(props as P & object)} /> : <p class="utrecht-paragraph vh-loading">{st('loading')}</p>;
  };
}
