import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * Blobs as files under a directory (a mounted volume), for what should outlive the message bus:
 * checkpoints on a PersistentVolumeClaim. Writes go to a temporary file renamed into place, so a
 * crash mid-write never leaves a torn blob under the final name.
 */
export class DirectoryBlobs {
  constructor(readonly root: string) {}

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(`${resolve(this.root)}/`))
      throw new Error(`blob key ${JSON.stringify(key)} leaves ${this.root}`);
    return path;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const partial = join(dirname(path), `.${process.pid}-${Date.now()}.partial`);
    await writeFile(partial, bytes);
    await rename(partial, path);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
