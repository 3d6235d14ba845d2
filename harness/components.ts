import { z } from 'zod';
import manifestJson from './components.json' with { type: 'json' };

const binaryName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a binary name is lower-case letters, digits and dashes');
const goPackage = z.string().regex(/^[\w.-]+(\/[\w.-]+)+$/, 'a Go import path');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lower-case hex digits');

const VersionCheck = z.object({
  /** argv after the binary that makes it print its version. */
  args: z.array(z.string()),
  /** Text the output must contain; {version}, {semver}, {major}, {minor} are expanded. */
  expect: z.string(),
});

const GoFallback = z.object({
  module: z.string(),
  version: z.string(),
  packages: z.record(binaryName, goPackage),
  ldflags: z.array(z.string()).default([]),
  expect: z.string(),
  why: z.string(),
});

const GoBuild = z.object({
  module: z.string(),
  packages: z.record(binaryName, goPackage),
  cgo: z.boolean(),
  tags: z.array(z.string()).default([]),
  ldflags: z.array(z.string()).default([]),
  /** k8s.io/kubernetes: pin every staging module to the matching v0.x.y. */
  replaceStaging: z.boolean().default(false),
  /** Modules replaced by a stub from harness/setup/stubs/ when the proxy does not serve them. */
  stubs: z.record(z.string(), z.string()).default({}),
  /** Another module to build when the proxy does not serve `module` at all. */
  fallback: GoFallback.optional(),
  /** Measured cold build on 2 cores, shown while building. */
  coldBuildSeconds: z.number().positive(),
});

const Artifact = z.object({
  url: z.url(),
  sha256,
  /** raw: the file is the binary; tgz: the binaries are members of the archive. */
  format: z.enum(['raw', 'tgz']),
  /** binary name -> member path in the archive (for raw, the single binary's name -> ""). */
  files: z.record(binaryName, z.string()),
});

const Component = z
  .object({
    version: z.string().regex(/^v\d+\.\d+\.\d+(-[\w.]+)?$/, 'a version looks like v1.2.3'),
    description: z.string(),
    binaries: z.record(binaryName, z.object({ versionCheck: VersionCheck })),
    build: GoBuild,
    download: z.array(Artifact).optional(),
  })
  .superRefine((c, ctx) => {
    const names = Object.keys(c.binaries).sort().join(',');
    if (Object.keys(c.build.packages).sort().join(',') !== names) {
      ctx.addIssue({ code: 'custom', message: `build.packages must name exactly the binaries (${names})` });
    }
    if (c.download) {
      const downloaded = c.download.flatMap((a) => Object.keys(a.files)).sort().join(',');
      if (downloaded !== names) {
        ctx.addIssue({ code: 'custom', message: `download artifacts must provide exactly the binaries (${names})` });
      }
    }
  });

export const Manifest = z
  .object({
    $comment: z.string().optional(),
    platform: z.literal('linux/amd64'),
    kind: z.object({ version: z.string(), nodeImage: z.string() }),
    components: z.record(binaryName, Component),
  })
  .superRefine((m, ctx) => {
    if (m.components.kind?.version !== m.kind.version) {
      ctx.addIssue({ code: 'custom', message: `components.kind must build the kind version the manifest pins (${m.kind.version})` });
    }
  });

export type Manifest = z.infer<typeof Manifest>;
export type ComponentSpec = z.infer<typeof Component>;
export type GoBuildSpec = z.infer<typeof GoBuild>;
export type Artifact = z.infer<typeof Artifact>;

/** A component with its name, as setup and the backends use it. */
export interface Component extends ComponentSpec {
  name: string;
}

export const manifest: Manifest = Manifest.parse(manifestJson);

export function components(m: Manifest = manifest): Component[] {
  return Object.entries(m.components).map(([name, spec]) => ({ name, ...spec }));
}

/** Expands {version} (v1.36.1), {semver} (1.36.1), {major} (1) and {minor} (36) in a template. */
export function expand(template: string, version: string): string {
  const semver = version.replace(/^v/, '');
  const [major = '', minor = ''] = semver.split('.');
  return template
    .replaceAll('{version}', version)
    .replaceAll('{semver}', semver)
    .replaceAll('{major}', major)
    .replaceAll('{minor}', minor);
}
