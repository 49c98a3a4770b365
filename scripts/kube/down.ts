/** `npm run kube:down`: stops the control plane `npm run kube:up` started. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from './state.js';

const dir = stateDir();
const state = join(dir, 'state.json');
if (!existsSync(state)) {
  console.log('no control plane is up');
  process.exit(0);
}
const { pids } = JSON.parse(readFileSync(state, 'utf8')) as { pids: number[] };
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
for (const pid of [...pids].reverse()) if (alive(pid)) process.kill(pid, 'SIGTERM');
const deadline = Date.now() + 15_000;
while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
rmSync(dir, { recursive: true, force: true });
console.log(`stopped ${pids.length} processes`);
