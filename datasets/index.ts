/** Dataset loaders: verl/DAPO and eval rows from JSONL or Parquet, and the built-in arithmetic task. */
export { ARITHMETIC_SOURCE, type ArithmeticSpec, type ArithmeticTask, arithmeticTask } from './arithmetic.js';
export { type RawRow, readJsonlRows } from './jsonl-rows.js';
export { readParquetRows } from './parquet-rows.js';
export type { Problem } from './problem.js';
export { parseVerlRow, VERL_ROW_FIELDS, type VerlRow, verlRowSchema } from './verl-row.js';
export {
  formatSkip,
  type LoadedProblems,
  type LoadProblemsOptions,
  loadProblems,
  type SkippedRow,
  SUPPORTED_EXTENSIONS,
} from './verl-rows.js';
