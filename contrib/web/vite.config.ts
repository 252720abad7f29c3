// The web app's build: three pages sharing src/shared/, hashed assets
// under /assets/ (verhaald serves them immutable), and a .br and .gz copy
// of every text file beside it, made here so that verhaald never
// compresses on its loop thread.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'verhaal-precompress',
    apply: 'build',
    configResolved(c) { outDir = c.build.outDir; },
    closeBundle() {
      const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? walk(p) : [p];
      });
      for (const f of walk(outDir)) {
        if (!/\.(js|css|html|json|svg|map|txt)$/.test(f)) continue;
        const data = readFileSync(f);
        if (data.length < 256) continue;
        writeFileSync(`${f}.gz`, gzipSync(data, { level: 9 }));
        writeFileSync(`${f}.br`, brotliCompressSync(data, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
        }));
      }
    },
  };
}

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    // make passes --outDir $(BUILD)/web; this is for a bare `npx vite build`.
    outDir: resolve(__dirname, '../../build/web'),
    emptyOutDir: true,
    target: 'es2020',
    assetsDir: 'assets',
    sourcemap: false,
    // No inline data: URIs for fonts or images, so the CSP stays simple.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        index: resolve(__dirname, 'index.html'),
        resident: resolve(__dirname, 'resident.html'),
        werkbezoek: resolve(__dirname, 'werkbezoek.html'),
      },
    },
  },
  plugins: [precompress()],
});
