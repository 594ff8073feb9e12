// Runs deploy/argocd/health.lua the way Argo CD does, with Debian's lua5.4 and
// test/deploy/argocd-driver.lua: the object becomes the global `obj` (a Lua table generated here
// from its JSON), the script's return value is the health.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LUA = '/usr/bin/lua5.4';
export const ARGOCD_DIR = fileURLToPath(new URL('../../deploy/argocd/', import.meta.url));
export const HEALTH_LUA = join(ARGOCD_DIR, 'health.lua');
const DRIVER = fileURLToPath(new URL('./argocd-driver.lua', import.meta.url));

export interface Health {
  status: string;
  message: string;
}

/** A Lua expression for a JSON value: tables for objects and arrays, integers kept integral. */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not representable in Lua: ${value}`);
    // gopher-lua keeps numbers as float64 and prints whole ones without ".0"; Lua 5.4 does the
    // same for integer literals.
    return Number.isInteger(value) ? value.toFixed(0) : String(value);
  }
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) {
    // A nil inside a Lua array would end ipairs early; Kubernetes objects have none.
    if (value.some((item) => item === null || item === undefined)) throw new Error('null inside an array');
    return `{${value.map(luaLiteral).join(', ')}}`;
  }
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `[${luaString(k)}] = ${luaLiteral(v)}`);
    return `{${fields.join(', ')}}`;
  }
  throw new Error(`unsupported value of type ${typeof value}`);
}

/** A Lua string literal of the UTF-8 bytes of `text`. */
function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x0a) out += '\\n';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

/** A scratch directory for the generated object files, and the runner that uses it. */
export class HealthRunner {
  private readonly dir: string;
  private objects = 0;

  constructor() {
    if (!existsSync(LUA)) throw new Error(`${LUA} missing: apt-get install lua5.4`);
    this.dir = mkdtempSync(join(tmpdir(), 'ehc-argocd-'));
  }

  /** Writes a file into the scratch directory (e.g. a copy of the script) and returns its path. */
  file(name: string, content: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, content);
    return path;
  }

  /** The health Argo CD would compute for `object` with `script` (default deploy/argocd/health.lua). */
  async health(object: unknown, script = HEALTH_LUA): Promise<Health> {
    const objectFile = this.file(`object-${++this.objects}.lua`, `return ${luaLiteral(object)}\n`);
    const output = await new Promise<string>((resolve, reject) => {
      execFile(LUA, [DRIVER, script, objectFile], { timeout: 30_000 }, (error, stdout, stderr) => {
        if (error)
          reject(new Error(`lua5.4 failed on ${objectFile}: ${error.message}\n${stderr}`, { cause: error }));
        else resolve(stdout);
      });
    });
    const newline = output.indexOf('\n');
    if (newline < 0) throw new Error(`unexpected driver output ${JSON.stringify(output)}`);
    return { status: output.slice(0, newline), message: output.slice(newline + 1) };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
