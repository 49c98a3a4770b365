/**
 * How long the project's functions and files are: `npm run measure:size` prints every function over the
 * limit in the folders that hold the actors, the operator and the policy server, and every source file
 * over the file limit; the layering test holds both at zero.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import ts from 'typescript';

export const FUNCTION_LINES_MAX = 80;
export const FILE_LINES_MAX = 400;
/** Where functions are held to FUNCTION_LINES_MAX. */
export const SMALL_FUNCTION_DIRS = ['actors', 'operators', 'engines/openai/server'];
/** Source files held to FILE_LINES_MAX: everything the project writes, tests and scripts included. */
export const SOURCE_DIRS = [
  'actors',
  'bench',
  'bus',
  'cli',
  'config',
  'dashboards',
  'datasets',
  'engines',
  'evaluation',
  'images',
  'math',
  'nft',
  'operators',
  'python',
  'report',
  'runtime',
  'scripts',
  'telemetry',
  'test',
  'util',
];
const SOURCE_EXTENSIONS = new Set(['.ts', '.py', '.sh', '.cjs']);

export interface Measure {
  where: string;
  lines: number;
}

function filesUnder(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === '__pycache__' || name === 'fixtures') continue;
    if (statSync(path).isDirectory()) filesUnder(path, out);
    else if (SOURCE_EXTENSIONS.has(extname(name))) out.push(path);
  }
  return out;
}

function nameOf(node: ts.Node): string {
  const named = (node as { name?: ts.Node }).name;
  if (named) return named.getText();
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)))
    return parent.name.getText();
  return '<anonymous>';
}

/** Functions (declarations, methods, arrows, expressions) longer than `max` lines, longest first. */
export function longFunctions(root: string, dirs = SMALL_FUNCTION_DIRS, max = FUNCTION_LINES_MAX): Measure[] {
  const found: Measure[] = [];
  for (const file of dirs.flatMap((d) => filesUnder(join(root, d))).filter((f) => f.endsWith('.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = last - first + 1;
        if (lines > max)
          found.push({ where: `${file.slice(root.length + 1)}:${first + 1} ${nameOf(node)}`, lines });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => b.lines - a.lines);
}

/** Source files longer than `max` lines, longest first. */
export function longFiles(root: string, dirs = SOURCE_DIRS, max = FILE_LINES_MAX): Measure[] {
  return dirs
    .flatMap((d) => filesUnder(join(root, d)))
    .map((file) => ({
      where: file.slice(root.length + 1),
      lines: readFileSync(file, 'utf8').split('\n').length - 1,
    }))
    .filter((m) => m.lines > max)
    .sort((a, b) => b.lines - a.lines);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.cwd();
  const functions = longFunctions(root);
  const files = longFiles(root);
  for (const f of functions) console.log(`function ${f.where}: ${f.lines} lines`);
  for (const f of files) console.log(`file ${f.where}: ${f.lines} lines`);
  console.log(JSON.stringify({ functionsOverLimit: functions.length, filesOverLimit: files.length }));
}
