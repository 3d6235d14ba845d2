import { isNode, LineCounter, parseDocument } from 'yaml';
import { type z } from 'zod';
import { usageError } from '../errors.js';

/** Where in a file: 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

const HINT = 'see the README, "Validating a runbook" (`firedrill runbook show wrong-vtep-mac --variant manual` prints a working one)';

/**
 * Parses YAML (or JSON) text and validates it with a zod schema. Every problem names the file,
 * the line and column, and the field: `runbook.yaml:4:7: steps.0.argv: expected array`.
 */
export function parseYamlFile<S extends z.ZodType>(text: string, file: string, schema: S, what: string): { data: z.infer<S>; at(path: (string | number)[]): Position | undefined } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number): Position => lines.linePos(offset);
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const p = pos(e.pos[0]);
    throw usageError(`${file}:${p.line}:${p.col}: ${what} is not valid YAML: ${e.message.split('\n')[0]}`, HINT);
  }
  const at = (path: (string | number)[]): Position | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return pos(node.range[0]);
    }
    return undefined;
  };
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const path = i.path.filter((k): k is string | number => typeof k !== 'symbol');
      // An unknown key is best pointed at the key itself.
      const keys = i.code === 'unrecognized_keys' ? i.keys : [];
      const p = at(keys.length ? [...path, keys[0]!] : path);
      return `${file}:${p ? `${p.line}:${p.col}` : '1:1'}: ${path.join('.') || '(root)'}: ${i.message}`;
    });
    throw usageError(`${what} is not valid:\n  ${problems.join('\n  ')}`, HINT);
  }
  return { data: parsed.data, at };
}
