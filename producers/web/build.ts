/**
 * Builds the web SDK bundle (one IIFE file, global `Shardline`) from `producers/web/index.ts` with
 * esbuild's JS API, in memory. Nothing is written to disk; the result is cached per process.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceError } from '../../common/errors.ts';

/** Entry of the browser bundle. */
export const WEB_SDK_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'index.ts');

export interface BuildWebSdkOptions {
  /** `iife` (global `Shardline`, for a `<script>` tag) or `esm`. @default 'iife' */
  readonly format?: 'iife' | 'esm';
  /** Minify. @default true */
  readonly minify?: boolean;
}

const cache = new Map<string, Promise<string>>();

/** The bundle's JavaScript text. Cached: the first call builds (about 100 ms), later ones reuse it. */
export function buildWebSdk(options: BuildWebSdkOptions = {}): Promise<string> {
  const format = options.format ?? 'iife';
  const minify = options.minify ?? true;
  const key = `${format}:${minify}`;
  let built = cache.get(key);
  if (built === undefined) {
    built = (async () => {
      const esbuild = await import('esbuild');
      const out = await esbuild.build({
        entryPoints: [WEB_SDK_ENTRY],
        bundle: true,
        write: false,
        format,
        ...(format === 'iife' ? { globalName: 'Shardline' } : {}),
        platform: 'browser',
        target: ['es2020'],
        minify,
        legalComments: 'none',
        logLevel: 'silent',
      });
      const file = out.outputFiles[0];
      if (file === undefined) throw new ServiceError('esbuild produced no output for the web SDK');
      return file.text;
    })();
    built.catch(() => cache.delete(key));
    cache.set(key, built);
  }
  return built;
}
