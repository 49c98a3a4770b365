import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequest } from './requests.js';
import type { Routes } from './routes.js';
import { WeightPathError } from './weight-readers.js';

/**
 * HTTP in and out: finds a request's route (404 for an unknown path, 405 for a known path with
 * another method), reads its JSON body, and answers 200 with the route's answer or an OpenAI-shaped
 * error body (`{ error: { message, type, param, code } }`).
 */

const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** The request listener for `routes`; 500s and unreadable weight paths are logged with the request. */
export function dispatcher(
  routes: Routes,
  log?: (line: string) => void,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[`${req.method} ${path}`];
    try {
      if (!route) throw noRoute(routes, req.method, path);
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      send(res, 200, await route(body));
    } catch (err) {
      sendError(res, err, (message) => log?.(`${req.method} ${path}: ${message}`));
    }
  };
}

function noRoute(routes: Routes, method: string | undefined, path: string): BadRequest {
  const known = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
  return new BadRequest(
    known ? `${method} is not allowed on ${path}` : `no route ${path}`,
    undefined,
    known ? 405 : 404,
  );
}

/** A `BadRequest` with its status; a `WeightPathError` as a 400; anything else as a 500. */
function sendError(res: ServerResponse, err: unknown, log: (message: string) => void): void {
  if (err instanceof BadRequest) {
    const type = err.status === 404 ? 'NotFoundError' : 'BadRequestError';
    send(res, err.status, {
      error: { message: err.message, type, param: err.param ?? null, code: err.status },
    });
    return;
  }
  const message = err instanceof WeightPathError ? err.message : `internal error: ${(err as Error).message}`;
  const status = err instanceof WeightPathError ? 400 : 500;
  log(message);
  send(res, status, {
    error: {
      message,
      type: status === 400 ? 'BadRequestError' : 'InternalServerError',
      param: null,
      code: status,
    },
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new BadRequest(`body: larger than ${MAX_BODY_BYTES} bytes`, undefined, 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`body: not valid JSON: ${(err as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
