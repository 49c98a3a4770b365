import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';

/** The wire side of the fake API server: request bodies, label selectors, merge patches, Status errors. */

export function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

export function parse(body: string): unknown {
  return body.trimStart().startsWith('{') ? JSON.parse(body) : parseYaml(body);
}

export function matches(obj: { metadata: Record<string, unknown> }, selector: string | null): boolean {
  if (!selector) return true;
  const labels = (obj.metadata.labels as Record<string, string> | undefined) ?? {};
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=') as [string, string];
    return labels[k] === v;
  });
}

/** RFC 7386: null deletes a key, objects merge, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
