/**
 * A problem with what the user gave (a flag, a config file, a dataset): the command reports its message
 * as one line and exits 2, without a stack trace. The message names the input, the value and the fix.
 */
export class InputError extends Error {
  override name = 'InputError';
}
