// Test helper: a stand-in for what scripts/build-lambdas writes
// (<dir>/<binary>/bootstrap.zip and <dir>/manifest.json), so a synth with
// bundling on can run without a Rust build. Each zip's content names its
// binary, so two binaries never share an asset by accident.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../lib/config';
import type { ArtifactEntry, LambdaArch } from '../lib/lambda-artifacts';

/** The binaries scripts/build-lambdas builds (`--list`). */
export function scriptBinaries(): string[] {
  const out = execFileSync(path.join(REPO_ROOT, 'scripts', 'build-lambdas'), ['--list'], { encoding: 'utf-8' });
  return out.split('\n').filter((l) => l.trim() !== '');
}

export function writeFakeArtifacts(dir: string, arch: LambdaArch, binaries: readonly string[]): void {
  const manifest: ArtifactEntry[] = [];
  for (const binary of binaries) {
    const zip = path.join(dir, binary, 'bootstrap.zip');
    fs.mkdirSync(path.dirname(zip), { recursive: true });
    fs.writeFileSync(zip, `fake ${arch} zip of ${binary}\n`);
    manifest.push({ binary, arch, zip, zipBytes: fs.statSync(zip).size, unzippedBytes: 0 });
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
}
