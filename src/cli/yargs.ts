// yargs through one module so the build can replace it with a bundle (scripts/bundle.mjs).
export { default } from 'yargs';
export type { Argv } from 'yargs';
