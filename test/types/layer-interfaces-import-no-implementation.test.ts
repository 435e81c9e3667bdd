/**
 * Static checks over the source tree (no build output needed): each layer's interfaces in src/types
 * import nothing but other src/types modules, Node built-ins and types of packages, and no module of
 * src takes part in an import cycle (type-only imports included: a contract that names its
 * implementation is a circle too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/types/<this>.js → the repository root.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const src = path.join(root, 'src');

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

/** Every static `import … from` / `export … from` of a TypeScript file. */
function importsOf(file: string): ImportRef[] {
  const text = fs.readFileSync(file, 'utf8');
  const refs: ImportRef[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'/gm)) {
    const bindings = m[3] ?? '';
    // `import { type A, type B }` is type-only too.
    const allTyped = /^\{[^}]*\}$/.test(bindings.trim()) && bindings.replace(/[{}\s]/g, '').split(',').filter(Boolean).every((b) => b.startsWith('type'));
    refs.push({ specifier: m[4]!, typeOnly: m[2] !== undefined || allTyped });
  }
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) refs.push({ specifier: m[1]!, typeOnly: false });
  return refs;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('src/types modules import only other src/types modules, node: built-ins and package types', () => {
  const typesDir = path.join(src, 'types');
  const offences: string[] = [];
  for (const file of tsFiles(typesDir)) {
    for (const ref of importsOf(file)) {
      const name = path.relative(root, file);
      if (ref.specifier.startsWith('.')) {
        const target = path.resolve(path.dirname(file), ref.specifier.replace(/\.js$/, '.ts'));
        if (path.dirname(target) !== typesDir) offences.push(`${name} imports ${ref.specifier}`);
      } else if (!ref.specifier.startsWith('node:') && !ref.typeOnly) {
        offences.push(`${name} imports values from package ${ref.specifier}`);
      }
    }
  }
  assert.deepEqual(offences, []);
});

test('no module of src takes part in an import cycle', () => {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(src)) {
    graph.set(
      file,
      importsOf(file)
        .filter((r) => r.specifier.startsWith('.'))
        .map((r) => path.resolve(path.dirname(file), r.specifier.replace(/\.js$/, '.ts'))),
    );
  }
  // Tarjan's strongly connected components; any component of two or more files is a cycle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(path.relative(src, w));
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  assert.deepEqual(cycles, []);
});
