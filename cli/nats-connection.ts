import { existsSync } from 'node:fs';
import type { NatsBusOptions } from '../bus/nats.js';
import { ConfigError } from '../config/run-config.js';

/**
 * How a process reaches the NATS server: URL, credentials and TLS, each from a flag or its environment
 * variable (the flag wins). Child processes of `nft-train run --nats` inherit the environment, so
 * secrets never appear on a command line. Nothing here is ever logged.
 */

export const natsFlagOptions = {
  'nats-user': { type: 'string' },
  'nats-password': { type: 'string' },
  'nats-token': { type: 'string' },
  'nats-tls-ca': { type: 'string' },
  'nats-tls-cert': { type: 'string' },
  'nats-tls-key': { type: 'string' },
} as const;

export const natsFlagHelp = `  --nats-user USER     user name                                  (or NATS_USER)
  --nats-password PW   password                                   (or NATS_PASSWORD)
  --nats-token TOKEN   token                                      (or NATS_TOKEN)
  --nats-tls-ca FILE   CA certificate that signed the server's    (or NATS_TLS_CA)
  --nats-tls-cert FILE client certificate, for mutual TLS         (or NATS_TLS_CERT)
  --nats-tls-key FILE  the client certificate's key               (or NATS_TLS_KEY)
                       Any of the TLS options (or a tls:// URL) turns TLS on.`;

type NatsFlags = Partial<Record<keyof typeof natsFlagOptions, string>>;

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
