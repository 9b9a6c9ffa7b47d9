// The Lambda code the stack deploys: prebuilt zips, not a build per function.
//
// `scripts/build-lambdas --arch arm64|x86_64` compiles every binary in one
// `cargo lambda build` and writes target/lambda/<binary>/bootstrap.zip plus
// target/lambda/manifest.json ({binary, arch, zip, zipBytes, unzippedBytes}).
// Each function's code is that zip, uploaded as it is (`Code.fromAsset` on a
// .zip file), so what was measured is what is deployed, and every function
// of a binary shares one S3 object.
//
// A synth that bundles nothing (tests, CI, cfn-lint: `AMAZON_LITE_SKIP_BUNDLING=1`,
// i.e. the `aws:cdk:bundling-stacks` context is empty) gets a placeholder per
// binary instead and needs no build. Otherwise a missing zip, or one built
// for the other architecture, fails the synth and names the command to run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { REPO_ROOT } from './config';

export type LambdaArch = 'arm64' | 'x86_64';
export const LAMBDA_ARCHES: readonly LambdaArch[] = ['arm64', 'x86_64'];
export const DEFAULT_LAMBDA_ARCH: LambdaArch = 'arm64';

/** Parses `-c arch=...`; undefined gives the default (arm64). */
export function parseLambdaArch(value: string | undefined): LambdaArch {
  if (value === undefined || value.trim() === '') return DEFAULT_LAMBDA_ARCH;
  const v = value.trim();
  if (!(LAMBDA_ARCHES as readonly string[]).includes(v)) {
    throw new Error(`arch=${JSON.stringify(value)}: use arm64 or x86_64`);
  }
  return v as LambdaArch;
}

export function architectureOf(arch: LambdaArch): lambda.Architecture {
  return arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
}

/** Where scripts/build-lambdas writes: $CARGO_TARGET_DIR/lambda, else <repo>/target/lambda. */
export function defaultArtifactsDir(): string {
  const targetDir = process.env.CARGO_TARGET_DIR;
  return targetDir ? path.resolve(REPO_ROOT, targetDir, 'lambda') : path.join(REPO_ROOT, 'target', 'lambda');
}

/** One entry of target/lambda/manifest.json. */
export interface ArtifactEntry {
  readonly binary: string;
  readonly arch: string;
  readonly zip: string;
  readonly zipBytes: number;
  readonly unzippedBytes: number;
}

// Shipped with the app: the content of every placeholder asset.
const PLACEHOLDER_DIR = path.join(__dirname, '..', 'placeholder-asset');

export interface LambdaArtifactsProps {
  readonly arch: LambdaArch;
  /** The folder scripts/build-lambdas wrote. */
  readonly dir: string;
  /** False: placeholders, no build needed (bundling skipped). */
  readonly prebuilt: boolean;
}

export class LambdaArtifacts {
  readonly arch: LambdaArch;
  readonly architecture: lambda.Architecture;
  readonly dir: string;
  readonly prebuilt: boolean;
  /** Every binary some function asked for, in order of first request. */
  readonly binaries: string[] = [];
  private manifest?: Map<string, ArtifactEntry>;

  constructor(props: LambdaArtifactsProps) {
    this.arch = props.arch;
    this.architecture = architectureOf(props.arch);
    this.dir = props.dir;
    this.prebuilt = props.prebuilt;
  }

  /**
   * A new Code for the binary (a Code object binds to one stack only; the
   * zips' identical hashes make one S3 object of all of them).
   */
  code(binary: string): lambda.Code {
    if (!this.binaries.includes(binary)) this.binaries.push(binary);
    if (!this.prebuilt) {
      // One placeholder per binary (its own hash), so the template still
      // shows which functions share a binary.
      return lambda.Code.fromAsset(PLACEHOLDER_DIR, {
        assetHash: `placeholder-${binary}`,
        assetHashType: AssetHashType.CUSTOM,
      });
    }
    return lambda.Code.fromAsset(this.zipOf(binary));
  }

  private zipOf(binary: string): string {
    const build = `scripts/build-lambdas --arch ${this.arch}`;
    const skip = 'or synthesize without code: AMAZON_LITE_SKIP_BUNDLING=1';
    const zip = path.join(this.dir, binary, 'bootstrap.zip');
    if (!fs.existsSync(zip)) {
      throw new Error(`Lambda artifact ${zip} is missing: run ${build} first (${skip})`);
    }
    const entry = this.readManifest().get(binary);
    if (!entry) {
      throw new Error(`${path.join(this.dir, 'manifest.json')} does not list ${binary}: run ${build} (${skip})`);
    }
    if (entry.arch !== this.arch) {
      throw new Error(
        `Lambda artifact ${zip} was built for ${entry.arch}, the stack deploys ${this.arch}: ` +
          `run ${build}, or synthesize with -c arch=${entry.arch}`,
      );
    }
    return zip;
  }

  private readManifest(): Map<string, ArtifactEntry> {
    if (this.manifest) return this.manifest;
    const file = path.join(this.dir, 'manifest.json');
    if (!fs.existsSync(file)) {
      throw new Error(`${file} is missing: run scripts/build-lambdas --arch ${this.arch} first`);
    }
    const entries = JSON.parse(fs.readFileSync(file, 'utf-8')) as ArtifactEntry[];
    if (!Array.isArray(entries)) throw new Error(`${file}: expected a JSON array`);
    this.manifest = new Map(entries.map((e) => [e.binary, e]));
    return this.manifest;
  }
}
