// Stand-in for the string-width package inside the bundled yargs: building its emoji
// regex costs ~20 ms at every start, and keyprov's help text is plain text.
const ansi = /\x1b\[[0-9;]*m/g;
export default function stringWidth(s) {
  return typeof s === 'string' ? [...s.replace(ansi, '')].length : 0;
}
