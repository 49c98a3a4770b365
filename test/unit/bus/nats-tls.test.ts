import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../../../bus/nats.js';
import { natsConnection, redactServers } from '../../../cli/nats-connection.js';
import { ConfigError } from '../../../config/parse-run-config.js';
import { type NatsTestServer, startNatsServer } from '../../support/nats-server.js';
import { noNatsHere } from '../../support/nats-suite.js';

/** A certificate authority and a server certificate for 127.0.0.1, made with openssl for this test. */
function makeCertificates(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=nft-test-ca',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.cnf',
  );
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl || noNatsHere)('NATS over TLS', () => {
  let server: NatsTestServer;
  let certs: ReturnType<typeof makeCertificates>;
  beforeAll(async () => {
    certs = makeCertificates(mkdtempSync(join(tmpdir(), 'nft-tls-')));
    server = await startNatsServer({
      args: ['--tls', '--tlscert', certs.cert, '--tlskey', certs.key],
      scheme: 'tls',
    });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('connects with the CA from --nats-tls-ca (or NATS_TLS_CA) and uses JetStream through it', async () => {
    const bus = await NatsBus.connect(natsConnection(server.url, {}, 'tls-test', { NATS_TLS_CA: certs.ca }));
    try {
      await bus.kv.put('tls.check', { ok: true });
      expect(await bus.kv.get('tls.check')).toEqual({ ok: true });
    } finally {
      await bus.close();
    }
  });

  it('rejects TLS options that cannot work, naming the flag', () => {
    expect(() => natsConnection(server.url, { 'nats-tls-ca': '/no/such/ca.pem' }, 'x', {})).toThrow(
      /--nats-tls-ca .*no such file/,
    );
    expect(() => natsConnection(server.url, { 'nats-tls-cert': certs.cert }, 'x', {})).toThrow(ConfigError);
    expect(natsConnection('nats://h:4222', { 'nats-token': 's3cret' }, 'x', {})).not.toHaveProperty('tls');
    expect(redactServers('nats://alice:s3cret@h:4222,tls://tok@k:4222')).toBe(
      'nats://***@h:4222,tls://***@k:4222',
    );
  });
});
