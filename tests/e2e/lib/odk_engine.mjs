// ODK's own form engine (@getodk/xforms-engine, the engine ODK Web Forms
// renders with) under Node: it expects a browser's DOMParser (jsdom gives
// one) and its tree-sitter WebAssembly loader looks for CommonJS globals.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { JSDOM } from 'jsdom';

let engine;
export async function xformsEngine() {
  if (engine) return engine;
  const w = new JSDOM('').window;
  for (const k of ['DOMParser', 'XMLSerializer', 'Node', 'Element', 'Document', 'Attr', 'Text', 'NodeFilter', 'document']) globalThis[k] ??= w[k];
  const dist = path.dirname(fileURLToPath(import.meta.resolve('@getodk/xforms-engine')));
  globalThis.__dirname ??= dist;
  globalThis.__filename ??= path.join(dist, 'index.js');
  globalThis.require ??= createRequire(globalThis.__filename);
  engine = await import('@getodk/xforms-engine');
  return engine;
}
