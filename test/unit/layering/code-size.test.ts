import { describe, expect, it } from 'vitest';
import {
  FILE_LINES_MAX,
  FUNCTION_LINES_MAX,
  longFiles,
  longFunctions,
  SMALL_FUNCTION_DIRS,
} from '../../../scripts/code-size.js';

const root = process.cwd();

describe('code size', () => {
  it(`keeps every function in ${SMALL_FUNCTION_DIRS.join(', ')} within ${FUNCTION_LINES_MAX} lines`, () => {
    expect(longFunctions(root)).toEqual([]);
  });

  it(`keeps every source file within ${FILE_LINES_MAX} lines`, () => {
    expect(longFiles(root)).toEqual([]);
  });

  it('finds a long function and a long file when there is one', () => {
    expect(longFunctions(root, ['actors'], 5).length).toBeGreaterThan(0);
    expect(longFiles(root, ['actors'], 50).length).toBeGreaterThan(0);
  });
});
