// Starting and stopping `streamlake serve` for the node tests: a temp data dir, a free
// port (the server prints "streamlake: listening http=HOST:PORT"), the generated
// credentials; stop() sends SIGTERM and asserts a clean exit (code 0 within 20 s).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function readCredentials(file) {
  const text = readFileSync(file, 'utf8');
  const get = (k) => text.match(new RegExp(`^\\s*${k}\\s*=\\s*(\\S+)`, 'm'))?.[1];
  return { accessKeyId: get('aws_access_key_id'), secretAccessKey: get('aws_secret_access_key') };
}

// Returns { endpoint, creds, stop }. tls: a self-signed pair from `streamlake certs`,
// HTTPS (h2 by ALPN) on the port; the endpoint is https://localhost:PORT.
export async function startServer(prefix = 'sl-js-', { tls = false } = {}) {
  const BIN = process.env.STREAMLAKE_BIN;
  assert.ok(BIN && existsSync(BIN), 'STREAMLAKE_BIN must name the streamlake binary');
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  let stderr = '';
  const args = ['serve', '--data', dataDir, '--host', '127.0.0.1', '--port', '0'];
  if (tls) {
    execFileSync(BIN, ['certs', '--out', join(dataDir, 'tls')], { stdio: 'ignore' });
    args.push('--tls-cert', join(dataDir, 'tls', 'cert.pem'), '--tls-key', join(dataDir, 'tls', 'key.pem'));
  }
  const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s; stderr: ${stderr}`)), 30000);
    proc.on('exit', (code) => reject(new Error(`server exited (${code}); stderr: ${stderr}`)));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = line.match(/^streamlake: listening https?=([0-9.]+):(\d+)\s*$/);
      if (m) { clearTimeout(timer); resolve(Number(m[2])); }
    });
  });
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
      proc.kill('SIGTERM');
      const r = await Promise.race([exited, new Promise((res) => setTimeout(() => res(null), 20000))]);
      if (!r) proc.kill('SIGKILL');
      assert.ok(r, 'server did not stop within 20 s of SIGTERM');
      assert.equal(r.code, 0, `server exit on SIGTERM; stderr: ${stderr}`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const endpoint = tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  return { endpoint, creds: readCredentials(join(dataDir, 'credentials')), stop, dataDir };
}
