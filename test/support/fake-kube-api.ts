import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { matches, mergePatch, parse, readBody, status } from './kube-api-wire.js';

/**
 * A Kubernetes API server in memory, over real HTTP, with the behaviour the operator depends on:
 * discovery, list, get, create, replace with resourceVersion conflicts (409), merge patch, server-side
 * apply (apply-patch+yaml, fieldManager required), the status subresource, deletion that waits for
 * finalizers, garbage collection of owned objects, and watches (newline-delimited JSON events from a
 * resourceVersion). Tests can inject failures, drop every open watch, and play the workload controllers.
 */

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string; resourceVersion?: string };
  [k: string]: unknown;
};

interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** Has a status subresource: writes to the object keep the status, writes to /status keep the rest. */
  status: boolean;
}

const RESOURCES: Resource[] = [
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', status: false },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', status: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', status: true },
  { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', status: true },
  {
    group: 'policy',
    version: 'v1',
    plural: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    status: true,
  },
  { group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects', kind: 'ScaledObject', status: true },
  { group: 'nft.dev', version: 'v1alpha1', plural: 'trainingruns', kind: 'TrainingRun', status: true },
];

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

interface Injected {
  method: string;
  path: RegExp;
  status: number;
  times: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  contentType?: string;
}

export class FakeKubeApi {
  private readonly objects = new Map<string, { res: Resource; obj: Obj }>();
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<{ res: Resource; ns?: string; res_: ServerResponse }>();
  private readonly sockets = new Set<Socket>();
  private readonly injected: Injected[] = [];
  private rv = 1;
  private server?: Server;
  readonly requests: RequestRecord[] = [];
  /** Called after every write to an object: tests play the Deployment/StatefulSet controllers here. */
  onWrite?: (obj: Obj) => void;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err) =>
        this.send(res, 500, status(500, 'InternalError', String(err))),
      );
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The next `times` requests matching method and path fail with `status`. */
  failNext(method: string, path: RegExp, statusCode: number, times = 1): void {
    this.injected.push({ method, path, status: statusCode, times });
  }

  /** Cuts every open watch connection, as a restarting API server or a load balancer would. */
  dropWatches(): number {
    const n = this.watchers.size;
    for (const w of this.watchers) w.res_.socket?.destroy();
    this.watchers.clear();
    return n;
  }

  get(kind: string, namespace: string, name: string): Obj | undefined {
    const res = RESOURCES.find((r) => r.kind === kind);
    return res ? this.objects.get(key(res, namespace, name))?.obj : undefined;
  }

  list(kind: string, namespace?: string): Obj[] {
    return [...this.objects.values()]
      .filter(({ res, obj }) => res.kind === kind && (!namespace || obj.metadata.namespace === namespace))
      .map(({ obj }) => obj);
  }

  /** Writes an object as a user would (kubectl apply), bypassing HTTP. */
  put(obj: Obj): Obj {
    const res = RESOURCES.find((r) => r.kind === obj.kind);
    if (!res) throw new Error(`unknown kind ${obj.kind}`);
    const ns = obj.metadata.namespace ?? 'default';
    const existing = this.objects.get(key(res, ns, obj.metadata.name))?.obj;
    return existing
      ? this.store(
          res,
          { ...existing, ...obj, metadata: { ...existing.metadata, ...obj.metadata } },
          existing,
        )
      : this.create(res, ns, obj);
  }

  /** Deletes as `kubectl delete` would: with finalizers, only marks the object. */
  remove(kind: string, namespace: string, name: string): void {
    const res = RESOURCES.find((r) => r.kind === kind) as Resource;
    const entry = this.objects.get(key(res, namespace, name));
    if (entry) this.delete(res, entry.obj);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const record: RequestRecord = { method, path: url.pathname, status: 200 };
    if (req.headers['content-type']) record.contentType = req.headers['content-type'];
    this.requests.push(record);
    const reply = (code: number, body: unknown) => {
      record.status = code;
      this.send(res, code, body);
    };

    const failure = this.injected.find(
      (f) => f.method === method && f.path.test(url.pathname) && f.times > 0,
    );
    if (failure) {
      failure.times--;
      return reply(
        failure.status,
        status(failure.status, failure.status === 409 ? 'Conflict' : 'Injected', 'injected'),
      );
    }

    const discovery = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(url.pathname);
    if (discovery && method === 'GET') {
      const [group, version] = discovery[1] ? ['', discovery[1]] : [discovery[2], discovery[3]];
      const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
      if (resources.length === 0)
        return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return reply(200, {
        kind: 'APIResourceList',
        groupVersion: group ? `${group}/${version}` : version,
        resources: resources.map((r) => ({
          name: r.plural,
          singularName: r.kind.toLowerCase(),
          kind: r.kind,
          namespaced: true,
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        })),
      });
    }

    const m =
      /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(
        url.pathname,
      );
    const [group, version] = m?.[1] ? ['', m[1]] : [m?.[2], m?.[3]];
    const resource = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === m?.[5]);
    if (!m || !resource) return reply(404, status(404, 'NotFound', `no route for ${url.pathname}`));
    const ns = m[4];
    const name = m[6];
    const sub = m[7];
    const body = await readBody(req);

    if (!name) {
      if (method === 'GET' && url.searchParams.get('watch') === 'true')
        return this.watch(resource, ns, Number(url.searchParams.get('resourceVersion') || 0), res, record);
      if (method === 'GET') {
        const selector = url.searchParams.get('labelSelector');
        return reply(200, {
          apiVersion: group ? `${group}/${version}` : version,
          kind: `${resource.kind}List`,
          metadata: { resourceVersion: String(this.rv) },
          items: [...this.objects.values()]
            .filter(({ res: r, obj }) => r === resource && (!ns || obj.metadata.namespace === ns))
            .map(({ obj }) => obj)
            .filter((obj) => matches(obj, selector)),
        });
      }
      if (method === 'POST') {
        const obj = parse(body) as Obj;
        if (this.objects.has(key(resource, ns ?? 'default', obj.metadata.name)))
          return reply(
            409,
            status(409, 'AlreadyExists', `${resource.plural} "${obj.metadata.name}" already exists`),
          );
        return reply(201, this.create(resource, ns ?? 'default', obj));
      }
      return reply(405, status(405, 'MethodNotAllowed', method));
    }

    const k = key(resource, ns ?? 'default', name);
    const existing = this.objects.get(k)?.obj;
    if (method === 'GET') return existing ? reply(200, existing) : reply(404, notFound(resource, name));
    if (method === 'DELETE') {
      if (!existing) return reply(404, notFound(resource, name));
      return reply(200, this.delete(resource, existing));
    }
    if (method === 'PUT') {
      if (!existing) return reply(404, notFound(resource, name));
      const obj = parse(body) as Obj;
      const rv = obj.metadata?.resourceVersion;
      if (rv && rv !== existing.metadata.resourceVersion)
        return reply(
          409,
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          ),
        );
      return reply(
        200,
        this.store(resource, this.replaced(resource, existing, obj, sub === 'status'), existing),
      );
    }
    if (method === 'PATCH') {
      const type = req.headers['content-type'] ?? '';
      const patch = parse(body) as Obj;
      if (type.startsWith('application/apply-patch')) {
        if (!url.searchParams.get('fieldManager'))
          return reply(422, status(422, 'Invalid', 'fieldManager is required for apply requests'));
        if (!existing) return reply(201, this.create(resource, ns ?? 'default', patch));
        const applied: Obj = {
          ...existing,
          ...patch,
          metadata: {
            ...existing.metadata,
            ...patch.metadata,
            resourceVersion: existing.metadata.resourceVersion,
          },
        };
        return reply(
          200,
          this.store(resource, this.replaced(resource, existing, applied, sub === 'status'), existing),
        );
      }
      if (type.startsWith('application/merge-patch+json')) {
        if (!existing) return reply(404, notFound(resource, name));
        return reply(200, this.store(resource, mergePatch(existing, patch) as Obj, existing));
      }
      return reply(415, status(415, 'UnsupportedMediaType', `unsupported patch type ${type}`));
    }
    return reply(405, status(405, 'MethodNotAllowed', method));
  }

  /** A write to the object keeps its status; a write to /status keeps everything else. */
  private replaced(resource: Resource, existing: Obj, incoming: Obj, toStatus: boolean): Obj {
    if (!resource.status) return { ...incoming, metadata: { ...existing.metadata, ...incoming.metadata } };
    if (toStatus) return { ...existing, status: incoming.status };
    const { status: _ignored, ...rest } = incoming;
    return {
      ...rest,
      metadata: { ...existing.metadata, ...incoming.metadata },
      ...(existing.status === undefined ? {} : { status: existing.status }),
    } as Obj;
  }

  private create(resource: Resource, ns: string, obj: Obj): Obj {
    const created: Obj = {
      ...obj,
      apiVersion: resource.group ? `${resource.group}/${resource.version}` : resource.version,
      kind: resource.kind,
      metadata: {
        ...obj.metadata,
        namespace: ns,
        uid: randomUUID(),
        generation: 1,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    };
    return this.store(resource, created, undefined);
  }

  private store(resource: Resource, obj: Obj, existing: Obj | undefined): Obj {
    const next = structuredClone(obj);
    const specChanged = existing && JSON.stringify(existing.spec) !== JSON.stringify(next.spec);
    next.metadata.generation = existing
      ? Number(existing.metadata.generation ?? 1) + (specChanged ? 1 : 0)
      : 1;
    next.metadata.resourceVersion = String(++this.rv);
    const k = key(resource, next.metadata.namespace as string, next.metadata.name);
    // A deleted object whose last finalizer is gone is removed for good.
    if (
      next.metadata.deletionTimestamp &&
      ((next.metadata.finalizers as string[] | undefined) ?? []).length === 0
    ) {
      this.objects.delete(k);
      this.emit(resource, 'DELETED', next);
      this.collectGarbage(next);
      return next;
    }
    this.objects.set(k, { res: resource, obj: next });
    this.emit(resource, existing ? 'MODIFIED' : 'ADDED', next);
    this.onWrite?.(next);
    return next;
  }

  private delete(resource: Resource, obj: Obj): Obj {
    if (((obj.metadata.finalizers as string[] | undefined) ?? []).length > 0) {
      if (obj.metadata.deletionTimestamp) return obj;
      return this.store(
        resource,
        {
          ...obj,
          metadata: { ...obj.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
        },
        obj,
      );
    }
    this.objects.delete(key(resource, obj.metadata.namespace as string, obj.metadata.name));
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.emit(resource, 'DELETED', gone);
    this.collectGarbage(gone);
    return gone;
  }

  /** The garbage collector: objects whose owner is gone go too. */
  private collectGarbage(owner: Obj): void {
    for (const { res, obj } of [...this.objects.values()]) {
      const refs = (obj.metadata.ownerReferences as { uid: string }[] | undefined) ?? [];
      if (refs.some((r) => r.uid === owner.metadata.uid)) this.delete(res, obj);
    }
  }

  private emit(resource: Resource, type: WatchEvent['type'], object: Obj): void {
    const event: WatchEvent = { rv: this.rv, type, object: structuredClone(object) };
    this.events.push(event);
    for (const w of this.watchers)
      if (w.res === resource && (!w.ns || w.ns === object.metadata.namespace))
        w.res_.write(`${JSON.stringify({ type, object: event.object })}\n`);
  }

  private watch(
    resource: Resource,
    ns: string | undefined,
    fromRv: number,
    res: ServerResponse,
    record: RequestRecord,
  ): void {
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    for (const e of this.events)
      if (e.rv > fromRv && e.object.kind === resource.kind && (!ns || e.object.metadata.namespace === ns))
        res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    const watcher = { res: resource, ...(ns ? { ns } : {}), res_: res };
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    if (res.headersSent) return;
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

function key(res: Resource, ns: string, name: string): string {
  return `${res.group}/${res.plural}/${ns}/${name}`;
}

function notFound(res: Resource, name: string) {
  return status(404, 'NotFound', `${res.plural} "${name}" not found`);
}
