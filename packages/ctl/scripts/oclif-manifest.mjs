#!/usr/bin/env node
// Writes oclif.manifest.json for deimosctl from the compiled commands in dist, with the fingerprint
// of that code (see src/oclif-manifest.ts). Run by the build after `tsc -b`.
import { Plugin } from '@oclif/core/config';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, sourceFingerprint } from '../dist/src/oclif-manifest.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fingerprint = sourceFingerprint(root);
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
const manifest = { ...plugin.manifest, deimosFingerprint: fingerprint };
const path = join(root, MANIFEST_FILE);
writeFileSync(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
renameSync(`${path}.tmp`, path);
console.log(`${MANIFEST_FILE}: ${Object.keys(manifest.commands).length} commands (fingerprint ${fingerprint})`);
