import { existsSync } from 'node:fs';
import type { NatsBusOptions } from '../bus/nats.js';
import { ConfigError } from '../config/parse-run-config.js';
import type { Options } from './options.js';

/**
 * How a process reaches the NATS server: URL, credentials and TLS, each from a flag or its environment
 * variable (the flag wins). Child processes of `nft-train run --nats` inherit the environment, so
 * secrets never appear on a command line. Nothing here is ever logged.
 */

export const natsOptions = {
  'nats-user': { type: 'string', value: 'USER', env: 'NATS_USER', help: 'user name' },
  'nats-password': { type: 'string', value: 'PW', env: 'NATS_PASSWORD', help: 'password' },
  'nats-token': { type: 'string', value: 'TOKEN', env: 'NATS_TOKEN', help: 'token' },
  'nats-tls-ca': {
    type: 'string',
    value: 'FILE',
    env: 'NATS_TLS_CA',
    help: "CA certificate that signed the server's; any of the TLS options (or a tls:// URL) turns TLS on",
  },
  'nats-tls-cert': {
    type: 'string',
    value: 'FILE',
    env: 'NATS_TLS_CERT',
    help: 'client certificate, for mutual TLS',
  },
  'nats-tls-key': {
    type: 'string',
    value: 'FILE',
    env: 'NATS_TLS_KEY',
    help: "the client certificate's key",
  },
} as const satisfies Options;

type NatsFlags = Partial<Record<keyof typeof natsOptions, string>>;

export function natsConnection(
  servers: string,
  flags: NatsFlags,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): NatsBusOptions {
  const pick = (flag: keyof NatsFlags, variable: string) => flags[flag] ?? env[variable] ?? undefined;
  const file = (flag: keyof NatsFlags, variable: string) => {
    const path = pick(flag, variable);
    if (path !== undefined && !existsSync(path))
      throw new ConfigError(`--${flag} (or ${variable}): no such file ${JSON.stringify(path)}`);
    return path;
  };
  const caFile = file('nats-tls-ca', 'NATS_TLS_CA');
  const certFile = file('nats-tls-cert', 'NATS_TLS_CERT');
  const keyFile = file('nats-tls-key', 'NATS_TLS_KEY');
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new ConfigError('--nats-tls-cert and --nats-tls-key go together: give both or neither');
  const urls = servers.split(',').map((s) => s.trim());
  const tls = caFile || certFile || urls.some((u) => u.startsWith('tls://'));
  const user = pick('nats-user', 'NATS_USER');
  const password = pick('nats-password', 'NATS_PASSWORD');
  const token = pick('nats-token', 'NATS_TOKEN');
  return {
    servers: urls,
    name,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(tls
      ? {
          tls: {
            ...(caFile ? { caFile } : {}),
            ...(certFile ? { certFile } : {}),
            ...(keyFile ? { keyFile } : {}),
          },
        }
      : {}),
  };
}

/** Server URLs fit to print: any `user:password@` or `token@` part is masked. */
export function redactServers(servers: string): string {
  return servers.replace(/\/\/[^/@]*@/g, '//***@');
}
