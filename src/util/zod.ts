// Every module takes zod from here. The build replaces dist/util/zod.js with one bundled
// file (scripts/bundle.mjs): zod 4 is ~95 ESM modules, and with a single import point the
// CLI loads it once, not once per bundle that needs it.
export { z } from 'zod';
