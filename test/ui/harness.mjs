// Starting and stopping `streamlake serve` for the browser test and the UI benchmark: a temp
// data dir, 127.0.0.1 with ephemeral ports (the server prints "streamlake: listening
// http=HOST:PORT"), the generated admin credentials.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function readCredentials(file) {
  const text = readFileSync(file, 'utf8');
  const get = (k) => text.match(new RegExp(`^\\s*${k}\\s*=\\s*(\\S+)`, 'm'))?.[1];
  return { accessKeyId: get('aws_access_key_id'), secretAccessKey: get('aws_secret_access_key') };
}

// Resolves { base, creds, dataDir, stderr(), stop() } once the server listens; rejects if
// the binary is missing, exits, or prints no listening line within 30 s.
export async function startServer(bin, extraArgs = []) {
  if (!bin || !existsSync(bin)) throw new Error(`streamlake binary missing: ${bin} (set STREAMLAKE_BIN)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'sl-ui-'));
  const proc = spawn(bin, ['serve', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s; stderr: ${stderr}`)), 30000);
    proc.on('exit', (code) => reject(new Error(`server exited (${code}); stderr: ${stderr}`)));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = line.match(/^streamlake: listening http=([0-9.]+):(\d+)\s*$/);
      if (m) { clearTimeout(timer); resolve(Number(m[2])); }
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    creds: readCredentials(join(dataDir, 'credentials')),
    dataDir,
    stderr: () => stderr,
    // SIGTERM, SIGKILL after 20 s; removes the data dir. Resolves the exit code (null if killed).
    async stop() {
      let code = proc.exitCode;
      if (code === null) {
        const exited = new Promise((resolve) => proc.on('exit', (c) => resolve(c)));
        proc.kill('SIGTERM');
        const r = await Promise.race([exited, new Promise((res) => setTimeout(() => res('timeout'), 20000))]);
        if (r === 'timeout') { proc.kill('SIGKILL'); code = null; } else code = r;
      }
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
