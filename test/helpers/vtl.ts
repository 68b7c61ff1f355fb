/**
 * Renders API Gateway mapping templates with a real Velocity engine (velocityjs) and `$input`, `$util`
 * and `$context` shims that behave as API Gateway documents them
 * (apigateway/latest/developerguide/api-gateway-mapping-template-reference.html):
 * `$input.json(path)` is the JSON text of what the JSONPath selects, `$input.path(path)` the value itself,
 * `$input.params().header.get(name)` a request header; `$util.base64Encode` encodes UTF-8;
 * `$util.escapeJavaScript` escapes like Java's `StringEscapeUtils.escapeJavaScript`, which API Gateway uses
 * (a `'` becomes `\'`, which is not valid JSON).
 */
import { render } from 'velocityjs';

/** Evaluates the JSONPath subset mapping templates use: `$`, `.name`, `[index]`, `['name']`. */
export function jsonPath(root: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`JSONPath must start with $; received ${path}`);
  let value: unknown = root;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]/g)) {
    if (value === null || typeof value !== 'object') return undefined;
    const key = m[1] ?? m[3] ?? Number(m[2]);
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** Java's `StringEscapeUtils.escapeJavaScript` (commons-lang 2). */
export function escapeJavaScript(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const hex = (n: number) => `\\u${n.toString(16).toUpperCase().padStart(4, '0')}`;
    if (c > 0xffff) {
      out += hex(ch.charCodeAt(0)) + hex(ch.charCodeAt(1));
    } else if (c > 0x7f) {
      out += hex(c);
    } else if (c < 32) {
      const named: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
      out += named[c] ?? hex(c);
    } else if (ch === "'" || ch === '"' || ch === '\\' || ch === '/') {
      out += `\\${ch}`;
    } else {
      out += ch;
    }
  }
  return out;
}

export interface Rendered {
  readonly output: string;
  /** What the template set in `$context.responseOverride`. */
  readonly responseOverride: { status?: number; header: Record<string, string> };
}

/** Renders `template` for a request or integration response whose JSON body is `body`. */
export function renderMappingTemplate(
  template: string,
  body: unknown,
  headers: Record<string, string> = {},
): Rendered {
  const responseOverride: Rendered['responseOverride'] = { header: {} };
  const output = render(template, {
    input: {
      json: (path: string) => JSON.stringify(jsonPath(body, path)) ?? '',
      path: (path: string) => jsonPath(body, path),
      params: () => ({ header: { get: (name: string) => headers[name] } }),
    },
    util: {
      base64Encode: (s: string) => Buffer.from(String(s), 'utf8').toString('base64'),
      escapeJavaScript: (s: string) => escapeJavaScript(String(s)),
    },
    context: { responseOverride },
  });
  return { output, responseOverride };
}
