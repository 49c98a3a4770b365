import type { TrainingRunSpec } from '../crd/spec.js';

/** What every container of a run shares: its security settings and NATS credentials. */

export const securityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** The run's NATS server, and the credentials in the Secret the spec names, if it names one. */
export function natsEnv(nats: TrainingRunSpec['nats']) {
  return [
    { name: 'NATS_URL', value: nats.url },
    ...(nats.credentialsSecret
      ? ['user', 'password', 'token'].map((key) => ({
          name: `NATS_${key.toUpperCase()}`,
          valueFrom: { secretKeyRef: { name: nats.credentialsSecret, key, optional: true } },
        }))
      : []),
  ];
}
