/**
 * The project's layering, checked by `npm run check:layers` (part of `npm test`):
 * - no import cycles;
 * - nft/ (objectives, staleness rules) and math/ (the verifier) import nothing of the project;
 * - actors import no concrete bus (NATS, in-memory) and no concrete engine: they see the bus through
 *   bus/bus.ts and bus/run-bus.ts and the engines through engines/types.ts;
 * - operators import no actor.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'nft-and-math-stand-alone',
      comment: 'nft/ and math/ are pure libraries: they import only themselves and packages.',
      severity: 'error',
      from: { path: '^(nft|math)/' },
      to: { path: '^(?!$1/)[^/]+/', pathNot: '^node_modules/' },
    },
    {
      name: 'actors-see-no-concrete-bus',
      severity: 'error',
      from: { path: '^actors/' },
      to: { path: '^bus/(nats|memory)' },
    },
    {
      name: 'actors-see-no-concrete-engine',
      severity: 'error',
      from: { path: '^actors/' },
      to: { path: '^engines/(?!types\\.ts$)' },
    },
    {
      name: 'operators-import-no-actor',
      severity: 'error',
      from: { path: '^operators/' },
      to: { path: '^actors/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
