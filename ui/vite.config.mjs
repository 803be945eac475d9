// Vite build of the notebook app. Output: $SL_UI_OUT (the CMake build sets it to
// <build>/ui-dist) or ui/dist. Everything the page needs lands in files (no inline
// scripts or styles) so the server's strict Content-Security-Policy holds.
import { defineConfig } from 'vite';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  publicDir: resolve(here, 'public'),
  logLevel: 'warn',
  build: {
    outDir: process.env.SL_UI_OUT || resolve(here, 'dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
});
